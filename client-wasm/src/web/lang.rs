//! The customer UI's language in the browser: which one (config, then `<html lang>`, then the
//! browser's language) and loading one that is not compiled in from the server's static root
//! (`/cobrowse/locales/customer/<tag>.json`). The texts and fallback rules are in
//! [`crate::locale`].

use crate::locale::{self, TextMap};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Document;

/// The language tag to use: `configured` (`cobrowseConfig.locale`) if set, else the page's
/// `<html lang>`, else `navigator.language`, else `en`.
pub fn language(document: &Document, configured: &str) -> String {
    let page = || {
        document
            .document_element()
            .and_then(|e| e.get_attribute("lang"))
    };
    let browser = || cobrowse_web_glue::realm::window().and_then(|w| w.navigator().language());
    locale::choose([Some(configured.to_owned()), page(), browser()])
}

/// Loads `tag`'s table from the server (`base` without trailing slash), most specific file
/// first; `None` when no file exists or none parses (the caller keeps English).
pub async fn fetch(base: &str, tag: &str) -> Option<TextMap> {
    let window = cobrowse_web_glue::realm::window()?;
    for name in locale::candidates(tag) {
        let url = format!("{base}/cobrowse/locales/customer/{name}.json");
        let Ok(resp) = JsFuture::from(window.fetch_with_str(&url)).await else {
            continue;
        };
        let Ok(resp) = resp.dyn_into::<web_sys::Response>() else {
            continue;
        };
        if !resp.ok() {
            continue;
        }
        let Ok(text) = resp.text() else { continue };
        let Some(text) = JsFuture::from(text).await.ok().and_then(|t| t.as_string()) else {
            continue;
        };
        match locale::parse_map(&text) {
            Ok(map) => return Some(map),
            Err(e) => web_sys::console::warn_1(&format!("cobrowse: {url}: {e}").into()),
        }
    }
    None
}
