//! The agent page's parameters: session number, debug flag, embedding options, credentials, the
//! language and theme asked for; and where the page finds the server next to it.
//!
//! Parameters come from the fragment (`#sid=123456789&debug=1`) and the query string (`?sid=…`);
//! the fragment wins, because hosts that embed the page set it without reloading. The credential
//! (`#auth=…`) is read from the fragment only: a query string reaches server logs, proxies and
//! `Referer` headers, a fragment never leaves the browser ([`without_auth`] then takes it out of
//! the address bar too).

use cobrowse_common::pattern::form_decode;
use cobrowse_protocol::rest::{REST_PREFIX, WS_PATH};

/// What the page was opened with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageParams {
    /// A valid 9-digit session number, if given.
    pub sid: Option<String>,
    /// `debug=1`: console logs.
    pub debug: bool,
    /// `nosidinput=1`: the host provides its own field; hide ours.
    pub no_sid_input: bool,
    /// `agentId=…`.
    pub agent_id: Option<String>,
    /// `#auth=…` (fragment only): the agent token or a JWT from the agent desktop.
    pub auth: Option<String>,
    /// `lang=de`: the page's language (see `locale`).
    pub lang: Option<String>,
    /// `theme=light|dark|high-contrast|auto`.
    pub theme: Option<String>,
    /// `observe=1`: join to watch (a supervisor, a second agent); the page never takes control
    /// by joining (`Hello.observe`). Supervisor consoles link to `slave.html#sid=N&observe=1`.
    pub observe: bool,
}

/// Normalises a typed session number: digits only (spaces and dashes people type are dropped),
/// exactly nine of them.
pub fn normalize_sid(raw: &str) -> Option<String> {
    let digits: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\u{a0}'))
        .collect();
    (digits.len() == 9 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

fn pairs(s: &str) -> impl Iterator<Item = (String, String)> + '_ {
    s.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (form_decode(k), form_decode(v))
    })
}

fn truthy(v: &str) -> bool {
    matches!(v, "1" | "true" | "yes" | "")
}

/// Parses `location.search` and `location.hash` (with or without their `?`/`#`).
pub fn parse(search: &str, hash: &str) -> PageParams {
    let mut p = PageParams::default();
    let search = search.strip_prefix('?').unwrap_or(search);
    let hash = hash.strip_prefix('#').unwrap_or(hash);
    let query = pairs(search).map(|(k, v)| (k, v, false));
    for (k, v, in_hash) in query.chain(pairs(hash).map(|(k, v)| (k, v, true))) {
        match k.as_str() {
            "sid" => {
                if let Some(s) = normalize_sid(&v) {
                    p.sid = Some(s);
                }
            }
            "debug" => p.debug = truthy(&v),
            "nosidinput" => p.no_sid_input = truthy(&v),
            "observe" => p.observe = truthy(&v),
            "agentId" | "agentid" if !v.is_empty() => p.agent_id = Some(v),
            "auth" if in_hash && !v.is_empty() => p.auth = Some(v),
            "lang" if !v.is_empty() => p.lang = Some(v),
            "theme" if !v.is_empty() => p.theme = Some(v),
            _ => {}
        }
    }
    p
}

/// The fragment (with or without its `#`) without its `auth=…` pairs, when it has any: what the
/// address bar should show once the page has read the credential. `None` when there is nothing
/// to take out.
pub fn without_auth(hash: &str) -> Option<String> {
    let hash = hash.strip_prefix('#').unwrap_or(hash);
    let is_auth = |p: &&str| p.split('=').next().map(form_decode).as_deref() == Some("auth");
    if !hash.split('&').any(|p| is_auth(&p)) {
        return None;
    }
    let kept: Vec<&str> = hash
        .split('&')
        .filter(|p| !p.is_empty() && !is_auth(p))
        .collect();
    Some(kept.join("&"))
}

