//! A MutationObserver callback's records read in one call (`dom_reader.js`, `readRecords`)
//! instead of five or six per record: a storm of attribute changes is tens of thousands of them.

use crate::record::{Record, unpack};
use js_sys::Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::Node;

#[wasm_bindgen(module = "/src/web/dom_reader.js")]
extern "C" {
    #[wasm_bindgen(js_name = readRecords)]
    fn read_records_js(records: &Array, nodes: &Array) -> Option<String>;
}

thread_local! {
    /// Where `readRecords` sets the records' nodes aside; emptied after each read, so it keeps
    /// no node alive.
    static NODES: Array = Array::new();
}

/// The records as plain data, or `None` when they must be read one by one (an old value with
/// a NUL in it).
pub fn read(records: &Array) -> Option<Vec<Record<Node>>> {
    NODES.with(|nodes| {
        let packed = read_records_js(records, nodes);
        let count = nodes.length();
        let out = packed.and_then(|p| {
            unpack(&p, count, |i| {
                let n = nodes.get(i);
                (!n.is_undefined()).then(|| n.unchecked_into::<Node>())
            })
        });
        nodes.set_length(0);
        out
    })
}
