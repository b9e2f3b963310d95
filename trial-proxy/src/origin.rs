//! The proxy's own origin as the browser sees it: the configured public URL, else `http://` plus
//! the request's `Host`. Used for the injected script's URL, the WebSocket source added to the
//! CSP, and rewritten redirects. Taking `Host` is safe here: it only shapes the answer to the
//! very request that sent it, and the value is checked to be a plain `host[:port]`.

use crate::config::origin_string;
use hyper::header::{HOST, HeaderMap};
use url::Url;

/// The proxy's origin for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyOrigin {
    /// `http(s)://host[:port]`, no trailing slash.
    pub origin: String,
    /// `host[:port]` (the `Host` the co-browse server is given, so its URLs name the proxy).
    pub host: String,
    /// The browser reaches the proxy over https.
    pub https: bool,
}

impl ProxyOrigin {
    /// From the configured public URL, else the request's `Host`, else `fallback_host` (the
    /// address the proxy listens on).
    pub fn for_request(headers: &HeaderMap, public_url: Option<&Url>, fallback_host: &str) -> Self {
        if let Some(url) = public_url {
            let origin = origin_string(url);
            let host = origin
                .split_once("://")
                .map(|(_, h)| h.to_owned())
                .unwrap_or_default();
            return Self {
                origin,
                host,
                https: url.scheme() == "https",
            };
        }
        let host = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| is_plain_host(h))
            .unwrap_or(fallback_host)
            .to_owned();
        Self {
            origin: format!("http://{host}"),
            host,
            https: false,
        }
    }

    /// The WebSocket origin (`ws://…` / `wss://…`) of the proxy.
    pub fn ws_origin(&self) -> String {
        let rest = self.origin.split_once("://").map_or("", |(_, r)| r);
        format!("{}://{rest}", if self.https { "wss" } else { "ws" })
    }
}

/// `host[:port]` made of the characters a host or IPv6 literal can have, nothing else.
fn is_plain_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_str(host).unwrap());
        h
    }

    #[test]
    fn the_host_header_names_the_origin() {
        let o = ProxyOrigin::for_request(&headers("localhost:8780"), None, "127.0.0.1:1");
        assert_eq!(o.origin, "http://localhost:8780");
        assert_eq!(o.ws_origin(), "ws://localhost:8780");
    }

    #[test]
    fn a_strange_host_falls_back_to_the_listen_address() {
        let o = ProxyOrigin::for_request(&headers("evil\"><script>"), None, "127.0.0.1:8780");
        assert_eq!(o.origin, "http://127.0.0.1:8780");
    }

    #[test]
    fn the_public_url_wins() {
        let url = Url::parse("https://trial.example/").unwrap();
        let o = ProxyOrigin::for_request(&headers("localhost:1"), Some(&url), "x");
        assert_eq!(o.origin, "https://trial.example");
        assert_eq!(o.host, "trial.example");
        assert_eq!(o.ws_origin(), "wss://trial.example");
        assert!(o.https);
    }
}
