//! Styles the replica needs beyond its DOM: constructed stylesheets with `adoptedStyleSheets`,
//! `<canvas>` frames as rules, and the marks that show the customer's (and the agent's own) hover,
//! focus and active state in the script-free replica. The rule copies those marks select on are
//! added by `pseudo_sheet`; `prefs` rewrites the replica's rules in place for what only the
//! customer's browser knows (`:defined`, the colour-scheme preference); `js` holds the Reflect
//! helpers; `rules.js` hands both walks only the rules they may change, one call per rule list.
//!
//! [`Styles::set_pseudo`] / [`Styles::set_agent_hover`] put `[data-cobrowse-*]` attributes on the
//! targets (and, for hover/active/focus-within, their ancestors, crossing shadow roots), removing
//! the previous ones.
//!
//! # Who owns what
//!
//! [`Styles`] lives in the app state. Its animation-frame and `load` closures are owned by a
//! shared `Inner` they reference weakly, so dropping [`Styles`] frees everything.

mod js;
mod prefs;
mod pseudo_sheet;

use crate::replica::Replica;
use crate::sanitize::sanitize_css;
use crate::url::is_http;
use crate::web::dom::WebDom;
use crate::web::dom::cssom::{delete_logical, physical_index};
use cobrowse_css_rewrite::PseudoClass;
use cobrowse_protocol::{
    ColorScheme, Insert, MutationBatch, NodeData, NodeId, NodeRecord, Paint, PseudoState, SheetOp,
    SheetOwner, Snapshot,
};
use cobrowse_web_glue::realm::{element, get, length, shadow_root};
use gloo_events::{EventListener, EventListenerOptions, EventListenerPhase};
use js::{call, document_of, new_sheet};
use js_sys::{Array, Reflect, WeakMap};
use pseudo_sheet::{Inner, schedule};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, Node};

/// A constructed sheet of the customer's page.
struct Constructed {
    rules: Vec<String>,
    /// Its replica instance, created in the realm of the first document that adopts it.
    instance: Option<JsValue>,
}

/// Constructed sheets, adoption lists and pseudo-state marks of the replica.
pub struct Styles {
    inner: Rc<RefCell<Inner>>,
    constructed: HashMap<u32, Constructed>,
    /// The customer's adoption lists by target node (document or shadow root).
    adoptions: HashMap<NodeId, Vec<u32>>,
    customer: Option<PseudoState>,
    agent_hover: Option<Node>,
    /// Elements carrying one of our attributes, to clear them on the next change.
    marked: Vec<(Element, &'static str)>,
}

impl Default for Styles {
    fn default() -> Self {
        Styles::new()
    }
}

impl Styles {
    /// Nothing adopted, nothing marked.
    pub fn new() -> Self {
        Styles {
            inner: Rc::new(RefCell::new(Inner::new())),
            constructed: HashMap::new(),
            adoptions: HashMap::new(),
            customer: None,
            agent_hover: None,
            marked: Vec::new(),
        }
    }

    /// After the replica applied `snap` (its document was reopened): forget the old page's
    /// sheets, take the snapshot's constructed sheets, listen for stylesheet loads, rebuild.
    pub fn on_snapshot(&mut self, snap: &Snapshot, replica: &Replica<WebDom>) {
        self.constructed.clear();
        self.adoptions.clear();
        self.customer = None;
        self.agent_hover = None;
        self.marked.clear();
        let doc = replica.backend().document().cloned();
        {
            let Ok(mut i) = self.inner.try_borrow_mut() else {
                return;
            };
            i.sheet = None;
            i.cache = WeakMap::new();
            i.canvas.clear();
            i.shadow_roots.clear();
            i.shadow_sheets = WeakMap::new();
            i._load = None;
            if let Some(d) = &doc {
                let _ = Reflect::set(d, &"adoptedStyleSheets".into(), &Array::new());
                let weak = Rc::downgrade(&self.inner);
                let opts = EventListenerOptions {
                    phase: EventListenerPhase::Capture,
                    passive: true,
                };
                // `load` of stylesheets does not bubble; a capturing listener sees it.
                i._load = Some(EventListener::new_with_options(
                    d,
                    "load",
                    opts,
                    move |_| {
                        if let Some(rc) = weak.upgrade() {
                            schedule(&rc);
                        }
                    },
                ));
            }
            i.doc = doc;
        }
        self.note_shadow_roots(snap.first_id, &snap.nodes, replica);
        for s in &snap.sheets {
            if s.owner == SheetOwner::Constructed {
                self.apply(&SheetOp::Set(s.clone()), replica);
            }
        }
        self.changed();
    }

    /// Sheets whose URL starts with `prefix` come from the CSS proxy with their pseudo-state
    /// copies included; they are not copied again.
    pub fn set_proxy_prefix(&mut self, prefix: Option<String>) {
        if let Ok(mut i) = self.inner.try_borrow_mut() {
            i.proxy_prefix = prefix;
            i.cache = WeakMap::new();
        }
        self.changed();
    }

