//! Running a closure once in a later task, and freeing it when it has run.
//!
//! `gloo_timers::callback::Timeout::forget` keeps its closure for the life of the page: a
//! forgotten timer's closure cannot know it will not be called again. A one-shot closure handed
//! to JS (`Closure::once_into_js`) is freed by its one call, so work deferred this way on every
//! form reset or dead socket costs nothing once it is done.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The global `setTimeout` (a window's or a worker's).
    #[wasm_bindgen(catch, js_name = setTimeout)]
    fn set_timeout(handler: &JsValue, ms: i32) -> Result<JsValue, JsValue>;
}

/// Runs `f` in a later task (a zero-delay timer): after the current task and its microtasks.
/// For work that must not run inside its caller, such as a callback that drops what calls it,
/// or a read that needs the browser to finish what the current event does.
pub fn soon(f: impl FnOnce() + 'static) {
    let _ = set_timeout(&Closure::once_into_js(f), 0);
}
