//! The recorder: snapshot, MutationObserver deltas and page events of the customer's document,
//! turned into protocol messages.
//!
//! # Layout
//!
//! * `state` — [`RecState`], shared by the callbacks: the snapshot, coalesced DOM changes,
//!   CSSOM / canvas / media samples, frame-throttled slots, navigation.
//! * `reads` — the viewport, the observer's options, which control a record changed.
//! * `events` — the page-event handlers (input, scroll, pointer, click, hover / focus / active,
//!   resize).
//! * this module — [`Recorder`], which registers the callbacks and owns them.
//!
//! # Who owns what
//!
//! [`Recorder`] owns every JS callback it registers: the MutationObserver closure, the
//! animation-frame closure and the DOM event listeners (`gloo_events::EventListener` removes
//! itself on drop). Dropping the recorder disconnects the observer, cancels a pending frame and
//! removes every listener, so `stop()` leaves nothing running on the page.
//!
//! The form-state setter hooks (`web::values`) are a subscription [`RecState`] owns; their
//! callback holds the state weakly, so dropping the recorder ends the subscription (and the last
//! one puts the page's setters back).
//!
//! The callbacks share [`RecState`] through an `Rc<RefCell<…>>` and hand messages to the sink
//! given at construction. They never borrow the client's own state, so a callback cannot collide
//! with a client method that is running.

mod events;
mod reads;
mod state;

pub use reads::viewport;
pub use state::{Held, RecState, Sink};

use crate::slots::{Slot, SlotValue};
use cobrowse_protocol::{Message, NavKind};
use gloo_events::{EventListener, EventListenerOptions};
use js_sys::Array;
use reads::observer_options;
use state::with_state;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Event, MutationObserver, Node, Window};

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
    /// The `animate` and `FontFace` wrappers (dropping restores the page's originals).
    _paint_hooks: crate::web::paint::PaintHooks,
}

impl Recorder {
    /// Starts observing `document` of `window`; messages go to `sink`. Nothing is sent until the
    /// caller asks for a [`Recorder::snapshot`] (the observer is armed right away so no change
    /// between the snapshot and the first callback is lost).
    /// `page` is the site's address and title masking (`Config::page_mask`).
    pub fn start(
        window: Window,
        document: Document,
        sink: Sink,
        debug: bool,
        page: crate::mask::PageMask,
    ) -> Result<Recorder, JsValue> {
        let state = Rc::new(RefCell::new(RecState::new(
            window.clone(),
            document.clone(),
            sink,
            debug,
            page,
        )));
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
        let weak = Rc::downgrade(&state);
        let values = crate::web::values::ValueHooks::install(
            &window,
            Rc::new(move |nodes: Vec<Node>| {
                if let Some(s) = weak.upgrade() {
                    with_state(&s, |st| st.on_script_values(nodes));
                }
            }),
        );
        state.borrow_mut().values = Some(values);

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
        let mut listeners = vec![
            on(doc_target, "input", RecState::on_input),
            on(doc_target, "change", RecState::on_input),
            on(doc_target, "reset", RecState::on_reset),
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
        // Paint topics: the top layer (`toggle`, `close` do not bubble; capture sees them) and
        // native `<select>` popups (presses, keys, `change`, focus leaving).
        for ty in [
            "toggle",
            "close",
            "cancel",
            "mousedown",
            "mouseup",
            "click",
            "keydown",
            "keyup",
            "change",
            "input",
            "focusout",
        ] {
            listeners.push(on(doc_target, ty, RecState::on_paint_event));
        }
        let weak = Rc::downgrade(&state);
        let wake: crate::web::paint::Wake = Rc::new(move |topics| {
            if let Some(s) = weak.upgrade() {
                with_state(&s, |st| {
                    st.paint.mark(topics);
                    st.queue(Slot::Paint, SlotValue::Paint);
                });
            }
        });
        state.borrow_mut().paint.set_wake(Rc::clone(&wake));
        listeners.extend(crate::web::paint::listeners(
            &window,
            &document,
            Rc::clone(&wake),
        ));
        let sources = state.borrow().paint.font_sources.clone();
        let paint_hooks = crate::web::paint::PaintHooks::install(
            &window,
            wake,
            sources,
            crate::web::paint::topic::ANIMATIONS,
            crate::web::paint::topic::FONTS,
        );

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
            _paint_hooks: paint_hooks,
        })
        .inspect(|r| {
            if debug {
                let n = r.cssom.borrow().installed();
                let p = r._paint_hooks.installed();
                let v = crate::web::values::ValueHooks::installed();
                web_sys::console::debug_1(
                    &format!(
                        "[cobrowse] CSSOM hooks: {n}, paint hooks: {p}, form-state setters: {v}"
                    )
                    .into(),
                );
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

    /// Tells the recorder when the client's upload budget holds page changes: they are then
    /// dropped uncoalesced (without it, every change is coalesced and handed to the sink).
    pub fn set_held(&self, held: Held) {
        with_state(&self.state, |s| s.held = held);
    }

    /// Which images are sent inline (the site's `inlineImages` configuration).
    pub fn set_inline_images(&self, config: crate::config::InlineImages) {
        with_state(&self.state, |s| s.images.configure(config));
    }

    /// Sends pending mutation records now instead of at the next observer callback.
    pub fn flush(&self) {
        with_state(&self.state, RecState::flush_pending);
    }

    /// The node with wire id `id`, for drawing agent clicks and write-mode actions.
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
