//! The agent's credential in the browser (the agent token or a JWT from the agent desktop).
//!
//! It arrives in the page's fragment (`slave.html#sid=…&auth=…`), which never reaches a server,
//! a proxy log or a `Referer`. The page then takes it out of the address bar at once
//! (`history.replaceState`, so it is not in the history, a bookmark or a screenshot of the URL)
//! and keeps it in `sessionStorage` for the tab: a reload or a session typed into the page later
//! still has it, another tab or a closed one does not. `link` sends it on every call.

use crate::params;
use wasm_bindgen::JsValue;
use web_sys::Window;

/// Key of the credential in `sessionStorage`.
pub const STORAGE_KEY: &str = "cobrowse-agent-auth";

/// The credential for this tab: one the fragment brings now (kept, and removed from the address
/// bar), else the one kept earlier.
pub fn take(window: &Window) -> Option<String> {
    let loc = window.location();
    let hash = loc.hash().unwrap_or_default();
    let fresh = params::parse("", &hash).auth;
    if let Some(rest) = params::without_auth(&hash) {
        let url = format!(
            "{}{}{}{rest}",
            loc.pathname().unwrap_or_default(),
            loc.search().unwrap_or_default(),
            if rest.is_empty() { "" } else { "#" },
        );
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
        }
    }
    let storage = window.session_storage().ok().flatten();
    match fresh {
        Some(credential) => {
            if let Some(s) = &storage {
                let _ = s.set_item(STORAGE_KEY, &credential);
            }
            Some(credential)
        }
        None => storage.and_then(|s| s.get_item(STORAGE_KEY).ok().flatten()),
    }
}
