//! Styles the replica needs beyond its DOM: constructed stylesheets with `adoptedStyleSheets`, and
//! the pseudo-state sheet that shows the customer's (and the agent's own) hover, focus and active
//! state in the script-free replica.
//!
//! # Pseudo-state
//!
//! After style changes (snapshot, mutations, sheet ops, a stylesheet finishing loading) and at
//! most once per animation frame, every readable rule of the replica's document sheets and its
//! adopted sheets whose selector has `:hover`, `:active`, `:focus`, `:focus-within` or
//! `:focus-visible` is copied with the pseudo-class rewritten into a `[data-cobrowse-*]` attribute
//! (`cobrowse_css_rewrite`), keeping `@media`/`@supports` wrappers. The copies live in one
//! constructed sheet adopted last by the replica document (no DOM node, so DOM comparisons and the
//! replica's own bookkeeping never see it). [`Styles::set_pseudo`] / [`Styles::set_agent_hover`]
//! then put those attributes on the targets (and, for hover/active/focus-within, their ancestors,
//! crossing shadow roots), removing the previous ones.
//!
//! Sheets loaded through the server's CSS proxy (`crate::sheets`) are skipped: the proxy already
//! put each copy right after its rule, so copying them here would duplicate them.
//!
//! Rewritten text is cached per sheet object and rule count (a `<style>` whose text changes gets
//! a new sheet object), and the cache is dropped on every CSSOM op, so unrelated DOM changes cost
//! one walk over `document.styleSheets` only.
//!
//! # Who owns what
//!
//! [`Styles`] lives in the app state. Its animation-frame and `load` closures are owned by a
//! shared `Inner` they reference weakly, so dropping [`Styles`] frees everything.

use crate::replica::Replica;
use crate::sanitize::sanitize_css;
use crate::url::is_http;
use crate::web::dom::WebDom;
use cobrowse_css_rewrite::{PseudoClass, rewrite_selector};
use cobrowse_protocol::{
    Insert, MutationBatch, NodeData, NodeId, NodeRecord, PseudoState, SheetOp, SheetOwner, Snapshot,
};
use gloo_events::{EventListener, EventListenerOptions, EventListenerPhase};
use js_sys::{Array, Function, Object, Reflect, WeakMap};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Node};

fn get(obj: &JsValue, key: &str) -> Option<JsValue> {
    // Functions (constructors) are objects too, but `typeof` says "function".
    if !obj.is_object() && !obj.is_function() {
        return None;
    }
    Reflect::get(obj, &key.into())
        .ok()
        .filter(|v| !v.is_null() && !v.is_undefined())
}

fn call(obj: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f = get(obj, name).ok_or_else(|| JsValue::from_str("no such method"))?;
    if !f.is_function() {
        return Err(JsValue::from_str("not a function"));
    }
    let f: Function = f.unchecked_into();
    let arr: Array = args.iter().collect();
    f.apply(obj, &arr)
}

fn length(list: &JsValue) -> u32 {
    get(list, "length").and_then(|l| l.as_f64()).unwrap_or(0.0) as u32
}

fn items(list: &JsValue) -> Vec<JsValue> {
    (0..length(list))
        .filter_map(|i| Reflect::get_u32(list, i).ok())
        .filter(JsValue::is_object)
        .collect()
}

/// A new empty `CSSStyleSheet` of `doc`'s realm (a sheet can only be adopted there).
fn new_sheet(doc: &JsValue) -> Option<JsValue> {
    let ctor = get(doc, "defaultView").and_then(|w| get(&w, "CSSStyleSheet"))?;
    if !ctor.is_function() {
        return None;
    }
    // Cast, not `dyn_into`: the constructor comes from the replica's realm.
    let ctor: Function = ctor.unchecked_into();
    Reflect::construct(&ctor, &Array::new()).ok()
}

/// The document a document or shadow root belongs to.
fn document_of(node: &JsValue) -> Option<JsValue> {
    if get(node, "nodeType").and_then(|t| t.as_f64()) == Some(9.0) {
        return Some(node.clone());
    }
    get(node, "ownerDocument")
}

