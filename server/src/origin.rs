//! The `Origin` check of REST requests and WebSocket upgrades. The allow-list itself (`*`
//! patterns as the reference product's `allowedOrigins`) is `cobrowse_common::origin`, shared with
//! the agent page's stylesheet and frame decisions so both read a list the same way.

pub use cobrowse_common::origin::{OriginList, OriginPattern};

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
    fn same_origin_and_absent_are_allowed() {
        let l = list(&["https://shop.example"]);
        assert_eq!(check(&l, None, Some("cb:8700")), OriginCheck::Absent);
        assert_eq!(
            check(&l, Some("http://cb:8700"), Some("cb:8700")),
            OriginCheck::Allowed("http://cb:8700".into())
        );
        assert_eq!(
            check(&l, Some("https://shop.example"), Some("cb:8700")),
            OriginCheck::Allowed("https://shop.example".into())
        );
        assert_eq!(
            check(&l, Some("https://evil.example"), Some("cb:8700")),
            OriginCheck::Refused("https://evil.example".into())
        );
    }
}
