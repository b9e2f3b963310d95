//! What the customer's page paints that its DOM does not say, sent as `Paint` frames: the
//! colour-scheme preference, custom element names the page has not defined, FontFace-API faces,
//! script animations, the top layer and an open `<select>` popup.
//!
//! Something marks a topic dirty (a snapshot marks all of them; events, hooks, observer batches
//! and the recorder's sampling timer mark theirs) and asks for an animation frame; at the frame
//! [`PaintState::changes`] reads each dirty topic from the page and returns a frame for each whose
//! state differs from the one last sent. Every frame is a topic's whole state.
//!
//! Privacy: elements under a *mask* rule and *hidden* elements are left out of the element
//! states (animations, top layer); a masked `<select>`'s open popup is sent without its
//! highlighted option. Names, fonts and the colour scheme say nothing about the customer's data.
//!
//! Layout: `hooks` (the `animate` and `FontFace` wrappers), `fonts`, `animations`, `select`
//! (reading each topic); this module holds the state, the colour scheme, `:defined` and the top
//! layer.

mod animations;
mod fonts;
mod hooks;
mod select;

pub use hooks::{PaintHooks, Wake};

use crate::paint::{same_animations, top_layer_order};
use cobrowse_protocol::{
    ColorScheme, Message, NodeId, Paint, ScriptAnimation, ScriptFont, SelectPopup, TopLayerEntry,
    TopLayerKind,
};
use cobrowse_web_glue::realm::get;
use js_sys::{Function, WeakMap};
use std::collections::BTreeSet;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Event, Node, Window};

/// Topic bits for [`PaintState::mark`].
pub mod topic {
    /// The colour-scheme preference.
    pub const SCHEME: u8 = 1;
    /// Undefined custom element names.
    pub const UNDEFINED: u8 = 2;
    /// FontFace-API faces.
    pub const FONTS: u8 = 4;
    /// Script animations.
    pub const ANIMATIONS: u8 = 8;
    /// The top layer.
    pub const TOP_LAYER: u8 = 16;
    /// The open `<select>` popup.
    pub const SELECT: u8 = 32;
    /// Everything (after a snapshot).
    pub const ALL: u8 = 63;
}

/// At most this many undefined names are tracked (names are cheap, but not unbounded).
const MAX_NAMES: usize = 512;

/// What was last sent per topic, and what must be read again.
pub struct PaintState {
    dirty: u8,
    scheme: Option<ColorScheme>,
    undefined: Option<Vec<String>>,
    fonts: Option<Vec<ScriptFont>>,
    animations: Option<Vec<ScriptAnimation>>,
    top_layer: Option<Vec<TopLayerEntry>>,
    select: Option<Option<SelectPopup>>,
    /// Custom element names seen in the captured page since the snapshot.
    names: BTreeSet<String>,
    /// Names whose `whenDefined` promise is being waited on.
    waiting: BTreeSet<String>,
    /// face → source, filled by the `FontFace` hook.
    pub(super) font_sources: WeakMap,
    /// face → the download matched to it.
    font_pairs: WeakMap,
    keys: animations::Keys,
    /// The last read found script animations: worth sampling on the recorder's timer.
    animating: bool,
    select_watch: select::SelectWatch,
    /// Told when a `whenDefined` promise settles.
    wake: Option<Wake>,
}

impl Default for PaintState {
    fn default() -> Self {
        PaintState {
            dirty: topic::ALL,
            scheme: None,
            undefined: None,
            fonts: None,
            animations: None,
            top_layer: None,
            select: None,
            names: BTreeSet::new(),
            waiting: BTreeSet::new(),
            font_sources: WeakMap::new(),
            font_pairs: WeakMap::new(),
            keys: animations::Keys::default(),
            animating: false,
            select_watch: select::SelectWatch::default(),
            wake: None,
        }
    }
}

/// What reading the page needs from the recorder.
pub struct Ctx<'a> {
    /// The customer's window.
    pub window: &'a Window,
    /// Its document.
    pub document: &'a Document,
    /// The wire id of a captured node.
    pub id_of: &'a dyn Fn(&Node) -> Option<NodeId>,
}

/// True when an element's state may be sent: not under a *mask* rule, not *hidden*.
fn shown(el: &Element) -> bool {
    !crate::web::restrict::is_masked(el) && !crate::web::restrict::is_hidden(el)
}

impl PaintState {
    /// Where `whenDefined` answers go (set once by the recorder).
    pub fn set_wake(&mut self, wake: Wake) {
        self.wake = Some(wake);
    }

    /// Marks topics to read at the next frame.
    pub fn mark(&mut self, topics: u8) {
        self.dirty |= topics;
    }