/// Appends the rewritten copies of `rules` (a `CSSRuleList`) to `out`.
fn rewrite_rules(rules: &JsValue, out: &mut String) {
    for rule in items(rules) {
        let ty = get(&rule, "type").and_then(|t| t.as_f64()).unwrap_or(0.0) as u32;
        match ty {
            // CSSStyleRule
            1 => {
                let Some(sel) = get(&rule, "selectorText").and_then(|s| s.as_string()) else {
                    continue;
                };
                let Some(new_sel) = rewrite_selector(&sel) else {
                    continue;
                };
                let body = get(&rule, "style")
                    .and_then(|s| get(&s, "cssText"))
                    .and_then(|t| t.as_string())
                    .unwrap_or_default();
                out.push_str(&new_sel);
                out.push_str(" { ");
                out.push_str(&body);
                out.push_str(" }\n");
            }
            // CSSMediaRule, CSSSupportsRule: keep the condition around the copies.
            4 | 12 => {
                let cond = if ty == 4 {
                    get(&rule, "media").and_then(|m| get(&m, "mediaText"))
                } else {
                    get(&rule, "conditionText")
                }
                .and_then(|c| c.as_string())
                .unwrap_or_default();
                let Some(inner) = get(&rule, "cssRules") else {
                    continue;
                };
                let mut inner_out = String::new();
                rewrite_rules(&inner, &mut inner_out);
                if !inner_out.is_empty() {
                    out.push_str(if ty == 4 { "@media " } else { "@supports " });
                    out.push_str(&cond);
                    out.push_str(" {\n");
                    out.push_str(&inner_out);
                    out.push_str("}\n");
                }
            }
            _ => {}
        }
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
struct Inner {
    doc: Option<Document>,
    /// The pseudo-state sheet, adopted last by `doc`.
    sheet: Option<JsValue>,
    /// sheet object → `[ruleCount, rewritten text]`.
    cache: WeakMap,
    scheduled: bool,
    raf: Option<Closure<dyn FnMut()>>,
    _load: Option<EventListener>,
    /// `<canvas>` frames as rules, by canvas node id.
    canvas: HashMap<NodeId, String>,
    /// Replica shadow roots (their rules need their own pseudo-state sheet: document sheets do
    /// not reach into shadow trees).
    shadow_roots: Vec<JsValue>,
    /// shadow root → its pseudo-state sheet.
    shadow_sheets: WeakMap,
    /// URL prefix of sheets served by the CSS proxy (they carry their copies already).
    proxy_prefix: Option<String>,
}

impl Inner {
    /// The rewritten text for `sheet` (cached by object and rule count).
    fn rewritten(&self, sheet: &JsValue) -> String {
        if let Some(prefix) = &self.proxy_prefix
            && get(sheet, "href")
                .and_then(|h| h.as_string())
                .is_some_and(|h| h.starts_with(prefix.as_str()))
        {
            return String::new();
        }
        // Cross-origin sheets throw on `cssRules`: nothing to copy (sheets of allowed origins come
        // through the CSS proxy instead, see above).
        let Some(rules) = get(sheet, "cssRules") else {
            return String::new();
        };
        let n = length(&rules);
        // Cast, not `dyn_ref`: the sheet comes from the replica's realm.
        if !sheet.is_object() {
            return String::new();
        }
        let key: &Object = sheet.unchecked_ref();
        let hit = self.cache.get(key);
        if Reflect::get_u32(&hit, 0).ok().and_then(|c| c.as_f64()) == Some(f64::from(n))
            && let Some(text) = Reflect::get_u32(&hit, 1).ok().and_then(|t| t.as_string())
        {
            return text;
        }
        let mut text = String::new();
        rewrite_rules(&rules, &mut text);
        let entry = Array::of2(&JsValue::from(n), &JsValue::from_str(&text));
        self.cache.set(key, &entry);
        text
    }

    /// Rebuilds the pseudo-state sheet from the document's sheets and adopted sheets.
    fn rebuild(&mut self) {
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
        if let Some(list) = get(&doc_v, "styleSheets") {
            for sheet in items(&list) {
                text.push_str(&self.rewritten(&sheet));
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
            text.push_str(&self.rewritten(sheet));
        }
        crate::debug!(
            "pseudo-state: {} sheets, {} adopted, {} bytes",
            get(&doc_v, "styleSheets").map_or(0, |l| length(&l)),
            adopted.len(),
            text.len()
        );
        if self.sheet.is_none() {
            self.sheet = new_sheet(&doc_v);
        }
        let Some(sheet) = self.sheet.clone() else {
            crate::debug!("pseudo-state sheet could not be constructed");
            return;
        };
        if call(&sheet, "replaceSync", &[JsValue::from_str(&text)]).is_err() {
            crate::debug!("pseudo-state sheet refused");
        }
        let list: Array = adopted.iter().collect();
        list.push(&sheet);
        let _ = Reflect::set(&doc_v, &"adoptedStyleSheets".into(), &list);
        for root in self.shadow_roots.clone() {
            self.rebuild_shadow(&root);
        }
    }

    /// The pseudo-state sheet of one shadow root, from its own and its adopted sheets.
    fn rebuild_shadow(&mut self, root: &JsValue) {
        let key: &Object = root.unchecked_ref();
        let ours = self.shadow_sheets.get(key);
        let ours = ours.is_object().then_some(ours);
        let mut text = String::from(UA_RULES);
        if let Some(list) = get(root, "styleSheets") {
            for sheet in items(&list) {
                text.push_str(&self.rewritten(&sheet));
            }
        }
        let adopted: Vec<JsValue> = get(root, "adoptedStyleSheets")
            .map(|l| items(&l))
            .unwrap_or_default()
            .into_iter()
            .filter(|s| Some(s) != ours.as_ref())
            .collect();
        for sheet in &adopted {
            text.push_str(&self.rewritten(sheet));
        }
        if text.is_empty() && ours.is_none() {
            return;
        }
        let sheet = match ours {
            Some(s) => s,
            None => {
                let Some(s) = document_of(root).and_then(|d| new_sheet(&d)) else {
                    return;
                };
                self.shadow_sheets.set(key, &s);
                s
            }
        };
        let _ = call(&sheet, "replaceSync", &[JsValue::from_str(&text)]);
        let list: Array = adopted.iter().collect();
        list.push(&sheet);
        let _ = Reflect::set(root, &"adoptedStyleSheets".into(), &list);
    }
}

/// Schedules [`Inner::rebuild`] at the next animation frame (once).
fn schedule(inner: &Rc<RefCell<Inner>>) {
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
            inner: Rc::new(RefCell::new(Inner {
                doc: None,
                sheet: None,
                cache: WeakMap::new(),
                scheduled: false,
                raf: None,
                _load: None,
                canvas: HashMap::new(),
                shadow_roots: Vec::new(),
                shadow_sheets: WeakMap::new(),
                proxy_prefix: None,
            })),
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
                && let Some(n) = replica.node(first_id.wrapping_add(k as u32))
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
                        let _ = call(inst, "insertRule", &[rule.as_str().into(), (*index).into()]);
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
                        let _ = call(inst, "deleteRule", &[(*index).into()]);
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

    /// Sets `target`'s `adoptedStyleSheets` to the customer's list (plus our pseudo-state sheet
    /// on the top document).
    fn adopt(&mut self, target: NodeId, replica: &Replica<WebDom>) {
        let Some(node) = replica.node(target) else {
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
            let node = |id: Option<NodeId>| id.and_then(|i| replica.node(i)).cloned();
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
                if n.node_type() == Node::ELEMENT_NODE {
                    let el: Element = n.clone().unchecked_into();
                    if !el.has_attribute(class.attr()) && el.set_attribute(class.attr(), "").is_ok()
                    {
                        self.marked.push((el, class.attr()));
                    }
                }
                if !ancestors {
                    break;
                }
                cur = n.parent_node().or_else(|| {
                    (n.node_type() == Node::DOCUMENT_FRAGMENT_NODE)
                        .then(|| get(&n, "host"))
                        .flatten()
                        .map(JsCast::unchecked_into)
                });
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
