//! The real [`DomBackend`]: DOM calls into the sandboxed replica iframe.
//!
//! Building and changing nodes (create, insert, move, remove, attributes, texts, id registration)
//! is recorded into an [`EditBuffer`] and run by `edits.js` in one call when the model flushes
//! (the end of each snapshot, batch or other entry point), instead of one wasm↔JS crossing per
//! DOM call; a node handle is a [`Handle`], a slot of the interpreter's node table, so nodes do not
//! cross either. Operations that need the DOM's answer at once or touch live state (a frame's
//! document, a head's injected `<base>`/CSP, form state, scroll, CSSOM, selection, paint) first run
//! what is recorded ([`WebDom::resolve`]) and then act on the real node. The interpreter makes the
//! sanitiser's second-wall check itself (the element made must be the name vetted); everything else
//! it runs was sanitised by the model before it was recorded.
//!
//! Every call that can throw goes through a `Result`-returning binding, `Reflect`, or the
//! interpreter's per-operation `try`, so a hostile name or value makes that one node fail instead
//! of unwinding a JS exception through wasm.
//!
//! Replica nodes live in the iframe's JS realm, so `instanceof` checks (`dyn_ref`) against this
//! page's constructors are always false for them. Types are therefore decided by `nodeType` and
//! `nodeName` (the shared casts of `cobrowse_web_glue::realm`), or already known from the replica
//! model, and cast with `unchecked_ref`.
//! Nodes are created by the replica's top document and adopted on insertion into nested frame
//! documents. A `WeakMap` node → id lets pointer targeting map `elementFromPoint` back to ids
//! without keeping removed nodes alive.
//!
//! Beside it: `sandbox` (the frame's sandbox and activation guards), `scroll` (reaching and
//! retrying scroll positions), `cssom` (rule edits through `Reflect`), `paint` (top layer,
//! animations and faces through the browser's APIs).

pub(crate) mod cssom;
mod paint;
mod sandbox;
mod scroll;

use crate::edits::{EditBuffer, Slots};
use crate::replica::Replica;
use crate::sanitize::created_name;
use cobrowse_protocol::Namespace;
use wasm_bindgen::prelude::{Closure, wasm_bindgen};

// The edit buffer's interpreter (`edits.js`, shipped as a wasm-bindgen module snippet next to the
// glue, so the build cannot forget it).
#[wasm_bindgen(module = "/src/web/dom/edits.js")]
extern "C" {
    type Edits;
    #[wasm_bindgen(constructor)]
    fn new(ids: &WeakMap) -> Edits;
    #[wasm_bindgen(method, js_name = setDocument)]
    fn set_document(this: &Edits, doc: &Document, ids: &WeakMap);
    #[wasm_bindgen(method)]
    fn put(this: &Edits, slot: u32, node: &Node);
    #[wasm_bindgen(method)]
    fn get(this: &Edits, slot: u32) -> JsValue;
    #[wasm_bindgen(method)]
    fn run(this: &Edits, ops: &[u32], text: &str, ends: &[u32]) -> u32;
}

impl Replica<WebDom> {
    /// The DOM node of customer node `id`, if the replica has one.
    pub fn dom_node(&self, id: NodeId) -> Option<Node> {
        self.backend().resolve(self.node(id)?)
    }

    /// The iframe element that holds document `doc`.
    pub fn dom_frame_of(&self, doc: NodeId) -> Option<Node> {
        self.backend().resolve(self.frame_of(doc)?)
    }
}

pub use sandbox::REPLICA_SANDBOX;

use crate::replica::{DomBackend, Selected};
use cobrowse_protocol::{FormState, NodeId, ScriptAnimation, ScriptFont, TopLayerKind};
use cobrowse_web_glue::realm::{element, shadow_root};
use cssom::{call, delete_logical, physical_index, rule_count, rule_list_at, sheet_of};
use gloo_events::{EventListener, EventListenerOptions, EventListenerPhase};
use js_sys::{Reflect, WeakMap};
use sandbox::{ensure_sandboxed, focus_for_selection, guard, release_focus, scrub_url};
use scroll::retry_scrolls;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlDocument, HtmlIFrameElement, HtmlSelectElement, Node};

