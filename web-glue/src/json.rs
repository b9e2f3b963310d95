//! JSON the pages read (locale files), parsed by the browser.

use cobrowse_common::locale::TextMap;

/// Parses a flat JSON object of strings (a locale file): the browser's `JSON.parse` in wasm,
/// serde_json natively (`cobrowse_common::locale::parse_map`). Anything else — not JSON, not an object, a value that is not a string —
/// is an error saying which.
pub fn parse_text_map(json: &str) -> Result<TextMap, String> {
    #[cfg(target_arch = "wasm32")]
    {
        in_browser(json)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        cobrowse_common::locale::parse_map(json)
    }
}

#[cfg(target_arch = "wasm32")]
fn in_browser(json: &str) -> Result<TextMap, String> {
    use wasm_bindgen::JsCast;
    let v = js_sys::JSON::parse(json).map_err(|_| "locale file: not JSON".to_string())?;
    if !v.is_object() || js_sys::Array::is_array(&v) {
        return Err("locale file: not a JSON object".into());
    }
    let mut out = TextMap::new();
    for entry in js_sys::Object::entries(v.unchecked_ref()).iter() {
        let pair: js_sys::Array = entry.unchecked_into();
        match (pair.get(0).as_string(), pair.get(1).as_string()) {
            (Some(k), Some(text)) => {
                out.insert(k, text);
            }
            _ => return Err("locale file: every value must be a string".into()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_object_of_strings_is_a_text_map() {
        assert_eq!(parse_text_map("{\"a\":\"b\"}").unwrap()["a"], "b");
        assert!(parse_text_map("[1]").is_err());
        assert!(parse_text_map("{\"a\":1}").is_err());
        assert!(parse_text_map("not json").is_err());
    }
}
