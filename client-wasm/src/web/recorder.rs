//! The recorder: snapshot, MutationObserver deltas and page events of the customer's document,
//! turned into protocol messages.
//!
//! # Who owns what
//!
//! [`Recorder`] owns every JS callback it registers: the MutationObserver closure, the
//! animation-frame closure and the DOM event listeners (`gloo_events::EventListener` removes
//! itself on drop). Dropping the recorder disconnects the observer, cancels a pending frame and
//! removes every listener, so `stop()` leaves nothing running on the page.
//!
//! The callbacks share [`RecState`] through an `Rc<RefCell<…>>` and hand messages to the sink
//! given at construction. They never borrow the client's own state, so a callback cannot collide
//! with a client method that is running.

use crate::capture::{DomTree, SideState, serialize_subtree};
use crate::coalesce::{Record, coalesce};
use crate::mask::{DefaultPolicy, MaskPolicy};
use crate::mirror::IdMirror;
use crate::throttle::FrameThrottle;
use crate::web::dom::{UI_ATTR, WeakKeys, WebDom, control_state, element, html_tag};
use cobrowse_protocol::{
    Click, FormState, FormValue, Message, NameTable, NavKind, Navigation, NodeData, Party, Pointer,
    PseudoState, ScrollPosition, ScrollTarget, SelectionRange, Snapshot, Viewport,
};
use gloo_events::{EventListener, EventListenerOptions};
use js_sys::Array;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    Document, Element, Event, MouseEvent, MutationObserver, MutationObserverInit, MutationRecord,
    Node, Window,
};

/// Where messages go (the client's connection).
pub type Sink = Rc<dyn Fn(Message)>;

/// What a throttled slot is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Scroll(ScrollTarget),
    Pointer,
    Viewport,
    Pseudo,
    Selection,
}

/// What a throttled slot carries.
#[derive(Debug, Clone, Copy)]
enum SlotValue {
    Scroll(i32, i32),
    Pointer(Option<(i32, i32)>),
    Viewport(Viewport),
    Pseudo(PseudoState),
    /// The selection changed; it is read when the frame comes.
    Selection,
}

/// State shared by the recorder's callbacks.
pub struct RecState {
    window: Window,
    dom: WebDom,
    mirror: IdMirror<Node, WeakKeys>,
    policy: Box<dyn MaskPolicy>,
    throttle: FrameThrottle<Slot, SlotValue>,
    raf_fn: Option<js_sys::Function>,
    raf_id: Option<i32>,
    observer: Option<MutationObserver>,
    sink: Sink,
    debug: bool,
    /// Hover/focus/active targets as last queued.
    pseudo: PseudoState,
    /// URL last reported; `history.pushState` fires no event, so a change is noticed when the
    /// DOM next changes (single-page apps re-render on navigation).
    last_url: String,
    /// CSSOM changes made by script (issue #4, `web::sheets`).
    sheets: Rc<RefCell<crate::web::sheets::SheetTracker>>,
    /// Set after a snapshot queued adoption lists that a microtask must send.
    sheets_pending: bool,
    /// `<canvas>` frames (issue #4, `web::canvas`).
    canvas: crate::web::canvas::CanvasSampler,
    /// `<video>`/`<audio>` state (issue #4, `web::media`).
    media: crate::web::media::MediaSampler,
    /// The selection as last sent (issue #4, `web::selection`); after a snapshot, empty (the
    /// agent's rebuilt replica has none).
    selection: Vec<SelectionRange>,
    /// Images the agent cannot load, sent inline (issue #4, `web::images`).
    images: crate::web::images::ImageInliner,
    /// The CSSOM hooks, to extend to the realm of each same-origin iframe document captured
    /// (issue #4); `None` only while the recorder is being built.
    cssom: Option<Rc<RefCell<crate::web::sheets::CssomHooks>>>,
    /// This state, for listeners added later (set once the recorder is built).
    me: std::rc::Weak<RefCell<RecState>>,
    /// `selectionchange` listeners of captured same-origin iframe documents (their selection
    /// events do not reach the top document), with the document each listens on.
    frame_listeners: Vec<(Document, EventListener)>,
}

