//! Which customer stylesheets the replica loads through the server's CSS proxy, and the `data:`
//! URL of a linked sheet whose rules the customer sent.
//!
//! The replica lives on the agent page's origin, so a `<link rel=stylesheet>` of the customer's
//! site is cross-origin there: it renders, but its `cssRules` throw, so `web::styles` cannot copy
//! its `:hover`/`:focus` rules. Sheets the customer's page can read arrive as their rules and are
//! shown as a `data:` URL ([`css_data_url`]); for the others, when the sheet's origin matches the
//! server's `proxy.allowedExternalDomains` (from the session answer), the replica loads it as
//! `<agent page dir>/css-proxy?url=<sheet URL>` instead. The server answers the same sheet with
//! its URLs made absolute and every pseudo-class rule already followed by its attribute copy, so
//! `web::styles` skips proxied sheets (their copies exist) and nothing is copied twice.
//!
//! Sheets of origins not on the list keep their direct URL: they still render, only their
//! pseudo-states are not mirrored. Sheets on the agent page's own origin are readable already and
//! never proxied. The list is a [`cobrowse_common::origin::OriginList`], as the server's check of
//! the same list is, so the agent proxies exactly what the server's proxy will fetch.

use crate::debug;
use crate::url::{origin_of, resolve};
use cobrowse_common::origin::OriginList;
use cobrowse_common::pattern::query_encode;

/// The allow-list and the proxy endpoint. The default proxies nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SheetPolicy {
    /// Origin patterns.
    origins: OriginList,
    /// The agent page's origin (never proxied).
    agent_origin: Option<String>,
    /// `…/cobrowse/css-proxy`, absolute (the replica's base is the customer's page).
    endpoint: Option<String>,
}

impl SheetPolicy {
    /// A policy from the server's `allowedExternalDomains` and the agent page's URL (the proxy is
    /// `css-proxy` next to it, as `rest/` is). An entry that is not an origin pattern allows
    /// nothing (the server validated the list, so one is only logged).
    pub fn new(patterns: &[String], agent_page: Option<&str>) -> Self {
        let endpoint = agent_page
            .and_then(|p| resolve(p, "css-proxy"))
            .filter(|e| origin_of(e).is_some());
        let (origins, rejected) = OriginList::parse_valid(patterns);
        if !rejected.is_empty() {
            debug!("allowedExternalDomains: ignoring {rejected:?}");
        }
        SheetPolicy {
            origins,
            agent_origin: agent_page.and_then(origin_of),
            endpoint,
        }
    }

    /// The URL the replica loads for a stylesheet whose absolute http(s) URL is `href`: the
    /// proxy's when its origin is allowed, else `None` (load it directly).
    pub fn sheet_url(&self, href: &str) -> Option<String> {
        let endpoint = self.endpoint.as_ref()?;
        let origin = origin_of(href)?;
        if self.agent_origin.as_deref() == Some(origin.as_str()) {
            return None;
        }
        let href = href.split('#').next().unwrap_or(href);
        self.origins
            .allows(&origin)
            .then(|| format!("{endpoint}?url={}", query_encode(href)))
    }

    /// The prefix every proxied sheet URL starts with (`None`: nothing is proxied), so the
    /// pseudo-state builder can recognise sheets that already carry their copies.
    pub fn proxy_prefix(&self) -> Option<String> {
        if self.origins.is_empty() {
            return None;
        }
        self.endpoint.as_ref().map(|e| format!("{e}?url="))
    }
}

