//! The DOM restrictions in the browser: installs the server's policy (fetched by
//! `web::client`), merges the page's additions, answers "is this element masked / hidden /
//! restricted?" with `Element.closest` / `Element.matches` — carried across shadow roots and
//! same-origin frames, so a rule on a host or an `<iframe>` covers what is inside — and draws
//! the customer's marker on masked fields.
//!
//! Fail closed: the client does not connect (and so captures nothing) until the policy is
//! installed ([`loaded`]); a failed load is retried like a failed connection. The rule set lives
//! in a thread-local because capture ([`crate::web::dom::WebDom`]), form events and actions all
//! consult it, and there is one page per wasm instance.

use crate::restrictions::{Active, DomPolicy, Rule, RuleSet, hidden_box_style};
use crate::web::sheets;
use crate::web::strict::{known_keys, known_keys_each};
use js_sys::JsString;
use std::cell::RefCell;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{CssStyleSheet, Document, Element, Node};

struct State {
    rules: RuleSet,
    /// The last URL asked about and its selectors (SPA URLs change rarely).
    cache: Option<(String, Selectors)>,
    /// Inside [`batch`]: the URL is read once.
    in_batch: bool,
    /// The URL was read in the current batch already.
    fresh: bool,
    marker: Option<Marker>,
}

/// The selectors of one URL, also as JS strings: capture asks about every element, and a Rust
/// `&str` would be copied into a new JS string on each of those calls.
struct Selectors {
    active: Active,
    mask: Option<JsString>,
    hide: Option<JsString>,
    restrict: Option<JsString>,
}

impl Selectors {
    fn new(active: Active) -> Self {
        let js = |s: &Option<String>| s.as_deref().map(JsString::from);
        Selectors {
            mask: js(&active.mask),
            hide: js(&active.hide),
            restrict: js(&active.restrict),
            active,
        }
    }
}

#[wasm_bindgen]
extern "C" {
    /// Any element (of any realm), for `matches` taking a JS string the caller keeps.
    #[wasm_bindgen(extends = Element)]
    type Queried;
    #[wasm_bindgen(method, catch, js_name = matches)]
    fn matches_js(this: &Queried, selectors: &JsString) -> Result<bool, JsValue>;
}

/// The customer's marker on masked fields, our UI (never captured).
///
/// A constructed sheet the document adopts, because a page whose Content-Security-Policy has
/// no `'unsafe-inline'` in `style-src` refuses a `<style>` element our script adds but not a
/// constructed sheet; capture leaves it out of the document's adoption list
/// ([`sheets::mark_own`]). A page that later assigns `document.adoptedStyleSheets` without
/// keeping the existing entries drops the marker. Browsers without constructed sheets get a
/// `<style data-cobrowse-ui>` element.
enum Marker {
    Adopted(Document, CssStyleSheet),
    Element(Element),
}

impl Marker {
    fn remove(self) {
        match self {
            Marker::Adopted(document, sheet) => {
                let ours: &JsValue = sheet.as_ref();
                let rest = document
                    .adopted_style_sheets()
                    .filter(&mut |s, _, _| s != *ours);
                document.set_adopted_style_sheets(&rest);
            }
            Marker::Element(el) => el.remove(),
        }
    }
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

/// Installs a rule set (through [`apply`], or directly in tests).
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
    if let Some(m) = old.and_then(|o| o.marker) {
        m.remove();
    }
    let marker = match (marker, mask) {
        (Some(css), Some(sel)) if !css.trim().is_empty() => add_marker(document, css, &sel),
        _ => None,
    };
    STATE.with(|s| {
        *s.borrow_mut() = Some(State {
            rules,
            cache: None,
            in_batch: false,
            fresh: false,
            marker,
        })
    });
}

/// Forgets the rules (tests; a stopped client keeps them, they are the site's).
pub fn clear() {
    if let Some(m) = STATE.with(|s| s.borrow_mut().take()).and_then(|o| o.marker) {
        m.remove();
    }
}

