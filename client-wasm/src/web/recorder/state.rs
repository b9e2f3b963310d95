//! The recorder's shared state and what it sends on its own: the snapshot, coalesced DOM changes
//! (MutationObserver records, iframe loads), CSSOM, canvas and media samples, the frame-throttled
//! slots and navigation.

use super::reads::{default_changed, observer_options, viewport};
use crate::capture::{DomTree, SideState, serialize_subtree};
use crate::coalesce::coalesce;
use crate::mask::{MaskPolicy, PageMask, SitePolicy};
use crate::mirror::IdMirror;
use crate::record::Record;
use crate::slots::{self, Slot, SlotValue};
use crate::throttle::FrameThrottle;
use crate::web::dom::{WeakKeys, WebDom};
use cobrowse_protocol::{
    Message, NameTable, NavKind, Navigation, NodeData, NodeId, NodeRecord, Party, PseudoState,
    ScrollPosition, ScrollTarget, SelectionRange, SheetOp, Snapshot,
};
use gloo_events::{EventListener, EventListenerOptions};
use js_sys::Array;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Event, MutationObserver, MutationRecord, Node, Window};

/// Where messages go (the client's connection).
pub type Sink = Rc<dyn Fn(Message)>;

/// True while the client's upload budget holds page changes (`crate::upload_budget`): the
/// sink would drop them, and the resync snapshot carries them all.
pub type Held = Rc<dyn Fn() -> bool>;

/// State shared by the recorder's callbacks.
pub struct RecState {
    pub(super) window: Window,
    pub(super) dom: WebDom,
    pub(super) mirror: IdMirror<Node, WeakKeys>,
    pub(super) policy: Box<dyn MaskPolicy>,
    pub(super) throttle: FrameThrottle<Slot, SlotValue>,
    pub(super) raf_fn: Option<js_sys::Function>,
    pub(super) raf_id: Option<i32>,
    pub(super) observer: Option<MutationObserver>,
    pub(super) sink: Sink,
    pub(super) held: Held,
    pub(super) debug: bool,
    /// Hover/focus/active targets as last queued.
    pub(super) pseudo: PseudoState,
    /// URL last reported; `history.pushState` fires no event, so a change is noticed when the
    /// DOM next changes (single-page apps re-render on navigation).
    pub(super) last_url: String,
    /// CSSOM changes made by script (`web::sheets`).
    pub(super) sheets: Rc<RefCell<crate::web::sheets::SheetTracker>>,
    /// Set after a snapshot queued adoption lists that a microtask must send.
    pub(super) sheets_pending: bool,
    /// `<canvas>` frames (`web::canvas`).
    pub(super) canvas: crate::web::canvas::CanvasSampler,
    /// `<video>`/`<audio>` state (`web::media`).
    pub(super) media: crate::web::media::MediaSampler,
    /// The selection as last sent (`web::selection`); after a snapshot, empty (the
    /// agent's rebuilt replica has none).
    pub(super) selection: Vec<SelectionRange>,
    /// Images the agent cannot load, sent inline (`web::images`).
    pub(super) images: crate::web::images::ImageInliner,
    /// The CSSOM hooks, to extend to the realm of each same-origin iframe document captured;
    /// `None` only while the recorder is being built.
    pub(super) cssom: Option<Rc<RefCell<crate::web::sheets::CssomHooks>>>,
    /// The hooks on form-state setters (`web::values`), to extend to the realm of each
    /// same-origin iframe document captured and to controls with setters of their own; `None`
    /// only while the recorder is being built.
    pub(super) values: Option<crate::web::values::ValueHooks>,
    /// This state, for listeners added later (set once the recorder is built).
    pub(super) me: std::rc::Weak<RefCell<RecState>>,
    /// `selectionchange` and `load` listeners of captured same-origin iframe documents (their
    /// events do not reach the top document), with the document they listen on.
    pub(super) frame_listeners: Vec<(Document, [EventListener; 2])>,
    /// What the page paints beyond its DOM, and what of it was sent (`web::paint`).
    pub(super) paint: crate::web::paint::PaintState,
}

/// Runs `f` on the shared state unless it is busy (a re-entrant event is dropped rather than
/// panicking on the customer's page).
pub(super) fn with_state(state: &Rc<RefCell<RecState>>, f: impl FnOnce(&mut RecState)) {
    if let Ok(mut s) = state.try_borrow_mut() {
        f(&mut s);
    }
}