const XLINK_NS: &str = "http://www.w3.org/1999/xlink";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
const HTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// The replica document's own policy, added as a `<meta>` in each document's head: a second wall
/// behind the sandbox (which already forbids scripts, forms and top navigation).
/// (No `frame-src`: nested frames are `about:blank` documents the replica fills, or third-party
/// frames on the operator's allow-list, loaded by URL; see `crate::frames`.)
pub const REPLICA_CSP: &str =
    "script-src 'none'; object-src 'none'; form-action 'none'; worker-src 'none'";

/// Marks the `<base>` and `<meta>`s the replica adds, so [`WebDom::prepare_head`] updates them.
const INJECTED_ATTR: &str = "data-cobrowse-injected";

/// DOM operations on the replica iframe `#cobrowse-replica`.
pub struct WebDom {
    frame: HtmlIFrameElement,
    doc: Option<Document>,
    ids: WeakMap,
    /// Capture-phase listeners that cancel activation inside the replica documents (see
    /// `sandbox::guard`). Owned here, one set per replica document; dropped (and so removed) on
    /// reset.
    guards: Vec<EventListener>,
    /// A window scroll the replica could not reach yet (the page was still shorter, e.g. images
    /// not loaded). Retried on every resource `load` inside the replica until reached.
    pending_scroll: Rc<Cell<Option<(f64, f64)>>>,
    /// Element scrolls the replica could not reach yet (their content was still shorter: images,
    /// fonts or frames not loaded). Retried like the window's, and after each mutation batch.
    pending_elements: Rc<RefCell<Vec<(Element, f64, f64)>>>,
    /// A retry of the pending scrolls is waiting for the next animation frame.
    retry_scheduled: Rc<Cell<bool>>,
    /// The capture-phase `load` listener that retries [`WebDom::pending_scroll`] and
    /// [`WebDom::pending_elements`].
    _load_retry: Option<EventListener>,
    /// The replica document whose selection shows the customer's, to clear it on change.
    selection_doc: Option<Document>,
    /// Animations and faces the replica plays for the customer's scripts.
    paint: paint::Handles,
    /// The replica text control focused to paint the customer's selection in it
    /// (`sandbox::focus_for_selection`), to give the focus back when that selection ends.
    focused_control: Option<Element>,
    /// The interpreter that runs recorded operations and holds the slot → node table.
    edits: Edits,
    /// Operations recorded since the last run (a cell: [`WebDom::resolve`] runs them from `&self`).
    buf: RefCell<EditBuffer>,
    /// Slot numbering of the interpreter's table.
    slots: Slots,
}

impl WebDom {
    /// A backend rendering into `frame`. The replica frame must be sandboxed exactly
    /// `allow-same-origin` (never `allow-scripts`). Sandbox flags only take effect when a frame
    /// navigates, so a frame that arrives with other flags is replaced by a fresh one that has
    /// the right flags from birth; use [`WebDom::frame`] afterwards.
    pub fn new(frame: HtmlIFrameElement) -> Self {
        let frame = ensure_sandboxed(frame);
        let ids = WeakMap::new();
        WebDom {
            frame,
            doc: None,
            edits: Edits::new(&ids),
            buf: RefCell::default(),
            slots: Slots::default(),
            ids,
            guards: Vec::new(),
            pending_scroll: Rc::new(Cell::new(None)),
            pending_elements: Rc::default(),
            _load_retry: None,
            retry_scheduled: Rc::default(),
            selection_doc: None,
            paint: paint::Handles::default(),
            focused_control: None,
        }
    }

    /// The DOM node of `h`, after running what is recorded (so it exists and is in place).
    /// None when its creation failed or was refused.
    pub fn resolve(&self, h: &Handle) -> Option<Node> {
        self.run_edits();
        let v = self.edits.get(h.0);
        (!v.is_null() && !v.is_undefined()).then(|| v.unchecked_into())
    }

    /// Runs the recorded operations in one call into the interpreter.
    fn run_edits(&self) {
        let Ok(mut buf) = self.buf.try_borrow_mut() else {
            return;
        };
        if buf.is_empty() {
            return;
        }
        let failed = self.edits.run(buf.ops(), buf.text(), buf.ends());
        if failed > 0 {
            crate::debug!("{failed} recorded DOM operations refused or failed");
        }
        buf.clear();
    }

    /// A slot holding `node`, which Rust obtained itself (a document).
    fn put(&mut self, node: &Node) -> Handle {
        let slot = self.slots.take();
        self.edits.put(slot, node);
        Handle(slot)
    }

