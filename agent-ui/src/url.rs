//! Relative URL resolution against the customer's document URL (RFC 3986 §5.2), and scheme checks.
//!
//! The replica lives in an `about:blank` frame on the agent's origin, so a relative URL left as is
//! would hit the agent's server instead of the customer's site. Every URL attribute and CSS `url()`
//! the renderer writes is resolved here first. This is a small, allocation-light resolver for the
//! hierarchical URLs web pages use (`http`, `https`); it does no percent-decoding or IDNA, because
//! the browser normalises whatever we hand it.

/// The parts of an absolute URL that resolution needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parts<'a> {
    scheme: &'a str,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
}

/// Splits `s` into scheme, authority, path, query (fragment dropped). `None` when `s` has no scheme.
fn split(s: &str) -> Option<Parts<'_>> {
    let colon = s.find(':')?;
    let scheme = &s[..colon];
    if !is_scheme(scheme) {
        return None;
    }
    let rest = &s[colon + 1..];
    let rest = rest.split('#').next().unwrap_or("");
    let (rest, query) = match rest.find('?') {
        Some(q) => (&rest[..q], Some(&rest[q + 1..])),
        None => (rest, None),
    };
    let (authority, path) = match rest.strip_prefix("//") {
        Some(after) => {
            let end = after.find('/').unwrap_or(after.len());
            (Some(&after[..end]), &after[end..])
        }
        None => (None, rest),
    };
    Some(Parts {
        scheme,
        authority,
        path,
        query,
    })
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The scheme of `url` in lower case, if it has one. Leading/trailing ASCII whitespace and
/// embedded tabs/newlines are ignored the way browsers ignore them (`java\tscript:` is
/// `javascript:` to a browser, so it must be to us).
pub fn scheme_of(url: &str) -> Option<String> {
    let cleaned = clean(url);
    let colon = cleaned.find(':')?;
    let scheme = &cleaned[..colon];
    is_scheme(scheme).then(|| scheme.to_ascii_lowercase())
}

/// Strips what the URL parser strips: leading/trailing C0 controls and spaces, and every tab and
/// newline anywhere.
pub fn clean(url: &str) -> String {
    url.trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

/// RFC 3986 §5.2.4.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let absolute = path.starts_with('/');
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => trailing_slash = i == last,
            ".." => {
                if out.len() > usize::from(absolute) {
                    out.pop();
                }
                trailing_slash = i == last;
            }
            s => {
                out.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut joined = out.join("/");
    if absolute && !joined.starts_with('/') {
        joined.insert(0, '/');
    }
    if trailing_slash && !joined.ends_with('/') {
        joined.push('/');
    }
    joined
}

/// Resolves `reference` against the absolute `base`. Returns the reference unchanged when it is
/// already absolute, and `None` when `base` is not an absolute URL (nothing sensible to do).
/// Fragment-only references (`#top`) stay as they are: they point into the replica itself.
pub fn resolve(base: &str, reference: &str) -> Option<String> {
    let reference = clean(reference);
    if reference.starts_with('#') {
        return Some(reference);
    }
    if scheme_of(&reference).is_some() {
        return Some(reference);
    }
    let b = split(base)?;
    let (ref_no_frag, frag) = match reference.find('#') {
        Some(i) => (&reference[..i], Some(&reference[i..])),
        None => (reference.as_str(), None),
    };
    let mut out = String::with_capacity(base.len() + reference.len());
    out.push_str(b.scheme);
    out.push(':');
    if let Some(rest) = ref_no_frag.strip_prefix("//") {
        // Network-path reference: keeps only the scheme.
        out.push_str("//");
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        out.push_str(&rest[..end]);
        let tail = &rest[end..];
        let (path, query) = split_query(tail);
        out.push_str(&remove_dot_segments(path));
        push_query(&mut out, query);
    } else {
        if let Some(auth) = b.authority {
            out.push_str("//");
            out.push_str(auth);
        }
        let (rpath, rquery) = split_query(ref_no_frag);
        if rpath.is_empty() {
            out.push_str(b.path);
            push_query(&mut out, rquery.or(b.query));
        } else if rpath.starts_with('/') {
            out.push_str(&remove_dot_segments(rpath));
            push_query(&mut out, rquery);
        } else {
            let merged = if b.authority.is_some() && b.path.is_empty() {
                format!("/{rpath}")
            } else {
                let dir = b.path.rfind('/').map(|i| &b.path[..=i]).unwrap_or("");
                format!("{dir}{rpath}")
            };
            out.push_str(&remove_dot_segments(&merged));
            push_query(&mut out, rquery);
        }
    }
    if let Some(f) = frag {
        out.push_str(f);
    }
    Some(out)
}

fn split_query(s: &str) -> (&str, Option<&str>) {
    match s.find('?') {
        Some(q) => (&s[..q], Some(&s[q + 1..])),
        None => (s, None),
    }
}

fn push_query(out: &mut String, q: Option<&str>) {
    if let Some(q) = q {
        out.push('?');
        out.push_str(q);
    }
}

/// The origin of an absolute http(s) URL as browsers serialise it (`scheme://host[:port]`, lower
/// case, no user info, default port left out), for comparing against origin allow-lists.
/// `None` for other schemes and for URLs without a host.
pub fn origin_of(url: &str) -> Option<String> {
    let cleaned = clean(url);
    let p = split(&cleaned)?;
    let scheme = p.scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https") {
        return None;
    }
    let auth = p.authority?;
    let host_port = auth
        .rsplit_once('@')
        .map_or(auth, |(_, h)| h)
        .to_ascii_lowercase();
    let default = if scheme == "http" { ":80" } else { ":443" };
    let host_port = host_port.strip_suffix(default).unwrap_or(&host_port);
    if host_port.is_empty() {
        return None;
    }
    Some(format!("{scheme}://{host_port}"))
}

