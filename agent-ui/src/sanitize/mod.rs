//! What the replica may contain: the one place that decides, per element and attribute, how
//! untrusted replay data from the customer page is rendered on the agent's side.
//!
//! The replica frame is sandboxed without `allow-scripts`, so the browser would refuse most of this
//! anyway; these rules are the second wall, and they also stop what a sandbox allows: requests to
//! the agent's own origin, navigation of the replica, plugin content, `<meta>` refreshes.
//!
//! Invariants (each has a test in `tests`):
//! * Every decision is made on the element the DOM really creates, never on a raw tag string
//!   that the DOM would read otherwise: HTML elements are made whole (`x:script` stays an unknown
//!   element, as the customer's parser made it), and a prefixed SVG or MathML name, which
//!   `createElementNS` would turn into the real element (`svg:script` → a script), becomes an
//!   inert box. The replica reads each created element's name back and drops a node whose name
//!   is not the one vetted.
//! * No `<script>` is ever created: scripts (HTML and SVG) and `<noscript>` become an inert
//!   `<template>` with no attributes and empty text.
//! * `<object>`, `<embed>`, `<applet>` become an inert `<div data-cobrowse-inert>` box.
//! * No `on*` attribute (also namespaced, `xlink:onload`), `srcdoc`, `http-equiv`, `formtarget`,
//!   `ping`, `nonce`, `autofocus`, `xml:base` survives; `target` survives only as `_self` or
//!   `_blank` (which the sandbox keeps inside the frame or blocks as a popup).
//! * Nothing can change the replica's referrer policy: `referrerpolicy` attributes and
//!   `<meta name=referrer>` are dropped, so the replica keeps the agent page's `no-referrer` (and
//!   the renderer's own `<meta name=referrer>`), and nothing the customer page loads learns the
//!   agent page's URL (it may carry the session number or a credential).
//! * Forms never submit: the sandbox lacks `allow-forms` and the replica's CSP says
//!   `form-action 'none'`; `action`/`formaction` are kept (resolved, http(s) only) for fidelity.
//! * URL attributes are resolved against the document's base URL and keep only `http(s)`, `mailto:`
//!   and `tel:` (links) or `http(s)` and `data:image/…` (resources); anything else is dropped.
//!   Fragment-only references stay as they are.
//! * Iframes never load their `src` from here: captured documents are rebuilt into them, others stay
//!   blank, except third-party origins on the operator's allow-list ([`crate::frames`], applied by
//!   the replica model, still inside the no-scripts sandbox).
//! * CSS `url()` and `@import` are resolved and limited to `http(s)` and `data:image/…`.
//!
//! Files: this one decides per element and attribute; `urls` checks URLs, `css` rewrites CSS text;
//! `tests` holds the invariants' tests.

mod css;
mod urls;

#[cfg(test)]
mod tests;

pub use css::{sanitize_css, sanitize_css_imports};
pub use urls::{UrlUse, sanitize_srcset, sanitize_url};

use crate::url::{clean, scheme_of};
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

/// The local name the DOM gives the element the replica makes for `tag` in `ns`, before the
/// prefix rule of [`classify`]: HTML elements are made with `createElement`, which keeps a name
/// whole (`x:script` is an unknown element, as on the customer's page, and `o:p` of office
/// documents stays inline); `createElementNS` splits a prefix off (`svg:script` would be an SVG
/// script, which is why [`classify`] makes such names inert).
pub fn created_name<'a>(tag: &'a str, ns: &Namespace) -> &'a str {
    match ns {
        Namespace::Html => tag,
        _ => tag.split_once(':').map_or(tag, |(_, local)| local),
    }
}

/// Decides how an element is rendered.
pub fn classify(tag: &str, ns: &Namespace) -> Rendered {
    let t = tag.to_ascii_lowercase();
    if !matches!(ns, Namespace::Html) && created_name(&t, ns) != t {
        // The customer's parser made an unknown element of this name; `createElementNS` would
        // make the element after the prefix, which nobody vetted.
        return Rendered::InertBox;
    }
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
    // A namespaced name (`xlink:onload`) is judged by its local part too.
    let local = n.rsplit_once(':').map_or(n.as_str(), |(_, l)| l);
    if n.starts_with("on")
        || local.starts_with("on")
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
                | "referrerpolicy"
                | "xml:base"
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
    if html && tag == "meta" && n == "name" && value.trim().eq_ignore_ascii_case("referrer") {
        // It would set the replica's referrer policy (`unsafe-url` sends the agent page's URL).
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