    /// Applies the scrolls waiting for the next animation frame now (those still out of reach
    /// stay pending), for a reader of the replica's scroll position that runs first.
    pub fn settle_scrolls(&self) {
        retry_scrolls(&self.pending_scroll, &self.pending_elements, &self.frame);
    }

    /// The replica iframe element.
    pub fn frame(&self) -> &HtmlIFrameElement {
        &self.frame
    }

    /// The replica's top document, once a snapshot was applied.
    pub fn document(&self) -> Option<&Document> {
        self.doc.as_ref()
    }

    /// The customer node id of `node` or its nearest registered ancestor (crossing shadow roots).
    pub fn id_of(&self, node: &Node) -> Option<NodeId> {
        let mut cur: Option<Node> = Some(node.clone());
        while let Some(n) = cur {
            let v = self.ids.get(n.unchecked_ref());
            if let Some(id) = v.as_f64() {
                return Some(id as NodeId);
            }
            // A shadow root's "parent" is its host.
            cur = n
                .parent_node()
                .or_else(|| shadow_root(&n).map(|r| r.host().into()));
        }
        None
    }

    /// The customer node id of the element at `(x, y)` in replica viewport coordinates (= the
    /// customer's viewport coordinates, since the frame has the customer's size).
    pub fn id_at(&self, x: f64, y: f64) -> Option<NodeId> {
        let doc = self.doc.as_ref()?;
        let el = doc.element_from_point(x as f32, y as f32)?;
        self.id_of(&el)
    }

    /// The caret position at `(x, y)` in replica viewport coordinates, as the customer's node id
    /// and offset (`caretPositionFromPoint`, or Chromium's older `caretRangeFromPoint`): where a
    /// click would put the caret in an editor. None when the node there is not a replica node.
    pub fn caret_at(&self, x: f64, y: f64) -> Option<(NodeId, u32)> {
        let doc = self.doc.as_ref()?;
        let call = |name: &str| {
            let f = Reflect::get(doc, &name.into()).ok()?;
            // The replica realm's function: `instanceof Function` fails here, so check typeof.
            if !f.is_function() {
                return None;
            }
            let f: &js_sys::Function = f.unchecked_ref();
            f.call2(doc, &x.into(), &y.into())
                .ok()
                .filter(|v| v.is_object())
        };
        let (node, offset) = if let Some(p) = call("caretPositionFromPoint") {
            (
                Reflect::get(&p, &"offsetNode".into()).ok()?,
                Reflect::get(&p, &"offset".into()).ok()?,
            )
        } else {
            let r = call("caretRangeFromPoint")?;
            (
                Reflect::get(&r, &"startContainer".into()).ok()?,
                Reflect::get(&r, &"startOffset".into()).ok()?,
            )
        };
        // Exactly this node: an ancestor's id with this node's offset would be another position.
        // (No `dyn_ref`: the node is from the replica's realm, where `instanceof` fails.)
        if !node.is_object() {
            return None;
        }
        let id = self.ids.get(node.unchecked_ref()).as_f64()?;
        Some((id as NodeId, offset.as_f64()? as u32))
    }

    /// Empties `doc` and gives it the right compatibility mode by writing a doctype (or nothing)
    /// through `document.open()`: a DOM-appended doctype does not change the mode.
    fn reopen(doc: &Document, standards: bool) -> bool {
        let html: &HtmlDocument = doc.unchecked_ref();
        if let Err(e) = html.open() {
            crate::debug!("document.open failed: {e:?}");
            return false;
        }
        let written = html.write_1(if standards { "<!DOCTYPE html>" } else { "" });
        if let Err(e) = &written {
            crate::debug!("document.write failed: {e:?}");
        }
        let _ = html.close();
        scrub_url(doc);
        while let Some(c) = doc.first_child() {
            if let Err(e) = doc.remove_child(&c) {
                crate::debug!("emptying the replica failed: {e:?}");
                return false;
            }
        }
        written.is_ok()
    }
}

