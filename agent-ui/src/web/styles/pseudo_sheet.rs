//! Pseudo-state copies: every readable `:hover`/`:active`/`:focus`/`:focus-within`/
//! `:focus-visible` rule of the replica gets a copy whose pseudo-class is rewritten into a
//! `[data-cobrowse-*]` attribute (`cobrowse_css_rewrite`), inserted right after it in the same
//! rule list (also inside `@media`, `@supports`, `@layer`, `@container` and nested rules), at most
//! once per animation frame after style changes (snapshot, mutations, sheet ops, a stylesheet
//! finishing loading). `Styles` (the parent module) puts those attributes on the targets.
//!
//! Next to its rule, a copy wins and loses exactly where the rule would: an attribute selector
//! has a pseudo-class's specificity, and a later rule of equal specificity still beats it (a
//! selected filter link stays selected while hovered). Copies collected in one sheet after all
//! others would beat every such later rule. Rule indices the customer sends skip the copies
//! (`web::dom::cssom`).
//!
//! One constructed sheet adopted last by the replica document (and one per shadow root) holds
//! what the browser's own stylesheet would do for the mirrored states and `<canvas>` frames.
//! Sheets loaded through the server's CSS proxy (`crate::sheets`) are skipped: the proxy already
//! put each copy right after its rule. Cross-origin sheets cannot be read, so they get none.
//!
//! A sheet is walked again only when its rule count changed (a `<style>` whose text changes gets
//! a new sheet object), and the record is dropped on every CSSOM op, so unrelated DOM changes cost
//! one walk over `document.styleSheets` only.

use super::js::{call, document_of, new_sheet};
use super::prefs::Prefs;
use crate::web::dom::cssom::is_copy;
use cobrowse_css_rewrite::rewrite_selector;
use cobrowse_protocol::NodeId;
use cobrowse_web_glue::realm::{get, items, length};
use gloo_events::EventListener;
use js_sys::{Array, Object, Reflect, WeakMap};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::Document;

#[wasm_bindgen(module = "/src/web/styles/rules.js")]
extern "C" {
    #[wasm_bindgen(js_name = copyCandidates)]
    fn copy_candidates_js(owner: &JsValue, indices: &Array, nested: &Array) -> bool;
}

/// Inserts the missing pseudo-state copies into `owner` (a sheet or a rule with child rules),
/// each right after its rule; recurses into child rule lists. Only rules that may need a copy
/// cross into wasm (`rules.js`), last first, so each insertion leaves the indices still to do.
fn add_copies(owner: &JsValue) {
    let (indices, nested) = (Array::new(), Array::new());
    if !copy_candidates_js(owner, &indices, &nested) {
        return;
    }
    let Some(rules) = get(owner, "cssRules") else {
        return;
    };
    for i in indices.iter().filter_map(|i| i.as_f64()) {
        let i = i as u32;
        let Ok(rule) = Reflect::get_u32(&rules, i) else {
            continue;
        };
        let Some(new_sel) = get(&rule, "selectorText")
            .and_then(|s| s.as_string())
            .and_then(|sel| rewrite_selector(&sel))
        else {
            continue;
        };
        let next = Reflect::get_u32(&rules, i + 1).unwrap_or_default();
        if next.is_object() && is_copy(&next) {
            continue;
        }
        let body = get(&rule, "style")
            .and_then(|s| get(&s, "cssText"))
            .and_then(|t| t.as_string())
            .unwrap_or_default();
        let copy = format!("{new_sel} {{ {body} }}");
        if call(owner, "insertRule", &[copy.as_str().into(), (i + 1).into()]).is_err() {
            crate::debug!("pseudo-state copy refused: {copy}");
        }
    }
    // Grouping rules and nested style rules hold rules of their own.
    for rule in nested.iter() {
        add_copies(&rule);
    }
}

/// What the browser's own stylesheet does for the mirrored states (Chromium's focus ring), with
/// zero specificity (`:where`) so any page rule about the same property wins, as over UA styles.
///
/// Also what a `<canvas>` is with scripts on (the replica has none, so there a canvas would show
/// its fallback content and not be sized by its `width`/`height`): inline-block, sized by its
/// attributes, fallback hidden. Frames are shown by per-canvas rules (`web::canvas`).
const UA_RULES: &str = ":where([data-cobrowse-focus-visible]) { outline: -webkit-focus-ring-color auto 1px; }
:where(canvas) { display: inline-block; width: attr(width px, 300px); height: attr(height px, 150px); }
canvas > * { display: none !important; }
";