impl RecState {
    /// Fresh state for `document` of `window`; messages go to `sink`.
    /// `page` is the site's address and title masking.
    pub(super) fn new(
        window: Window,
        document: Document,
        sink: Sink,
        debug: bool,
        page: PageMask,
    ) -> RecState {
        let mut sheets = crate::web::sheets::SheetTracker::default();
        sheets.page = page.clone();
        RecState {
            window,
            dom: WebDom::new(document.clone()),
            mirror: IdMirror::new(WeakKeys::default()),
            policy: Box::new(SitePolicy { page }),
            throttle: FrameThrottle::new(),
            raf_fn: None,
            raf_id: None,
            observer: None,
            sink,
            held: Rc::new(|| false),
            debug,
            pseudo: PseudoState {
                party: Party::Customer,
                hover: None,
                focus: None,
                focus_visible: false,
                active: None,
            },
            last_url: document.url().unwrap_or_default(),
            sheets: Rc::new(RefCell::new(sheets)),
            sheets_pending: false,
            canvas: Default::default(),
            media: Default::default(),
            selection: Vec::new(),
            images: Default::default(),
            cssom: None,
            values: None,
            me: std::rc::Weak::new(),
            frame_listeners: Vec::new(),
            paint: Default::default(),
        }
    }

    pub(super) fn log(&self, what: &str) {
        if self.debug {
            web_sys::console::debug_1(&format!("[cobrowse] {what}").into());
        }
    }

    pub(super) fn observe_new_shadow_roots(&mut self) {
        let Some(obs) = self.observer.clone() else {
            return;
        };
        for root in self.dom.take_found_roots() {
            if root.node_type() == Node::DOCUMENT_NODE {
                self.listen_to_frame(root.unchecked_ref::<Document>());
            }
            // A same-origin iframe's document: its scripts use their own realm's CSSOM.
            if root.node_type() == Node::DOCUMENT_NODE
                && let Some(w) = root.unchecked_ref::<Document>().default_view()
                && let Some(hooks) = &self.cssom
                && let Ok(mut h) = hooks.try_borrow_mut()
                && h.hook_window(&w)
            {
                self.log("CSSOM hooks added to an iframe's realm");
            }
            if root.node_type() == Node::DOCUMENT_NODE
                && let Some(w) = root.unchecked_ref::<Document>().default_view()
                && let Some(values) = &self.values
                && values.hook_window(&w)
            {
                self.log("form-state hooks added to an iframe's realm");
            }
            if obs
                .observe_with_options(&root, &observer_options())
                .is_err()
            {
                self.log("could not observe a shadow root or iframe document");
            }
        }
    }