/// The operations that need the DOM's answer at once or touch live state (document reset, frame
/// documents, heads, forms, scroll, CSSOM, selection, paint), on real nodes.
impl WebDom {
    fn now_reset(&mut self, standards: bool) -> Option<Document> {
        let doc = self.frame.content_document()?;
        if !Self::reopen(&doc, standards) {
            crate::debug!("replica document could not be reopened");
        }
        self.ids = WeakMap::new();
        // document.open() dropped the old listeners; these are the new document's.
        self.guards = guard(&doc);
        // A snapshot lists only non-zero scroll positions, and document.open() keeps the window's
        // offset: without this, the page a customer opens at its top would show scrolled to where
        // the last page was.
        if let Some(w) = self.frame.content_window() {
            w.scroll_to_with_x_and_y(0.0, 0.0);
        }
        self.pending_scroll.set(None);
        self.pending_elements.borrow_mut().clear();
        self.selection_doc = None;
        let pending = self.pending_scroll.clone();
        let elements = self.pending_elements.clone();
        let frame = self.frame.clone();
        let opts = EventListenerOptions {
            phase: EventListenerPhase::Capture,
            passive: true,
        };
        // `load` of images and stylesheets does not bubble, but capture at the document sees it.
        self._load_retry = Some(EventListener::new_with_options(
            &doc,
            "load",
            opts,
            move |_| retry_scrolls(&pending, &elements, &frame),
        ));
        self.doc = Some(doc.clone());
        Some(doc)
    }

    fn now_frame_document(&mut self, frame: &Node) -> Option<Node> {
        let f: &HtmlIFrameElement = frame.unchecked_ref();
        let doc = f.content_document()?;
        Self::reopen(&doc, true);
        // `document.open()` keeps adopted sheets: a frame that gets a new document (the customer's
        // frame reloaded) must not keep the previous document's constructed sheets.
        let _ = Reflect::set(&doc, &"adoptedStyleSheets".into(), &js_sys::Array::new());
        self.guards.extend(guard(&doc));
        Some(doc.into())
    }

    fn now_prepare_head(&mut self, head: &Node, base: &str) {
        let head: &Element = head.unchecked_ref();
        let set_href = |b: &Element| {
            let _ = if base.is_empty() {
                b.remove_attribute("href")
            } else {
                b.set_attribute("href", base)
            };
        };
        if let Ok(Some(existing)) = head.query_selector(&format!("base[{INJECTED_ATTR}]")) {
            set_href(&existing);
            return;
        }
        let Some(doc) = head.owner_document() else {
            return;
        };
        let (Ok(b), Ok(m), Ok(r)) = (
            doc.create_element_ns(Some(HTML_NS), "base"),
            doc.create_element_ns(Some(HTML_NS), "meta"),
            doc.create_element_ns(Some(HTML_NS), "meta"),
        ) else {
            return;
        };
        let _ = b.set_attribute(INJECTED_ATTR, "");
        set_href(&b);
        let _ = m.set_attribute(INJECTED_ATTR, "");
        let _ = m.set_attribute("http-equiv", "Content-Security-Policy");
        let _ = m.set_attribute("content", REPLICA_CSP);
        // The agent page's policy already reaches the replica; said again in every replica
        // document, since the customer's `<meta name=referrer>` is what the sanitiser drops.
        let _ = r.set_attribute(INJECTED_ATTR, "");
        let _ = r.set_attribute("name", "referrer");
        let _ = r.set_attribute("content", "no-referrer");
        let first = head.first_child();
        let _ = head.insert_before(&r, first.as_ref());
        let _ = head.insert_before(&m, Some(&r));
        let _ = head.insert_before(&b, Some(&m));
    }

    fn now_set_form_state(&mut self, el: &Node, state: &FormState) {
        // Reflect::set catches setter exceptions (e.g. a file input refusing a value).
        match state {
            FormState::Value(v) => {
                // A button-like input's `value` IS its attribute (mutations carry it); setting
                // the property would add a `value=""` the customer's page does not have.
                let button_like = el.node_name().eq_ignore_ascii_case("input")
                    && el
                        .unchecked_ref::<Element>()
                        .get_attribute("type")
                        .is_some_and(|t| {
                            ["button", "submit", "reset", "image"]
                                .iter()
                                .any(|b| t.trim().eq_ignore_ascii_case(b))
                        });
                if !button_like {
                    let _ = Reflect::set(el, &"value".into(), &JsValue::from_str(v));
                }
            }
            FormState::Checked(c) | FormState::Indeterminate(c) => {
                let mixed = matches!(state, FormState::Indeterminate(_));
                let _ = Reflect::set(el, &"checked".into(), &JsValue::from_bool(*c));
                let _ = Reflect::set(el, &"indeterminate".into(), &JsValue::from_bool(mixed));
            }
            FormState::Selected(idx) => {
                if el.node_name().eq_ignore_ascii_case("select") {
                    let sel: &HtmlSelectElement = el.unchecked_ref();
                    for i in 0..sel.length() {
                        if let Some(opt) = sel.item(i) {
                            let on = idx.contains(&i);
                            let _ = Reflect::set(&opt, &"selected".into(), &JsValue::from_bool(on));
                        }
                    }
                }
            }
        }
    }

