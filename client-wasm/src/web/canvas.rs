//! `<canvas>` pixels as image frames, at a capped rate.
//!
//! A canvas's content is not in the DOM, so the replica's canvas would stay blank. Twice a second
//! (the recorder's timer) every captured canvas of the document is read with `toDataURL` (PNG,
//! lossless, so an unchanged drawing compares equal) and sent as [`CanvasFrame`] when it changed
//! since it was last sent. Canvases tainted by cross-origin images refuse to be read and are
//! skipped, as are empty (0×0) and very large ones, and masked or hidden ones (their pixels are
//! what the rule hides).
//!
//! Kept by the recorder: [`CanvasSampler`] remembers a hash of each canvas's last frame and
//! forgets them all on every snapshot, so a fresh snapshot is followed by fresh frames.

use cobrowse_protocol::{CanvasFrame, Message, NodeId};
use js_sys::{Function, Reflect};
use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Node, Window};

/// How often canvases are sampled, in milliseconds (the cap on frames per canvas).
pub const SAMPLE_MS: u32 = 500;
/// Largest encoded frame sent, in bytes; bigger canvases are left blank for the agent.
pub const MAX_FRAME_BYTES: usize = 1024 * 1024;

/// Last frame sent per canvas.
#[derive(Debug, Default)]
pub struct CanvasSampler {
    sent: HashMap<NodeId, u64>,
}

/// `canvas.toDataURL('image/png')`, or `None` when the canvas refuses (tainted) or is empty.
fn data_url(canvas: &JsValue) -> Option<String> {
    let w = Reflect::get(canvas, &"width".into()).ok()?.as_f64()?;
    let h = Reflect::get(canvas, &"height".into()).ok()?.as_f64()?;
    if w < 1.0 || h < 1.0 || w * h > 4096.0 * 4096.0 {
        return None;
    }
    let f: Function = Reflect::get(canvas, &"toDataURL".into())
        .ok()
        .filter(JsValue::is_function)?
        .unchecked_into();
    f.call1(canvas, &"image/png".into()).ok()?.as_string()
}

/// The bytes of a base64 `data:` URL's payload, decoded by the browser (`atob`).
fn decode(window: &Window, url: &str) -> Option<Vec<u8>> {
    let (_, b64) = url.split_once(',')?;
    let bin = window.atob(b64).ok()?;
    // `atob` gives one char per byte (code points 0–255).
    bin.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

impl CanvasSampler {
    /// Forgets what was sent (after a snapshot the agent has blank canvases again).
    pub fn reset(&mut self) {
        self.sent.clear();
    }

    /// Frames for the canvases of `document` that changed since last sent. `id_of` maps a page
    /// node to its wire id (`None`: not captured); canvases `withheld` says are masked or hidden
    /// are never read.
    pub fn sample(
        &mut self,
        window: &Window,
        document: &Document,
        id_of: &dyn Fn(&Node) -> Option<NodeId>,
        withheld: &dyn Fn(&Node) -> bool,
    ) -> Vec<Message> {
        let Ok(list) = document.query_selector_all("canvas") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for i in 0..list.length() {
            let Some(node) = list.item(i) else { continue };
            let Some(id) = id_of(&node) else { continue };
            if withheld(&node) {
                continue;
            }
            seen.push(id);
            let Some(url) = data_url(&node) else { continue };
            let mut h = DefaultHasher::new();
            url.hash(&mut h);
            let hash = h.finish();
            if self.sent.get(&id) == Some(&hash) {
                continue;
            }
            let Some(data) = decode(window, &url).filter(|d| d.len() <= MAX_FRAME_BYTES) else {
                continue;
            };
            self.sent.insert(id, hash);
            out.push(Message::Canvas(CanvasFrame {
                node: id,
                mime: "image/png".into(),
                data,
            }));
        }
        self.sent.retain(|id, _| seen.contains(id));
        out
    }
}
