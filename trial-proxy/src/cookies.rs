//! `Set-Cookie` from the site, rewritten so the browser keeps the cookie for the proxy's host:
//! a `Domain` naming the site's host would make the browser refuse the cookie on the proxy's
//! host, so it is dropped (the cookie becomes host-only, which is what the proxy's host needs);
//! behind a plain-`http` proxy a `Secure` cookie would be refused or never sent back, so `Secure`
//! is dropped (and `SameSite=None`, which needs `Secure`, becomes `Lax`) — except for
//! `__Secure-`/`__Host-` cookies, whose names promise `Secure` (browsers keep them on
//! `localhost`, which is a secure context). Names, values, paths and expiry pass unchanged.

/// A rewritten `Set-Cookie` value and what changed (for the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    /// The value to send to the browser.
    pub value: String,
    /// What changed, e.g. `Domain=.shop.example dropped`.
    pub changes: Vec<String>,
}

/// Rewrites one `Set-Cookie` value; `None` when nothing needs to change. `https_proxy`: the
/// browser reaches the proxy over https.
pub fn rewrite(value: &str, https_proxy: bool) -> Option<Rewritten> {
    let mut parts = value.split(';');
    let pair = parts.next().unwrap_or_default().trim();
    let name = pair.split('=').next().unwrap_or_default().trim();
    let prefixed = name.starts_with("__Secure-") || name.starts_with("__Host-");
    let drop_secure = !https_proxy && !prefixed;

    let mut attrs: Vec<String> = Vec::new();
    let mut changes = Vec::new();
    let mut dropped_secure = false;
    for attr in parts.map(str::trim).filter(|a| !a.is_empty()) {
        let key = attr.split('=').next().unwrap_or_default().trim();
        if key.eq_ignore_ascii_case("domain") {
            changes.push(format!("{attr} dropped"));
        } else if key.eq_ignore_ascii_case("secure") && drop_secure {
            changes.push("Secure dropped (the proxy is plain http)".into());
            dropped_secure = true;
        } else {
            attrs.push(attr.to_owned());
        }
    }
    if dropped_secure {
        for a in &mut attrs {
            let (k, v) = a.split_once('=').unwrap_or((a.as_str(), ""));
            if k.trim().eq_ignore_ascii_case("samesite") && v.trim().eq_ignore_ascii_case("none") {
                *a = "SameSite=Lax".into();
                changes.push("SameSite=None → Lax (None needs Secure)".into());
            }
        }
    }
    if changes.is_empty() {
        return None;
    }
    let mut out = pair.to_owned();
    for a in attrs {
        out.push_str("; ");
        out.push_str(&a);
    }
    Some(Rewritten {
        value: out,
        changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_is_dropped_and_the_rest_kept() {
        let r = rewrite(
            "sid=abc=1; Domain=.shop.example; Path=/; HttpOnly; Max-Age=60",
            true,
        )
        .unwrap();
        assert_eq!(r.value, "sid=abc=1; Path=/; HttpOnly; Max-Age=60");
        assert_eq!(r.changes, ["Domain=.shop.example dropped"]);
    }

    #[test]
    fn a_host_only_cookie_is_untouched() {
        assert_eq!(rewrite("a=b; Path=/; HttpOnly; SameSite=Lax", false), None);
        assert_eq!(rewrite("a=b; Secure", true), None);
    }

    #[test]
    fn secure_is_dropped_behind_plain_http_and_none_becomes_lax() {
        let r = rewrite("a=b; secure; SameSite=None; Path=/", false).unwrap();
        assert_eq!(r.value, "a=b; SameSite=Lax; Path=/");
        assert_eq!(r.changes.len(), 2);
    }

    #[test]
    fn prefixed_cookies_keep_secure() {
        let r = rewrite("__Host-id=1; Secure; Path=/; Domain=x.example", false).unwrap();
        assert_eq!(r.value, "__Host-id=1; Secure; Path=/");
        assert_eq!(rewrite("__Secure-id=1; Secure", false), None);
    }
}