    /// True while some topic waits for the next frame.
    pub fn pending(&self) -> bool {
        self.dirty != 0
    }

    /// After a snapshot: the agent forgot everything, so every topic goes out again.
    pub fn reset(&mut self, names: BTreeSet<String>) {
        self.scheme = None;
        self.undefined = None;
        self.fonts = None;
        self.animations = None;
        self.top_layer = None;
        self.select = None;
        self.names = BTreeSet::new();
        self.note_names(names);
        self.dirty = topic::ALL;
    }

    /// Custom element names found in newly captured nodes.
    pub fn note_names(&mut self, names: BTreeSet<String>) {
        let before = self.names.len();
        for n in names {
            if self.names.len() >= MAX_NAMES {
                break;
            }
            self.names.insert(n);
        }
        if self.names.len() != before {
            self.dirty |= topic::UNDEFINED;
        }
    }

    /// A batch changed these attributes or removed nodes: the top layer may have changed.
    pub fn on_batch(&mut self, touched_open: bool, removed: bool) {
        let showing = self.top_layer.as_ref().is_some_and(|t| !t.is_empty());
        if touched_open || (removed && showing) {
            self.dirty |= topic::TOP_LAYER;
        }
    }

    /// A page event: `toggle`/`close` concern the top layer, pointer, key, `change` and focus
    /// events a `<select>` popup. True when a frame should read the page.
    pub fn on_event(&mut self, event: &Event) -> bool {
        match event.type_().as_str() {
            "toggle" | "close" | "cancel" => {
                self.dirty |= topic::TOP_LAYER;
                true
            }
            _ if self.select_watch.on_event(event) => {
                self.dirty |= topic::SELECT;
                true
            }
            _ => false,
        }
    }

    /// The recorder's timer: running script animations change state without an event.
    pub fn sample(&mut self) -> bool {
        if self.animating {
            self.dirty |= topic::ANIMATIONS;
        }
        self.animating
    }

    /// Reads the dirty topics and returns a frame for each that changed. Leaves the select topic
    /// dirty while a popup is open (it is read again next frame).
    pub fn changes(&mut self, ctx: &Ctx<'_>) -> Vec<Message> {
        let dirty = std::mem::take(&mut self.dirty);
        let mut out = Vec::new();
        let mut send = |p: Paint| out.push(Message::Paint(p));
        if dirty & topic::SCHEME != 0 {
            let s = scheme(ctx.window);
            if self.scheme.replace(s) != Some(s) {
                send(Paint::ColorScheme(s));
            }
        }
        if dirty & topic::UNDEFINED != 0 {
            let u = self.undefined_names(ctx.window);
            if self.undefined.as_ref() != Some(&u) {
                self.undefined = Some(u.clone());
                send(Paint::Undefined(u));
            }
        }
        if dirty & topic::FONTS != 0
            && let Some(doc_id) = (ctx.id_of)(ctx.document.as_ref())
        {
            let sources = fonts::Sources {
                hooked: &self.font_sources,
                paired: &self.font_pairs,
            };
            let f = fonts::read(ctx.window, ctx.document, doc_id, &sources);
            if self.fonts.as_ref() != Some(&f) {
                self.fonts = Some(f.clone());
                send(Paint::Fonts(f));
            }
        }
        if dirty & topic::ANIMATIONS != 0 {
            let a = animations::read(ctx.document, &mut self.keys, ctx.id_of, &shown);
            // Sampled on the timer while there are any (their state may change without a call
            // the hook sees: `pause()`, `finish()`, the end of a run).
            self.animating = !a.is_empty();
            if !self
                .animations
                .as_ref()
                .is_some_and(|old| same_animations(old, &a))
            {
                self.animations = Some(a.clone());
                send(Paint::Animations(a));
            }
        }
        if dirty & topic::TOP_LAYER != 0 {
            let t = top_layer(ctx, self.top_layer.as_deref().unwrap_or(&[]));
            if self.top_layer.as_ref() != Some(&t) {
                self.top_layer = Some(t.clone());
                send(Paint::TopLayer(t));
            }
        }
        if dirty & topic::SELECT != 0 {
            let open = self.select_watch.open_select(ctx.document);
            let popup = open.as_ref().and_then(|s| {
                let node: &Node = s.as_ref();
                let id = (ctx.id_of)(node)?;
                let el: &Element = s.as_ref();
                (!crate::web::restrict::is_hidden(el)).then(|| SelectPopup {
                    node: id,
                    highlighted: u32::try_from(s.selected_index())
                        .ok()
                        .filter(|_| !crate::web::restrict::is_masked(el)),
                })
            });
            if self.select != Some(popup) {
                self.select = Some(popup);
                send(Paint::SelectPopup(popup));
            }
            if open.is_some() {
                self.dirty |= topic::SELECT;
            }
        }
        out
    }

