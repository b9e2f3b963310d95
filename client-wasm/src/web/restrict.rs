//! The DOM restrictions in the browser: loads the server's policy, merges the page's additions,
//! answers "is this element masked / hidden / restricted?" with `Element.closest` /
//! `Element.matches`, and draws the customer's marker on masked fields.
//!
//! Fail closed: the client does not connect (and so captures nothing) until the policy is
//! loaded ([`loaded`]); a failed load is retried like a failed connection. The rule set lives in
//! a thread-local because capture ([`crate::web::dom::WebDom`]), form events and actions all
//! consult it, and there is one page per wasm instance.

use crate::restrictions::{Active, PolicyDocument, Rule, RuleSet, hidden_box_style};
use std::cell::RefCell;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Document, Element};

struct State {
    rules: RuleSet,
    /// The last URL asked about and its selectors (SPA URLs change rarely).
    cache: Option<(String, Active)>,
    marker: Option<Element>,
}

/// The page's own additions and marker, from its configuration object.
type PageConfig = (Vec<Rule>, Option<String>);

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
    static PAGE: RefCell<Option<PageConfig>> = const { RefCell::new(None) };
}

/// Marks elements the customer sees but the agent does not (masked fields). `{sel}` in a
/// custom marker is replaced by the mask selector list.
pub const DEFAULT_MARKER: &str =
    "{sel} { outline: 2px dashed #b45309 !important; outline-offset: 1px !important; }";

/// Whether the policy is loaded (capture may start).
pub fn loaded() -> bool {
    STATE.with(|s| s.borrow().is_some())
}

/// Drops selectors the browser rejects, so one bad rule cannot void the whole list.
fn browser_accepts(document: &Document, rule: &Rule) -> bool {
    let ok = document
        .create_document_fragment()
        .query_selector(&rule.selector)
        .is_ok();
    if !ok {
        web_sys::console::error_1(
            &format!(
                "cobrowse: dom restriction selector rejected: {}",
                rule.selector
            )
            .into(),
        );
    }
    ok
}

/// Installs a rule set (after [`load`], or directly in tests).
pub fn install(document: &Document, server: Vec<Rule>, page: Vec<Rule>, marker: Option<&str>) {
    let keep = |r: &Rule| browser_accepts(document, r);
    let server = server.into_iter().filter(keep).collect();
    let page = page.into_iter().filter(keep).collect();
    let (rules, dropped) = RuleSet::merge(server, page);
    for d in dropped {
        web_sys::console::error_1(&format!("cobrowse: dom restriction dropped: {d}").into());
    }
    let url = document.url().unwrap_or_default();
    let mask = rules.active(&url).mask;
    let old = STATE.with(|s| s.borrow_mut().take());
    if let Some(el) = old.and_then(|o| o.marker) {
        el.remove();
    }
    let marker = match (marker, mask) {
        (Some(css), Some(sel)) if !css.trim().is_empty() => add_marker(document, css, &sel),
        _ => None,
    };
    STATE.with(|s| {
        *s.borrow_mut() = Some(State {
            rules,
            cache: None,
            marker,
        })
    });
}

/// Forgets the rules (tests; a stopped client keeps them, they are the site's).
pub fn clear() {
    if let Some(el) = STATE.with(|s| s.borrow_mut().take()).and_then(|o| o.marker) {
        el.remove();
    }
}

fn add_marker(document: &Document, css: &str, sel: &str) -> Option<Element> {
    let style = document.create_element("style").ok()?;
    // Our UI: never captured, so the agent does not see the marker either.
    let _ = style.set_attribute(crate::web::dom::UI_ATTR, "");
    style.set_text_content(Some(&css.replace("{sel}", sel)));
    let parent = document
        .query_selector("head")
        .ok()
        .flatten()
        .or_else(|| document.document_element())?;
    parent.append_child(&style).ok()?;
    Some(style)
}

/// Keeps the page's `restrictions` and `maskMarker` (see [`page_rules`]) for [`load`].
pub fn configure(config: &JsValue) -> Result<(), String> {
    let page = page_rules(config)?;
    PAGE.with(|p| *p.borrow_mut() = Some(page));
    Ok(())
}

