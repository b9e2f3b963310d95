//! Reflect-based calls into the replica's CSSOM: its objects and constructors come from the
//! iframe's realm, where `dyn_into` against this page's types always fails. The plain reads
//! (`get`, `items`, `length`) are `cobrowse_web_glue::realm`'s, shared with the customer client.

use cobrowse_web_glue::realm::get;
use js_sys::{Array, Function, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// Calls `obj[name](...args)`, catching exceptions.
pub(super) fn call(obj: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f = get(obj, name).ok_or_else(|| JsValue::from_str("no such method"))?;
    if !f.is_function() {
        return Err(JsValue::from_str("not a function"));
    }
    let f: Function = f.unchecked_into();
    let arr: Array = args.iter().collect();
    f.apply(obj, &arr)
}

/// A new empty `CSSStyleSheet` of `doc`'s realm (a sheet can only be adopted there).
pub(super) fn new_sheet(doc: &JsValue) -> Option<JsValue> {
    let ctor = get(doc, "defaultView").and_then(|w| get(&w, "CSSStyleSheet"))?;
    if !ctor.is_function() {
        return None;
    }
    // Cast, not `dyn_into`: the constructor comes from the replica's realm.
    let ctor: Function = ctor.unchecked_into();
    Reflect::construct(&ctor, &Array::new()).ok()
}

/// The document a document or shadow root belongs to.
pub(super) fn document_of(node: &JsValue) -> Option<JsValue> {
    if get(node, "nodeType").and_then(|t| t.as_f64()) == Some(9.0) {
        return Some(node.clone());
    }
    get(node, "ownerDocument")
}
