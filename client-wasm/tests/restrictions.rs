//! Site DOM restrictions in a real DOM (headless Chromium): *mask*, *hide* and *restrict* rules
//! applied to snapshots, script mutations, form events and agent actions, plus the customer's
//! marker and the page-config parsing.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p cobrowse-client --target wasm32-unknown-unknown --test restrictions`
#![cfg(target_arch = "wasm32")]
#![allow(missing_docs)] // test crate

use cobrowse_client::restrictions::{Rule, RuleAction};
use cobrowse_client::web::actions::perform;
use cobrowse_client::web::recorder::Recorder;
use cobrowse_client::web::restrict;
use cobrowse_protocol::{
    AgentAction, Message, NodeData, RefusalReason, Snapshot, decode, encode, walk_tree,
};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Document, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

fn doc() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("document")
}

fn rule(selector: &str, action: RuleAction) -> Rule {
    Rule {
        selector: selector.into(),
        action,
        url_pattern: None,
    }
}

/// Every text, attribute value and form value anywhere in the frames, as one string.
fn everything(msgs: &[Message]) -> String {
    msgs.iter()
        .map(|m| format!("{m:?}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The rules of a sheet as text.
fn sheet_text(sheet: &wasm_bindgen::JsValue) -> String {
    use js_sys::Reflect;
    let rules = Reflect::get(sheet, &"cssRules".into()).expect("readable rules");
    let n = Reflect::get(&rules, &"length".into())
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0) as u32;
    (0..n)
        .filter_map(|i| Reflect::get_u32(&rules, i).ok())
        .filter_map(|r| Reflect::get(&r, &"cssText".into()).ok()?.as_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[wasm_bindgen_test]
async fn mask_hide_and_restrict_rules_apply_before_encoding() {
    let d = doc();
    restrict::install(
        &d,
        vec![
            rule(".secret", RuleAction::Mask),
            rule("#box", RuleAction::Hide),
            rule("#danger", RuleAction::Restrict),
            rule("a[", RuleAction::Mask), // rejected by the browser, alone
        ],
        vec![rule("#notes", RuleAction::Mask)],
        Some(restrict::DEFAULT_MARKER),
    );
    let root = d.create_element("div").expect("div");
    root.set_id("fixture-r");
    root.set_inner_html(
        r#"<p class="secret" title="SecretTitle">SecretText</p>
           <input id="card" class="secret" value="SecretValueAttr">
           <textarea id="notes">SecretNotes</textarea>
           <div id="box" style="width:200px;height:50px">SecretBox<input value="SecretBoxInput"></div>
           <button id="danger" type="button">Delete</button><input id="plain" value="VisibleValue">"#,
    );
    d.body().expect("body").append_child(&root).expect("append");
    let sent = Rc::new(RefCell::new(Vec::new()));
    let s = Rc::clone(&sent);
    let rec = Recorder::start(
        web_sys::window().expect("window"),
        d.clone(),
        Rc::new(move |m: Message| s.borrow_mut().push(decode(&encode(&m)).expect("decodes"))),
        false,
        cobrowse_client::mask::PageMask::NONE,
    )
    .expect("recorder");
    let snap: Snapshot = match rec.snapshot() {
        Some(Message::Snapshot(s)) => *s,
        other => panic!("snapshot expected, got {other:?}"),
    };
    let text = everything(&[Message::Snapshot(Box::new(snap.clone()))]);
    assert!(text.contains("VisibleValue"), "unmasked values pass");
    for secret in [
        "SecretText",
        "SecretTitle",
        "SecretValueAttr",
        "SecretNotes",
        "SecretBox",
    ] {
        assert!(!text.contains(secret), "{secret} leaked in the snapshot");
    }
    // The hidden box: same element, only the box style and the marker attribute, no children.
    let mut hidden = None;
    walk_tree(&snap.nodes, snap.first_id, |id, _, rec| {
        if let NodeData::Element { attrs, .. } = &rec.data
            && attrs
                .iter()
                .any(|a| snap.names.resolve(a.name) == Some("data-cobrowse-hidden"))
        {
            hidden = Some((id, attrs.clone()));
        }
    });
    let (hidden_id, attrs) = hidden.expect("hidden element in the snapshot");
    let style = attrs
        .iter()
        .find(|a| snap.names.resolve(a.name) == Some("style"))
        .map(|a| a.value.clone())
        .expect("box style");
    assert!(
        style.contains("width:200px") && style.contains("height:50px"),
        "{style}"
    );
    let mut inside = 0;
    walk_tree(&snap.nodes, snap.first_id, |_, parent, _| {
        if parent == Some(hidden_id) {
            inside += 1;
        }
    });
    assert_eq!(inside, 0, "nothing inside the hidden box is sent");
    // The customer's marker: a constructed sheet the document adopts (a strict `style-src`
    // allows it, a `<style>` element it would refuse), shown to the customer, and our UI, so
    // neither the snapshot's sheets nor anything else sent carries it.
    let marker = d
        .adopted_style_sheets()
        .iter()
        .find(|s| sheet_text(s).contains(".secret"))
        .expect("the marker sheet is adopted by the document");
    assert!(cobrowse_client::web::sheets::is_own(&marker));
    assert!(
        d.query_selector("style[data-cobrowse-ui]")
            .expect("selector")
            .is_none(),
        "no <style> element where constructed sheets exist"
    );
    let card_outline = web_sys::window()
        .expect("window")
        .get_computed_style(&d.get_element_by_id("card").expect("card"))
        .expect("style")
        .expect("declaration")
        .get_property_value("outline-style")
        .expect("outline-style");
    assert_eq!(card_outline, "dashed", "the customer sees the marker");
    assert!(
        !text.contains("dashed"),
        "the marker's rule is not in the snapshot"
    );

    // Script changes and typing under masked elements stay masked.
    sent.borrow_mut().clear();
    let p = d.query_selector("#fixture-r p").expect("q").expect("p");
    p.set_text_content(Some("SecretScriptText"));
    p.set_attribute("title", "SecretScriptTitle").expect("attr");
    let card: HtmlInputElement = d
        .get_element_by_id("card")
        .expect("card")
        .dyn_into()
        .expect("input");
    card.set_value("SecretTyped");
    let ev = web_sys::Event::new("input").expect("event");
    card.dispatch_event(&ev).expect("dispatch");
    // Let the MutationObserver callback (a microtask) and a macrotask run.
    let tick = js_sys::Promise::new(&mut |resolve, _| {
        let _ = web_sys::window()
            .expect("window")
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
    });
    wasm_bindgen_futures::JsFuture::from(tick)
        .await
        .expect("tick");
    let frames = everything(&sent.borrow());
    assert!(!frames.is_empty());
    for secret in ["SecretScriptText", "SecretScriptTitle", "SecretTyped"] {
        assert!(!frames.contains(secret), "{secret} leaked: {frames}");
    }

    // Restricted: refused even though write mode is the caller's business.
    let w = web_sys::window().expect("window");
    let node = |dom_id: &str| d.get_element_by_id(dom_id).map(web_sys::Node::from);
    let click = AgentAction::Click {
        node: 1,
        x: 1,
        y: 1,
    };
    assert_eq!(
        perform(&w, node("danger"), &click),
        Err(RefusalReason::Restricted)
    );
    let focus = AgentAction::Focus { node: 1 };
    assert_eq!(
        perform(&w, node("danger"), &focus),
        Err(RefusalReason::Restricted)
    );
    let type_masked = AgentAction::Input {
        node: 1,
        value: "x".into(),
    };
    assert_eq!(
        perform(&w, node("card"), &type_masked),
        Err(RefusalReason::Restricted),
        "the agent cannot type into a field it cannot see"
    );
    assert_eq!(perform(&w, node("plain"), &type_masked), Ok(()));
    drop(rec);
    root.remove();
    restrict::clear();
}

#[wasm_bindgen_test]
fn page_config_adds_rules_and_rejects_malformed_ones() {
    let cfg = js_sys::JSON::parse(
        r##"{"restrictions":[{"selector":"#a","action":"mask"}],"maskMarker":false}"##,
    )
    .expect("json");
    let (rules, marker) = restrict::page_rules(&cfg).expect("valid");
    assert_eq!(rules, vec![rule("#a", RuleAction::Mask)]);
    assert_eq!(marker, None);
    let bad = js_sys::JSON::parse(r##"{"restrictions":[{"selector":"#a","action":"unmask"}]}"##)
        .expect("json");
    assert!(
        restrict::page_rules(&bad).is_err(),
        "no such action as unmask"
    );
    // A misspelt key would have made the rule apply on every page: refused, and named.
    let misspelt = js_sys::JSON::parse(
        r##"{"restrictions":[{"selector":"#a","action":"mask"},
            {"selector":"#b","action":"hide","urlPatern":"*/pay*"}]}"##,
    )
    .expect("json");
    let e = restrict::page_rules(&misspelt).expect_err("unknown field");
    assert_eq!(
        e,
        "invalid cobrowse config: restrictions[1]: unknown field `urlPatern`, \
         expected one of `selector`, `action`, `urlPattern`"
    );
    let bad_marker = js_sys::JSON::parse(r#"{"maskMarker":3}"#).expect("json");
    assert!(restrict::page_rules(&bad_marker).is_err());
    let (rules, marker) = restrict::page_rules(&wasm_bindgen::JsValue::UNDEFINED).expect("none");
    assert!(rules.is_empty());
    assert_eq!(marker.as_deref(), Some(restrict::DEFAULT_MARKER));
}

#[wasm_bindgen_test]
fn the_servers_document_is_read_strictly_and_validated() {
    let parse = |json: &str| restrict::policy(&js_sys::JSON::parse(json).expect("json"));
    let policy = parse(
        r##"{"version":1,"rules":[{"selector":"#card","action":"mask","urlPattern":"*/pay*"}]}"##,
    )
    .expect("valid document");
    assert_eq!(policy.rules[0].url_pattern.as_deref(), Some("*/pay*"));
    let e = parse(r##"{"version":1,"rules":[{"selector":"#card","action":"mask","url":"x"}]}"##)
        .expect_err("unknown rule field");
    assert!(
        e.starts_with("dom restrictions: rules[0]: unknown field `url`"),
        "{e}"
    );
    let e = parse(r#"{"version":1,"rules":[],"mask":[]}"#).expect_err("unknown field");
    assert!(e.contains("unknown field `mask`"), "{e}");
    assert!(parse(r#"{"version":1}"#).is_err(), "rules are required");
    // What the server checks at start-up, the client checks too: nothing is installed.
    let v2 = parse(r#"{"version":2,"rules":[]}"#).expect("parses");
    let e = restrict::apply(&doc(), v2).expect_err("unknown version");
    assert_eq!(e, "dom restrictions: unsupported version 2 (expected 1)");
}

#[wasm_bindgen_test]
fn field_lists_come_from_the_types() {
    use cobrowse_client::restrictions::{DomPolicy, Rule};
    use cobrowse_client::web::strict::fields_of;
    assert_eq!(fields_of::<Rule>(), ["selector", "action", "urlPattern"]);
    assert_eq!(fields_of::<DomPolicy>(), ["version", "rules"]);
    assert!(fields_of::<String>().is_empty());
}
