//! What the replica may contain: the one place that decides, per element and attribute, how
//! untrusted replay data from the customer page is rendered on the agent's side.
//!
//! The replica frame is sandboxed without `allow-scripts`, so the browser would refuse most of this
//! anyway; these rules are the second wall, and they also stop what a sandbox allows: requests to
//! the agent's own origin, navigation of the replica, plugin content, `<meta>` refreshes.
//!
//! Invariants (each has a test below):
//! * No `<script>` is ever created: scripts (HTML and SVG) and `<noscript>` become an inert
//!   `<template>` with no attributes and empty text.
//! * `<object>`, `<embed>`, `<applet>` become an inert `<div data-cobrowse-inert>` box.
//! * No `on*` attribute, `srcdoc`, `http-equiv`, `formtarget`, `ping`, `nonce`,
//!   `autofocus` survives; `target` survives only as `_self` or `_blank` (which the sandbox keeps
//!   inside the frame or blocks as a popup).
//! * Forms never submit: the sandbox lacks `allow-forms` and the replica's CSP says
//!   `form-action 'none'`; `action`/`formaction` are kept (resolved, http(s) only) for fidelity.
//! * URL attributes are resolved against the document's base URL and keep only `http(s)`, `mailto:`
//!   and `tel:` (links) or `http(s)` and `data:image/…` (resources); anything else is dropped.
//!   Fragment-only references stay as they are.
//! * Iframes never load their `src` from here: captured documents are rebuilt into them, others stay
//!   blank, except third-party origins on the operator's allow-list ([`crate::frames`], applied by
//!   the replica model, still inside the no-scripts sandbox).
//! * CSS `url()` and `@import` are resolved and limited to `http(s)` and `data:image/…`.

use crate::url::{clean, resolve, scheme_of};
use cobrowse_protocol::Namespace;

/// How a customer element is rendered in the replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendered {
    /// As itself, with sanitised attributes.
    Normal,
    /// Script-like: an inert, hidden `<template>` without attributes; its text is emptied.
    InertScript,
    /// Plugin content: an empty-looking `<div data-cobrowse-inert>` keeping only layout attributes.
    InertBox,
}

/// The element a sanitised attribute belongs to.
#[derive(Debug, Clone, Copy)]
pub struct ElementCtx<'a> {
    /// The customer's tag name (lower case for HTML).
    pub tag: &'a str,
    /// The customer's namespace.
    pub ns: &'a Namespace,
    /// How it is rendered ([`classify`]).
    pub rendered: Rendered,
}

/// Decides how an element is rendered.
pub fn classify(tag: &str, ns: &Namespace) -> Rendered {
    let t = tag.to_ascii_lowercase();
    match (t.as_str(), ns) {
        ("script", _) => Rendered::InertScript,
        ("noscript", Namespace::Html) => Rendered::InertScript,
        ("object" | "embed" | "applet", Namespace::Html) => Rendered::InertBox,
        // Foreign namespaces we do not know render nothing useful and are not worth the risk.
        (_, Namespace::Other(_)) => Rendered::InertBox,
        _ => Rendered::Normal,
    }
}

/// The element the replica really creates: `(namespace URI, tag)`.
pub fn created_element<'a>(
    tag: &'a str,
    ns: &'a Namespace,
    rendered: Rendered,
) -> (&'a str, &'a str) {
    match rendered {
        Rendered::Normal => (ns.uri(), tag),
        Rendered::InertScript => (Namespace::Html.uri(), "template"),
        Rendered::InertBox => (Namespace::Html.uri(), "div"),
    }
}

/// Attributes the replica sets on an element whatever the customer says, after the customer's own.
pub fn forced_attributes(ctx: &ElementCtx<'_>) -> &'static [(&'static str, &'static str)] {
    match (ctx.rendered, ctx.tag, ctx.ns) {
        (Rendered::InertBox, _, _) => &[("data-cobrowse-inert", "")],
        // The replacement is the renderer's, not the customer's: tools that compare the replica
        // with the page skip `data-cobrowse-injected` elements, as they skip the page's scripts.
        (Rendered::InertScript, _, _) => &[("data-cobrowse-injected", "inert-script")],
        // Same-origin so the renderer can reach in and rebuild the captured document; never
        // scripts. Nested frames inherit the replica's sandbox anyway; this makes it explicit.
        (Rendered::Normal, "iframe" | "frame", Namespace::Html) => {
            &[("sandbox", "allow-same-origin")]
        }
        _ => &[],
    }
}

/// How a URL attribute is used, which decides the schemes it may keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlUse {
    /// Something the agent might follow (`<a href>`): http(s), mailto, tel.
    Link,
    /// Something the replica fetches (`src`, stylesheet `href`, CSS `url()`): http(s), data images.
    Resource,
}

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

