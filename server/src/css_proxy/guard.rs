//! The SSRF guard: which URLs the CSS proxy may fetch. Scheme and allow list per hop (the first
//! request and every redirect), literal non-public addresses, and a resolver that drops
//! non-public addresses of names the allow list does not name exactly.

use crate::origin::OriginList;
use cobrowse_protocol::rest::ApiError;
use reqwest::Url;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// A hop the guard refuses: the stable error code and the message (answered 403).
#[derive(Debug)]
pub(super) struct Refused {
    /// Stable code (`domain_refused`, `redirect_refused`, …).
    pub(super) code: ApiError,
    /// What was refused and why.
    pub(super) message: String,
}

impl Refused {
    fn new(code: ApiError, message: String) -> Refused {
        Refused { code, message }
    }
}

/// The allow list of `proxy.allowedExternalDomains`, as the proxy checks it.
pub(super) struct Guard {
    allowed: OriginList,
    /// Allow entries without wildcards (lower case): origins whose private addresses are allowed.
    explicit: Vec<String>,
}

impl Guard {
    /// Reads `proxy.allowedExternalDomains` (already validated with the configuration).
    pub(super) fn new(allowed_external_domains: &[String]) -> Guard {
        let allowed = OriginList::parse(allowed_external_domains).unwrap_or_default();
        let explicit: Vec<String> = allowed_external_domains
            .iter()
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.contains('*'))
            .collect();
        Guard { allowed, explicit }
    }

    /// The resolver for the proxy's HTTP client: the hosts of the exact allow entries (and of
    /// the forward proxy, which must be reachable wherever it is) may resolve to non-public
    /// addresses, other names only to public ones.
    pub(super) fn resolver(&self, forward_proxy: Option<&str>) -> GuardedResolver {
        let mut hosts: Vec<String> = self
            .explicit
            .iter()
            .filter_map(|o| host_of_origin(o))
            .collect();
        if let Some(p) = forward_proxy
            && let Some(h) = host_of_origin(p.trim_end_matches('/'))
        {
            hosts.push(h);
        }
        GuardedResolver {
            explicit_hosts: Arc::new(hosts),
        }
    }

    /// Whether `url`'s origin is on the allow list (and http(s)).
    pub(super) fn allows(&self, url: &Url) -> bool {
        matches!(url.scheme(), "http" | "https")
            && self.allowed.allows(&url.origin().ascii_serialization())
    }

    /// Checks one hop: scheme, allow list, literal non-public addresses.
    pub(super) fn check_hop(&self, url: &Url, hop: usize) -> Result<(), Refused> {
        let origin = url.origin().ascii_serialization();
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused::new(
                if hop == 0 {
                    ApiError::UnsupportedScheme
                } else {
                    ApiError::RedirectRefused
                },
                format!(
                    "only http and https stylesheets are proxied, not `{}:`",
                    url.scheme()
                ),
            ));
        }
        if !self.allowed.allows(&origin) {
            return Err(if hop == 0 {
                Refused::new(
                    ApiError::DomainRefused,
                    format!("{origin} is not in proxy.allowedExternalDomains"),
                )
            } else {
                Refused::new(
                    ApiError::RedirectRefused,
                    format!(
                        "the stylesheet redirects to {origin}, which is not in proxy.allowedExternalDomains"
                    ),
                )
            });
        }
        let ip = url.host_str().and_then(|h| {
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .ok()
        });
        if let Some(ip) = ip
            && !is_public(ip)
            && !self.explicit.contains(&origin)
        {
            return Err(Refused::new(
                ApiError::AddressRefused,
                format!(
                    "{ip} is not a public address; only an allow entry naming {origin} exactly permits it"
                ),
            ));
        }
        Ok(())
    }
}

/// The resolver's refusal, found again in reqwest's error chain to answer 403, not 502.
#[derive(Debug)]
pub(super) struct AddressRefused(String);

impl std::fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} resolves only to non-public addresses, and no allow entry names it",
            self.0
        )
    }
}

impl std::error::Error for AddressRefused {}

/// True for addresses a server-side fetch may reach without an explicit allow entry.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64/10 CGNAT
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0/24 protocol assignments
                || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18/15 benchmarking
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x64 && s[1] == 0xff9b)) // NAT64 (embeds v4)
        }
    }
}

/// The host of an origin pattern without wildcards (`http://h:1` → `h`, `http://[::1]:2` → `::1`).
pub(super) fn host_of_origin(origin: &str) -> Option<String> {
    let rest = origin.split_once("://")?.1;
    let host = if let Some(v6) = rest.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        rest.split(':').next()?
    };
    Some(host.to_ascii_lowercase())
}

/// Resolves names with the system resolver and drops non-public addresses unless the name is
/// explicitly allowed.
pub(super) struct GuardedResolver {
    explicit_hosts: Arc<Vec<String>>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let explicit = self.explicit_hosts.contains(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| explicit || is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(
                    Box::new(AddressRefused(host)) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}
