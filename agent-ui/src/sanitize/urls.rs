//! Which URLs the replica keeps: resolved against the customer document's base, limited by use
//! (links: http(s), `mailto:`, `tel:`; resources: http(s) and `data:image/…`), `srcset` lists.

use crate::url::{clean, resolve, scheme_of};

/// How a URL attribute is used, which decides the schemes it may keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlUse {
    /// Something the agent might follow (`<a href>`): http(s), mailto, tel.
    Link,
    /// Something the replica fetches (`src`, stylesheet `href`, CSS `url()`): http(s), data images.
    Resource,
}

/// `data:` URL prefixes a resource may keep: images only.
const IMAGE_DATA: &[&str] = &[
    "data:image/png",
    "data:image/gif",
    "data:image/jpeg",
    "data:image/jpg",
    "data:image/webp",
    "data:image/avif",
    "data:image/bmp",
    "data:image/x-icon",
    "data:image/vnd.microsoft.icon",
    // SVG loaded as an image never runs script; `<use>`/`<iframe>` of data: URLs is blocked below.
    "data:image/svg+xml",
];

/// Resolves and checks one URL. `None` means "drop it".
pub fn sanitize_url(value: &str, base: &str, usage: UrlUse) -> Option<String> {
    let cleaned = clean(value);
    if cleaned.starts_with('#') {
        return Some(cleaned);
    }
    match scheme_of(&cleaned).as_deref() {
        None => {
            if cleaned.is_empty() {
                return Some(String::new());
            }
            let abs = resolve(base, &cleaned)?;
            // A base that is not http(s) (about:blank, file:) must not make a relative URL local.
            matches!(scheme_of(&abs).as_deref(), Some("http" | "https")).then_some(abs)
        }
        Some("http" | "https") => Some(cleaned),
        Some("mailto" | "tel") if usage == UrlUse::Link => Some(cleaned),
        Some("data") if usage == UrlUse::Resource => {
            let lower = cleaned.to_ascii_lowercase();
            IMAGE_DATA
                .iter()
                .any(|p| {
                    lower.starts_with(p)
                        && matches!(lower.as_bytes().get(p.len()), Some(b';' | b',') | None)
                })
                .then_some(cleaned)
        }
        _ => None,
    }
}

/// Sanitises a `srcset`: each candidate's URL is resolved; bad candidates are dropped.
pub fn sanitize_srcset(value: &str, base: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    // Candidates are separated by commas that follow whitespace-separated "url descriptor" pairs;
    // data: URLs may contain commas, so split on ", " or "," followed by a URL start conservatively:
    // walk tokens, a URL runs to the first whitespace.
    let mut rest = value.trim();
    while !rest.is_empty() {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        if rest.is_empty() {
            break;
        }
        let url_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let mut url = &rest[..url_end];
        rest = &rest[url_end..];
        // A URL directly followed by a comma (no descriptor).
        let mut had_comma = false;
        if let Some(stripped) = url.strip_suffix(',') {
            url = stripped;
            had_comma = true;
        }
        let descriptor = if had_comma {
            ""
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let d = rest[..end].trim();
            rest = &rest[end..];
            d
        };
        if let Some(u) = sanitize_url(url, base, UrlUse::Resource).filter(|u| !u.is_empty()) {
            if descriptor.is_empty() {
                out.push(u);
            } else {
                out.push(format!("{u} {descriptor}"));
            }
        }
    }
    out.join(", ")
}