    fn now_replace_rules(&mut self, owner: &Node, rules: &[String]) {
        let Some(sheet) = sheet_of(owner) else { return };
        for i in (0..rule_count(&sheet)).rev() {
            let _ = call(&sheet, "deleteRule", &[i.into()]);
        }
        for r in rules {
            let at = rule_count(&sheet);
            if call(&sheet, "insertRule", &[r.as_str().into(), at.into()]).is_err() {
                crate::debug!("rule refused: {r}");
            }
        }
    }

    fn now_insert_rule(&mut self, owner: &Node, path: &[u32], rule: &str) {
        let Some(sheet) = sheet_of(owner) else { return };
        let Some((list_owner, index)) = rule_list_at(&sheet, path) else {
            return;
        };
        let at = physical_index(&list_owner, index);
        if call(&list_owner, "insertRule", &[rule.into(), at.into()]).is_err() {
            crate::debug!("insertRule refused at {path:?}");
        }
    }

    fn now_delete_rule(&mut self, owner: &Node, path: &[u32]) {
        let Some(sheet) = sheet_of(owner) else { return };
        if let Some((list_owner, index)) = rule_list_at(&sheet, path) {
            let _ = delete_logical(&list_owner, index);
        }
    }

    fn now_select(&mut self, selection: Selected<&Node>) {
        // A text control shows its selection only while focused: focus it for a non-empty one,
        // give the focus back when the selection is elsewhere or empty.
        let wanted = match &selection {
            Selected::Control { el, start, end } if start != end => element(el).cloned(),
            _ => None,
        };
        if let Some(prev) = self.focused_control.take() {
            if wanted.as_ref().is_some_and(|w| w.is_same_node(Some(&prev))) {
                self.focused_control = Some(prev);
            } else {
                release_focus(&self.frame, &prev);
            }
        }
        if let Some(el) = wanted
            && self.focused_control.is_none()
            && focus_for_selection(&self.frame, &el)
        {
            self.focused_control = Some(el);
        }
        // One document shows a selection at a time: clear the one shown before.
        let target_doc = match &selection {
            Selected::Range { start, .. } => start.0.owner_document(),
            _ => None,
        };
        if let Some(prev) = self.selection_doc.take()
            && target_doc
                .as_ref()
                .is_none_or(|d| !d.is_same_node(Some(&prev)))
            && let Ok(Some(sel)) = prev.get_selection()
        {
            let _ = sel.remove_all_ranges();
        }
        match selection {
            Selected::None => {}
            Selected::Range { start, end } => {
                let Some(doc) = target_doc else { return };
                let Ok(Some(sel)) = doc.get_selection() else {
                    return;
                };
                let (so, eo) = (clamp_offset(start.0, start.1), clamp_offset(end.0, end.1));
                if sel.set_base_and_extent(start.0, so, end.0, eo).is_err() {
                    crate::debug!("selection refused");
                }
                self.selection_doc = Some(doc);
            }
            Selected::Control { el, start, end } => {
                // Input types without a text selection throw; nothing to show then. Values are
                // the customer's (masked ones as same-length placeholders), so offsets fit.
                let _ = call(el, "setSelectionRange", &[start.into(), end.into()]);
            }
        }
    }
}

/// A replica node: its slot in the edit interpreter's node table (see [`crate::edits`]). Only
/// valid until the model forgets the node; [`WebDom::resolve`] gives the DOM node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handle(u32);

impl DomBackend for WebDom {
    type Node = Handle;

    fn reset(&mut self, standards: bool) -> Option<Handle> {
        // What is still recorded was for the page being replaced.
        self.buf.get_mut().clear();
        self.slots.clear();
        let doc = self.now_reset(standards)?;
        self.edits.set_document(&doc, &self.ids);
        Some(self.put(&doc))
    }