    /// The seen names the page has not defined (sorted); waits for each to be defined.
    fn undefined_names(&mut self, window: &Window) -> Vec<String> {
        let Some(registry) = get(window.as_ref(), "customElements") else {
            return Vec::new();
        };
        let lookup = get(&registry, "get").filter(JsValue::is_function);
        let mut out = Vec::new();
        for name in &self.names {
            let defined = lookup
                .as_ref()
                .and_then(|f| {
                    f.unchecked_ref::<Function>()
                        .call1(&registry, &name.into())
                        .ok()
                })
                .is_some_and(|c| !c.is_undefined());
            if defined {
                continue;
            }
            out.push(name.clone());
            if self.waiting.insert(name.clone()) {
                self.wait_for(&registry, name);
            }
        }
        out
    }

    /// Marks the names topic dirty when `name` gets defined.
    fn wait_for(&self, registry: &JsValue, name: &str) {
        let (Some(wake), Some(f)) = (
            self.wake.clone(),
            get(registry, "whenDefined").filter(JsValue::is_function),
        ) else {
            return;
        };
        let Ok(promise) = f.unchecked_ref::<Function>().call1(registry, &name.into()) else {
            return;
        };
        // Runs once, or never when the name is never defined (the callback is then a small,
        // bounded leak: one per name, at most MAX_NAMES).
        let defined = Closure::once_into_js(move |_: JsValue| wake(topic::UNDEFINED));
        let refused = Closure::once_into_js(|_: JsValue| {});
        if let Some(then) = get(&promise, "then").filter(JsValue::is_function) {
            let _ = then
                .unchecked_ref::<Function>()
                .call2(&promise, &defined, &refused);
        }
    }
}

/// The customer's `prefers-color-scheme`.
fn scheme(window: &Window) -> ColorScheme {
    let dark = get(window.as_ref(), "matchMedia")
        .filter(JsValue::is_function)
        .and_then(|f| {
            f.unchecked_ref::<Function>()
                .call1(window, &"(prefers-color-scheme: dark)".into())
                .ok()
        })
        .and_then(|m| get(&m, "matches"))
        .is_some_and(|m| m.is_truthy());
    if dark {
        ColorScheme::Dark
    } else {
        ColorScheme::Light
    }
}

/// The top layer now: its captured, shown elements, in the order `before` had them.
fn top_layer(ctx: &Ctx<'_>, before: &[TopLayerEntry]) -> Vec<TopLayerEntry> {
    let list = ctx
        .document
        .query_selector_all(":modal, :popover-open")
        .or_else(|_| ctx.document.query_selector_all(":modal"));
    let Ok(list) = list else {
        return Vec::new();
    };
    let now: Vec<TopLayerEntry> = (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|node| {
            let el: &Element = node.unchecked_ref();
            if !shown(el) {
                return None;
            }
            let kind = if el.matches(":modal").unwrap_or(false) {
                TopLayerKind::ModalDialog
            } else {
                TopLayerKind::Popover
            };
            Some(TopLayerEntry {
                node: (ctx.id_of)(&node)?,
                kind,
            })
        })
        .collect();
    top_layer_order(before, &now)
}

/// Installs the page-level listeners a recorder needs for paint topics besides its document
/// events: the colour-scheme media query and `document.fonts` loading. `on` is called with the
/// topic.
pub fn listeners(
    window: &Window,
    document: &Document,
    on: Wake,
) -> Vec<gloo_events::EventListener> {
    let mut out = Vec::new();
    let mql = get(window.as_ref(), "matchMedia")
        .filter(JsValue::is_function)
        .and_then(|f| {
            f.unchecked_ref::<Function>()
                .call1(window, &"(prefers-color-scheme: dark)".into())
                .ok()
        })
        .filter(JsValue::is_object);
    if let Some(mql) = mql {
        let on = on.clone();
        out.push(gloo_events::EventListener::new(
            mql.unchecked_ref::<web_sys::EventTarget>(),
            "change",
            move |_| on(topic::SCHEME),
        ));
    }
    if let Some(fonts) = get(document.as_ref(), "fonts").filter(JsValue::is_object) {
        for ev in ["loadingdone", "loadingerror"] {
            let on = on.clone();
            out.push(gloo_events::EventListener::new(
                fonts.unchecked_ref::<web_sys::EventTarget>(),
                ev,
                move |_| on(topic::FONTS),
            ));
        }
    }
    out
}
