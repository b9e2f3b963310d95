//! Browser tests of the annotation layer both pages draw strokes in. Run with
//! `cargo test -p cobrowse-web-glue --target wasm32-unknown-unknown --test ink` (headless Chromium).

#![cfg(target_arch = "wasm32")]
#![allow(missing_docs)] // Test crate.

use cobrowse_protocol::{Ink, InkTool};
use cobrowse_web_glue::ink::InkLayer;
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

/// Resolves after `ms` milliseconds.
async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .expect("window")
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .expect("setTimeout");
    });
    wasm_bindgen_futures::JsFuture::from(p)
        .await
        .expect("timer");
}

fn host() -> (web_sys::Document, Element) {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .expect("document");
    let div = doc.create_element("div").expect("div");
    doc.body()
        .expect("body")
        .append_child(&div)
        .expect("append");
    (doc, div)
}

fn paths(host: &Element) -> Vec<Element> {
    let list = host.query_selector_all("path").expect("query");
    (0..list.length())
        .filter_map(|i| list.item(i))
        .map(wasm_bindgen::JsCast::unchecked_into::<Element>)
        .collect()
}

#[wasm_bindgen_test]
async fn strokes_are_drawn_follow_the_view_and_are_removed_when_their_time_is_up() {
    let (doc, div) = host();
    let layer = InkLayer::new(&doc, &div, "ink").expect("layer");
    let svg = div.query_selector("svg").expect("query").expect("an <svg>");
    assert_eq!(svg.get_attribute("pointer-events").as_deref(), Some("none"));

    let first = Ink::from_points(3, InkTool::Highlight, &[(10, 20), (15, 20)], false).expect("ink");
    let last = Ink::from_points(3, InkTool::Highlight, &[(30, 22)], true).expect("ink");
    layer.draw(7, &first);
    let p = paths(&div);
    assert_eq!(p.len(), 1);
    assert_eq!(
        p[0].get_attribute("data-cobrowse-ink").as_deref(),
        Some("highlight")
    );
    assert_eq!(p[0].get_attribute("data-stroke").as_deref(), Some("7"));
    assert_eq!(p[0].get_attribute("d").as_deref(), Some("M10 20 L15 20"));
    assert!(!p[0].has_attribute("data-done"));
    layer.draw(7, &last);
    assert_eq!(
        p[0].get_attribute("d").as_deref(),
        Some("M10 20 L15 20 L30 22")
    );
    assert!(p[0].has_attribute("data-done"));

    layer.set_view(0.5, 100.0, 40.0);
    let g = svg.first_element_child().expect("the <g>");
    assert_eq!(
        g.get_attribute("transform").as_deref(),
        Some("scale(0.5) translate(-100 -40)")
    );

    // Gone once `Ink::FADE_MS` has passed since the last frame (polled, bounded).
    let mut waited = 0;
    while !layer.is_empty() && waited < 3 * Ink::FADE_MS as i32 {
        sleep(50).await;
        waited += 50;
    }
    assert!(
        layer.is_empty(),
        "the stroke is still there after {waited} ms"
    );
    assert!(
        waited >= (Ink::FADE_MS as i32) - 100,
        "removed after {waited} ms"
    );
    assert!(paths(&div).is_empty());

    drop(layer);
    assert!(div.query_selector("svg").expect("query").is_none());
}
