//! The agent page's parameters and small policies: session number, debug flag, embedding options,
//! reconnect backoff, and the language and theme asked for.
//!
//! Parameters come from the fragment (`#sid=123456789&debug=1`) and the query string (`?sid=…`);
//! the fragment wins, because hosts that embed the page set it without reloading.

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
    /// `auth=…`.
    pub auth: Option<String>,
    /// `lang=de`: the page's language (see `locale`).
    pub lang: Option<String>,
    /// `theme=light|dark|high-contrast|auto`.
    pub theme: Option<String>,
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

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn pairs(s: &str) -> impl Iterator<Item = (String, String)> + '_ {
    s.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (percent_decode(k), percent_decode(v))
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
    for (k, v) in pairs(search).chain(pairs(hash)) {
        match k.as_str() {
            "sid" => {
                if let Some(s) = normalize_sid(&v) {
                    p.sid = Some(s);
                }
            }
            "debug" => p.debug = truthy(&v),
            "nosidinput" => p.no_sid_input = truthy(&v),
            "agentId" | "agentid" if !v.is_empty() => p.agent_id = Some(v),
            "auth" if !v.is_empty() => p.auth = Some(v),
            "lang" if !v.is_empty() => p.lang = Some(v),
            "theme" if !v.is_empty() => p.theme = Some(v),
            _ => {}
        }
    }
    p
}

/// Reconnect delay for the `attempt`-th retry (0-based): 0.5 s doubling to a 15 s cap, with up to
/// 25 % jitter from `jitter01` ∈ [0, 1) so a restarted server is not hit by every agent at once.
pub fn backoff_ms(attempt: u32, jitter01: f64) -> u32 {
    let base = 500u64.saturating_mul(1u64 << attempt.min(16)).min(15_000);
    let j = if jitter01.is_finite() {
        jitter01.clamp(0.0, 1.0)
    } else {
        0.0
    };
    (base as f64 * (1.0 + 0.25 * j)).round() as u32
}

/// `ws(s)://<host><folder of the page>/ws`: the socket next to the agent page (which is served at
/// `/cobrowse/slave.html`, so this is `/cobrowse/ws`).
pub fn ws_url_for_page(protocol: &str, host: &str, pathname: &str) -> String {
    let scheme = if protocol == "https:" { "wss:" } else { "ws:" };
    let dir = pathname.rfind('/').map_or("/", |i| &pathname[..=i]);
    format!("{scheme}//{host}{dir}ws")
}

/// `http(s)://host[/]` → `ws(s)://host/cobrowse/ws`, for a new owner node's public URL.
pub fn ws_url_from_server(server_url: &str) -> Option<String> {
    let rest = server_url.trim().trim_end_matches('/');
    let (scheme, host) = if let Some(h) = rest.strip_prefix("https://") {
        ("wss", h)
    } else if let Some(h) = rest.strip_prefix("http://") {
        ("ws", h)
    } else {
        return None;
    };
    (!host.is_empty()).then(|| format!("{scheme}://{host}/cobrowse/ws"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_and_query_forms_are_both_read() {
        let p = parse("", "#sid=123456789&debug=1");
        assert_eq!(p.sid.as_deref(), Some("123456789"));
        assert!(p.debug && !p.no_sid_input);
        let p = parse(
            "?sid=123-456-789&nosidinput=1&agentId=jane%40desk&auth=t%2Bk",
            "",
        );
        assert_eq!(p.sid.as_deref(), Some("123456789"));
        assert!(p.no_sid_input);
        assert_eq!(p.agent_id.as_deref(), Some("jane@desk"));
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
        let p = parse("?agentId=%&auth=%zz&x=%4", "%");
        assert_eq!(p.agent_id.as_deref(), Some("%"));
        assert_eq!(p.auth.as_deref(), Some("%zz"));
    }

    #[test]
    fn backoff_grows_to_a_cap_with_bounded_jitter() {
        assert_eq!(backoff_ms(0, 0.0), 500);
        assert_eq!(backoff_ms(1, 0.0), 1000);
        assert_eq!(backoff_ms(3, 0.0), 4000);
        assert_eq!(backoff_ms(10, 0.0), 15_000);
        assert_eq!(backoff_ms(u32::MAX, 0.0), 15_000);
        assert_eq!(backoff_ms(0, 1.0), 625);
        assert_eq!(backoff_ms(0, f64::NAN), 500);
    }

    #[test]
    fn socket_urls() {
        assert_eq!(
            ws_url_for_page("https:", "cb.example:8443", "/cobrowse/slave.html"),
            "wss://cb.example:8443/cobrowse/ws"
        );
        assert_eq!(ws_url_for_page("http:", "h", ""), "ws://h/ws");
        assert_eq!(
            ws_url_from_server("https://node2.example/").as_deref(),
            Some("wss://node2.example/cobrowse/ws")
        );
        assert_eq!(
            ws_url_from_server("http://10.0.0.2:8700").as_deref(),
            Some("ws://10.0.0.2:8700/cobrowse/ws")
        );
        assert_eq!(ws_url_from_server("ftp://x"), None);
        assert_eq!(ws_url_from_server("https://"), None);
    }
}
