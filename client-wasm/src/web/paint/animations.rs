//! Animations made by script (`element.animate()`), read from `document.getAnimations()` as
//! [`ScriptAnimation`]s. CSS animations and transitions are left out: the replica's own styles run
//! those. Each animation keeps its key (a `WeakMap` entry) for its life, so the agent can tell a
//! running animation from a new one.

use crate::paint::{composite, direction, fill, ms_to_us, play_state, to_milli, to_millionths};
use cobrowse_protocol::{AnimationTiming, Keyframe, NodeId, ScriptAnimation};
use cobrowse_web_glue::realm::{element, get, items};
use js_sys::{Function, Object, Reflect, WeakMap};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Node};

/// At most this many animations are sent (a page animating thousands of particles by script is
/// not worth a frame per change).
pub(super) const MAX_ANIMATIONS: usize = 256;

/// Keys for the page's animation objects.
pub(super) struct Keys {
    map: WeakMap,
    next: u32,
}

impl Default for Keys {
    fn default() -> Self {
        Keys {
            map: WeakMap::new(),
            next: 1,
        }
    }
}

impl Keys {
    fn key(&mut self, anim: &JsValue) -> u32 {
        let o: &Object = anim.unchecked_ref();
        if let Some(k) = self.map.get(o).as_f64() {
            return k as u32;
        }
        let k = self.next;
        self.next = self.next.wrapping_add(1);
        self.map.set(o, &JsValue::from(k));
        k
    }
}

fn call0(obj: &JsValue, name: &str) -> Option<JsValue> {
    let f = get(obj, name).filter(JsValue::is_function)?;
    f.unchecked_ref::<Function>().call0(obj).ok()
}

fn string(obj: &JsValue, key: &str) -> String {
    get(obj, key)
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

fn number(obj: &JsValue, key: &str) -> Option<f64> {
    get(obj, key).and_then(|v| v.as_f64())
}

/// True for a plain `Animation` (not a `CSSAnimation` or `CSSTransition`): its `toStringTag`.
fn made_by_script(anim: &JsValue) -> bool {
    Reflect::get(anim, &js_sys::Symbol::to_string_tag())
        .ok()
        .and_then(|t| t.as_string())
        .is_some_and(|t| t == "Animation")
}

fn keyframe(k: &JsValue) -> Keyframe {
    let mut properties = Vec::new();
    for entry in Object::entries(k.unchecked_ref()).iter() {
        let name = Reflect::get_u32(&entry, 0)
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_default();
        if matches!(
            name.as_str(),
            "offset" | "computedOffset" | "easing" | "composite"
        ) {
            continue;
        }
        if let Some(v) = Reflect::get_u32(&entry, 1).ok().and_then(|v| v.as_string()) {
            properties.push((name, v));
        }
    }
    Keyframe {
        offset_millionths: number(k, "offset").map(to_millionths),
        easing: string(k, "easing"),
        composite: composite(&string(k, "composite")),
        properties,
    }
}

fn timing(t: &JsValue) -> AnimationTiming {
    AnimationTiming {
        delay_us: number(t, "delay").and_then(ms_to_us).unwrap_or(0),
        end_delay_us: number(t, "endDelay").and_then(ms_to_us).unwrap_or(0),
        duration_us: number(t, "duration")
            .and_then(ms_to_us)
            .map(|d| d.max(0) as u64),
        iterations_milli: to_milli(number(t, "iterations").unwrap_or(1.0)),
        iteration_start_milli: to_milli(number(t, "iterationStart").unwrap_or(0.0)).unwrap_or(0),
        direction: direction(&string(t, "direction")),
        fill: fill(&string(t, "fill")),
        easing: string(t, "easing"),
    }
}

/// The script animations of `doc` on elements `id_of` knows and `shown` allows (not masked,
/// not hidden), in the document's order.
pub(super) fn read(
    doc: &Document,
    keys: &mut Keys,
    id_of: &dyn Fn(&Node) -> Option<NodeId>,
    shown: &dyn Fn(&web_sys::Element) -> bool,
) -> Vec<ScriptAnimation> {
    let mut out = Vec::new();
    let Some(list) = call0(doc.as_ref(), "getAnimations") else {
        return out;
    };
    for anim in items(&list) {
        if out.len() >= MAX_ANIMATIONS {
            break;
        }
        if !made_by_script(&anim) {
            continue;
        }
        let Some(effect) = get(&anim, "effect") else {
            continue;
        };
        let Some(target) = get(&effect, "target").map(JsCast::unchecked_into::<Node>) else {
            continue;
        };
        let (Some(el), Some(node)) = (element(&target), id_of(&target)) else {
            continue;
        };
        if !shown(el) {
            continue;
        }
        let Some(state) = play_state(&string(&anim, "playState")) else {
            continue;
        };
        let (Some(frames), Some(t)) = (call0(&effect, "getKeyframes"), call0(&effect, "getTiming"))
        else {
            continue;
        };
        out.push(ScriptAnimation {
            key: keys.key(&anim),
            node,
            pseudo: get(&effect, "pseudoElement").and_then(|p| p.as_string()),
            keyframes: items(&frames).iter().map(keyframe).collect(),
            timing: timing(&t),
            composite: composite(&string(&effect, "composite")),
            state,
            current_us: number(&anim, "currentTime").and_then(ms_to_us),
            rate_milli: number(&anim, "playbackRate")
                .map_or(1_000, |r| (r * 1000.0).round().clamp(-1e9, 1e9) as i32),
        });
    }
    out
}
