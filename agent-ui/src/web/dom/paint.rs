//! The replica's paint beyond its DOM through the browser's own APIs: `showModal()` /
//! `showPopover()`, `animate()` and `FontFace`, called from the agent page's realm on replica nodes.
//! The replica runs no scripts, but these are our calls, made from outside it; they work on a
//! sandboxed document like any DOM call. What they get is already sanitised (`replica::paint`).
//!
//! Objects are the replica realm's (its `FontFace` constructor, so the face loads for the replica
//! document, under its policy), reached through `Reflect` and cast, never `dyn_into`.

use super::cssom::call;
use cobrowse_protocol::{
    Composite, FillMode, FontSource, PlayState, PlaybackDirection, ScriptAnimation, ScriptFont,
    TopLayerKind,
};
use js_sys::{Array, Object, Reflect};
use std::collections::HashMap;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, HtmlElement, Node};

/// The browser objects behind the model's keys.
#[derive(Default)]
pub(super) struct Handles {
    /// Animation key → the replica's `Animation`.
    animations: HashMap<u32, JsValue>,
    /// Face key → (`document.fonts`, the `FontFace`).
    fonts: HashMap<u32, (JsValue, JsValue)>,
}

fn set(obj: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &key.into(), value);
}

/// Keeps keyboard focus where the agent had it: opening a modal dialog focuses inside it, which
/// would pull the agent's focus into the replica (the customer's focus is shown by marks instead).
fn keep_agent_focus(run: impl FnOnce() -> bool, el: &Element) -> bool {
    let agent_doc = web_sys::window().and_then(|w| w.document());
    let before = agent_doc.as_ref().and_then(|d| d.active_element());
    let ok = run();
    if let Some(doc) = el.owner_document()
        && let Some(active) = doc.active_element()
    {
        // A replica element: cast, its realm is not ours.
        let _ = active.unchecked_ref::<HtmlElement>().blur();
    }
    match before {
        Some(b) if agent_doc.as_ref().and_then(|d| d.body()).as_deref() != Some(&b) => {
            let _ = b.unchecked_ref::<HtmlElement>().focus();
        }
        _ => {
            if let Some(frame) = agent_doc.and_then(|d| d.active_element()) {
                let _ = frame.unchecked_ref::<HtmlElement>().blur();
            }
        }
    }
    ok
}

fn matches(el: &JsValue, selector: &str) -> bool {
    call(el, "matches", &[selector.into()])
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// [`crate::replica::DomBackend::top_layer`].
pub(super) fn top_layer(node: &Node, kind: TopLayerKind, show: bool) -> bool {
    let el: &Element = node.unchecked_ref();
    let v: &JsValue = node.as_ref();
    match (kind, show) {
        (TopLayerKind::ModalDialog, true) => {
            if matches(v, ":modal") {
                return true;
            }
            // The customer's `open` attribute came with the DOM; `showModal()` refuses a dialog
            // that is already open, and sets it again.
            let _ = el.remove_attribute("open");
            keep_agent_focus(|| call(v, "showModal", &[]).is_ok(), el)
        }
        (TopLayerKind::ModalDialog, false) => {
            let had_open = el.has_attribute("open");
            // `close()` does nothing without `open`, even on a dialog still in the top layer.
            let _ = el.set_attribute("open", "");
            let ok = call(v, "close", &[]).is_ok();
            if had_open {
                let _ = el.set_attribute("open", "");
            }
            ok
        }
        (TopLayerKind::Popover, true) => {
            matches(v, ":popover-open")
                || keep_agent_focus(|| call(v, "showPopover", &[]).is_ok(), el)
        }
        (TopLayerKind::Popover, false) => {
            !matches(v, ":popover-open") || call(v, "hidePopover", &[]).is_ok()
        }
    }
}

fn composite(c: Composite) -> &'static str {
    match c {
        Composite::Replace => "replace",
        Composite::Add => "add",
        Composite::Accumulate => "accumulate",
        Composite::Auto => "auto",
    }
}

