//! `<video>`/`<audio>` playback state (current time, paused, muted, rate), sampled on the
//! recorder's timer and sent as [`MediaState`] when it changed in a way the agent cannot predict:
//! play/pause, mute, rate, or a time more than [`DRIFT_MS`] away from where steady playback since
//! the last report would be (a seek; the rule is [`crate::media::changed`]). Forgotten on every
//! snapshot, so fresh state follows it.

pub use crate::media::{DRIFT_MS, changed};
use cobrowse_protocol::{MediaState, Message, NodeId};
use js_sys::Reflect;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Node};

/// Last state sent per media element, with the time it was sent (ms, `performance.now`-like).
#[derive(Debug, Default)]
pub struct MediaSampler {
    sent: HashMap<NodeId, (MediaState, f64)>,
}

fn num(el: &JsValue, key: &str) -> Option<f64> {
    Reflect::get(el, &key.into()).ok()?.as_f64()
}

fn flag(el: &JsValue, key: &str) -> bool {
    Reflect::get(el, &key.into()).is_ok_and(|v| v.is_truthy())
}

impl MediaSampler {
    /// Forgets what was sent (after a snapshot).
    pub fn reset(&mut self) {
        self.sent.clear();
    }

    /// States of `document`'s media elements that changed; `now_ms` is a monotonic clock.
    pub fn sample(
        &mut self,
        document: &Document,
        now_ms: f64,
        id_of: &dyn Fn(&Node) -> Option<NodeId>,
    ) -> Vec<Message> {
        let Ok(list) = document.query_selector_all("video, audio") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for i in 0..list.length() {
            let Some(node) = list.item(i) else { continue };
            let Some(id) = id_of(&node) else { continue };
            let el: &JsValue = node.as_ref();
            let state = MediaState {
                node: id,
                time_ms: (num(el, "currentTime").unwrap_or(0.0).max(0.0) * 1000.0) as u64,
                paused: flag(el, "paused"),
                muted: flag(el, "muted"),
                rate_centi: (num(el, "playbackRate").unwrap_or(1.0) * 100.0).clamp(0.0, 6400.0)
                    as u16,
            };
            let report = match self.sent.get(&id) {
                Some((prev, at)) => changed(prev, &state, now_ms - at),
                None => true,
            };
            if report {
                self.sent.insert(id, (state, now_ms));
                out.push(Message::Media(state));
            }
        }
        out
    }
}