    fn create_element(&mut self, ns: &str, tag: &str) -> Option<Handle> {
        let vetted = created_name(tag, &Namespace::from_uri(Some(ns)));
        self.create_vetted_element(ns, tag, vetted)
    }

    fn create_vetted_element(&mut self, ns: &str, tag: &str, vetted: &str) -> Option<Handle> {
        // Replica documents are HTML documents: the interpreter uses `createElement` for HTML,
        // which keeps the name whole, where `createElementNS` would turn `x:script` into a
        // script. It keeps the element only if it was made as `(ns, vetted)`.
        let slot = self.slots.take();
        self.buf.get_mut().create_element(slot, ns, tag, vetted);
        Some(Handle(slot))
    }

    fn element_name(&self, el: &Handle) -> Option<(String, String)> {
        let node = self.resolve(el)?;
        let el = element(&node)?;
        Some((el.namespace_uri()?, el.local_name()))
    }

    fn create_text(&mut self, text: &str) -> Option<Handle> {
        let slot = self.slots.take();
        self.buf.get_mut().create_text(slot, text);
        Some(Handle(slot))
    }

    fn create_comment(&mut self, text: &str) -> Option<Handle> {
        let slot = self.slots.take();
        self.buf.get_mut().create_comment(slot, text);
        Some(Handle(slot))
    }

    fn create_doctype(&mut self, name: &str, public_id: &str, system_id: &str) -> Option<Handle> {
        let slot = self.slots.take();
        self.buf
            .get_mut()
            .create_doctype(slot, name, public_id, system_id);
        Some(Handle(slot))
    }

    fn attach_shadow(&mut self, host: &Handle) -> Option<Handle> {
        let slot = self.slots.take();
        self.buf.get_mut().attach_shadow(slot, host.0);
        Some(Handle(slot))
    }

    fn frame_document(&mut self, frame: &Handle) -> Option<Handle> {
        // Needs the frame in the document (its content document exists once it is connected).
        let frame = self.resolve(frame)?;
        let doc = self.now_frame_document(&frame)?;
        Some(self.put(&doc))
    }

    fn insert(&mut self, parent: &Handle, child: &Handle, before: Option<&Handle>) -> bool {
        // Refusals (a hierarchy error) are counted by the interpreter; the model keeps the node,
        // and the next snapshot repairs the drift.
        self.buf
            .get_mut()
            .insert(parent.0, child.0, before.map(|b| b.0));
        true
    }

    fn remove(&mut self, node: &Handle) {
        self.buf.get_mut().remove(node.0);
    }

    fn set_attribute(&mut self, el: &Handle, name: &str, value: &str) -> bool {
        let ns = if name.starts_with("xlink:") {
            Some(XLINK_NS)
        } else if name.starts_with("xml:") {
            Some(XML_NS)
        } else {
            None
        };
        self.buf.get_mut().set_attribute(el.0, ns, name, value);
        true
    }

    fn remove_attribute(&mut self, el: &Handle, name: &str) {
        let buf = self.buf.get_mut();
        match name.strip_prefix("xlink:") {
            Some(local) => buf.remove_attribute(el.0, Some(XLINK_NS), local),
            None => buf.remove_attribute(el.0, None, name),
        }
    }

    fn set_text(&mut self, node: &Handle, text: &str) {
        self.buf.get_mut().set_text(node.0, text);
    }

    fn prepare_head(&mut self, head: &Handle, base: &str) {
        if let Some(head) = self.resolve(head) {
            self.now_prepare_head(&head, base);
        }
    }

    fn set_form_state(&mut self, el: &Handle, state: &FormState) {
        if let Some(el) = self.resolve(el) {
            self.now_set_form_state(&el, state);
        }
    }

    fn scroll(&mut self, target: Option<&Handle>, x: i32, y: i32) {
        // Remembered and applied at the next animation frame (latest per target wins), with
        // the rendering's own layout: `scrollTo` in the middle of a batch's task forces a style
        // and layout pass of its own, once per scroll message.
        let (x, y) = (f64::from(x), f64::from(y));
        match target {
            None => self.pending_scroll.set(Some((x, y))),
            Some(t) => {
                let Some(n) = self.resolve(t) else { return };
                if n.node_type() == Node::DOCUMENT_NODE {
                    // A frame document's window (rare): at once, as it has no pending slot.
                    if let Some(w) = n.unchecked_ref::<Document>().default_view() {
                        w.scroll_to_with_x_and_y(x, y);
                    }
                    return;
                }
                let Some(el) = element(&n) else { return };
                let mut list = self.pending_elements.borrow_mut();
                list.retain(|(e, _, _)| e != el);
                list.push((el.clone(), x, y));
            }
        }
        self.retry_scrolls();
    }

