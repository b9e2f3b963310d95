//! The client's address, and the key its limits count under.
//!
//! Behind a reverse proxy every connection comes from the proxy, and the client's address is in
//! `X-Forwarded-For`, which is a list: each proxy *appends* the address it received the request
//! from. Everything left of the right-most entry a trusted proxy wrote may have been written by
//! the client itself, so the client is the **right-most hop that is not a trusted proxy**,
//! walking from the socket peer leftwards and only while the hop we stand on is trusted. Taking
//! the first (left-most) hop would let every request name a fresh address.
//!
//! IPv6 clients are keyed per /64: one subscriber usually holds a whole /64 and can pick any
//! address in it, so per-address keys would give it 2^64 buckets. IPv4-mapped IPv6 addresses
//! count as the IPv4 address they carry.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr};
use warp::http;

/// The proxies whose `X-Forwarded-For` (and `X-Forwarded-Proto`) the server believes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    /// `crossOrigin.trustForwardedFor`: the socket peer is a trusted proxy whatever its address
    /// (one proxy in front of the server, reachable only through it).
    any_peer: bool,
}

impl TrustedProxies {
    /// Parses CIDR networks (`10.0.0.0/8`, `2001:db8::/32`) or single addresses (`127.0.0.1`,
    /// `::1`). `any_peer` trusts the socket peer whatever its address.
    pub fn parse(list: &[String], any_peer: bool) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in list {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let net = match item.parse::<IpNet>() {
                Ok(n) => n.trunc(),
                Err(_) => match item.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(canonical(ip)),
                    Err(_) => {
                        return Err(format!(
                            "`{item}` is neither an address nor a network (examples: \
                             `10.0.0.0/8`, `127.0.0.1`, `2001:db8::/32`)"
                        ));
                    }
                },
            };
            nets.push(net);
        }
        Ok(TrustedProxies { nets, any_peer })
    }

    /// True when no proxy is trusted: the socket peer is the client.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty() && !self.any_peer
    }

    fn listed(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// True when `peer` (the socket's remote address) is a proxy whose headers count.
    pub fn trusts_peer(&self, peer: IpAddr) -> bool {
        self.any_peer || self.listed(peer)
    }

    /// The client's address for a request from `peer` carrying `forwarded_for` (every
    /// `X-Forwarded-For` value, in order). See the module docs for the rule.
    pub fn client_addr<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts_peer(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        // `current` is the nearest address we know to be true: it starts at the (trusted) peer.
        let mut current = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                // A trusted proxy writes addresses; garbage is the client's own text. The
                // trusted hop that received it is the best we know.
                return current;
            };
            current = ip;
            if !self.listed(ip) {
                return ip;
            }
        }
        current
    }
}

/// The client's address for an HTTP request: `remote` (the socket peer) and, when that is a
/// trusted proxy, its `X-Forwarded-For` headers.
pub fn from_headers(
    trusted: &TrustedProxies,
    headers: &http::HeaderMap,
    remote: Option<std::net::SocketAddr>,
) -> IpAddr {
    let peer = remote
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    trusted.client_addr(
        peer,
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok()),
    )
}

/// True when the request reached us over https: the peer is a trusted proxy that says so in
/// `X-Forwarded-Proto` (the server itself speaks plain HTTP).
pub fn forwarded_https(
    trusted: &TrustedProxies,
    headers: &http::HeaderMap,
    remote: Option<std::net::SocketAddr>,
) -> bool {
    remote.is_some_and(|a| trusted.trusts_peer(a.ip()))
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// One `X-Forwarded-For` entry: an address, optionally with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`), as some proxies write them.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = hop.parse::<std::net::SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    let bracketed = hop.strip_prefix('[')?.strip_suffix(']')?;
    bracketed.parse::<IpAddr>().ok().map(canonical)
}

/// IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a dual-stack socket reports) as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// The key a client's limits count under: the IPv4 address, or the IPv6 address's /64.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    fn trusted(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(
            &list.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            false,
        )
        .expect("valid list")
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_writes() {
        let t = trusted(&["10.0.0.0/8"]);
        assert_eq!(
            t.client_addr(ip("203.0.113.9"), ["1.1.1.1"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::default().client_addr(ip("127.0.0.1"), ["1.1.1.1"]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() {
        let t = trusted(&["10.0.0.0/8", "127.0.0.1"]);
        // The client wrote "6.6.6.6"; nginx appended the address it saw.
        assert_eq!(
            t.client_addr(ip("127.0.0.1"), ["6.6.6.6, 198.51.100.7"]),
            ip("198.51.100.7")
        );
        // Two trusted proxies in a row are walked over.
        assert_eq!(
            t.client_addr(ip("10.0.0.2"), ["6.6.6.6, 198.51.100.7, 10.0.0.1"]),
            ip("198.51.100.7")
        );
        // Several header lines are one list, in order.
        assert_eq!(
            t.client_addr(ip("10.0.0.2"), ["6.6.6.6", "198.51.100.7, 10.0.0.1"]),
            ip("198.51.100.7")
        );
        // No header: the proxy itself.
        assert_eq!(t.client_addr(ip("10.0.0.2"), []), ip("10.0.0.2"));
        // Every hop trusted: the left-most (an internal client).
        assert_eq!(
            t.client_addr(ip("10.0.0.2"), ["10.1.1.1, 10.0.0.1"]),
            ip("10.1.1.1")
        );
        // Garbage in the client's part ends the walk at the hop that received it.
        assert_eq!(
            t.client_addr(ip("10.0.0.2"), ["unknown, 10.0.0.1"]),
            ip("10.0.0.1")
        );
        // Ports and brackets as some proxies write them.
        assert_eq!(
            t.client_addr(ip("10.0.0.2"), ["198.51.100.7:5050"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            t.client_addr(ip("10.0.0.2"), ["[2001:db8::5]:443"]),
            ip("2001:db8::5")
        );
    }

    #[test]
    fn trust_forwarded_for_trusts_only_the_peer_not_the_client_written_hops() {
        let t = TrustedProxies::parse(&[], true).expect("valid");
        assert_eq!(
            t.client_addr(ip("192.0.2.1"), ["6.6.6.6, 198.51.100.7"]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn ipv6_is_keyed_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(
            limit_key(ip("2001:db8:1:2:ffff::9")),
            limit_key(ip("2001:db8:1:2::1"))
        );
        assert_ne!(
            limit_key(ip("2001:db8:1:3::1")),
            limit_key(ip("2001:db8:1:2::1"))
        );
        assert_eq!(limit_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(limit_key(ip("192.0.2.1")), ip("192.0.2.1"));
        // A trusted mapped peer is the same as its IPv4 form.
        let t = trusted(&["127.0.0.1"]);
        assert_eq!(
            t.client_addr(ip("::ffff:127.0.0.1"), ["198.51.100.7"]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn bad_entries_are_named() {
        let err = TrustedProxies::parse(&["10.0.0.0/8".into(), "nope".into()], false)
            .expect_err("refused");
        assert!(err.contains("`nope`"), "{err}");
        assert!(TrustedProxies::parse(&["10.1.2.3/8".into()], false).is_ok());
    }
}