fn is_animation(tag: &str) -> bool {
    matches!(
        tag,
        "animate" | "set" | "animatemotion" | "animatetransform" | "animatecolor" | "discard"
    )
}

/// Sanitises one attribute of `ctx` for a document whose base URL is `base`. Returns the value to
/// set, or `None` to leave the attribute off (removing it if a previous value was set).
pub fn sanitize_attribute(
    ctx: &ElementCtx<'_>,
    name: &str,
    value: &str,
    base: &str,
) -> Option<String> {
    let n = name.to_ascii_lowercase();
    match ctx.rendered {
        Rendered::InertScript => return None,
        Rendered::InertBox => {
            return match n.as_str() {
                "id" | "class" | "title" => Some(value.to_owned()),
                "style" => Some(sanitize_css(value, base)),
                _ => None,
            };
        }
        Rendered::Normal => {}
    }
    if n.starts_with("on")
        || matches!(
            n.as_str(),
            "srcdoc"
                | "http-equiv"
                | "formtarget"
                | "ping"
                | "nonce"
                | "autofocus"
                | "manifest"
                | "codebase"
                | "classid"
                | "archive"
                | "allow"
        )
    {
        return None;
    }
    let tag = ctx.tag.to_ascii_lowercase();
    let html = matches!(ctx.ns, Namespace::Html);
    if html
        && matches!(tag.as_str(), "iframe" | "frame")
        && matches!(n.as_str(), "src" | "sandbox" | "loading")
    {
        return None;
    }
    if html && tag == "meta" && n == "content" && value.to_ascii_lowercase().contains("url=") {
        // Refresh-style content is inert without `http-equiv` (always dropped); drop it anyway so
        // a later `http-equiv` bug could not make it live.
        return None;
    }
    if html && tag == "base" && n == "href" {
        // The replica sets its own base (the effective one); the customer's must not win.
        return None;
    }
    if matches!(
        n.as_str(),
        "attributename" | "to" | "from" | "values" | "by"
    ) {
        // SVG animation values; checked on every element, since an element moved or renamed
        // into an animation would carry them along.
        let v = clean(value).to_ascii_lowercase();
        if n == "attributename" && is_animation(&tag) && (v.starts_with("on") || v.contains("href"))
        {
            return None;
        }
        if n != "attributename"
            && (v.contains("javascript:") || v.contains("vbscript:") || v.contains("data:"))
        {
            return None;
        }
    }
    match n.as_str() {
        "style" => Some(sanitize_css(value, base)),
        "srcset" | "imagesrcset" => Some(sanitize_srcset(value, base)),
        "href" | "xlink:href" => {
            let usage = if html && matches!(tag.as_str(), "a" | "area") || !html && tag == "a" {
                UrlUse::Link
            } else {
                UrlUse::Resource
            };
            let out = sanitize_url(value, base, usage)?;
            // `<use href="data:…">` can carry script-bearing SVG documents.
            if !html
                && tag == "use"
                && !out.starts_with('#')
                && scheme_of(&out).as_deref() == Some("data")
            {
                return None;
            }
            Some(out)
        }
        "src" | "poster" | "background" | "lowsrc" | "icon" | "data" => {
            sanitize_url(value, base, UrlUse::Resource)
        }
        "cite" | "longdesc" | "action" | "formaction" => sanitize_url(value, base, UrlUse::Link),
        "target" => {
            let t = value.trim().to_ascii_lowercase();
            matches!(t.as_str(), "_self" | "_blank").then(|| value.to_owned())
        }
        _ => Some(value.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://shop.example/cart/view.html";

    fn attr(tag: &str, name: &str, value: &str) -> Option<String> {
        let ns = Namespace::Html;
        let ctx = ElementCtx {
            tag,
            ns: &ns,
            rendered: classify(tag, &ns),
        };
        sanitize_attribute(&ctx, name, value, BASE)
    }

    fn svg_attr(tag: &str, name: &str, value: &str) -> Option<String> {
        let ns = Namespace::Svg;
        let ctx = ElementCtx {
            tag,
            ns: &ns,
            rendered: classify(tag, &ns),
        };
        sanitize_attribute(&ctx, name, value, BASE)
    }

    #[test]
    fn scripts_and_plugins_are_inert() {
        assert_eq!(classify("script", &Namespace::Html), Rendered::InertScript);
        assert_eq!(classify("SCRIPT", &Namespace::Html), Rendered::InertScript);
        assert_eq!(classify("script", &Namespace::Svg), Rendered::InertScript);
        assert_eq!(
            classify("noscript", &Namespace::Html),
            Rendered::InertScript
        );
        for t in ["object", "embed", "applet"] {
            assert_eq!(classify(t, &Namespace::Html), Rendered::InertBox, "{t}");
        }
        assert_eq!(classify("div", &Namespace::Html), Rendered::Normal);
        assert_eq!(
            created_element("script", &Namespace::Svg, Rendered::InertScript),
            (Namespace::Html.uri(), "template")
        );
        assert_eq!(attr("script", "src", "https://evil.example/x.js"), None);
        assert_eq!(attr("script", "type", "text/javascript"), None);
        assert_eq!(attr("object", "data", "https://x/y.swf"), None);
        assert_eq!(attr("embed", "id", "e1").as_deref(), Some("e1"));
    }

    #[test]
    fn event_handlers_are_dropped_in_any_case() {
        assert_eq!(attr("div", "onclick", "alert(1)"), None);
        assert_eq!(attr("img", "ONERROR", "alert(1)"), None);
        assert_eq!(svg_attr("svg", "onload", "alert(1)"), None);
        assert_eq!(attr("body", "onpageshow", "x"), None);
        assert_eq!(
            attr("div", "title", "on the shelf").as_deref(),
            Some("on the shelf")
        );
    }

    #[test]
    fn script_urls_are_dropped() {
        assert_eq!(attr("a", "href", "javascript:alert(1)"), None);
        assert_eq!(attr("a", "href", " JaVaScRiPt:alert(1)"), None);
        assert_eq!(attr("a", "href", "java\nscript:alert(1)"), None);
        assert_eq!(attr("a", "href", "vbscript:msgbox"), None);
        assert_eq!(
            attr("a", "href", "data:text/html,<script>alert(1)</script>"),
            None
        );
        assert_eq!(
            attr("img", "src", "data:text/html;base64,PHNjcmlwdD4="),
            None
        );
        assert_eq!(svg_attr("a", "xlink:href", "javascript:alert(1)"), None);
        assert_eq!(
            svg_attr("use", "href", "data:image/svg+xml,<svg onload=alert(1)>"),
            None
        );
        assert_eq!(
            attr("a", "href", "mailto:help@shop.example").as_deref(),
            Some("mailto:help@shop.example")
        );
        assert_eq!(attr("img", "src", "mailto:x"), None);
    }

    #[test]
    fn urls_are_resolved_against_the_customer_page() {
        assert_eq!(
            attr("a", "href", "../help").as_deref(),
            Some("https://shop.example/help")
        );
        assert_eq!(
            attr("img", "src", "/i/logo.png").as_deref(),
            Some("https://shop.example/i/logo.png")
        );
        assert_eq!(attr("a", "href", "#top").as_deref(), Some("#top"));
        assert_eq!(svg_attr("use", "href", "#icon").as_deref(), Some("#icon"));
        assert_eq!(
            attr("img", "src", "data:image/png;base64,iVBOR").as_deref(),
            Some("data:image/png;base64,iVBOR")
        );
        assert_eq!(attr("img", "src", "data:image/pngx,zz"), None);
        assert_eq!(
            attr("link", "href", "style.css").as_deref(),
            Some("https://shop.example/cart/style.css")
        );
        // A non-http base never turns a relative URL into a local one.
        let ns = Namespace::Html;
        let ctx = ElementCtx {
            tag: "img",
            ns: &ns,
            rendered: Rendered::Normal,
        };
        assert_eq!(
            sanitize_attribute(&ctx, "src", "x.png", "about:blank"),
            None
        );
    }

    #[test]
    fn navigation_and_submission_attributes_are_dropped() {
        assert_eq!(attr("iframe", "srcdoc", "<script>alert(1)</script>"), None);
        assert_eq!(attr("iframe", "src", "https://shop.example/frame"), None);
        // Lazy frames may not have a document to rebuild into yet.
        assert_eq!(attr("iframe", "loading", "lazy"), None);
        assert_eq!(
            attr("iframe", "sandbox", "allow-scripts allow-same-origin"),
            None
        );
        assert_eq!(attr("meta", "http-equiv", "refresh"), None);
        assert_eq!(attr("meta", "content", "0;URL=https://evil/"), None);
        assert_eq!(
            attr("meta", "content", "width=device-width").as_deref(),
            Some("width=device-width")
        );
        assert_eq!(attr("base", "href", "https://evil.example/"), None);
        assert_eq!(attr("base", "target", "_top"), None);
        assert_eq!(
            attr("form", "action", "pay").as_deref(),
            Some("https://shop.example/cart/pay")
        );
        assert_eq!(attr("form", "action", "javascript:x()"), None);
        assert_eq!(attr("button", "formaction", "vbscript:x"), None);
        assert_eq!(attr("a", "target", "_top"), None);
        assert_eq!(attr("a", "target", "_parent"), None);
        assert_eq!(attr("a", "target", "other-frame"), None);
        assert_eq!(attr("a", "target", "_blank").as_deref(), Some("_blank"));
        assert_eq!(attr("button", "formtarget", "_top"), None);
        assert_eq!(attr("a", "ping", "https://track"), None);
        assert_eq!(attr("input", "autofocus", ""), None);
        // Namespace declarations are inert; the parser keeps them on the page, so do we.
        assert_eq!(
            svg_attr("svg", "xmlns:xlink", "http://www.w3.org/1999/xlink").as_deref(),
            Some("http://www.w3.org/1999/xlink")
        );
        let ns = Namespace::Html;
        let iframe = ElementCtx {
            tag: "iframe",
            ns: &ns,
            rendered: Rendered::Normal,
        };
        assert_eq!(
            forced_attributes(&iframe),
            &[("sandbox", "allow-same-origin")]
        );
    }

    #[test]
    fn svg_animation_cannot_retarget_links_or_handlers() {
        assert_eq!(svg_attr("set", "attributeName", "href"), None);
        assert_eq!(svg_attr("animate", "attributeName", "onclick"), None);
        assert_eq!(svg_attr("animate", "values", "javascript:alert(1)"), None);
        assert_eq!(
            svg_attr("animate", "attributeName", "opacity").as_deref(),
            Some("opacity")
        );
        assert_eq!(svg_attr("animate", "values", "0;1").as_deref(), Some("0;1"));
    }

    #[test]
    fn css_urls_are_resolved_and_limited() {
        let css = "a{background:url(img/a.png)} b{background:URL( 'javascript:alert(1)' )}\
                   /* url(x) */ @import \"print.css\"; c{x:url(data:image/gif;base64,R0l)}";
        let out = sanitize_css(css, BASE);
        assert!(
            out.contains("url(\"https://shop.example/cart/img/a.png\")"),
            "{out}"
        );
        assert!(!out.to_lowercase().contains("javascript"), "{out}");
        assert!(out.contains("about:invalid"), "{out}");
        assert!(out.contains("/* url(x) */"), "{out}");
        assert!(
            out.contains("@import url(\"https://shop.example/cart/print.css\")"),
            "{out}"
        );
        assert!(out.contains("url(\"data:image/gif;base64,R0l\")"), "{out}");
        assert_eq!(sanitize_css("color: red", BASE), "color: red");
        assert_eq!(
            sanitize_css("b:url(\"a\\\"b.png\")", BASE),
            "b:url(\"https://shop.example/cart/a\\22 b.png\")"
        );
        // Unterminated input never panics and never lets a script URL through.
        for bad in [
            "url(",
            "url(\"",
            "@import '",
            "/* ",
            "url(javascript:x",
            "x:\\",
        ] {
            let out = sanitize_css(bad, BASE);
            assert!(!out.contains("javascript"), "{bad:?} → {out}");
        }
        assert_eq!(
            attr("div", "style", "background:url(x.png)").as_deref(),
            Some("background:url(\"https://shop.example/cart/x.png\")")
        );
    }

    #[test]
    fn imports_can_be_routed_and_only_to_http() {
        let proxy = |u: &str| {
            u.starts_with("https://cdn.example/")
                .then(|| format!("http://cb.example/cobrowse/css-proxy?url={}", u.len()))
        };
        assert_eq!(
            sanitize_css_imports(
                "@import url(https://cdn.example/a.css); @import 'b.css' screen; a { b: url(https://cdn.example/i.png) }",
                "https://cdn.example/p/",
                &proxy
            ),
            "@import url(\"http://cb.example/cobrowse/css-proxy?url=25\"); @import url(\"http://cb.example/cobrowse/css-proxy?url=27\") screen; a { b: url(\"https://cdn.example/i.png\") }"
        );
        let evil = |_: &str| Some("javascript:alert(1)".to_string());
        assert_eq!(
            sanitize_css_imports("@import 'x.css';", "https://s.example/", &evil),
            "@import url(\"https://s.example/x.css\");"
        );
        assert_eq!(
            sanitize_css_imports("@import 'javascript:x';", "https://s.example/", &proxy),
            "@import url(\"about:invalid\");"
        );
    }

    #[test]
    fn srcset_candidates_are_resolved_and_filtered() {
        assert_eq!(
            sanitize_srcset("a.png 1x, javascript:alert(1) 2x, /b.png 3x", BASE),
            "https://shop.example/cart/a.png 1x, https://shop.example/b.png 3x"
        );
        assert_eq!(
            sanitize_srcset("a.png, b.png 2x", BASE),
            "https://shop.example/cart/a.png, https://shop.example/cart/b.png 2x"
        );
        // Per the HTML parser a comma inside a URL token belongs to the URL.
        assert_eq!(
            sanitize_srcset("a.png,b.png 2x", BASE),
            "https://shop.example/cart/a.png,b.png 2x"
        );
        assert_eq!(sanitize_srcset("", BASE), "");
    }
}
