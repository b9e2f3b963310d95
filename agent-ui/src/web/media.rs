//! The customer's `<video>`/`<audio>` playback state applied to the replica's media elements.
//!
//! The replica plays muted (the agent follows what the customer sees; the customer's sound stays
//! with the customer, and muted playback is never blocked by autoplay rules), at the customer's
//! rate, paused when the customer's is, and is moved to the customer's time when it is more than
//! half a second away. Only `<video>`/`<audio>` nodes are touched.

use crate::replica::Replica;
use crate::web::dom::WebDom;
use cobrowse_protocol::MediaState;
use js_sys::{Function, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// How far the replica's time may be from the customer's before it is moved, in seconds.
const SEEK_TOLERANCE_S: f64 = 0.5;

fn call0(obj: &JsValue, name: &str) -> Option<JsValue> {
    let f: Function = Reflect::get(obj, &name.into())
        .ok()
        .filter(JsValue::is_function)?
        .unchecked_into();
    f.call0(obj).ok()
}

/// Applies `state` to its replica media element.
pub fn apply(state: &MediaState, replica: &Replica<WebDom>) {
    let Some(node) = replica.dom_node(state.node) else {
        return;
    };
    let name = node.node_name();
    if !name.eq_ignore_ascii_case("video") && !name.eq_ignore_ascii_case("audio") {
        return;
    }
    let el: JsValue = node.clone().into();
    let _ = Reflect::set(&el, &"muted".into(), &JsValue::TRUE);
    let rate = (f64::from(state.rate_centi) / 100.0).clamp(0.0625, 16.0);
    let _ = Reflect::set(&el, &"playbackRate".into(), &rate.into());
    let want = state.time_ms as f64 / 1000.0;
    let have = Reflect::get(&el, &"currentTime".into())
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    if (have - want).abs() > SEEK_TOLERANCE_S {
        let _ = Reflect::set(&el, &"currentTime".into(), &want.into());
    }
    if state.paused {
        let _ = call0(&el, "pause");
    } else if let Some(p) = call0(&el, "play") {
        // A refused play() rejects its promise; handle it so it is not an unhandled rejection.
        if let Some(catch) = Reflect::get(&p, &"catch".into())
            .ok()
            .filter(JsValue::is_function)
        {
            let noop = Closure::once_into_js(|_: JsValue| {});
            let _ = catch.unchecked_ref::<Function>().call1(&p, &noop);
        }
    }
}
