//! Origin patterns with `*` wildcards, as the reference product's `allowedOrigins`: each `*`
//! matches any run of characters (the reference turns `*` into `.*` and escapes dots), everything
//! else matches literally, case-insensitively. A lone `*` allows every origin.
//!
//! Patterns are matched without regular expressions: the iterative glob of `cobrowse_common`
//! (shared with the agent page's allow lists) cannot be made to backtrack exponentially.

use cobrowse_common::pattern::glob;

/// One origin pattern such as `https://*.example.com` or `http://intranet:8700`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPattern(String);

impl OriginPattern {
    /// Parses a pattern; it must start with a scheme (`http://`, `https://`) unless it is `*`.
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

    /// True when `origin` (as sent in the `Origin` header) matches.
    pub fn matches(&self, origin: &str) -> bool {
        glob(
            self.0.as_bytes(),
            origin.trim().to_ascii_lowercase().as_bytes(),
        )
    }
}

/// A list of allowed origins. Empty allows nothing (except same-origin requests, which callers
/// check separately).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OriginList(Vec<OriginPattern>);

impl OriginList {
    /// Parses every entry; the first bad one is the error.
    pub fn parse(items: &[String]) -> Result<OriginList, String> {
        items
            .iter()
            .map(|s| OriginPattern::parse(s))
            .collect::<Result<Vec<_>, _>>()
            .map(OriginList)
    }

    /// True when some pattern matches `origin`.
    pub fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|p| p.matches(origin))
    }
}

/// What the origin check decided for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginCheck {
    /// No `Origin` header: not a cross-site browser request (curl, agent desktops, tests).
    /// Allowed, because CORS protects browsers' users and a non-browser can forge any header.
    Absent,
    /// Allowed; the value to echo in `Access-Control-Allow-Origin`.
    Allowed(String),
    /// Refused.
    Refused(String),
}

/// Checks an `Origin` header against the list. The server's own origin (same `host[:port]` as
/// the request's `Host`) is always allowed, so the agent page works whatever the list says.
pub fn check(list: &OriginList, origin: Option<&str>, host: Option<&str>) -> OriginCheck {
    let Some(origin) = origin else {
        return OriginCheck::Absent;
    };
    let same_origin = host.is_some_and(|h| {
        origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(h))
    });
    if same_origin || list.allows(origin) {
        OriginCheck::Allowed(origin.to_string())
    } else {
        OriginCheck::Refused(origin.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> OriginList {
        OriginList::parse(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("valid")
    }

    #[test]
    fn wildcards_match_like_the_reference() {
        let l = list(&["http://*.genesys.com", "http://intranet.domain.com:8700"]);
        assert!(l.allows("http://www.genesys.com"));
        assert!(l.allows("http://a.b.genesys.com"));
        assert!(l.allows("HTTP://WWW.GENESYS.COM"));
        assert!(
            !l.allows("https://www.genesys.com"),
            "scheme is part of the origin"
        );
        assert!(!l.allows("http://genesys.com"), "`*.` needs a subdomain");
        assert!(!l.allows("http://www.genesys.com.evil.net"));
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
    }

    #[test]
    fn patterns_need_a_scheme_and_no_path() {
        assert!(OriginPattern::parse("example.com").is_err());
        assert!(OriginPattern::parse("https://example.com/path").is_err());
        assert!(OriginPattern::parse("https://*.example.com:*").is_ok());
    }

    #[test]
    fn glob_does_not_blow_up() {
        let p = OriginPattern::parse(&format!("http://{}b", "*a".repeat(30))).expect("pattern");
        assert!(!p.matches(&format!("http://{}", "a".repeat(5000))));
    }

    #[test]
    fn same_origin_and_absent_are_allowed() {
        let l = list(&["https://shop.example"]);
        assert_eq!(check(&l, None, Some("cb:8700")), OriginCheck::Absent);
        assert_eq!(
            check(&l, Some("http://cb:8700"), Some("cb:8700")),
            OriginCheck::Allowed("http://cb:8700".into())
        );
        assert_eq!(
            check(&l, Some("https://evil.example"), Some("cb:8700")),
            OriginCheck::Refused("https://evil.example".into())
        );
    }
}
