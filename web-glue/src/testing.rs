//! Helpers the browser tests of the wasm crates share (feature `test-support`, dev-dependency only).

/// Resolves at the next animation frame: what a test awaits for the page to render, throttled
/// work to run, or an iframe's document to load.
pub async fn next_frame() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        let _ = web_sys::window()
            .expect("window")
            .request_animation_frame(&resolve);
    });
    wasm_bindgen_futures::JsFuture::from(p)
        .await
        .expect("frame");
}