    /// Something that may change styles happened: rebuild at the next frame.
    pub fn changed(&self) {
        schedule(&self.inner);
    }

    /// A mutation batch was applied: note new shadow roots, rebuild at the next frame.
    pub fn on_mutations(&mut self, batch: &MutationBatch, replica: &Replica<WebDom>) {
        for insert in &batch.inserts {
            if let Insert::New(sub) = insert {
                self.note_shadow_roots(sub.first_id, &sub.nodes, replica);
            }
        }
        self.changed();
    }

    /// Remembers the replica shadow roots among `nodes` (flat pre-order from `first_id`).
    fn note_shadow_roots(
        &mut self,
        first_id: NodeId,
        nodes: &[NodeRecord],
        replica: &Replica<WebDom>,
    ) {
        let Ok(mut i) = self.inner.try_borrow_mut() else {
            return;
        };
        for (k, rec) in nodes.iter().enumerate() {
            if matches!(rec.data, NodeData::ShadowRoot { .. })
                && let Some(n) = replica.dom_node(first_id.wrapping_add(k as u32))
            {
                let v: JsValue = n.clone().into();
                if !i.shadow_roots.contains(&v) {
                    i.shadow_roots.push(v);
                }
            }
        }
    }

    /// Applies `op` if it concerns constructed sheets or adoption; returns false when the
    /// replica must apply it (sheets of `<style>`/`<link>` elements). Either way the pseudo-state
    /// sheet is rebuilt (with a fresh cache: the CSSOM changed in place).
    pub fn apply(&mut self, op: &SheetOp, replica: &Replica<WebDom>) -> bool {
        if let Ok(mut i) = self.inner.try_borrow_mut() {
            i.cache = WeakMap::new();
            i.prefs.forget_walks();
        }
        self.changed();
        match op {
            SheetOp::Set(state) if state.owner == SheetOwner::Constructed => {
                let base = state
                    .base_url
                    .clone()
                    .filter(|b| is_http(b))
                    .or_else(|| replica.page_url().map(str::to_owned))
                    .unwrap_or_default();
                let rules: Vec<String> =
                    state.rules.iter().map(|r| sanitize_css(r, &base)).collect();
                let entry = self.constructed.entry(state.sheet).or_insert(Constructed {
                    rules: Vec::new(),
                    instance: None,
                });
                entry.rules = rules;
                if let Some(inst) = &entry.instance {
                    fill(inst, &entry.rules);
                }
                true
            }
            SheetOp::Insert { sheet, path, rule } if self.constructed.contains_key(sheet) => {
                let base = replica.page_url().unwrap_or_default().to_owned();
                if let Some(c) = self.constructed.get_mut(sheet)
                    && let [index] = path.as_slice()
                {
                    let at = (*index as usize).min(c.rules.len());
                    let rule = sanitize_css(rule, &base);
                    if let Some(inst) = &c.instance {
                        let at = physical_index(inst, *index);
                        let _ = call(inst, "insertRule", &[rule.as_str().into(), at.into()]);
                    }
                    c.rules.insert(at, rule);
                }
                true
            }
            SheetOp::Delete { sheet, path } if self.constructed.contains_key(sheet) => {
                if let Some(c) = self.constructed.get_mut(sheet)
                    && let [index] = path.as_slice()
                    && (*index as usize) < c.rules.len()
                {
                    c.rules.remove(*index as usize);
                    if let Some(inst) = &c.instance {
                        let _ = delete_logical(inst, *index);
                    }
                }
                true
            }
            SheetOp::Remove { sheet } if self.constructed.contains_key(sheet) => {
                self.constructed.remove(sheet);
                true
            }
            SheetOp::Adopt { target, sheets } => {
                self.adoptions.insert(*target, sheets.clone());
                self.adopt(*target, replica);
                true
            }
            _ => false,
        }
    }

    /// Applies a `Paint` topic the replica's styles answer (the colour-scheme preference, the
    /// custom element names the customer has not defined); false for the other topics. Both are
    /// kept across snapshots: the customer's preference is its browser's, and the next page's
    /// names follow right after its snapshot.
    pub fn apply_paint(&mut self, paint: &Paint) -> bool {
        let changed = {
            let Ok(mut i) = self.inner.try_borrow_mut() else {
                return true;
            };
            let changed = match paint {
                Paint::ColorScheme(s) => i.prefs.set_dark(*s == ColorScheme::Dark),
                Paint::Undefined(names) => i.prefs.set_undefined(names.clone()),
                _ => return false,
            };
            if changed {
                // The copies carry the rewritten selectors and conditions: make them again.
                i.cache = WeakMap::new();
            }
            changed
        };
        if changed {
            self.changed();
        }
        true
    }