/// Reads the customer's viewport.
pub fn viewport(window: &Window) -> Viewport {
    let num = |v: Result<JsValue, JsValue>| v.ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
    Viewport {
        width: num(window.inner_width()).max(0.0) as u32,
        height: num(window.inner_height()).max(0.0) as u32,
        dpr_centi: (window.device_pixel_ratio() * 100.0)
            .round()
            .clamp(0.0, 65_535.0) as u16,
    }
}

fn observer_options() -> MutationObserverInit {
    let o = MutationObserverInit::new();
    o.set_child_list(true);
    o.set_attributes(true);
    o.set_attribute_old_value(true);
    o.set_character_data(true);
    o.set_character_data_old_value(true);
    o.set_subtree(true);
    o
}

/// The element an event really started on (inside open shadow roots too).
fn event_origin(event: &Event) -> Option<Node> {
    event
        .composed_path()
        .get(0)
        .dyn_into::<Node>()
        .ok()
        .or_else(|| event.target().and_then(|t| t.dyn_into::<Node>().ok()))
}

/// True when the event concerns our own UI.
fn from_our_ui(event: &Event) -> bool {
    event
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|e| e.closest(&format!("[{UI_ATTR}]")).ok().flatten())
        .is_some()
}

impl RecState {
    fn log(&self, what: &str) {
        if self.debug {
            web_sys::console::debug_1(&format!("[cobrowse] {what}").into());
        }
    }