    fn retry_scrolls(&mut self) {
        // At the next animation frame, once however many batches arrive before it: reaching a
        // position reads layout, which in the middle of a batch's task is forced layout work.
        if self.retry_scheduled.get()
            || (self.pending_scroll.get().is_none() && self.pending_elements.borrow().is_empty())
        {
            return;
        }
        let (pending, elements) = (self.pending_scroll.clone(), self.pending_elements.clone());
        let (frame, scheduled) = (self.frame.clone(), self.retry_scheduled.clone());
        // A one-shot closure: JS owns it and frees it after the call.
        let cb = Closure::once_into_js(move || {
            scheduled.set(false);
            retry_scrolls(&pending, &elements, &frame);
        });
        if let Some(w) = web_sys::window()
            && w.request_animation_frame(cb.unchecked_ref()).is_ok()
        {
            self.retry_scheduled.set(true);
        }
    }

    fn replace_rules(&mut self, owner: &Handle, rules: &[String]) {
        if let Some(owner) = self.resolve(owner) {
            self.now_replace_rules(&owner, rules);
        }
    }

    fn insert_rule(&mut self, owner: &Handle, path: &[u32], rule: &str) {
        if let Some(owner) = self.resolve(owner) {
            self.now_insert_rule(&owner, path, rule);
        }
    }

    fn delete_rule(&mut self, owner: &Handle, path: &[u32]) {
        if let Some(owner) = self.resolve(owner) {
            self.now_delete_rule(&owner, path);
        }
    }

    fn register(&mut self, node: &Handle, id: NodeId) {
        self.buf.get_mut().register(node.0, id);
    }

    fn select(&mut self, selection: Selected<&Handle>) {
        let resolved =
            match selection {
                Selected::None => Some(Selected::None),
                Selected::Range { start, end } => self
                    .resolve(start.0)
                    .zip(self.resolve(end.0))
                    .map(|(s, e)| Selected::Range {
                        start: (s, start.1),
                        end: (e, end.1),
                    }),
                Selected::Control { el, start, end } => self
                    .resolve(el)
                    .map(|el| Selected::Control { el, start, end }),
            };
        self.now_select(resolved.unwrap_or(Selected::None).as_ref());
    }

    fn top_layer(&mut self, el: &Handle, kind: TopLayerKind, show: bool) -> bool {
        self.resolve(el)
            .is_some_and(|el| paint::top_layer(&el, kind, show))
    }

    fn animate(&mut self, key: u32, el: &Handle, anim: &ScriptAnimation) -> bool {
        match self.resolve(el) {
            Some(el) => self.paint.animate(key, &el, anim),
            None => false,
        }
    }

    fn sync_animation(&mut self, key: u32, anim: &ScriptAnimation) {
        self.paint.sync(key, anim);
    }

    fn cancel_animation(&mut self, key: u32) {
        self.paint.cancel(key);
    }

    fn add_font(&mut self, key: u32, doc: &Handle, face: &ScriptFont) -> bool {
        match self.resolve(doc) {
            Some(doc) => self.paint.add_font(key, &doc, face),
            None => false,
        }
    }

    fn remove_font(&mut self, key: u32) {
        self.paint.remove_font(key);
    }

    fn forget(&mut self, node: &Handle) {
        self.buf.get_mut().release(node.0);
        self.slots.give_back(node.0);
    }

    fn flush(&mut self) {
        self.run_edits();
    }
}

/// `offset` limited to what `node` holds (UTF-16 units of text, or child nodes), so a replica
/// that differs slightly from the page (sanitised style text) never makes the selection throw.
fn clamp_offset(node: &Node, offset: u32) -> u32 {
    let len = match node.node_type() {
        Node::TEXT_NODE | Node::CDATA_SECTION_NODE | Node::COMMENT_NODE => node
            .node_value()
            .map_or(0, |t| t.encode_utf16().count() as u32),
        _ => node.child_nodes().length(),
    };
    offset.min(len)
}