/// A `data:text/css` URL holding `css`, for a replica `<link>` whose rules the customer sent.
///
/// A `data:` sheet is same-origin to the replica (fetch gives a basic response), so its rules are
/// readable for the pseudo-state copies, and the agent page's CSP already allows `data:` styles.
/// Percent-encoded are only the bytes a URL would not keep: `%` and `#` (escape and fragment),
/// ASCII controls and space (the URL parser strips tabs and newlines and trims spaces), and
/// non-ASCII bytes (as UTF-8).
pub fn css_data_url(css: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(css.len() + 32);
    out.push_str("data:text/css;charset=utf-8,");
    for &b in css.as_bytes() {
        if b.is_ascii_graphic() && b != b'%' && b != b'#' {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    out
}

/// True when a `<link>`'s `rel` makes it a stylesheet (`stylesheet`, also `alternate stylesheet`).
pub fn is_stylesheet_rel(rel: Option<&str>) -> bool {
    rel.is_some_and(|r| {
        r.split_ascii_whitespace()
            .any(|t| t.eq_ignore_ascii_case("stylesheet"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGENT: &str = "http://cb.example:8700/cobrowse/slave.html#sid=1";

    fn policy(items: &[&str]) -> SheetPolicy {
        let items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
        SheetPolicy::new(&items, Some(AGENT))
    }

    #[test]
    fn allowed_sheets_go_through_the_proxy_next_to_the_agent_page() {
        let p = policy(&["https://*.shop.example", "http://127.0.0.1:9001"]);
        assert_eq!(
            p.sheet_url("https://static.shop.example/a b.css?v=2#x")
                .as_deref(),
            Some(
                "http://cb.example:8700/cobrowse/css-proxy?url=https%3A%2F%2Fstatic.shop.example%2Fa%20b.css%3Fv%3D2"
            )
        );
        assert!(p.sheet_url("http://127.0.0.1:9001/s.css").is_some());
        assert_eq!(p.sheet_url("http://127.0.0.1:9002/s.css"), None, "port");
        assert_eq!(p.sheet_url("https://shop.example.evil/s.css"), None);
        assert_eq!(p.sheet_url("data:text/css,a{}"), None);
        assert_eq!(
            p.proxy_prefix().as_deref(),
            Some("http://cb.example:8700/cobrowse/css-proxy?url=")
        );
    }

    #[test]
    fn nothing_is_proxied_without_a_list_or_for_the_agent_origin() {
        assert_eq!(policy(&[]).sheet_url("https://a.example/s.css"), None);
        assert_eq!(policy(&[]).proxy_prefix(), None);
        assert_eq!(
            policy(&["*"]).sheet_url("http://cb.example:8700/cobrowse/demo/s.css"),
            None
        );
        assert_eq!(
            SheetPolicy::default().sheet_url("https://a.example/s.css"),
            None
        );
    }

    #[test]
    fn css_data_urls_keep_every_byte() {
        let css = "a::before { content: \"#1 100% é\tx\" }\n.b{}";
        let url = css_data_url(css);
        assert_eq!(
            url,
            "data:text/css;charset=utf-8,a::before%20{%20content:%20\"%231%20100%25%20%C3%A9%09x\"%20}%0A.b{}"
        );
        // What a URL parser gives back after the comma is the sheet, byte for byte.
        let body = url.split_once(',').map(|(_, b)| b).unwrap_or_default();
        let mut bytes = Vec::new();
        let mut it = body.bytes();
        while let Some(b) = it.next() {
            if b == b'%' {
                let hex: String = [it.next(), it.next()]
                    .iter()
                    .flatten()
                    .map(|&c| c as char)
                    .collect();
                bytes.push(u8::from_str_radix(&hex, 16).expect("hex"));
            } else {
                bytes.push(b);
            }
        }
        assert_eq!(String::from_utf8(bytes).expect("utf-8"), css);
    }

    #[test]
    fn stylesheet_rels() {
        assert!(is_stylesheet_rel(Some("stylesheet")));
        assert!(is_stylesheet_rel(Some("Alternate  StyleSheet")));
        assert!(!is_stylesheet_rel(Some("icon")));
        assert!(!is_stylesheet_rel(Some("preload")));
        assert!(!is_stylesheet_rel(None));
    }
}