/// A server path (`cobrowse_protocol::rest::*_PATH`) relative to the agent page, which the server
/// serves in the same folder (`/cobrowse/slave.html` beside `/cobrowse/rest/…`): relative, so the
/// page keeps working behind a proxy that mounts the server under another prefix. A path outside
/// that folder is returned as it is.
pub fn page_relative(path: &'static str) -> &'static str {
    let dir = REST_PREFIX.rsplit_once('/').map_or("", |(dir, _)| dir);
    path.strip_prefix(dir)
        .and_then(|p| p.strip_prefix('/'))
        .unwrap_or(path)
}

/// `ws(s)://<host><folder of the page>/ws`: the socket next to the agent page (which is served at
/// `/cobrowse/slave.html`, so this is [`WS_PATH`]).
pub fn ws_url_for_page(protocol: &str, host: &str, pathname: &str) -> String {
    let scheme = if protocol == "https:" { "wss:" } else { "ws:" };
    let dir = pathname.rfind('/').map_or("/", |i| &pathname[..=i]);
    format!("{scheme}//{host}{dir}{}", page_relative(WS_PATH))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cobrowse_protocol::rest;

    #[test]
    fn fragment_and_query_forms_are_both_read() {
        let p = parse("", "#sid=123456789&debug=1");
        assert_eq!(p.sid.as_deref(), Some("123456789"));
        assert!(p.debug && !p.no_sid_input);
        let p = parse(
            "?sid=123-456-789&nosidinput=1&agentId=jane%40desk",
            "#auth=t%2Bk",
        );
        assert_eq!(p.sid.as_deref(), Some("123456789"));
        assert!(p.no_sid_input);
        assert_eq!(p.agent_id.as_deref(), Some("jane@desk"));
        assert!(!p.observe);
        assert!(parse("", "#sid=123456789&observe=1").observe);
        assert!(!parse("", "#sid=123456789&observe=0").observe);
        assert_eq!(p.auth.as_deref(), Some("t+k"));
        // The fragment wins over the query.
        let p = parse("?sid=111111111", "sid=222222222");
        assert_eq!(p.sid.as_deref(), Some("222222222"));
        let p = parse("?lang=en", "#lang=de&theme=dark");
        assert_eq!(p.lang.as_deref(), Some("de"));
        assert_eq!(p.theme.as_deref(), Some("dark"));
    }

    #[test]
    fn bad_session_numbers_are_refused() {
        for bad in [
            "12345678",
            "1234567890",
            "12345678x",
            "",
            "１２３４５６７８９",
        ] {
            assert_eq!(normalize_sid(bad), None, "{bad}");
        }
        assert_eq!(parse("?sid=abc", "").sid, None);
        assert!(!parse("?debug=0", "").debug);
        // Malformed escapes do not panic.
        let p = parse("?agentId=%&x=%4", "auth=%zz&%");
        assert_eq!(p.agent_id.as_deref(), Some("%"));
        assert_eq!(p.auth.as_deref(), Some("%zz"));
    }

    #[test]
    fn the_credential_is_read_from_the_fragment_only() {
        assert_eq!(parse("?auth=from-the-query", "").auth, None);
        assert_eq!(parse("?auth=q", "#sid=123456789").auth, None);
        assert_eq!(parse("?auth=q", "#auth=h").auth.as_deref(), Some("h"));
    }

    #[test]
    fn the_credential_is_taken_out_of_the_fragment() {
        assert_eq!(without_auth("#sid=123456789&debug=1"), None);
        assert_eq!(without_auth(""), None);
        assert_eq!(
            without_auth("#sid=123456789&auth=abc.def.ghi&debug=1").as_deref(),
            Some("sid=123456789&debug=1")
        );
        assert_eq!(without_auth("auth=x").as_deref(), Some(""));
        assert_eq!(
            without_auth("#au%74h=x&lang=de").as_deref(),
            Some("lang=de")
        );
    }

    #[test]
    fn socket_urls() {
        assert_eq!(
            ws_url_for_page("https:", "cb.example:8443", "/cobrowse/slave.html"),
            "wss://cb.example:8443/cobrowse/ws"
        );
        assert_eq!(ws_url_for_page("http:", "h", ""), "ws://h/ws");
        assert_eq!(page_relative(rest::UI_DEFAULTS_PATH), "rest/ui.json");
        assert_eq!(
            page_relative(rest::LIVE_SESSIONS_PATH),
            "rest/live/sessions"
        );
        assert_eq!(page_relative("/elsewhere/x"), "/elsewhere/x");
    }
}

/// The targets the agent page posts its events to: the configured agent desktops' origins
/// (`ui.json`'s `desktopOrigins`) that are exact `http(s)://host[:port]` origins. `postMessage`
/// delivers only to a window of the target origin; a pattern, a path or `*` (which would hand
/// the session's events to whatever page framed the agent page) is never a target.
pub fn post_targets(configured: &[String]) -> Vec<String> {
    configured
        .iter()
        .map(|o| o.trim())
        .filter(|o| {
            o.split_once("://").is_some_and(|(scheme, host)| {
                matches!(scheme, "http" | "https")
                    && !host.is_empty()
                    && !host.contains(['/', '?', '#', '*', ' ', '@'])
            })
        })
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod post_target_tests {
    use super::post_targets;

    #[test]
    fn only_exact_origins_are_targets_never_a_wildcard() {
        let configured: Vec<String> = [
            "https://desk.example.com",
            "http://127.0.0.1:9000",
            "*",
            "https://*.example.com",
            "https://desk.example.com/path",
            "javascript:alert(1)",
            "https://user@desk.example.com",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            post_targets(&configured),
            vec!["https://desk.example.com", "http://127.0.0.1:9000"]
        );
    }
}
