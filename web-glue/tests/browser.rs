//! Browser tests of the shared socket and the cross-realm casts. Run with
//! `cargo test -p cobrowse-web-glue --target wasm32-unknown-unknown` (headless Chromium).

#![cfg(target_arch = "wasm32")]
#![allow(missing_docs)] // Test crate.

use cobrowse_protocol::Message;
use cobrowse_web_glue::realm::{element, get, html_element, html_tag, items, length, shadow_root};
use cobrowse_web_glue::socket::{Reconnect, Socket, SocketEvent};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{Document, Element, HtmlIFrameElement, Node};

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

/// A socket URL nothing listens on: local port 47 refuses at once (and is not on the browser's
/// list of blocked ports).
const NOWHERE: &str = "ws://127.0.0.1:47/";

fn recording() -> (
    Rc<RefCell<Vec<SocketEvent>>>,
    impl Fn(SocketEvent) + 'static,
) {
    let events = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&events);
    (events, move |e| sink.borrow_mut().push(e))
}

#[wasm_bindgen_test]
fn a_url_that_is_no_socket_url_is_an_error_not_a_socket() {
    assert!(Socket::open("ftp://example.invalid/", |_| {}).is_err());
}

#[wasm_bindgen_test]
async fn a_refused_connection_reports_its_close_and_sends_nothing() {
    let (events, on_event) = recording();
    let socket = Socket::open(NOWHERE, on_event).expect("socket");
    assert!(!socket.send(&Message::Leave), "not open yet");
    for _ in 0..50 {
        if events
            .borrow()
            .iter()
            .any(|e| matches!(e, SocketEvent::Closed(..)))
        {
            break;
        }
        sleep(100).await;
    }
    let events = events.borrow();
    assert!(
        matches!(events.last(), Some(SocketEvent::Closed(1006, _))),
        "{events:?}"
    );
    assert!(!events.contains(&SocketEvent::Open), "{events:?}");
    assert!(!socket.sender().send(&Message::Leave), "closed");
}

#[wasm_bindgen_test]
async fn a_dropped_socket_never_calls_back() {
    let (events, on_event) = recording();
    drop(Socket::open(NOWHERE, on_event).expect("socket"));
    sleep(1000).await;
    assert!(events.borrow().is_empty(), "{:?}", events.borrow());
}

#[wasm_bindgen_test]
async fn a_reconnect_runs_once_and_a_cancelled_one_never() {
    let runs = Rc::new(Cell::new(0));
    let mut reconnect = Reconnect::default();
    let r = Rc::clone(&runs);
    let delay = reconnect.schedule(move || r.set(r.get() + 1));
    assert!((250..=500).contains(&delay), "first delay {delay} ms");
    sleep(delay as i32 + 200).await;
    assert_eq!(runs.get(), 1);

    let r = Rc::clone(&runs);
    reconnect.schedule(move || r.set(r.get() + 10));
    reconnect.cancel();
    let r = Rc::clone(&runs);
    let delay = reconnect.schedule(move || r.set(r.get() + 100));
    let r = Rc::clone(&runs);
    // Replaces the pending one: only this one runs.
    let second = reconnect.schedule(move || r.set(r.get() + 1000));
    sleep(delay.max(second) as i32 + 200).await;
    assert_eq!(runs.get(), 1001);
}

/// A same-origin iframe's document: its nodes belong to another realm.
async fn other_realm() -> Document {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("document");
    let frame: HtmlIFrameElement = document
        .create_element("iframe")
        .expect("iframe")
        .unchecked_into();
    document
        .body()
        .expect("body")
        .append_child(&frame)
        .expect("append");
    sleep(0).await;
    frame.content_document().expect("same-origin document")
}

#[wasm_bindgen_test]
async fn casts_work_on_nodes_of_another_realm() {
    let doc = other_realm().await;
    let div: Node = doc.create_element("div").expect("div").into();
    assert!(
        div.dyn_ref::<Element>().is_none(),
        "instanceof fails across realms"
    );
    assert!(element(&div).is_some());
    assert!(html_element(&div).is_some());
    assert!(html_tag::<web_sys::HtmlElement>(&div, "div").is_some());
    assert!(html_tag::<web_sys::HtmlElement>(&div, "span").is_none());
    let svg: Node = doc
        .create_element_ns(Some("http://www.w3.org/2000/svg"), "svg")
        .expect("svg")
        .into();
    assert!(element(&svg).is_some() && html_element(&svg).is_none());
    let text: Node = doc.create_text_node("x").into();
    assert!(element(&text).is_none());
    let fragment: Node = doc.create_document_fragment().into();
    assert!(
        shadow_root(&fragment).is_none(),
        "a plain fragment has no host"
    );
}

#[wasm_bindgen_test]
async fn reflect_reads_skip_what_is_not_there() {
    let doc: JsValue = other_realm().await.into();
    assert!(get(&JsValue::NULL, "x").is_none());
    assert!(get(&JsValue::from(3), "x").is_none());
    assert!(get(&doc, "noSuchProperty").is_none());
    assert!(get(&doc, "styleSheets").is_some());
    let list: JsValue = js_sys::Array::of3(&js_sys::Object::new(), &1.into(), &doc).into();
    assert_eq!(length(&list), 3);
    assert_eq!(items(&list).len(), 2, "only the objects");
    assert_eq!(length(&doc), 0);
    assert!(items(&JsValue::UNDEFINED).is_empty());
}

#[wasm_bindgen_test]
async fn soon_runs_once_in_a_later_task() {
    let ran = Rc::new(Cell::new(0));
    let r = Rc::clone(&ran);
    cobrowse_web_glue::soon::soon(move || r.set(r.get() + 1));
    assert_eq!(ran.get(), 0, "not inside its caller");
    // Microtasks run before it: it is a task of its own.
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&JsValue::NULL))
        .await
        .expect("microtask");
    assert_eq!(ran.get(), 0, "not in the caller's microtasks");
    // A zero-delay timer set after it fires after it.
    sleep(0).await;
    assert_eq!(ran.get(), 1);
    sleep(20).await;
    assert_eq!(ran.get(), 1, "once");
}
