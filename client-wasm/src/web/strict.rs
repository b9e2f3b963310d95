//! Browser objects read into serde types as strictly as `serde_json` reads text: a key the type
//! does not know is an error that names it.
//!
//! `serde_wasm_bindgen` looks up only the fields a struct declares, so
//! `#[serde(deny_unknown_fields)]` never fires on a `JsValue`. The DOM restriction types rely on
//! it (a misspelt `urlPattern` must not become a rule for every page), so their objects are
//! checked here first, against the field list of the type itself rather than a copy of it.

use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};

pub use crate::fields::fields_of;

/// `Err` naming the first key of the object `value` that `T` does not read. Anything but a plain
/// object passes: reading it as `T` reports that with the usual message.
pub fn known_keys<T: DeserializeOwned>(value: &JsValue) -> Result<(), String> {
    if !value.is_object() || js_sys::Array::is_array(value) {
        return Ok(());
    }
    let fields = fields_of::<T>();
    let unknown = js_sys::Object::keys(value.unchecked_ref::<js_sys::Object>())
        .iter()
        .filter_map(|k| k.as_string())
        .find(|k| !fields.contains(&k.as_str()));
    match unknown {
        None => Ok(()),
        Some(key) => {
            let expected: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
            Err(format!(
                "unknown field `{key}`, expected one of {}",
                expected.join(", ")
            ))
        }
    }
}

/// Checks every element of the array `list` with [`known_keys`]; the error names the element
/// (`{what}[i]: …`). Anything but an array passes.
pub fn known_keys_each<T: DeserializeOwned>(list: &JsValue, what: &str) -> Result<(), String> {
    if !js_sys::Array::is_array(list) {
        return Ok(());
    }
    let list: &js_sys::Array = list.unchecked_ref();
    for (i, item) in list.iter().enumerate() {
        known_keys::<T>(&item).map_err(|e| format!("{what}[{i}]: {e}"))?;
    }
    Ok(())
}