/// Fetches `{base}/cobrowse/rest/dom-restrictions.json` and installs it with the page's rules
/// given to [`configure`].
pub async fn load(document: &Document, base: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let url = format!("{base}/cobrowse/rest/dom-restrictions.json");
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_str(&url))
        .await
        .map_err(|e| format!("dom restrictions: fetch failed: {e:?}"))?
        .dyn_into()
        .map_err(|_| "dom restrictions: not a response".to_string())?;
    if !resp.ok() {
        return Err(format!("dom restrictions: status {}", resp.status()));
    }
    let json = JsFuture::from(resp.json().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|_| "dom restrictions: body is not JSON".to_string())?;
    let doc: PolicyDocument =
        serde_wasm_bindgen::from_value(json).map_err(|e| format!("dom restrictions: {e}"))?;
    let doc = doc.check().map_err(|e| e.to_string())?;
    let (page, marker) = PAGE
        .with(|p| p.borrow().clone())
        .unwrap_or_else(|| (Vec::new(), Some(DEFAULT_MARKER.to_owned())));
    install(document, doc.rules, page, marker.as_deref());
    Ok(())
}

fn with_active<R>(el: &Element, f: impl FnOnce(&Active) -> R) -> Option<R> {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let state = s.as_mut()?;
        // Rules follow the top-level page's URL (frames share it: one site, one policy).
        let url = web_sys::window()
            .and_then(|w| w.location().href().ok())
            .or_else(|| el.owner_document().and_then(|d| d.url().ok()))
            .unwrap_or_default();
        if state.cache.as_ref().is_none_or(|(u, _)| *u != url) {
            let active = state.rules.active(&url);
            state.cache = Some((url, active));
        }
        state.cache.as_ref().map(|(_, a)| f(a))
    })
}

fn closest(el: &Element, sel: Option<&String>) -> bool {
    sel.is_some_and(|s| el.closest(s).ok().flatten().is_some())
}

/// True when a *mask* rule matches `el` or an ancestor.
pub fn is_masked(el: &Element) -> bool {
    with_active(el, |a| closest(el, a.mask.as_ref())).unwrap_or(false)
}

/// True when a *mask* rule matches `el`, an ancestor or a descendant: an agent's edit of a
/// contenteditable could otherwise delete or move masked text it must not know about.
pub fn has_masked(el: &Element) -> bool {
    is_masked(el)
        || with_active(el, |a| {
            a.mask
                .as_ref()
                .is_some_and(|s| el.query_selector(s).ok().flatten().is_some())
        })
        .unwrap_or(false)
}

/// True when a *hide* rule matches `el` itself (its subtree is never captured).
pub fn is_hidden(el: &Element) -> bool {
    with_active(el, |a| {
        a.hide
            .as_ref()
            .is_some_and(|s| el.matches(s).unwrap_or(false))
    })
    .unwrap_or(false)
}

/// True when a *restrict* rule matches `el` or an ancestor.
pub fn is_restricted(el: &Element) -> bool {
    with_active(el, |a| closest(el, a.restrict.as_ref())).unwrap_or(false)
}

const INLINE: &[&str] = &[
    "a", "abbr", "b", "button", "code", "em", "i", "img", "input", "label", "select", "small",
    "span", "strong", "sub", "sup", "textarea", "canvas", "video", "iframe",
];

/// The attributes a hidden element is sent with: an empty box of its current size.
pub fn hidden_attributes(el: &Element) -> Vec<(String, String)> {
    let rect = el.get_bounding_client_rect();
    let inline = INLINE.contains(&el.local_name().as_str());
    vec![
        (
            "style".into(),
            hidden_box_style(rect.width(), rect.height(), inline),
        ),
        ("data-cobrowse-hidden".into(), String::new()),
    ]
}

/// The value a hidden element's attribute `name` is reported with (only its box style).
pub fn hidden_attribute(el: &Element, name: &str) -> Option<String> {
    hidden_attributes(el)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

/// Reads the page's `restrictions` and `maskMarker` from the raw config object (`undefined`
/// when absent). A malformed list is an error: silently ignoring it could leave fields unmasked.
pub fn page_rules(config: &JsValue) -> Result<(Vec<Rule>, Option<String>), String> {
    if config.is_undefined() || config.is_null() {
        return Ok((Vec::new(), Some(DEFAULT_MARKER.into())));
    }
    let get = |k: &str| js_sys::Reflect::get(config, &k.into()).unwrap_or(JsValue::UNDEFINED);
    let rules = get("restrictions");
    let rules: Vec<Rule> = if rules.is_undefined() || rules.is_null() {
        Vec::new()
    } else {
        serde_wasm_bindgen::from_value(rules)
            .map_err(|e| format!("invalid cobrowse config: restrictions: {e}"))?
    };
    let marker = get("maskMarker");
    let marker = if marker.is_undefined() || marker.is_null() || marker.as_bool() == Some(true) {
        Some(DEFAULT_MARKER.to_owned())
    } else if marker.as_bool() == Some(false) {
        None
    } else {
        Some(
            marker
                .as_string()
                .ok_or("invalid cobrowse config: maskMarker must be a CSS string or a boolean")?,
        )
    };
    Ok((rules, marker))
}