/// State the animation-frame and `load` callbacks share.
pub(super) struct Inner {
    pub(super) doc: Option<Document>,
    /// Our sheet (the browser's focus ring for mirrored focus, canvas frames), adopted last by
    /// `doc`.
    pub(super) sheet: Option<JsValue>,
    /// The text `sheet` holds. A rebuild runs after every batch; replacing a sheet's rules (and
    /// re-adopting it) makes the browser recompute the replica's styles even when nothing
    /// changed, so both are done only when they change.
    pub(super) sheet_text: String,
    /// sheet object → its rule count when its copies were last added.
    pub(super) cache: WeakMap,
    pub(super) scheduled: bool,
    pub(super) raf: Option<Closure<dyn FnMut()>>,
    pub(super) _load: Option<EventListener>,
    /// `<canvas>` frames as rules, by canvas node id.
    pub(super) canvas: HashMap<NodeId, String>,
    /// Replica shadow roots (their sheets get copies too, and they need their own sheet of ours:
    /// document sheets do not reach into shadow trees).
    pub(super) shadow_roots: Vec<JsValue>,
    /// shadow root → its sheet of ours.
    pub(super) shadow_sheets: WeakMap,
    /// URL prefix of sheets served by the CSS proxy (they carry their copies already).
    pub(super) proxy_prefix: Option<String>,
    /// The customer's `:defined` and colour-scheme answers, applied to each sheet before its
    /// copies are made (so the copies carry them too).
    pub(super) prefs: Prefs,
}

impl Inner {
    /// No document yet, nothing cached.
    pub(super) fn new() -> Self {
        Inner {
            doc: None,
            sheet: None,
            sheet_text: String::new(),
            cache: WeakMap::new(),
            scheduled: false,
            raf: None,
            _load: None,
            canvas: HashMap::new(),
            shadow_roots: Vec::new(),
            shadow_sheets: WeakMap::new(),
            proxy_prefix: None,
            prefs: Prefs::new(),
        }
    }

    /// Adds the missing copies to `sheet` unless it comes from the CSS proxy, cannot be read, or
    /// has not changed since the last time.
    fn copy_into(&self, sheet: &JsValue) {
        if let Some(prefix) = &self.proxy_prefix
            && get(sheet, "href")
                .and_then(|h| h.as_string())
                .is_some_and(|h| h.starts_with(prefix.as_str()))
        {
            return;
        }
        // Cross-origin sheets throw on `cssRules`: nothing to copy (sheets of allowed origins come
        // through the CSS proxy instead, see above).
        let Some(rules) = get(sheet, "cssRules") else {
            return;
        };
        // Cast, not `dyn_ref`: the sheet comes from the replica's realm.
        if !sheet.is_object() {
            return;
        }
        let key: &Object = sheet.unchecked_ref();
        if self.cache.get(key).as_f64() == Some(f64::from(length(&rules))) {
            return;
        }
        add_copies(sheet);
        self.cache.set(key, &JsValue::from(length(&rules)));
    }