fn add_marker(document: &Document, css: &str, sel: &str) -> Option<Marker> {
    let text = css.replace("{sel}", sel);
    if let Ok(sheet) = CssStyleSheet::new()
        && sheet.replace_sync(&text).is_ok()
    {
        sheets::mark_own(&sheet);
        // A copy: some browsers hand out a frozen array.
        let list = js_sys::Array::from(&document.adopted_style_sheets());
        list.push(&sheet);
        document.set_adopted_style_sheets(&list);
        return Some(Marker::Adopted(document.clone(), sheet));
    }
    let style = document.create_element("style").ok()?;
    // Our UI: never captured, so the agent does not see the marker either.
    let _ = style.set_attribute(crate::ui::UI_ATTR, "");
    style.set_text_content(Some(&text));
    let parent = document
        .query_selector("head")
        .ok()
        .flatten()
        .or_else(|| document.document_element())?;
    parent.append_child(&style).ok()?;
    Some(Marker::Element(style))
}

/// Keeps the page's `restrictions` and `maskMarker` (see [`page_rules`]) for [`apply`].
pub fn configure(config: &JsValue) -> Result<(), String> {
    let page = page_rules(config)?;
    PAGE.with(|p| *p.borrow_mut() = Some(page));
    Ok(())
}

/// Reads the server's document (`GET /cobrowse/rest/dom-restrictions.json`, as the browser
/// parsed it). A key the protocol's types do not know is an error, as it is for the server.
pub fn policy(json: &JsValue) -> Result<DomPolicy, String> {
    let rules = js_sys::Reflect::get(json, &"rules".into()).unwrap_or(JsValue::UNDEFINED);
    known_keys::<DomPolicy>(json)
        .and_then(|()| known_keys_each::<Rule>(&rules, "rules"))
        .and_then(|()| serde_wasm_bindgen::from_value(json.clone()).map_err(|e| e.to_string()))
        .map_err(|e| format!("dom restrictions: {e}"))
}

/// Installs the server's policy `doc` (fetched by the client, read by [`policy`]) with the
/// page's rules given to [`configure`]; a document that fails [`DomPolicy::validate`] (the
/// server's own start-up check) installs nothing, so nothing is captured.
pub fn apply(document: &Document, doc: DomPolicy) -> Result<(), String> {
    let doc = doc
        .validate()
        .map_err(|e| format!("dom restrictions: {e}"))?;
    let (page, marker) = PAGE
        .with(|p| p.borrow().clone())
        .unwrap_or_else(|| (Vec::new(), Some(DEFAULT_MARKER.to_owned())));
    install(document, doc.rules, page, marker.as_deref());
    Ok(())
}

/// Runs `f` — a capture walk or one observer callback's coalescing, which ask about every
/// element they meet — with the page URL read once instead of on every question: no page script
/// runs inside it, so the URL cannot change before it returns.
pub fn batch<R>(f: impl FnOnce() -> R) -> R {
    let outer = STATE.with(|s| {
        s.borrow_mut()
            .as_mut()
            .map(|st| std::mem::replace(&mut st.in_batch, true))
    });
    let out = f();
    if outer == Some(false) {
        STATE.with(|s| {
            if let Some(st) = s.borrow_mut().as_mut() {
                st.in_batch = false;
                st.fresh = false;
            }
        });
    }
    out
}

fn with_active<R>(el: &Node, f: impl FnOnce(&Selectors) -> R) -> Option<R> {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let state = s.as_mut()?;
        // Rules follow the top-level page's URL (frames share it: one site, one policy), read
        // on every question except within a batch, which reads it once.
        if !(state.in_batch && state.fresh) || state.cache.is_none() {
            let url = cobrowse_web_glue::realm::window()
                .and_then(|w| w.location().href().ok())
                .or_else(|| el.owner_document().and_then(|d| d.url().ok()))
                .unwrap_or_default();
            if state.cache.as_ref().is_none_or(|(u, _)| *u != url) {
                let active = Selectors::new(state.rules.active(&url));
                state.cache = Some((url, active));
            }
            state.fresh = state.in_batch;
        }
        state.cache.as_ref().map(|(_, a)| f(a))
    })
}

/// Hops a rule may cross between trees (shadow root → host, frame document → `<iframe>`); real
/// pages nest a handful.
const MAX_TREE_HOPS: usize = 64;

#[wasm_bindgen(module = "/src/web/dom_reader.js")]
extern "C" {
    #[wasm_bindgen(js_name = composedClosest)]
    fn composed_closest_js(el: &Element, sel: &JsString, top: Option<&Document>, hops: u32)
    -> bool;
    #[wasm_bindgen(js_name = composedClosestIn)]
    fn composed_closest_in_js(
        el: &Element,
        sel: &JsString,
        top: Option<&Document>,
        hops: u32,
        cache: &js_sys::Map,
    ) -> bool;
}