    /// Listens to a same-origin iframe's document (once per document; listeners of documents no
    /// longer shown in a frame are dropped): `selectionchange` queues a selection check, `load`
    /// reports its stylesheets and nested frames as the top document's listener does.
    pub(super) fn listen_to_frame(&mut self, doc: &Document) {
        self.frame_listeners
            .retain(|(d, _)| d.default_view().is_some());
        if self.frame_listeners.iter().any(|(d, _)| d == doc) {
            return;
        }
        let on = |ty: &'static str, f: fn(&mut RecState, &Event)| {
            let weak = self.me.clone();
            EventListener::new_with_options(
                doc,
                ty,
                EventListenerOptions::run_in_capture_phase(),
                move |e| {
                    if let Some(s) = weak.upgrade() {
                        with_state(&s, |st| f(st, e));
                    }
                },
            )
        };
        let listeners = [
            on("selectionchange", |st, _| {
                st.queue(Slot::Selection, SlotValue::Selection)
            }),
            on("load", RecState::on_load),
        ];
        self.frame_listeners.push((doc.clone(), listeners));
    }

    /// A full snapshot of the document; renumbers every node.
    pub fn snapshot(&mut self) -> Message {
        // Records queued before now describe changes the snapshot already contains.
        if let Some(obs) = &self.observer {
            let _ = obs.take_records();
        }
        self.mirror.clear();
        let mut names = NameTable::new();
        let mut side = SideState::default();
        let root = self.dom.root().clone();
        let raw = self
            .dom
            .describe(&root)
            .unwrap_or(crate::capture::RawNode::Document { url: String::new() });
        let (first_id, mut nodes) = crate::web::restrict::batch(|| {
            serialize_subtree(
                &self.dom,
                &mut self.mirror,
                self.policy.as_ref(),
                &mut names,
                &root,
                raw,
                None,
                false,
                &mut side,
            )
        });
        self.observe_new_shadow_roots();
        let mut scroll = side.scroll;
        let (sx, sy) = (
            self.window.scroll_x().unwrap_or(0.0) as i32,
            self.window.scroll_y().unwrap_or(0.0) as i32,
        );
        if sx != 0 || sy != 0 {
            scroll.insert(
                0,
                ScrollPosition {
                    target: ScrollTarget::Window,
                    x: sx,
                    y: sy,
                },
            );
        }
        // Window scrolling shows up as <html>/<body> scroll offsets too; the window entry is
        // the one the agent applies, so drop element entries for those two.
        let skip: Vec<u32> = nodes
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                matches!(&r.data, NodeData::Element { tag, .. }
                if matches!(names.resolve(*tag), Some("html" | "body")))
            })
            .map(|(i, _)| first_id + i as u32)
            .collect();
        scroll.retain(|s| !matches!(s.target, ScrollTarget::Node(id) if skip.contains(&id)));
        let base = self
            .dom
            .document()
            .base_uri()
            .ok()
            .flatten()
            .unwrap_or_default();
        let mirror = &self.mirror;
        // The records say what each node is: only the ones the passes below look at are
        // fetched (asking every node its name is a call per node).
        let element_named = |r: &NodeRecord, wanted: &[&str]| match &r.data {
            NodeData::Element { tag, .. } => names
                .resolve(*tag)
                .is_some_and(|t| wanted.iter().any(|w| t.eq_ignore_ascii_case(w))),
            _ => false,
        };
        let ids_where = |keep: &dyn Fn(&NodeRecord) -> bool| -> Vec<NodeId> {
            (first_id..)
                .zip(nodes.iter())
                .filter(|(_, r)| keep(r))
                .map(|(id, _)| id)
                .collect()
        };
        if let Some(values) = &self.values {
            ids_where(&|r| element_named(r, &["input", "textarea", "select"]))
                .into_iter()
                .filter_map(|id| mirror.node(id))
                .for_each(|n| values.hook_instance(n));
        }
        // Sheets live in `<style>` and `<link>` elements, and documents and shadow roots adopt
        // constructed ones.
        let sheet_owners = ids_where(&|r| {
            element_named(r, &["style", "link"])
                || matches!(
                    r.data,
                    NodeData::Document { .. } | NodeData::ShadowRoot { .. }
                )
        });
        let dom = &self.dom;
        self.images.fill_snapshot(
            &mut nodes,
            first_id,
            &names,
            &|id| mirror.node(id).cloned(),
            &|n: &Node| dom.matches_mask_rule(n),
        );
        let mut captured = sheet_owners
            .into_iter()
            .filter_map(|id| mirror.node(id).map(|n| (id, n.clone())));
        let (sheets, schedule) = self.sheets.borrow_mut().snapshot(&mut captured, &base);
        self.sheets_pending |= schedule;
        self.canvas.reset();
        self.media.reset();
        // Ids were renumbered: the current selection goes out again after the snapshot.
        self.selection.clear();
        self.queue(Slot::Selection, SlotValue::Selection);
        // So does every paint topic (the agent forgets them with the old replica).
        self.paint.reset(crate::paint::custom_names(&nodes, &names));
        self.queue(Slot::Paint, SlotValue::Paint);
        self.log(&format!("snapshot: {} nodes", nodes.len()));
        Message::Snapshot(Box::new(Snapshot {
            names,
            first_id,
            nodes,
            form: side.form,
            scroll,
            viewport: viewport(&self.window),
            sheets,
        }))
    }

    /// Sends changed `<canvas>` pixels and media state (after pending DOM records, so new
    /// elements are known).
    pub(super) fn sample_canvases(&mut self) {
        self.flush_pending();
        let mirror = &self.mirror;
        let dom = &self.dom;
        // A masked or hidden canvas's pixels are its content: never sampled.
        let mut msgs = self.canvas.sample(
            &self.window,
            self.dom.document(),
            &|n: &Node| mirror.id(n),
            &|n: &Node| {
                dom.matches_mask_rule(n)
                    || crate::web::dom::element(n).is_some_and(crate::web::restrict::is_hidden)
            },
        );
        let now = js_sys::Date::now();
        msgs.extend(
            self.media
                .sample(self.dom.document(), now, &|n: &Node| mirror.id(n)),
        );
        msgs.extend(self.images.sample(
            &self.window,
            dom.document(),
            &|n: &Node| mirror.id(n),
            &|n: &Node| dom.matches_mask_rule(n),
        ));
        for m in msgs {
            (self.sink)(m);
        }
        if self.paint.sample() {
            self.queue(Slot::Paint, SlotValue::Paint);
        }
    }

    /// Sends pending CSSOM changes (after pending DOM records, so new owners are known).
    pub(super) fn flush_sheets(&mut self) {
        self.flush_pending();
        let base = self
            .dom
            .document()
            .base_uri()
            .ok()
            .flatten()
            .unwrap_or_default();
        let mirror = &self.mirror;
        let msgs = self
            .sheets
            .borrow_mut()
            .drain(&|n: &Node| mirror.id(n), &base);
        self.log(&format!("stylesheet changes: {} frames", msgs.len()));
        for m in msgs {
            (self.sink)(m);
        }
    }

    /// Coalesces and sends pending MutationObserver records (also called before handling an
    /// input event, so the control it names is already known to the agent).
    pub(super) fn flush_records(&mut self, records: Array) {
        if records.length() == 0 {
            return;
        }
        if let Some(out) = crate::web::records::read(&records) {
            for r in &out {
                if let Record::Attribute {
                    target, name, old, ..
                } = r
                {
                    note_password_switch(target, name, old.as_deref());
                }
            }
            self.apply_records(&out);
            return;
        }
        let mut out = Vec::with_capacity(records.length() as usize);
        for rec in records.iter() {
            let Ok(rec) = rec.dyn_into::<MutationRecord>() else {
                continue;
            };
            let list = |l: web_sys::NodeList| (0..l.length()).filter_map(|i| l.item(i)).collect();
            match rec.type_().as_str() {
                "childList" => out.push(Record::ChildList {
                    added: list(rec.added_nodes()),
                    removed: list(rec.removed_nodes()),
                }),
                "attributes" => {
                    if let (Some(target), Some(name)) = (rec.target(), rec.attribute_name()) {
                        let old = rec.old_value();
                        note_password_switch(&target, &name, old.as_deref());
                        out.push(Record::Attribute {
                            target,
                            name,
                            old,
                            now: None,
                        });
                    }
                }
                "characterData" => {
                    if let Some(target) = rec.target() {
                        out.push(Record::Text {
                            target,
                            old: rec.old_value(),
                        });
                    }
                }
                _ => {}
            }
        }
        self.apply_records(&out);
    }

    /// Coalesces plain records and sends the result.
    pub(super) fn apply_records(&mut self, out: &[Record<Node>]) {
        if (self.held)() {
            // The upload budget holds page changes: the resync snapshot carries them all and
            // renumbers every node, so coalescing them now would only cost the page's main
            // thread during the storm. The address is not held.
            if let Some(nav) = self.url_change(NavKind::Push) {
                (self.sink)(nav);
            }
            return;
        }
        let c = crate::web::restrict::batch(|| {
            coalesce(&self.dom, &mut self.mirror, self.policy.as_ref(), out)
        });
        self.observe_new_shadow_roots();
        self.note_paint(&c.batch);
        if let Some(nav) = self.url_change(NavKind::Push) {
            (self.sink)(nav);
        }
        if !c.batch.is_empty() {
            (self.sink)(Message::Mutations(c.batch));
        }
        if !c.side.form.is_empty() {
            (self.sink)(Message::Form(c.side.form));
        }
        // A control's default (`value`/`checked`/`selected` attribute, a textarea's text, its
        // type) drives its live state until someone edits it; the replica's controls have had
        // their live state set and no longer follow their attributes, so the live state goes too.
        let defaults: Vec<Node> = out.iter().filter_map(default_changed).collect();
        if !defaults.is_empty() {
            self.on_script_values(defaults);
        }
        for s in c.side.scroll {
            (self.sink)(Message::Scroll(s));
        }
    }

    /// Something loaded: a `<link>`'s sheet (its rules go to the agent when the page can read
    /// them, `web::sheets`), or an `<iframe>`'s document, which replaces the old one as if a
    /// MutationObserver had reported it (the old one leaves, a same-origin new one comes in).
    pub(super) fn on_load(&mut self, event: &Event) {
        let Some(node) = event.target().and_then(|t| t.dyn_into::<Node>().ok()) else {
            return;
        };
        if node.node_name().eq_ignore_ascii_case("link") {
            self.flush_pending();
            if let Some(id) = self.mirror.id(&node)
                && let Some(s) = self.sheets.borrow_mut().link_sheet(&node, id)
            {
                (self.sink)(Message::Sheet(SheetOp::Set(s)));
            }
            return;
        }
        let Some(iframe_id) = self.mirror.id(&node) else {
            return;
        };
        if node
            .dyn_ref::<Element>()
            .is_none_or(|e| e.local_name() != "iframe")
        {
            return;
        }
        self.flush_pending();
        let removed: Vec<Node> = self
            .mirror
            .children(iframe_id)
            .iter()
            .filter_map(|id| self.mirror.node(*id))
            .filter(|n| n.node_type() == Node::DOCUMENT_NODE)
            .cloned()
            .collect();
        let added: Vec<Node> = crate::web::dom::iframe_document(&node)
            .map(Node::from)
            .into_iter()
            .collect();
        if added.is_empty() && removed.is_empty() {
            return;
        }
        self.apply_records(&[Record::ChildList { added, removed }]);
    }

    pub(super) fn flush_pending(&mut self) {
        let records = self.observer.as_ref().map(|o| o.take_records());
        if let Some(r) = records {
            self.flush_records(r);
        }
    }

    pub(super) fn queue(&mut self, slot: Slot, value: SlotValue) {
        if self.throttle.push(slot, value)
            && let Some(f) = &self.raf_fn
        {
            self.raf_id = self.window.request_animation_frame(f).ok();
        }
    }

    pub(super) fn on_frame(&mut self) {
        self.raf_id = None;
        for (slot, value) in self.throttle.drain() {
            let msg = match (slot, value) {
                (Slot::Selection, SlotValue::Selection) => self.selection_change(),
                (Slot::Paint, _) => {
                    self.flush_paint();
                    None
                }
                _ => slots::message(slot, value),
            };
            if let Some(msg) = msg {
                (self.sink)(msg);
            }
        }
    }

    /// What a coalesced batch means for the paint topics: new custom element names, `open` or
    /// `popover` changes and removals (the top layer).
    fn note_paint(&mut self, batch: &cobrowse_protocol::MutationBatch) {
        for ins in &batch.inserts {
            if let cobrowse_protocol::Insert::New(sub) = ins {
                self.paint
                    .note_names(crate::paint::custom_names(&sub.nodes, &batch.names));
            }
        }
        let touched_open = batch
            .attrs
            .iter()
            .any(|a| matches!(batch.names.resolve(a.name), Some("open" | "popover")));
        self.paint.on_batch(touched_open, !batch.removes.is_empty());
        if self.paint.pending() {
            self.queue(Slot::Paint, SlotValue::Paint);
        }
    }

    /// Sends the paint topics that changed (after pending DOM records, so the nodes they name are
    /// known to the agent); keeps asking while one needs watching (an open `<select>` popup).
    pub(super) fn flush_paint(&mut self) {
        self.flush_pending();
        let mirror = &self.mirror;
        let msgs = self.paint.changes(&crate::web::paint::Ctx {
            window: &self.window,
            document: self.dom.document(),
            id_of: &|n: &Node| mirror.id(n),
        });
        for m in msgs {
            (self.sink)(m);
        }
        if self.paint.pending() {
            self.queue(Slot::Paint, SlotValue::Paint);
        }
    }

    /// A page event that may change a paint topic (`web::paint`).
    pub(super) fn on_paint_event(&mut self, event: &Event) {
        if self.paint.on_event(event) {
            self.queue(Slot::Paint, SlotValue::Paint);
        }
    }

    /// A `Selection` message when the selection differs from the one last sent. Pending DOM
    /// records go first, so the nodes it names are known to the agent.
    pub(super) fn selection_change(&mut self) -> Option<Message> {
        self.flush_pending();
        let now = crate::web::selection::Ctx {
            dom: &self.dom,
            mirror: &self.mirror,
            policy: self.policy.as_ref(),
        }
        .current();
        if now == self.selection {
            return None;
        }
        self.selection.clone_from(&now);
        Some(Message::Selection(now))
    }

    /// A `Navigation` of `kind` when the URL differs from the last one reported.
    pub(super) fn url_change(&mut self, kind: NavKind) -> Option<Message> {
        let url = self.dom.document().url().unwrap_or_default();
        if url == self.last_url {
            return None;
        }
        Some(self.navigation(kind))
    }

    pub(super) fn navigation(&mut self, kind: NavKind) -> Message {
        let doc = self.dom.document();
        let url = doc.url().unwrap_or_default();
        self.last_url.clone_from(&url);
        let page = self.policy.page();
        Message::Navigation(Navigation {
            url: page.address(&url),
            title: page.title(&doc.title()),
            kind,
        })
    }
}

/// A "show password" button turns a password field into a text field: it stays a secret.
fn note_password_switch(target: &Node, name: &str, old: Option<&str>) {
    if name == "type" && old.is_some_and(|t| t.trim().eq_ignore_ascii_case("password")) {
        crate::web::facts::remember_password(target);
    }
}