/// True when `url` is an absolute `http:` or `https:` URL, the only kind the replica fetches.
pub fn is_http(url: &str) -> bool {
    matches!(scheme_of(url).as_deref(), Some("http" | "https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://a/b/c/d;p?q";

    #[test]
    fn origins_as_browsers_serialise_them() {
        assert_eq!(
            origin_of("HTTPS://Maps.Example:443/x?y#z").as_deref(),
            Some("https://maps.example")
        );
        assert_eq!(
            origin_of("http://u:p@127.0.0.1:8123/a").as_deref(),
            Some("http://127.0.0.1:8123")
        );
        assert_eq!(origin_of("http://a:80/").as_deref(), Some("http://a"));
        assert_eq!(origin_of("javascript:alert(1)"), None);
        assert_eq!(origin_of("about:blank"), None);
        assert_eq!(origin_of("/relative"), None);
        assert_eq!(origin_of("http:///nohost"), None);
    }

    #[test]
    fn rfc3986_normal_examples() {
        let cases = [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "#s"),
            ("g#s", "http://a/b/c/g#s"),
            ("g?y#s", "http://a/b/c/g?y#s"),
            (";x", "http://a/b/c/;x"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../g", "http://a/g"),
        ];
        for (r, want) in cases {
            assert_eq!(resolve(BASE, r).as_deref(), Some(want), "ref {r:?}");
        }
    }

    #[test]
    fn rfc3986_abnormal_examples() {
        let cases = [
            ("../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("/../g", "http://a/g"),
            ("g.", "http://a/b/c/g."),
            ("..g", "http://a/b/c/..g"),
            ("./../g", "http://a/b/g"),
            ("g/./h", "http://a/b/c/g/h"),
            ("g/../h", "http://a/b/c/h"),
        ];
        for (r, want) in cases {
            assert_eq!(resolve(BASE, r).as_deref(), Some(want), "ref {r:?}");
        }
    }

    #[test]
    fn absolute_references_and_bad_bases() {
        assert_eq!(
            resolve("https://shop.example/x/", "https://cdn.example/a.css").as_deref(),
            Some("https://cdn.example/a.css")
        );
        assert_eq!(
            resolve("https://shop.example", "img.png").as_deref(),
            Some("https://shop.example/img.png")
        );
        assert_eq!(resolve("not a url", "img.png"), None);
        assert_eq!(resolve("", "img.png"), None);
    }

    #[test]
    fn schemes_are_seen_through_whitespace_tricks() {
        assert_eq!(
            scheme_of(" JavaScript:alert(1)").as_deref(),
            Some("javascript")
        );
        assert_eq!(scheme_of("java\tscript:x").as_deref(), Some("javascript"));
        assert_eq!(
            scheme_of("\u{1}javascript:x").as_deref(),
            Some("javascript")
        );
        assert_eq!(scheme_of("/path:with:colons"), None);
        assert_eq!(scheme_of("1http://x"), None);
        assert!(is_http("HTTPS://x/"));
        assert!(!is_http("data:image/png;base64,AA"));
    }
}