    fn observe_new_shadow_roots(&mut self) {
        let Some(obs) = self.observer.clone() else {
            return;
        };
        for root in self.dom.take_found_roots() {
            if root.node_type() == Node::DOCUMENT_NODE {
                self.listen_to_frame_selection(root.unchecked_ref::<Document>());
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
            if obs
                .observe_with_options(&root, &observer_options())
                .is_err()
            {
                self.log("could not observe a shadow root or iframe document");
            }
        }
    }

    /// Queues a selection check on `selectionchange` in a same-origin iframe's document (once per
    /// document; listeners of documents no longer shown in a frame are dropped).
    fn listen_to_frame_selection(&mut self, doc: &Document) {
        self.frame_listeners
            .retain(|(d, _)| d.default_view().is_some());
        if self.frame_listeners.iter().any(|(d, _)| d == doc) {
            return;
        }
        let weak = self.me.clone();
        let listener = EventListener::new_with_options(
            doc,
            "selectionchange",
            EventListenerOptions::run_in_capture_phase(),
            move |_| {
                if let Some(s) = weak.upgrade() {
                    with_state(&s, |st| st.queue(Slot::Selection, SlotValue::Selection));
                }
            },
        );
        self.frame_listeners.push((doc.clone(), listener));
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
        let (first_id, nodes) = serialize_subtree(
            &self.dom,
            &mut self.mirror,
            self.policy.as_ref(),
            &mut names,
            &root,
            raw,
            None,
            false,
            &mut side,
        );
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
        let mut captured = (first_id..first_id + nodes.len() as u32)
            .filter_map(|id| mirror.node(id).map(|n| (id, n.clone())));
        let (sheets, schedule) = self.sheets.borrow_mut().snapshot(&mut captured, &base);
        self.sheets_pending |= schedule;
        self.canvas.reset();
        self.media.reset();
        self.images.reset();
        // Ids were renumbered: the current selection goes out again after the snapshot.
        self.selection.clear();
        self.queue(Slot::Selection, SlotValue::Selection);
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
    fn sample_canvases(&mut self) {
        self.flush_pending();
        let mirror = &self.mirror;
        let mut msgs = self
            .canvas
            .sample(&self.window, self.dom.document(), &|n: &Node| mirror.id(n));
        let now = js_sys::Date::now();
        msgs.extend(
            self.media
                .sample(self.dom.document(), now, &|n: &Node| mirror.id(n)),
        );
        let dom = &self.dom;
        msgs.extend(self.images.sample(
            &self.window,
            dom.document(),
            &|n: &Node| mirror.id(n),
            &|n: &Node| dom.matches_mask_rule(n),
        ));
        for m in msgs {
            (self.sink)(m);
        }
    }

    /// Sends pending CSSOM changes (after pending DOM records, so new owners are known).
    fn flush_sheets(&mut self) {
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
    fn flush_records(&mut self, records: Array) {
        if records.length() == 0 {
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
                        out.push(Record::Attribute {
                            target,
                            name,
                            old: rec.old_value(),
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
    fn apply_records(&mut self, out: &[Record<Node>]) {
        let c = coalesce(&self.dom, &mut self.mirror, self.policy.as_ref(), out);
        self.observe_new_shadow_roots();
        if let Some(nav) = self.url_change(NavKind::Push) {
            (self.sink)(nav);
        }
        if !c.batch.is_empty() {
            (self.sink)(Message::Mutations(c.batch));
        }
        if !c.side.form.is_empty() {
            (self.sink)(Message::Form(c.side.form));
        }
        for s in c.side.scroll {
            (self.sink)(Message::Scroll(s));
        }
    }

    /// An `<iframe>` loaded a document: the old one (if the agent has it) leaves, the new one
    /// (if same-origin) comes in, as if a MutationObserver had reported it.
    fn on_load(&mut self, event: &Event) {
        let Some(node) = event.target().and_then(|t| t.dyn_into::<Node>().ok()) else {
            return;
        };
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

    fn flush_pending(&mut self) {
        let records = self.observer.as_ref().map(|o| o.take_records());
        if let Some(r) = records {
            self.flush_records(r);
        }
    }

    fn queue(&mut self, slot: Slot, value: SlotValue) {
        if self.throttle.push(slot, value)
            && let Some(f) = &self.raf_fn
        {
            self.raf_id = self.window.request_animation_frame(f).ok();
        }
    }

    fn on_frame(&mut self) {
        self.raf_id = None;
        for (slot, value) in self.throttle.drain() {
            let msg = match (slot, value) {
                (Slot::Scroll(target), SlotValue::Scroll(x, y)) => {
                    Message::Scroll(ScrollPosition { target, x, y })
                }
                (Slot::Pointer, SlotValue::Pointer(pos)) => Message::Pointer(Pointer {
                    party: Party::Customer,
                    pos,
                    frame: None,
                }),
                (Slot::Viewport, SlotValue::Viewport(v)) => Message::Viewport(v),
                (Slot::Pseudo, SlotValue::Pseudo(p)) => Message::Pseudo(p),
                (Slot::Selection, SlotValue::Selection) => match self.selection_change() {
                    Some(m) => m,
                    None => continue,
                },
                _ => continue,
            };
            (self.sink)(msg);
        }
    }

    /// A `Selection` message when the selection differs from the one last sent. Pending DOM
    /// records go first, so the nodes it names are known to the agent.
    fn selection_change(&mut self) -> Option<Message> {
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

    fn form_value(&self, node: &Node) -> Option<FormValue> {
        let id = self.mirror.id(node)?;
        // A hidden control's value never leaves the browser (issue #5 `hide` rules).
        let state = control_state(node)
            .filter(|_| !element(node).is_some_and(crate::web::restrict::is_hidden))?;
        let raw = self.dom.describe(node)?;
        let facts = raw.facts(self.dom.matches_mask_rule(node))?;
        Some(FormValue {
            node: id,
            state: crate::capture::mask_form_state(self.policy.as_ref(), &facts, state),
        })
    }

    fn on_input(&mut self, event: &Event) {
        if from_our_ui(event) {
            return;
        }
        self.flush_pending();
        let Some(node) = event_origin(event) else {
            return;
        };
        let mut values: Vec<FormValue> = self.form_value(&node).into_iter().collect();
        // Checking a radio silently unchecks the others of its group: send them all.
        if let Some(input) = html_tag::<web_sys::HtmlInputElement>(&node, "input")
            && input.type_().eq_ignore_ascii_case("radio")
            && !input.name().is_empty()
        {
            let group = self.dom.document().get_elements_by_name(&input.name());
            for i in 0..group.length() {
                if let Some(other) = group.item(i)
                    && !other.is_same_node(Some(&node))
                    && let Some(v) = self.form_value(&other)
                    && matches!(v.state, FormState::Checked(_))
                {
                    values.push(v);
                }
            }
        }
        if !values.is_empty() {
            (self.sink)(Message::Form(values));
        }
    }

    fn on_scroll(&mut self, event: &Event) {
        let Some(node) = event.target().and_then(|t| t.dyn_into::<Node>().ok()) else {
            // Scroll events of the window itself have the window as target.
            self.queue_window_scroll();
            return;
        };
        if node.node_type() == Node::DOCUMENT_NODE {
            self.queue_window_scroll();
            return;
        }
        let Some(el) = element(&node) else {
            return;
        };
        let Some(id) = self.mirror.id(&node) else {
            return;
        };
        self.queue(
            Slot::Scroll(ScrollTarget::Node(id)),
            SlotValue::Scroll(el.scroll_left(), el.scroll_top()),
        );
    }

    fn queue_window_scroll(&mut self) {
        let x = self.window.scroll_x().unwrap_or(0.0) as i32;
        let y = self.window.scroll_y().unwrap_or(0.0) as i32;
        self.queue(Slot::Scroll(ScrollTarget::Window), SlotValue::Scroll(x, y));
    }

    fn on_pointer(&mut self, event: &Event) {
        if let Some(m) = event.dyn_ref::<MouseEvent>() {
            self.queue(
                Slot::Pointer,
                SlotValue::Pointer(Some((m.client_x(), m.client_y()))),
            );
        }
    }

    fn on_pointer_out(&mut self, event: &Event) {
        if let Some(m) = event.dyn_ref::<MouseEvent>()
            && m.related_target().is_none()
        {
            self.queue(Slot::Pointer, SlotValue::Pointer(None));
        }
    }

    fn on_click(&mut self, event: &Event) {
        if from_our_ui(event) {
            return;
        }
        let Some(m) = event.dyn_ref::<MouseEvent>() else {
            return;
        };
        self.flush_pending();
        let node = event_origin(event).and_then(|n| self.mirror.id(&n));
        (self.sink)(Message::Click(Click {
            party: Party::Customer,
            x: m.client_x(),
            y: m.client_y(),
            node,
        }));
    }

    /// The captured element an event concerns (None over our UI or unknown nodes).
    fn event_element_id(&self, event: &Event) -> Option<u32> {
        if from_our_ui(event) {
            return None;
        }
        let node = event_origin(event)?;
        let el = if element(&node).is_some() {
            node
        } else {
            node.parent_node()?
        };
        self.mirror.id(&el)
    }

    fn update_pseudo(&mut self, change: impl FnOnce(&mut PseudoState)) {
        let before = self.pseudo;
        change(&mut self.pseudo);
        if self.pseudo != before {
            let p = self.pseudo;
            self.queue(Slot::Pseudo, SlotValue::Pseudo(p));
        }
    }

    fn on_hover(&mut self, event: &Event) {
        let id = self.event_element_id(event);
        self.update_pseudo(|p| p.hover = id);
    }

    fn on_focus_in(&mut self, event: &Event) {
        let id = self.event_element_id(event);
        let visible = event_origin(event)
            .as_ref()
            .and_then(element)
            .and_then(|e| e.matches(":focus-visible").ok())
            .unwrap_or(false);
        self.update_pseudo(|p| {
            p.focus = id;
            p.focus_visible = visible && id.is_some();
        });
    }

    fn on_focus_out(&mut self, _event: &Event) {
        self.update_pseudo(|p| {
            p.focus = None;
            p.focus_visible = false;
        });
    }

    fn on_press(&mut self, event: &Event) {
        let id = self.event_element_id(event);
        self.update_pseudo(|p| p.active = id);
    }

    fn on_release(&mut self, _event: &Event) {
        self.update_pseudo(|p| p.active = None);
    }

    fn on_resize(&mut self) {
        let v = viewport(&self.window);
        self.queue(Slot::Viewport, SlotValue::Viewport(v));
    }

    /// A `Navigation` of `kind` when the URL differs from the last one reported.
    fn url_change(&mut self, kind: NavKind) -> Option<Message> {
        let url = self.dom.document().url().unwrap_or_default();
        if url == self.last_url {
            return None;
        }
        Some(self.navigation(kind))
    }

    fn navigation(&mut self, kind: NavKind) -> Message {
        let doc = self.dom.document();
        let url = doc.url().unwrap_or_default();
        self.last_url.clone_from(&url);
        Message::Navigation(Navigation {
            url,
            title: doc.title(),
            kind,
        })
    }
}

/// Captures one document. See the module docs for ownership of callbacks.
pub struct Recorder {
    state: Rc<RefCell<RecState>>,
    observer: MutationObserver,
    _observer_cb: Closure<dyn FnMut(Array, MutationObserver)>,
    _raf_cb: Closure<dyn FnMut(f64)>,
    _listeners: Vec<EventListener>,
    /// Shared with [`RecState`], which hooks the realms of same-origin iframes it captures.
    cssom: Rc<RefCell<crate::web::sheets::CssomHooks>>,
    _canvas_timer: gloo_timers::callback::Interval,
}

/// Runs `f` on the shared state unless it is busy (a re-entrant event is dropped rather than
/// panicking on the customer's page).
fn with_state(state: &Rc<RefCell<RecState>>, f: impl FnOnce(&mut RecState)) {
    if let Ok(mut s) = state.try_borrow_mut() {
        f(&mut s);
    }
}

impl Recorder {
    /// Starts observing `document` of `window`; messages go to `sink`. Nothing is sent until the
    /// caller asks for a [`Recorder::snapshot`] (the observer is armed right away so no change
    /// between the snapshot and the first callback is lost).
    pub fn start(
        window: Window,
        document: Document,
        sink: Sink,
        debug: bool,
    ) -> Result<Recorder, JsValue> {
        let state = Rc::new(RefCell::new(RecState {
            window: window.clone(),
            dom: WebDom::new(document.clone()),
            mirror: IdMirror::new(WeakKeys::default()),
            policy: Box::new(DefaultPolicy),
            throttle: FrameThrottle::new(),
            raf_fn: None,
            raf_id: None,
            observer: None,
            sink,
            debug,
            pseudo: PseudoState {
                party: Party::Customer,
                hover: None,
                focus: None,
                focus_visible: false,
                active: None,
            },
            last_url: document.url().unwrap_or_default(),
            sheets: Rc::default(),
            sheets_pending: false,
            canvas: Default::default(),
            media: Default::default(),
            selection: Vec::new(),
            images: Default::default(),
            cssom: None,
            me: std::rc::Weak::new(),
            frame_listeners: Vec::new(),
        }));
        state.borrow_mut().me = Rc::downgrade(&state);
        let weak = Rc::downgrade(&state);
        let tracker = Rc::clone(&state.borrow().sheets);
        let cssom = crate::web::sheets::CssomHooks::install(
            &window,
            tracker,
            Box::new(move || {
                if let Some(s) = weak.upgrade() {
                    with_state(&s, RecState::flush_sheets);
                }
            }),
        );
        let cssom = Rc::new(RefCell::new(cssom));
        state.borrow_mut().cssom = Some(Rc::clone(&cssom));

        let s = Rc::clone(&state);
        let observer_cb = Closure::<dyn FnMut(Array, MutationObserver)>::new(
            move |records: Array, _obs: MutationObserver| {
                with_state(&s, |st| st.flush_records(records));
            },
        );
        let observer = MutationObserver::new(observer_cb.as_ref().unchecked_ref())?;
        observer.observe_with_options(document.as_ref(), &observer_options())?;

        let s = Rc::clone(&state);
        let raf_cb = Closure::<dyn FnMut(f64)>::new(move |_t: f64| {
            with_state(&s, |st| st.on_frame());
        });
        {
            let mut st = state.borrow_mut();
            st.raf_fn = Some(raf_cb.as_ref().unchecked_ref::<js_sys::Function>().clone());
            st.observer = Some(observer.clone());
        }

        let doc_target: &web_sys::EventTarget = document.as_ref();
        let win_target: &web_sys::EventTarget = window.as_ref();
        let capture = EventListenerOptions::run_in_capture_phase;
        let on = |target: &web_sys::EventTarget,
                  ty: &'static str,
                  f: fn(&mut RecState, &Event)|
         -> EventListener {
            let s = Rc::clone(&state);
            EventListener::new_with_options(target, ty, capture(), move |e: &Event| {
                with_state(&s, |st| f(st, e));
            })
        };
        let listeners = vec![
            on(doc_target, "input", RecState::on_input),
            on(doc_target, "change", RecState::on_input),
            on(doc_target, "scroll", RecState::on_scroll),
            on(doc_target, "pointermove", RecState::on_pointer),
            on(doc_target, "mouseout", RecState::on_pointer_out),
            on(doc_target, "click", RecState::on_click),
            on(doc_target, "pointerover", RecState::on_hover),
            on(doc_target, "focusin", RecState::on_focus_in),
            on(doc_target, "focusout", RecState::on_focus_out),
            on(doc_target, "pointerdown", RecState::on_press),
            on(doc_target, "pointerup", RecState::on_release),
            // `load` does not bubble, but a capturing listener on the document sees iframes'.
            on(doc_target, "load", RecState::on_load),
            // Fired at the document, and (newer browsers) at an input/textarea whose selection
            // changed; the capture phase at the document sees both. `select` for older ones.
            on(doc_target, "selectionchange", |st, _| {
                st.queue(Slot::Selection, SlotValue::Selection)
            }),
            on(doc_target, "select", |st, _| {
                st.queue(Slot::Selection, SlotValue::Selection)
            }),
            on(win_target, "resize", |st, _| st.on_resize()),
            on(win_target, "hashchange", |st, _| {
                if let Some(m) = st.url_change(NavKind::Hash) {
                    (st.sink)(m);
                }
            }),
            on(win_target, "popstate", |st, _| {
                if let Some(m) = st.url_change(NavKind::Traverse) {
                    (st.sink)(m);
                }
            }),
        ];

        let weak = Rc::downgrade(&state);
        let canvas_timer =
            gloo_timers::callback::Interval::new(crate::web::canvas::SAMPLE_MS, move || {
                if let Some(s) = weak.upgrade() {
                    with_state(&s, RecState::sample_canvases);
                }
            });
        Ok(Recorder {
            state,
            observer,
            _observer_cb: observer_cb,
            _raf_cb: raf_cb,
            _listeners: listeners,
            cssom,
            _canvas_timer: canvas_timer,
        })
        .inspect(|r| {
            if debug {
                let n = r.cssom.borrow().installed();
                web_sys::console::debug_1(&format!("[cobrowse] CSSOM hooks: {n}").into());
            }
        })
    }

    /// A full snapshot (after every (re)connect and on `RequestSnapshot`).
    pub fn snapshot(&self) -> Option<Message> {
        let mut s = self.state.try_borrow_mut().ok()?;
        let snap = s.snapshot();
        if std::mem::take(&mut s.sheets_pending) {
            // Adoption lists go out as `Sheet(Adopt)` right after the snapshot is sent.
            self.cssom.borrow().schedule();
        }
        Some(snap)
    }

    /// The page's current URL and title, as a `Navigation` of `kind`.
    pub fn navigation(&self, kind: NavKind) -> Option<Message> {
        self.state
            .try_borrow_mut()
            .ok()
            .map(|mut s| s.navigation(kind))
    }

    /// Which images are sent inline (the site's `inlineImages` configuration).
    pub fn set_inline_images(&self, config: crate::config::InlineImages) {
        with_state(&self.state, |s| s.images.configure(config));
    }

    /// Sends pending mutation records now instead of at the next observer callback.
    pub fn flush(&self) {
        with_state(&self.state, RecState::flush_pending);
    }

    /// The node with wire id `id`, for drawing agent clicks and (issue #5) write-mode actions.
    pub fn node(&self, id: u32) -> Option<Node> {
        self.state.try_borrow().ok()?.mirror.node(id).cloned()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.observer.disconnect();
        if let Ok(mut s) = self.state.try_borrow_mut() {
            if let Some(id) = s.raf_id.take() {
                let _ = s.window.cancel_animation_frame(id);
            }
            s.raf_fn = None;
            s.observer = None;
        }
    }
}