thread_local! {
    /// This window's document: where [`composed_closest`] stops climbing.
    static TOP: Option<Document> = web_sys::window().and_then(|w| w.document());
}

/// `closest(sel)` that does not stop where a tree ends: from a shadow root it goes on at the
/// host, from a same-origin frame's document at its `<iframe>`, up to this window's document.
/// `Element.closest` alone stops at either boundary, so a rule on a web component or a payment
/// frame would miss everything inside it. One call (`dom_reader.js`): every masking question
/// of a batch asks it.
fn composed_closest(el: &Element, sel: &JsString) -> bool {
    TOP.with(|top| composed_closest_js(el, sel, top.as_ref(), MAX_TREE_HOPS as u32))
}

fn closest(el: &Element, sel: Option<&JsString>) -> bool {
    sel.is_some_and(|s| composed_closest(el, s))
}

/// True when a *mask* rule (or the built-in secret `autocomplete` list) matches `el` or an
/// ancestor, across shadow roots and same-origin frames.
pub fn is_masked(el: &Element) -> bool {
    with_active(el, |a| closest(el, a.mask.as_ref())).unwrap_or(false)
}

/// [`is_masked`] for the elements of one coalescing pass: `mask` is the pass's mask selector
/// ([`walk_selectors`]), `cache` keeps the answer of every element climbed through until the
/// pass ends (the DOM does not change within it). A storm that inserts ten thousand children
/// of one parent asks about each; without the cache each would climb the whole ancestry.
pub fn is_masked_in(el: &Element, mask: Option<&JsString>, cache: &js_sys::Map) -> bool {
    mask.is_some_and(|s| {
        TOP.with(|top| composed_closest_in_js(el, s, top.as_ref(), MAX_TREE_HOPS as u32, cache))
    })
}

/// The selectors a capture walk of `node`'s subtree asks every element about, as JS strings:
/// the *mask* rules' and the *hide* rules' (`None`: no such rule for the page's URL).
pub fn walk_selectors(node: &Node) -> (Option<JsString>, Option<JsString>) {
    with_active(node, |a| (a.mask.clone(), a.hide.clone())).unwrap_or((None, None))
}

/// True when a *mask* rule matches `el` itself (a walk down the DOM knows its ancestors').
pub fn is_masked_itself(el: &Element) -> bool {
    with_active(el, |a| {
        a.mask
            .as_ref()
            .is_some_and(|s| el.unchecked_ref::<Queried>().matches_js(s).unwrap_or(false))
    })
    .unwrap_or(false)
}

/// True when a *mask* rule matches `el`, an ancestor or a descendant: an agent's edit of a
/// contenteditable could otherwise delete or move masked text it must not know about.
pub fn has_masked(el: &Element) -> bool {
    is_masked(el)
        || with_active(el, |a| {
            a.active
                .mask
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
            .is_some_and(|s| el.unchecked_ref::<Queried>().matches_js(s).unwrap_or(false))
    })
    .unwrap_or(false)
}

/// True when a *restrict* rule matches `el` or an ancestor, across shadow roots and same-origin
/// frames.
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
/// when absent). A malformed list is an error, also a rule with a key [`Rule`] does not know:
/// silently ignoring it could leave fields unmasked.
pub fn page_rules(config: &JsValue) -> Result<(Vec<Rule>, Option<String>), String> {
    if config.is_undefined() || config.is_null() {
        return Ok((Vec::new(), Some(DEFAULT_MARKER.into())));
    }
    let get = |k: &str| js_sys::Reflect::get(config, &k.into()).unwrap_or(JsValue::UNDEFINED);
    let rules = get(crate::config::RESTRICTIONS_KEY);
    let rules: Vec<Rule> = if rules.is_undefined() || rules.is_null() {
        Vec::new()
    } else {
        known_keys_each::<Rule>(&rules, "restrictions")
            .map_err(|e| format!("invalid cobrowse config: {e}"))?;
        serde_wasm_bindgen::from_value(rules)
            .map_err(|e| format!("invalid cobrowse config: restrictions: {e}"))?
    };
    let marker = get(crate::config::MASK_MARKER_KEY);
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