/// The `animate()` arguments for `a`: keyframes and options.
fn animate_args(a: &ScriptAnimation) -> (Array, Object) {
    let frames = Array::new();
    for k in &a.keyframes {
        let f = Object::new();
        if let Some(o) = k.offset_millionths {
            set(&f, "offset", &(f64::from(o) / 1e6).into());
        }
        set(&f, "easing", &k.easing.as_str().into());
        set(&f, "composite", &composite(k.composite).into());
        for (name, value) in &k.properties {
            set(&f, name, &value.as_str().into());
        }
        frames.push(&f);
    }
    let t = &a.timing;
    let o = Object::new();
    set(&o, "delay", &(t.delay_us as f64 / 1e3).into());
    set(&o, "endDelay", &(t.end_delay_us as f64 / 1e3).into());
    match t.duration_us {
        Some(d) => set(&o, "duration", &(d as f64 / 1e3).into()),
        None => set(&o, "duration", &"auto".into()),
    }
    let iterations = t.iterations_milli.map_or(f64::INFINITY, |i| i as f64 / 1e3);
    set(&o, "iterations", &iterations.into());
    set(
        &o,
        "iterationStart",
        &(t.iteration_start_milli as f64 / 1e3).into(),
    );
    let direction = match t.direction {
        PlaybackDirection::Normal => "normal",
        PlaybackDirection::Reverse => "reverse",
        PlaybackDirection::Alternate => "alternate",
        PlaybackDirection::AlternateReverse => "alternate-reverse",
    };
    set(&o, "direction", &direction.into());
    let fill = match t.fill {
        FillMode::None => "none",
        FillMode::Forwards => "forwards",
        FillMode::Backwards => "backwards",
        FillMode::Both => "both",
        FillMode::Auto => "auto",
    };
    set(&o, "fill", &fill.into());
    set(&o, "easing", &t.easing.as_str().into());
    if a.composite != Composite::Auto {
        set(&o, "composite", &composite(a.composite).into());
    }
    if let Some(p) = &a.pseudo {
        set(&o, "pseudoElement", &p.as_str().into());
    }
    (frames, o)
}

/// Brings `anim` to `a`'s rate, state and time.
fn apply_state(anim: &JsValue, a: &ScriptAnimation) {
    set(
        anim,
        "playbackRate",
        &(f64::from(a.rate_milli) / 1e3).into(),
    );
    let time = a.current_us.map(|us| JsValue::from(us as f64 / 1e3));
    match a.state {
        PlayState::Running => {
            let _ = call(anim, "play", &[]);
        }
        PlayState::Paused => {
            let _ = call(anim, "pause", &[]);
        }
        PlayState::Finished if time.is_none() => {
            let _ = call(anim, "finish", &[]);
        }
        PlayState::Finished => {}
    }
    if let Some(t) = time {
        set(anim, "currentTime", &t);
    }
}

impl Handles {
    /// [`crate::replica::DomBackend::animate`].
    pub(super) fn animate(&mut self, key: u32, node: &Node, a: &ScriptAnimation) -> bool {
        self.cancel(key);
        let (frames, options) = animate_args(a);
        match call(node.as_ref(), "animate", &[frames.into(), options.into()]) {
            Ok(anim) if anim.is_object() => {
                apply_state(&anim, a);
                self.animations.insert(key, anim);
                true
            }
            _ => false,
        }
    }

    /// [`crate::replica::DomBackend::sync_animation`].
    pub(super) fn sync(&mut self, key: u32, a: &ScriptAnimation) {
        if let Some(anim) = self.animations.get(&key) {
            apply_state(anim, a);
        }
    }

    /// [`crate::replica::DomBackend::cancel_animation`].
    pub(super) fn cancel(&mut self, key: u32) {
        if let Some(anim) = self.animations.remove(&key) {
            let _ = call(&anim, "cancel", &[]);
        }
    }

    /// [`crate::replica::DomBackend::add_font`].
    pub(super) fn add_font(&mut self, key: u32, doc: &Node, f: &ScriptFont) -> bool {
        let doc_v: &JsValue = doc.as_ref();
        let (Ok(fonts), Ok(ctor)) = (
            Reflect::get(doc_v, &"fonts".into()),
            Reflect::get(doc_v, &"defaultView".into())
                .and_then(|w| Reflect::get(&w, &"FontFace".into())),
        ) else {
            return false;
        };
        if !ctor.is_function() || !fonts.is_object() {
            return false;
        }
        let source: JsValue = match &f.source {
            FontSource::Css(s) => s.as_str().into(),
            FontSource::Data(bytes) => js_sys::Uint8Array::from(bytes.as_slice()).into(),
        };
        let descriptors = Object::new();
        for (k, v) in &f.descriptors {
            set(&descriptors, k, &v.as_str().into());
        }
        let args = Array::of3(&f.family.as_str().into(), &source, &descriptors);
        // Cast, not `dyn_into`: the constructor is the replica realm's.
        let Ok(face) = Reflect::construct(ctor.unchecked_ref::<js_sys::Function>(), &args) else {
            return false;
        };
        if call(&fonts, "add", std::slice::from_ref(&face)).is_err() {
            return false;
        }
        self.fonts.insert(key, (fonts, face));
        true
    }

    /// [`crate::replica::DomBackend::remove_font`].
    pub(super) fn remove_font(&mut self, key: u32) {
        if let Some((fonts, face)) = self.fonts.remove(&key) {
            let _ = call(&fonts, "delete", &[face]);
        }
    }
}
