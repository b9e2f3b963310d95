//! CSS text in the replica: every `url(…)` and `@import` target resolved and limited like a
//! resource URL (comments and strings skipped, escapes understood), imports optionally routed
//! through the CSS proxy.

use super::urls::{UrlUse, sanitize_url};
use crate::url::scheme_of;

/// `url("…")` with the characters that could end the string escaped.
fn css_quote(url: &str) -> String {
    let mut s = String::with_capacity(url.len() + 7);
    s.push_str("url(\"");
    for c in url.chars() {
        match c {
            '"' => s.push_str("\\22 "),
            '\\' => s.push_str("\\5c "),
            '\n' => s.push_str("\\a "),
            '\r' => s.push_str("\\d "),
            c => s.push(c),
        }
    }
    s.push_str("\")");
    s
}

/// A URL that loads nothing, for CSS references we refuse.
const BLOCKED_URL: &str = "url(\"about:invalid\")";

/// Sanitises CSS text (a `<style>` element's text, a `style` attribute, a CSSOM rule): every
/// `url(…)` and every `@import "…"` string is resolved against `base` and limited to http(s) and
/// data images. Comments and everything else pass through unchanged.
pub fn sanitize_css(css: &str, base: &str) -> String {
    sanitize_css_imports(css, base, &|_| None)
}

/// [`sanitize_css`], with each `@import` target (already resolved and checked) offered to
/// `import`: `Some(url)` loads the import from there instead (the CSS proxy, `crate::sheets`),
/// `None` keeps it. The replacement must be an http(s) URL; anything else is refused.
pub fn sanitize_css_imports(
    css: &str,
    base: &str,
    import: &dyn Fn(&str) -> Option<String>,
) -> String {
    let is_import_at = |i: usize| {
        let head = css[..i].trim_end().as_bytes();
        head.len() >= 7 && head[head.len() - 7..].eq_ignore_ascii_case(b"@import")
    };
    let import_url = |url: &str| -> String {
        match sanitize_url(url, base, UrlUse::Resource) {
            Some(u) if !u.is_empty() => {
                let routed = import(&u)
                    .filter(|r| matches!(scheme_of(r).as_deref(), Some("http" | "https")));
                css_quote(routed.as_deref().unwrap_or(&u))
            }
            _ => BLOCKED_URL.to_owned(),
        }
    };
    let bytes = css.as_bytes();
    let mut out = String::with_capacity(css.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
            // Skip comments so "url(" inside them is left alone.
            i = css[i + 2..]
                .find("*/")
                .map(|e| i + 2 + e + 2)
                .unwrap_or(bytes.len());
            continue;
        }
        if b == b'"' || b == b'\'' {
            // Skip strings, except that an @import string is a URL.
            let end = string_end(bytes, i);
            if is_import_at(i) {
                let inner = unescape_css_string(&css[i + 1..string_inner_end(bytes, i, end)]);
                out.push_str(&css[copied..i]);
                out.push_str(&import_url(&inner));
                copied = end;
            }
            i = end;
            continue;
        }
        if (b == b'u' || b == b'U')
            && starts_with_ci(&bytes[i..], b"url(")
            && !is_ident_byte(i, bytes)
        {
            let open = i + 4;
            let (inner, end) = url_token(css, open);
            out.push_str(&css[copied..i]);
            if is_import_at(i) {
                out.push_str(&import_url(&inner));
            } else {
                out.push_str(&rewrite(&inner, base));
            }
            copied = end;
            i = end;
            continue;
        }
        i += 1;
    }
    out.push_str(&css[copied..]);
    out
}

fn rewrite(url: &str, base: &str) -> String {
    match sanitize_url(url, base, UrlUse::Resource) {
        Some(u) if !u.is_empty() => css_quote(&u),
        _ => BLOCKED_URL.to_owned(),
    }
}

fn is_ident_byte(i: usize, bytes: &[u8]) -> bool {
    i > 0 && {
        let p = bytes[i - 1];
        p.is_ascii_alphanumeric() || p == b'-' || p == b'_' || p == b'\\'
    }
}

fn starts_with_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

/// Index just past the string that starts with the quote at `start` (a char boundary).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let q = bytes[start];
    let mut j = start + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j = (j + 1 + bytes.get(j + 1).map_or(0, |&b| utf8_len(b))).min(bytes.len()),
            c if c == q => return j + 1,
            b'\n' => return j,
            _ => j += 1,
        }
    }
    bytes.len()
}

/// Byte length of the UTF-8 sequence that starts with `lead`.
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// End of a string's content: before its closing quote when it has one.
fn string_inner_end(bytes: &[u8], start: usize, end: usize) -> usize {
    if end > start + 1 && bytes.get(end - 1) == Some(&bytes[start]) {
        end - 1
    } else {
        end
    }
}

fn unescape_css_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let mut hex = String::new();
        while hex.len() < 6 {
            match chars.peek() {
                Some(h) if h.is_ascii_hexdigit() => {
                    hex.push(*h);
                    chars.next();
                }
                _ => break,
            }
        }
        if hex.is_empty() {
            match chars.next() {
                Some('\n') | None => {}
                Some(other) => out.push(other),
            }
        } else {
            if chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let cp = u32::from_str_radix(&hex, 16).unwrap_or(0xFFFD);
            out.push(
                char::from_u32(cp)
                    .filter(|c| *c != '\0')
                    .unwrap_or('\u{FFFD}'),
            );
        }
    }
    out
}

/// Reads a `url(` token body starting at `open` (just after the parenthesis). Returns the URL and
/// the index just past the closing parenthesis.
fn url_token(css: &str, open: usize) -> (String, usize) {
    let bytes = css.as_bytes();
    let mut j = open;
    while j < bytes.len() && bytes[j].is_ascii_whitespace() {
        j += 1;
    }
    if j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'') {
        let end = string_end(bytes, j);
        let inner = unescape_css_string(&css[j + 1..string_inner_end(bytes, j, end)]);
        let close = css[end..]
            .find(')')
            .map(|k| end + k + 1)
            .unwrap_or(bytes.len());
        (inner, close)
    } else {
        let close = css[j..].find(')').map(|k| j + k).unwrap_or(bytes.len());
        let inner = unescape_css_string(css[j..close].trim());
        (inner, (close + 1).min(bytes.len()))
    }
}