    /// Sets `target`'s `adoptedStyleSheets` to the customer's list (plus our pseudo-state sheet
    /// on the top document).
    fn adopt(&mut self, target: NodeId, replica: &Replica<WebDom>) {
        let Some(node) = replica.dom_node(target) else {
            return;
        };
        let node: JsValue = node.clone().into();
        let Some(doc) = document_of(&node) else {
            return;
        };
        let list = Array::new();
        for id in self.adoptions.get(&target).cloned().unwrap_or_default() {
            let Some(c) = self.constructed.get_mut(&id) else {
                continue;
            };
            if c.instance.is_none() {
                c.instance = new_sheet(&doc);
                if let Some(inst) = &c.instance {
                    fill(inst, &c.rules);
                }
            }
            if let Some(inst) = &c.instance {
                list.push(inst);
            }
        }
        if let Ok(i) = self.inner.try_borrow() {
            if i.doc.as_ref().map(JsValue::from).as_ref() == Some(&node) {
                if let Some(ours) = &i.sheet {
                    list.push(ours);
                }
            } else {
                let ours = i.shadow_sheets.get(node.unchecked_ref());
                if ours.is_object() {
                    list.push(&ours);
                }
            }
        }
        if Reflect::set(&node, &"adoptedStyleSheets".into(), &list).is_err() {
            crate::debug!("adoptedStyleSheets refused for {target}");
        }
    }

    /// Shows a canvas frame (`url`, an image `data:` URL) on the replica canvas `el` of `id`, at
    /// the canvas's size (zero specificity, so page rules sizing the canvas still win).
    pub fn canvas_frame(&mut self, id: NodeId, el: &Element, url: &str, width: u32, height: u32) {
        let _ = el.set_attribute("data-cobrowse-canvas", &id.to_string());
        let rule = format!(
            ":where([data-cobrowse-canvas=\"{id}\"]) {{ width: {width}px; height: {height}px; }}\n\
             [data-cobrowse-canvas=\"{id}\"] {{ background-image: url(\"{url}\") !important; \
             background-size: 100% 100% !important; background-repeat: no-repeat !important; \
             background-origin: content-box !important; background-clip: content-box !important; }}\n"
        );
        if let Ok(mut i) = self.inner.try_borrow_mut() {
            i.canvas.insert(id, rule);
        }
        self.changed();
    }

    /// The customer's hover/focus/active targets changed.
    pub fn set_pseudo(&mut self, state: PseudoState, replica: &Replica<WebDom>) {
        self.customer = Some(state);
        self.mark(replica);
    }

    /// The agent's pointer is over `node` (`None`: off the replica): the agent sees its own hover.
    pub fn set_agent_hover(&mut self, node: Option<Node>, replica: &Replica<WebDom>) {
        if self.agent_hover.as_ref() == node.as_ref() {
            return;
        }
        self.agent_hover = node;
        self.mark(replica);
    }

    /// Clears the previous marks and sets the current ones.
    fn mark(&mut self, replica: &Replica<WebDom>) {
        for (el, attr) in self.marked.drain(..) {
            let _ = el.remove_attribute(attr);
        }
        let mut targets: Vec<(Node, PseudoClass, bool)> = Vec::new();
        if let Some(p) = &self.customer {
            let node = |id: Option<NodeId>| id.and_then(|i| replica.dom_node(i));
            if let Some(n) = node(p.hover) {
                targets.push((n, PseudoClass::Hover, true));
            }
            if let Some(n) = node(p.active) {
                targets.push((n, PseudoClass::Active, true));
            }
            if let Some(n) = node(p.focus) {
                targets.push((n.clone(), PseudoClass::Focus, false));
                targets.push((n.clone(), PseudoClass::FocusWithin, true));
                if p.focus_visible {
                    targets.push((n, PseudoClass::FocusVisible, false));
                }
            }
        }
        if let Some(n) = &self.agent_hover {
            targets.push((n.clone(), PseudoClass::Hover, true));
        }
        for (node, class, ancestors) in targets {
            let mut cur = Some(node);
            while let Some(n) = cur {
                if let Some(el) = element(&n)
                    && !el.has_attribute(class.attr())
                    && el.set_attribute(class.attr(), "").is_ok()
                {
                    self.marked.push((el.clone(), class.attr()));
                }
                if !ancestors {
                    break;
                }
                // A shadow root's "parent" is its host.
                cur = n
                    .parent_node()
                    .or_else(|| shadow_root(&n).map(|r| r.host().into()));
            }
        }
    }
}

/// Replaces `sheet`'s rules with `rules`, one `insertRule` each (a bad rule is skipped, as the
/// customer's browser skipped it).
fn fill(sheet: &JsValue, rules: &[String]) {
    let _ = call(sheet, "replaceSync", &[JsValue::from_str("")]);
    for (i, r) in rules.iter().enumerate() {
        let at = (i as u32).min(length(&get(sheet, "cssRules").unwrap_or(JsValue::NULL)));
        if call(sheet, "insertRule", &[r.as_str().into(), at.into()]).is_err() {
            crate::debug!("constructed rule refused: {r}");
        }
    }
}
