//! Header rules of the forwarding: hop-by-hop headers never cross the proxy; the browser's
//! `Origin`/`Referer` naming the proxy are turned back into the site's origin (servers that check
//! them against their own host, CSRF middleware for one, see what they expect); `Location`s that
//! name the site come back naming the proxy, so a redirect keeps the browser on the proxy.

use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use url::Url;

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus the ones the
/// `Connection` header names.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

/// Removes hop-by-hop headers. `Upgrade` (and `Connection: upgrade`) stay when `upgrade` is
/// true: a WebSocket handshake is forwarded as such.
pub fn strip_hop_by_hop(headers: &mut HeaderMap, upgrade: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .filter(|n| !(upgrade && n == header::UPGRADE))
        .collect();
    for n in named.iter().chain(&HOP_BY_HOP) {
        headers.remove(n);
    }
    if upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    } else {
        headers.remove(header::UPGRADE);
    }
}

/// `value` with a leading `from` origin replaced by `to`, when it starts with exactly that origin
/// (followed by nothing, `/`, `?` or `#`).
fn swap_origin(value: &str, from: &str, to: &str) -> Option<String> {
    let rest = value.strip_prefix(from)?;
    matches!(rest.bytes().next(), None | Some(b'/' | b'?' | b'#')).then(|| format!("{to}{rest}"))
}

/// Request headers for the site: `Origin` and `Referer` naming the proxy name the site instead.
pub fn to_upstream(headers: &mut HeaderMap, proxy_origin: &str, upstream_origin: &str) {
    for name in [header::ORIGIN, header::REFERER] {
        let swapped = headers
            .get(&name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| swap_origin(v, proxy_origin, upstream_origin))
            .and_then(|v| HeaderValue::from_str(&v).ok());
        if let Some(v) = swapped {
            headers.insert(name, v);
        }
    }
}

/// A `Location` (or `Content-Location`) naming the site, rewritten to name the proxy; `None`
/// when it is relative or names another site (those pass unchanged).
pub fn rewrite_location(value: &str, upstream: &Url, proxy_origin: &str) -> Option<String> {
    // Scheme-relative `//host/path` takes the site's scheme.
    let absolute = if value.starts_with("//") {
        Url::parse(&format!("{}:{value}", upstream.scheme())).ok()?
    } else {
        Url::parse(value).ok()?
    };
    if absolute.origin() != upstream.origin() {
        return None;
    }
    let mut out = proxy_origin.to_owned();
    out.push_str(absolute.path());
    if let Some(q) = absolute.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = absolute.fragment() {
        out.push('#');
        out.push_str(f);
    }
    Some(out)
}

/// Is `location` an absolute URL of another site than `upstream` (a redirect that leaves the
/// proxy, e.g. to a single-sign-on host)?
pub fn leaves_site(location: &str, upstream: &Url) -> bool {
    Url::parse(location).is_ok_and(|u| u.origin() != upstream.origin())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Url {
        Url::parse("https://staging.example").unwrap()
    }

    #[test]
    fn locations_of_the_site_name_the_proxy() {
        let p = "http://127.0.0.1:8780";
        assert_eq!(
            rewrite_location("https://staging.example/login?next=%2F#top", &site(), p).unwrap(),
            "http://127.0.0.1:8780/login?next=%2F#top"
        );
        assert_eq!(
            rewrite_location("https://staging.example:443", &site(), p).unwrap(),
            "http://127.0.0.1:8780/"
        );
        assert_eq!(
            rewrite_location("//staging.example/a", &site(), p).unwrap(),
            "http://127.0.0.1:8780/a"
        );
    }

    #[test]
    fn relative_and_foreign_locations_pass() {
        let p = "http://127.0.0.1:8780";
        assert_eq!(rewrite_location("/login", &site(), p), None);
        assert_eq!(
            rewrite_location("http://staging.example/", &site(), p),
            None
        );
        assert_eq!(
            rewrite_location("https://sso.example/auth", &site(), p),
            None
        );
        assert!(leaves_site("https://sso.example/auth", &site()));
        assert!(!leaves_site("/login", &site()));
    }

    #[test]
    fn origin_and_referer_name_the_site() {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, HeaderValue::from_static("http://p:1"));
        h.insert(
            header::REFERER,
            HeaderValue::from_static("http://p:1/cart?x=1"),
        );
        to_upstream(&mut h, "http://p:1", "https://staging.example");
        assert_eq!(h[header::ORIGIN], "https://staging.example");
        assert_eq!(h[header::REFERER], "https://staging.example/cart?x=1");
        // Another origin that merely starts with the proxy's is left alone.
        let mut h = HeaderMap::new();
        h.insert(header::REFERER, HeaderValue::from_static("http://p:10/"));
        to_upstream(&mut h, "http://p:1", "https://staging.example");
        assert_eq!(h[header::REFERER], "http://p:10/");
    }

    #[test]
    fn hop_by_hop_headers_are_removed_and_upgrades_kept() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret, Upgrade"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert(header::COOKIE, HeaderValue::from_static("a=b"));
        let mut plain = h.clone();
        strip_hop_by_hop(&mut plain, false);
        assert_eq!(plain.len(), 1, "{plain:?}");
        assert_eq!(plain[header::COOKIE], "a=b");
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h[header::UPGRADE], "websocket");
        assert_eq!(h[header::CONNECTION], "upgrade");
        assert!(h.get("x-secret").is_none());
    }
}
