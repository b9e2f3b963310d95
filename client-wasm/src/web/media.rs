//! `<video>`/`<audio>` playback state (current time, paused, muted, rate), sampled on the
//! recorder's timer and sent as [`MediaState`] when it changed in a way the agent cannot predict:
//! play/pause, mute, rate, or a time more than [`DRIFT_MS`] away from where steady playback since
//! the last report would be (a seek). Forgotten on every snapshot, so fresh state follows it.

use cobrowse_protocol::{MediaState, Message, NodeId};
use js_sys::Reflect;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Node};

/// How far the time may drift from the predicted one before it is reported again, in ms.
pub const DRIFT_MS: f64 = 1000.0;

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

/// True when `now` differs from `prev` (sent `elapsed_ms` ago) beyond steady playback.
pub fn changed(prev: &MediaState, now: &MediaState, elapsed_ms: f64) -> bool {
    if prev.paused != now.paused || prev.muted != now.muted || prev.rate_centi != now.rate_centi {
        return true;
    }
    let advance = if prev.paused {
        0.0
    } else {
        elapsed_ms * f64::from(prev.rate_centi) / 100.0
    };
    let expected = prev.time_ms as f64 + advance;
    (expected - now.time_ms as f64).abs() > DRIFT_MS
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

#[cfg(test)]
mod tests {
    use super::*;

    fn st(time_ms: u64, paused: bool) -> MediaState {
        MediaState {
            node: 1,
            time_ms,
            paused,
            muted: false,
            rate_centi: 100,
        }
    }

    #[test]
    fn steady_playback_is_not_reported_but_seeks_and_pauses_are() {
        // Playing: 500 ms later the time advanced ~500 ms: predictable, not reported.
        assert!(!changed(&st(1000, false), &st(1480, false), 500.0));
        // A seek back while playing.
        assert!(changed(&st(5000, false), &st(1000, false), 500.0));
        // Paused and still: nothing; paused and moved: a seek.
        assert!(!changed(&st(2000, true), &st(2000, true), 3000.0));
        assert!(changed(&st(2000, true), &st(3500, true), 500.0));
        // Play/pause, mute and rate changes always are.
        assert!(changed(&st(2000, false), &st(2000, true), 0.0));
        let mut muted = st(2000, true);
        muted.muted = true;
        assert!(changed(&st(2000, true), &muted, 0.0));
        let mut fast = st(2000, true);
        fast.rate_centi = 200;
        assert!(changed(&st(2000, true), &fast, 0.0));
        // At double rate, 1 s of playing is 2 s of media time.
        let mut prev = st(0, false);
        prev.rate_centi = 200;
        let mut now = st(2000, false);
        now.rate_centi = 200;
        assert!(!changed(&prev, &now, 1000.0));
    }
}