    /// Adds missing copies to the document's sheets and adopted sheets (and each shadow root's),
    /// and refreshes our own sheet.
    pub(super) fn rebuild(&mut self) {
        self.scheduled = false;
        let Some(doc) = self.doc.clone() else {
            crate::debug!("pseudo-state: no replica document");
            return;
        };
        let doc_v: JsValue = doc.clone().into();
        let mut text = String::from(UA_RULES);
        for rule in self.canvas.values() {
            text.push_str(rule);
        }
        if let Some(rule) = self.prefs.root_rule(&doc) {
            text.push_str(&rule);
        }
        if let Some(list) = get(&doc_v, "styleSheets") {
            for sheet in items(&list) {
                self.prefs.adjust(&sheet);
                self.copy_into(&sheet);
            }
        }
        let ours = self.sheet.clone();
        let adopted: Vec<JsValue> = get(&doc_v, "adoptedStyleSheets")
            .map(|l| items(&l))
            .unwrap_or_default()
            .into_iter()
            .filter(|s| Some(s) != ours.as_ref())
            .collect();
        for sheet in &adopted {
            self.prefs.adjust(sheet);
            self.copy_into(sheet);
        }
        crate::debug!(
            "pseudo-state: {} sheets, {} adopted, {} bytes",
            get(&doc_v, "styleSheets").map_or(0, |l| length(&l)),
            adopted.len(),
            text.len()
        );
        if self.sheet.is_none() {
            self.sheet = new_sheet(&doc_v);
            self.sheet_text.clear();
        }
        let Some(sheet) = self.sheet.clone() else {
            crate::debug!("pseudo-state sheet could not be constructed");
            return;
        };
        if text != self.sheet_text {
            if call(&sheet, "replaceSync", &[JsValue::from_str(&text)]).is_err() {
                crate::debug!("pseudo-state sheet refused");
            }
            self.sheet_text = text;
        }
        // Adopted last already, after the same sheets: nothing to set.
        let current = get(&doc_v, "adoptedStyleSheets")
            .map(|l| items(&l))
            .unwrap_or_default();
        if current.last() != Some(&sheet) || current.len() != adopted.len() + 1 {
            let list: Array = adopted.iter().collect();
            list.push(&sheet);
            let _ = Reflect::set(&doc_v, &"adoptedStyleSheets".into(), &list);
        }
        for root in self.shadow_roots.clone() {
            self.rebuild_shadow(&root);
        }
    }

    /// Copies for one shadow root's own and adopted sheets, and its sheet of ours.
    fn rebuild_shadow(&mut self, root: &JsValue) {
        let key: &Object = root.unchecked_ref();
        let ours = self.shadow_sheets.get(key);
        let ours = ours.is_object().then_some(ours);
        let text = String::from(UA_RULES);
        if let Some(list) = get(root, "styleSheets") {
            for sheet in items(&list) {
                self.prefs.adjust(&sheet);
                self.copy_into(&sheet);
            }
        }
        let adopted: Vec<JsValue> = get(root, "adoptedStyleSheets")
            .map(|l| items(&l))
            .unwrap_or_default()
            .into_iter()
            .filter(|s| Some(s) != ours.as_ref())
            .collect();
        for sheet in &adopted {
            self.prefs.adjust(sheet);
            self.copy_into(sheet);
        }
        if text.is_empty() && ours.is_none() {
            return;
        }
        // Touched only when new or changed: each write invalidates the root's styles, and this
        // runs at every frame that follows a mutation batch.
        let sheet = match ours {
            Some(s) => s,
            None => {
                let Some(s) = document_of(root).and_then(|d| new_sheet(&d)) else {
                    return;
                };
                self.shadow_sheets.set(key, &s);
                let _ = call(&s, "replaceSync", &[JsValue::from_str(&text)]);
                s
            }
        };
        let current = get(root, "adoptedStyleSheets")
            .map(|l| items(&l))
            .unwrap_or_default();
        if current.last() != Some(&sheet) || current.len() != adopted.len() + 1 {
            let list: Array = adopted.iter().collect();
            list.push(&sheet);
            let _ = Reflect::set(root, &"adoptedStyleSheets".into(), &list);
        }
    }
}

/// Schedules [`Inner::rebuild`] at the next animation frame (once).
pub(super) fn schedule(inner: &Rc<RefCell<Inner>>) {
    let Ok(mut i) = inner.try_borrow_mut() else {
        return;
    };
    if i.scheduled {
        return;
    }
    if i.raf.is_none() {
        let weak: Weak<RefCell<Inner>> = Rc::downgrade(inner);
        i.raf = Some(Closure::new(move || {
            if let Some(rc) = weak.upgrade()
                && let Ok(mut i) = rc.try_borrow_mut()
            {
                i.rebuild();
            }
        }));
    }
    if let (Some(w), Some(cb)) = (web_sys::window(), &i.raf)
        && w.request_animation_frame(cb.as_ref().unchecked_ref())
            .is_ok()
    {
        i.scheduled = true;
    } else {
        crate::debug!("pseudo-state: no animation frame");
    }
}
