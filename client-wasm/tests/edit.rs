//! Write mode in `contenteditable` editors, in a real DOM (headless Chromium): an
//! [`AgentAction::Edit`] places the caret where the agent put it and types through the browser's
//! editing machinery; an editor that handles `beforeinput` itself gets the step instead; masked,
//! restricted and non-editable targets are refused.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p cobrowse-client --target wasm32-unknown-unknown --test edit`
#![cfg(target_arch = "wasm32")]
#![allow(missing_docs)] // test crate

use cobrowse_client::restrictions::{Rule, RuleAction};
use cobrowse_client::web::actions::{perform, perform_at};
use cobrowse_client::web::restrict;
use cobrowse_protocol::{AgentAction, Caret, EditOp, RefusalReason};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Document, Node};

wasm_bindgen_test_configure!(run_in_browser);

fn doc() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("document")
}

fn edit(caret: Option<u32>, op: EditOp) -> AgentAction {
    AgentAction::Edit {
        node: 1,
        caret: caret.map(|offset| Caret { node: 2, offset }),
        op,
    }
}

#[wasm_bindgen_test]
fn edits_go_to_the_caret_and_editors_see_beforeinput() {
    let d = doc();
    let w = web_sys::window().expect("window");
    restrict::install(
        &d,
        vec![Rule {
            selector: ".secret".into(),
            action: RuleAction::Mask,
            url_pattern: None,
        }],
        vec![],
        None,
    );
    let root = d.create_element("div").expect("div");
    root.set_inner_html(
        r#"<p id="ed" contenteditable="true">Hello world</p>
           <div id="fw" contenteditable="true">model</div>
           <div id="masked" contenteditable="true">ok <span class="secret">pin 1234</span></div>
           <p id="plain">not editable</p>"#,
    );
    d.body().expect("body").append_child(&root).expect("append");
    let el = |id: &str| d.get_element_by_id(id).expect(id);
    let node = |id: &str| Some(Node::from(el(id)));
    let text = |id: &str| el(id).first_child();

    // Plain contenteditable: the caret after "Hello", then text, a correction, more text.
    let log = js_sys::Array::new();
    let push = {
        let log = log.clone();
        wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(
            move |e: web_sys::Event| {
                let t = js_sys::Reflect::get(&e, &"inputType".into()).unwrap_or_default();
                log.push(&format!("{}:{}", e.type_(), t.as_string().unwrap_or_default()).into());
            },
        )
    };
    for ty in ["beforeinput", "input"] {
        el("ed")
            .add_event_listener_with_callback(ty, push.as_ref().unchecked_ref())
            .expect("listen");
    }
    let ed = node("ed");
    assert_eq!(
        perform_at(
            &w,
            ed.clone(),
            text("ed"),
            &edit(Some(5), EditOp::Insert(", dear ü".into()))
        ),
        Ok(())
    );
    assert_eq!(
        perform(&w, ed.clone(), &edit(None, EditOp::DeleteBackward)),
        Ok(())
    );
    assert_eq!(
        perform(&w, ed.clone(), &edit(None, EditOp::Insert("u!".into()))),
        Ok(())
    );
    assert_eq!(
        el("ed").text_content().as_deref(),
        Some("Hello, dear u! world")
    );
    let log: Vec<String> = log.iter().filter_map(|v| v.as_string()).collect();
    assert_eq!(
        log,
        [
            "beforeinput:insertText",
            "input:insertText",
            "beforeinput:deleteContentBackward",
            "input:deleteContentBackward",
            "beforeinput:insertText",
            "input:insertText",
        ]
    );
    // A caret past the end is clamped, not an error.
    assert_eq!(
        perform_at(
            &w,
            ed.clone(),
            text("ed"),
            &edit(Some(999), EditOp::Insert(".".into()))
        ),
        Ok(())
    );
    assert!(
        el("ed")
            .text_content()
            .unwrap_or_default()
            .ends_with("world.")
    );

    // A framework-like editor: it handles beforeinput itself (preventDefault) and renders its
    // model; the browser's default editing must not also run.
    let fw =
        wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(|e: web_sys::Event| {
            e.prevent_default();
            let data = js_sys::Reflect::get(&e, &"data".into())
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default();
            let t = e
                .target()
                .expect("target")
                .unchecked_into::<web_sys::Element>();
            let now = t.text_content().unwrap_or_default();
            t.set_text_content(Some(&format!("{now}[{data}]")));
        });
    el("fw")
        .add_event_listener_with_callback("beforeinput", fw.as_ref().unchecked_ref())
        .expect("listen");
    assert_eq!(
        perform(&w, node("fw"), &edit(None, EditOp::Insert("x".into()))),
        Ok(())
    );
    assert_eq!(el("fw").text_content().as_deref(), Some("model[x]"));

    // Masked text inside the editor: refused, nothing changes.
    let before = el("masked").inner_html();
    assert_eq!(
        perform(&w, node("masked"), &edit(None, EditOp::DeleteBackward)),
        Err(RefusalReason::Restricted)
    );
    assert_eq!(el("masked").inner_html(), before);
    // Not editable on this page.
    assert_eq!(
        perform(&w, node("plain"), &edit(None, EditOp::Insert("x".into()))),
        Err(RefusalReason::NotEditable)
    );
    // A caret the customer cannot resolve is refused rather than typed somewhere else.
    assert_eq!(
        perform_at(&w, ed, None, &edit(Some(0), EditOp::Insert("x".into()))),
        Err(RefusalReason::NoSuchNode)
    );
    root.remove();
    restrict::clear();
}
