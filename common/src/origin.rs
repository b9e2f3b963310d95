//! Origin allow-lists with `*` wildcards (`https://*.example.com`, `http://intranet:8700`, `*`):
//! the server's `allowedOrigins` and `proxy.*` lists, and the agent page's decisions about which
//! stylesheets and frames it may load, which must agree with the server's.
//!
//! Each `*` matches any run of characters, everything else matches literally and
//! case-insensitively; a lone `*` allows every origin. Matching uses the iterative
//! [`glob`], which hostile input cannot make backtrack exponentially.

use crate::pattern::glob;

/// One origin pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPattern(String);

impl OriginPattern {
    /// Parses a pattern; it must be `*` or `<scheme>://<host>[:<port>]` (wildcards allowed, no
    /// path).
    pub fn parse(s: &str) -> Result<OriginPattern, String> {
        let s = s.trim().to_ascii_lowercase();
        if s == "*" {
            return Ok(OriginPattern(s));
        }
        let Some((scheme, rest)) = s.split_once("://") else {
            return Err(format!(
                "`{s}` is not an origin (expected <scheme>://<domain>[:<port>], e.g. https://*.example.com)"
            ));
        };
        if scheme.is_empty() || rest.is_empty() || rest.contains('/') {
            return Err(format!(
                "`{s}` is not an origin (no path allowed; expected <scheme>://<domain>[:<port>])"
            ));
        }
        Ok(OriginPattern(s))
    }

    /// True when `origin` (`scheme://host[:port]`, as in an `Origin` header) matches.
    pub fn matches(&self, origin: &str) -> bool {
        glob(
            self.0.as_bytes(),
            origin.trim().to_ascii_lowercase().as_bytes(),
        )
    }
}

/// A list of allowed origins. Empty allows nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OriginList(Vec<OriginPattern>);

impl OriginList {
    /// Parses every entry; the first bad one is the error (configuration: refuse to start).
    pub fn parse(items: &[String]) -> Result<OriginList, String> {
        items
            .iter()
            .map(|s| OriginPattern::parse(s))
            .collect::<Result<Vec<_>, _>>()
            .map(OriginList)
    }

    /// Parses what can be parsed and returns the entries that could not (a list received from
    /// the server, which validated it already: a bad entry then allows nothing rather than
    /// failing the page). Blank entries are skipped silently.
    pub fn parse_valid(items: &[String]) -> (OriginList, Vec<String>) {
        let mut bad = Vec::new();
        let list = items
            .iter()
            .filter(|s| !s.trim().is_empty())
            .filter_map(|s| {
                OriginPattern::parse(s)
                    .map_err(|_| bad.push(s.clone()))
                    .ok()
            })
            .collect();
        (OriginList(list), bad)
    }

    /// True when some pattern matches `origin`.
    pub fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|p| p.matches(origin))
    }

    /// True when the list allows nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> OriginList {
        OriginList::parse(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("valid")
    }

    #[test]
    fn wildcards_match_whole_origins_case_insensitively() {
        let l = list(&["http://*.shop.example", "http://intranet.domain.com:8700"]);
        assert!(l.allows("http://www.shop.example"));
        assert!(l.allows("http://a.b.shop.example"));
        assert!(l.allows("HTTP://WWW.SHOP.EXAMPLE"));
        assert!(
            !l.allows("https://www.shop.example"),
            "scheme is part of the origin"
        );
        assert!(!l.allows("http://shop.example"), "`*.` needs a subdomain");
        assert!(!l.allows("http://www.shop.example.evil.net"));
        assert!(l.allows("http://intranet.domain.com:8700"));
        assert!(!l.allows("http://intranet.domain.com:8701"));
        assert!(
            !l.allows("http://intranetxdomain.com:8700"),
            "dots are literal"
        );
    }

    #[test]
    fn star_allows_everything_and_empty_nothing() {
        assert!(list(&["*"]).allows("https://x.example"));
        assert!(!list(&[]).allows("https://x.example"));
        assert!(list(&[]).is_empty());
    }

    #[test]
    fn patterns_need_a_scheme_and_no_path() {
        assert!(OriginPattern::parse("example.com").is_err());
        assert!(OriginPattern::parse("https://example.com/path").is_err());
        assert!(OriginPattern::parse("https://*.example.com:*").is_ok());
    }

    #[test]
    fn received_lists_keep_their_valid_entries() {
        let items: Vec<String> = [
            "https://cdn.example",
            "cdn.example",
            " ",
            "https://*.fonts.example",
        ]
        .map(String::from)
        .to_vec();
        let (l, bad) = OriginList::parse_valid(&items);
        assert_eq!(bad, vec!["cdn.example".to_string()]);
        assert!(l.allows("https://cdn.example"));
        assert!(l.allows("https://a.fonts.example"));
        assert!(!l.allows("http://cdn.example"));
    }

    #[test]
    fn hostile_patterns_stay_fast() {
        let p = OriginPattern::parse(&format!("http://{}b", "*a".repeat(30))).expect("pattern");
        assert!(!p.matches(&format!("http://{}", "a".repeat(5000))));
    }
}
