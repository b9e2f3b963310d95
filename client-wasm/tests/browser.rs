//! Capture in a real DOM (headless Chromium via wasm-bindgen-test-runner): build a page, take a
//! snapshot, mutate, and check that the produced frames decode and describe the change.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p cobrowse-client --target wasm32-unknown-unknown`
#![cfg(target_arch = "wasm32")]
#![allow(missing_docs)] // test crate

use cobrowse_client::capture::{DomTree, RawNode, SideState, serialize_subtree};
use cobrowse_client::mask::DefaultPolicy;
use cobrowse_client::mirror::IdMirror;
use cobrowse_client::web::dom::{WeakKeys, WebDom};
use cobrowse_client::web::recorder::Recorder;
use cobrowse_protocol::{
    FormState, Insert, Message, NameTable, Namespace, NodeData, NodeId, NodeRecord, Snapshot,
    decode, encode, walk_tree,
};
use cobrowse_web_glue::testing::next_frame;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Document, Element, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

fn doc() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("document")
}

/// Every frame goes through encode → decode, as it would on the wire.
fn wire(m: &Message) -> Message {
    decode(&encode(m)).expect("frame decodes")
}

struct Page {
    root: Element,
    sent: Rc<RefCell<Vec<Message>>>,
    recorder: Recorder,
}

impl Page {
    /// Replaces the body's content with `html` and starts a recorder on the document.
    fn new(html: &str) -> Page {
        let d = doc();
        let body = d.body().expect("body");
        // The test runner reports through its own elements in <body>: keep them, replace ours.
        if let Some(old) = d.get_element_by_id("fixture") {
            old.remove();
        }
        let root = d.create_element("div").expect("div");
        root.set_id("fixture");
        root.set_inner_html(html);
        body.append_child(&root).expect("append");
        let sent = Rc::new(RefCell::new(Vec::new()));
        let s = Rc::clone(&sent);
        let recorder = Recorder::start(
            web_sys::window().expect("window"),
            d,
            Rc::new(move |m: Message| s.borrow_mut().push(wire(&m))),
            false,
            cobrowse_client::mask::PageMask::NONE,
        )
        .expect("recorder");
        Page {
            root,
            sent,
            recorder,
        }
    }

    fn snapshot(&self) -> Snapshot {
        match self.recorder.snapshot().map(|m| wire(&m)) {
            Some(Message::Snapshot(s)) => *s,
            other => panic!("expected a snapshot, got {other:?}"),
        }
    }

    fn take(&self) -> Vec<Message> {
        std::mem::take(&mut self.sent.borrow_mut())
    }

    fn el(&self, sel: &str) -> Element {
        self.root
            .query_selector(sel)
            .expect("selector")
            .expect("element exists")
    }
}

fn attr<'a>(names: &NameTable, rec: &'a NodeRecord, name: &str) -> Option<&'a str> {
    match &rec.data {
        NodeData::Element { attrs, .. } => attrs
            .iter()
            .find(|a| names.resolve(a.name) == Some(name))
            .map(|a| a.value.as_str()),
        _ => None,
    }
}

fn tag<'a>(names: &'a NameTable, rec: &NodeRecord) -> Option<&'a str> {
    match &rec.data {
        NodeData::Element { tag, .. } => names.resolve(*tag),
        _ => None,
    }
}

/// Id of the snapshot element whose `id` attribute is `dom_id`.
fn id_of(s: &Snapshot, dom_id: &str) -> NodeId {
    let mut found = None;
    walk_tree(&s.nodes, s.first_id, |id, _, rec| {
        if attr(&s.names, rec, "id") == Some(dom_id) {
            found = Some(id);
        }
    });
    found.unwrap_or_else(|| panic!("#{dom_id} in snapshot"))
}

fn all_text(s: &Snapshot) -> String {
    s.nodes
        .iter()
        .filter_map(|r| match &r.data {
            NodeData::Text(t) | NodeData::Comment(t) => Some(t.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("|")
}

#[wasm_bindgen_test]
fn snapshot_captures_the_page_faithfully() {
    let page = Page::new(
        r#"<ul id="list"><li>one</li><li class="b">two</li></ul>
           <!-- a comment -->
           <svg id="pic" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>
           <input id="pw" type="password" value="hunter2">
           <input id="name" value="Ada">
           <input id="cb" type="checkbox" checked>
           <select id="sel"><option>a</option><option selected>b</option></select>
           <script>var secretCode = 1;</script>
           <div data-cobrowse-ui><p>our own UI</p></div>"#,
    );
    let pw: HtmlInputElement = page.el("#pw").dyn_into().expect("input");
    pw.set_value("typed-secret");
    let s = page.snapshot();
    cobrowse_protocol::validate_tree(&s.nodes, s.first_id, &s.names, 2048).expect("valid");
    assert!(matches!(s.nodes[0].data, NodeData::Document { .. }));
    assert!(
        s.nodes
            .iter()
            .any(|r| matches!(&r.data, NodeData::Doctype { name, .. } if name == "html"))
            || doc().doctype().is_none()
    );
    let text = all_text(&s);
    assert!(text.contains("one") && text.contains("two") && text.contains(" a comment "));
    assert!(!text.contains("secretCode"), "script text never leaves");
    assert!(!text.contains("our own UI"), "our UI is never captured");
    assert!(
        !format!("{s:?}").contains("hunter2") && !format!("{s:?}").contains("typed-secret"),
        "password values never leave"
    );
    let circle = s
        .nodes
        .iter()
        .find(|r| tag(&s.names, r) == Some("circle"))
        .expect("svg child");
    assert!(matches!(
        &circle.data,
        NodeData::Element {
            ns: Namespace::Svg,
            ..
        }
    ));
    let by_id = |d: &str| id_of(&s, d);
    let form = |id: NodeId| {
        s.form
            .iter()
            .find(|f| f.node == id)
            .map(|f| f.state.clone())
    };
    assert_eq!(form(by_id("name")), Some(FormState::Value("Ada".into())));
    assert_eq!(
        form(by_id("pw")),
        Some(FormState::Value("************".into()))
    );
    assert_eq!(form(by_id("cb")), Some(FormState::Checked(true)));
    assert_eq!(form(by_id("sel")), Some(FormState::Selected(vec![1])));
    assert!(s.viewport.width > 0 && s.viewport.dpr_centi > 0);
}

/// The DOM is read one call per node (`web/dom_reader.js`): what it packs into one string
/// must come out as the property-by-property reads give it, also for the awkward cases.
#[wasm_bindgen_test]
fn nodes_read_in_bulk_keep_every_detail() {
    let page = Page::new(
        r#"<p id="p" title="a&quot;b" data-x="">caf&eacute; &#x1F600;</p><svg id="pic"><g/></svg><!--x&#0;y-->"#,
    );
    let d = doc();
    // Values the parser never produces: a NUL in an attribute value (read the slow way), a
    // NUL in text, an element in no namespace, an element in a made-up one.
    let nul = d.create_element("b").expect("b");
    nul.set_id("nul");
    nul.set_attribute("data-v", "x\0y").expect("attr");
    nul.append_child(&d.create_text_node("t\0u")).expect("text");
    page.root.append_child(&nul).expect("append");
    let none = d.create_element_ns(None, "plain").expect("no namespace");
    none.set_attribute("id", "none").expect("id");
    page.root.append_child(&none).expect("append");
    let other = d
        .create_element_ns(Some("urn:example"), "ex:thing")
        .expect("namespaced");
    other.set_attribute("id", "other").expect("id");
    page.root.append_child(&other).expect("append");
    // Attributes `getAttribute` cannot read back by name: an upper-case name on an HTML
    // element, and two attributes sharing one name in different namespaces.
    let cased = d.create_element("b").expect("b");
    cased.set_id("cased");
    cased
        .set_attribute_ns(None, "FooBar", "mixed")
        .expect("cased attribute");
    page.root.append_child(&cased).expect("append");
    let dup = d.create_element("b").expect("b");
    dup.set_id("dup");
    // (In this order: `setAttribute` would change the namespaced one instead of adding one.)
    dup.set_attribute("twice", "one").expect("plain attribute");
    dup.set_attribute_ns(Some("urn:a"), "twice", "two")
        .expect("namespaced attribute");
    page.root.append_child(&dup).expect("append");

    let s = page.snapshot();
    let rec = |dom_id: &str| &s.nodes[(id_of(&s, dom_id) - s.first_id) as usize];
    let p = rec("p");
    assert_eq!(tag(&s.names, p), Some("p"));
    assert_eq!(attr(&s.names, p, "title"), Some("a\"b"));
    assert_eq!(attr(&s.names, p, "data-x"), Some(""));
    let NodeData::Element { ns, .. } = &rec("pic").data else {
        panic!("svg element")
    };
    assert_eq!(*ns, Namespace::Svg);
    assert_eq!(attr(&s.names, rec("nul"), "data-v"), Some("x\0y"));
    let text = all_text(&s);
    assert!(text.contains("café 😀"), "{text}");
    assert!(text.contains("t\0u"), "{text}");
    let NodeData::Element { ns, .. } = &rec("none").data else {
        panic!("plain element")
    };
    assert_eq!(
        *ns,
        Namespace::Html,
        "no namespace reads as HTML, as before"
    );
    let NodeData::Element { ns, tag: t, .. } = &rec("other").data else {
        panic!("namespaced element")
    };
    assert_eq!(*ns, Namespace::Other("urn:example".into()));
    assert_eq!(s.names.resolve(*t), Some("thing"));
    assert_eq!(attr(&s.names, rec("cased"), "FooBar"), Some("mixed"));
    let NodeData::Element { attrs, .. } = &rec("dup").data else {
        panic!("element")
    };
    let twice: Vec<&str> = attrs
        .iter()
        .filter(|a| s.names.resolve(a.name) == Some("twice"))
        .map(|a| a.value.as_str())
        .collect();
    assert_eq!(twice, ["one", "two"]);
}

#[wasm_bindgen_test]
fn mutations_are_coalesced_into_one_batch() {
    let page = Page::new(r#"<ul id="list"><li id="a">a</li><li id="b">b</li></ul><p id="p">x</p>"#);
    let s = page.snapshot();
    let list = id_of(&s, "list");
    let a = id_of(&s, "a");
    page.take();

    let d = doc();
    let ul = page.el("#list");
    // New row with text (serialized once), a reorder (a move), a temporary node (vanishes),
    // an attribute set then removed (nothing), a text change.
    let li = d.create_element("li").expect("li");
    li.set_text_content(Some("c"));
    ul.append_child(&li).expect("append");
    ul.append_child(&page.el("#a")).expect("move a");
    let tmp = d.create_element("span").expect("span");
    page.root.append_child(&tmp).expect("tmp");
    tmp.remove();
    let p = page.el("#p");
    p.set_attribute("title", "t").expect("attr");
    p.remove_attribute("title").expect("attr");
    p.set_text_content(Some("y"));
    page.recorder.flush();

    let sent = page.take();
    let batches: Vec<_> = sent
        .iter()
        .filter_map(|m| match m {
            Message::Mutations(b) => Some(b),
            _ => None,
        })
        .collect();
    assert_eq!(batches.len(), 1, "one batch per callback: {sent:?}");
    let b = batches[0];
    assert!(b.attrs.is_empty(), "title set then removed: {b:?}");
    let news: Vec<_> = b
        .inserts
        .iter()
        .filter_map(|i| match i {
            Insert::New(sub) => Some(sub),
            _ => None,
        })
        .collect();
    let moves: Vec<_> = b
        .inserts
        .iter()
        .filter(|i| matches!(i, Insert::Move { .. }))
        .collect();
    assert_eq!(moves.len(), 1);
    assert!(matches!(moves[0], Insert::Move { node, parent, .. } if *node == a && *parent == list));
    // The new row (li + its text) and the replaced text of <p>.
    let li_sub = news
        .iter()
        .find(|s| s.parent == list)
        .expect("new li under the list");
    assert_eq!(li_sub.nodes.len(), 2);
    assert_eq!(li_sub.nodes[1].data, NodeData::Text("c".into()));
    assert!(
        !b.inserts.iter().any(|i| matches!(i, Insert::New(s)
            if s.nodes.iter().any(|r| tag(&b.names, r) == Some("span")))),
        "added-and-removed span vanished"
    );
    assert!(
        news.iter()
            .any(|s| s.nodes[0].data == NodeData::Text("y".into())),
        "setting textContent replaces the text node"
    );
}

/// Records are read in one call per callback (`dom_reader.js`); a NUL in an old value makes
/// that callback's records be read one by one. Both ways give the same batch.
#[wasm_bindgen_test]
fn records_read_in_bulk_or_one_by_one_give_the_same_changes() {
    let page = Page::new(r#"<p id="p" data-v="a">x</p>"#);
    let s = page.snapshot();
    let p_id = id_of(&s, "p");
    page.take();
    let p = page.el("#p");
    let text = p.first_child().expect("text");
    let values = |sent: Vec<Message>| -> Vec<(Option<String>, Option<String>)> {
        sent.iter()
            .filter_map(|m| match m {
                Message::Mutations(b) => Some(b),
                _ => None,
            })
            .map(|b| {
                let attr = b
                    .attrs
                    .iter()
                    .find(|a| a.node == p_id && b.names.resolve(a.name) == Some("data-v"))
                    .and_then(|a| a.value.clone());
                let text = b.texts.first().map(|t| t.text.clone());
                (attr, text)
            })
            .collect()
    };
    // In bulk: old values "a" and "x" (the later records of the same attribute and text are
    // left out: only the first old value counts).
    p.set_attribute("data-v", "q").expect("attr");
    p.set_attribute("data-v", "b\0c").expect("attr");
    text.set_node_value(Some("w"));
    text.set_node_value(Some("y"));
    page.recorder.flush();
    assert_eq!(
        values(page.take()),
        vec![(Some("b\0c".into()), Some("y".into()))]
    );
    // One by one: the old value "b\0c" holds a NUL.
    p.set_attribute("data-v", "d").expect("attr");
    text.set_node_value(Some("z"));
    page.recorder.flush();
    assert_eq!(
        values(page.take()),
        vec![(Some("d".into()), Some("z".into()))]
    );
}

#[wasm_bindgen_test]
async fn observer_callback_sends_without_flush() {
    let page = Page::new(r#"<div id="box"></div>"#);
    let s = page.snapshot();
    let bx = id_of(&s, "box");
    page.take();
    page.el("#box").set_attribute("data-x", "1").expect("attr");
    // MutationObserver callbacks run as microtasks; one resolved promise later it has run.
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&wasm_bindgen::JsValue::from(0)))
        .await
        .expect("tick");
    let sent = page.take();
    let Some(Message::Mutations(b)) = sent.first() else {
        panic!("expected mutations, got {sent:?}")
    };
    assert_eq!(b.attrs.len(), 1);
    assert_eq!(b.attrs[0].node, bx);
    assert_eq!(b.attrs[0].value.as_deref(), Some("1"));
}

#[wasm_bindgen_test]
fn input_events_send_masked_form_state() {
    let page = Page::new(r#"<input id="pw" type="password"><input id="t">"#);
    let s = page.snapshot();
    let (pw_id, t_id) = (id_of(&s, "pw"), id_of(&s, "t"));
    page.take();
    for (sel, value) in [("#pw", "s3cr3t"), ("#t", "hello")] {
        let input: HtmlInputElement = page.el(sel).dyn_into().expect("input");
        input.set_value(value);
        let ev = web_sys::Event::new_with_event_init_dict("input", &{
            let i = web_sys::EventInit::new();
            i.set_bubbles(true);
            i
        })
        .expect("event");
        input.dispatch_event(&ev).expect("dispatch");
    }
    let forms: Vec<_> = page
        .take()
        .into_iter()
        .filter_map(|m| match m {
            Message::Form(f) => Some(f),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(
        forms
            .iter()
            .any(|f| f.node == pw_id && f.state == FormState::Value("******".into()))
    );
    assert!(
        forms
            .iter()
            .any(|f| f.node == t_id && f.state == FormState::Value("hello".into()))
    );
}

#[wasm_bindgen_test]
fn shadow_roots_are_captured_and_observed() {
    let page = Page::new(r#"<div id="host"></div>"#);
    let host = page.el("#host");
    let sr = host
        .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
        .expect("shadow");
    sr.set_inner_html("<b id=inner>shadow text</b>");
    let s = page.snapshot();
    assert!(
        s.nodes
            .iter()
            .any(|r| matches!(r.data, NodeData::ShadowRoot { open: true }))
    );
    assert!(all_text(&s).contains("shadow text"));
    page.take();
    sr.set_inner_html("<i>changed</i>");
    page.recorder.flush();
    let sent = page.take();
    assert!(
        sent.iter().any(|m| matches!(m, Message::Mutations(b) if b.inserts.iter().any(|i|
            matches!(i, Insert::New(sub) if sub.nodes.iter().any(|r| r.data == NodeData::Text("changed".into())))))),
        "{sent:?}"
    );
}

#[wasm_bindgen_test]
fn customer_ui_mounts_accessibly_and_is_not_captured() {
    let page = Page::new("<p>page</p>");
    let client =
        cobrowse_client::CobrowseClient::new(wasm_bindgen::JsValue::UNDEFINED).expect("client");
    client.mount().expect("mount");
    let host = doc()
        .query_selector("#cobrowse-ui[data-cobrowse-ui]")
        .expect("q")
        .expect("host");
    let root = host.shadow_root().expect("open shadow root");
    let start = root
        .query_selector("button[data-cobrowse-action=start]")
        .expect("q")
        .expect("start button");
    // Its name is its visible text (WCAG 2.5.3, label in name); the longer label describes it.
    assert_eq!(start.text_content().as_deref(), Some("Co-browse"));
    let desc = start.get_attribute("aria-describedby").expect("described");
    let desc = root
        .query_selector(&format!("#{desc}"))
        .expect("q")
        .expect("description element");
    assert_eq!(
        desc.text_content().as_deref(),
        Some("Start co-browsing with an agent")
    );
    let dialog = root
        .query_selector("[role=dialog]")
        .expect("q")
        .expect("dialog");
    assert_eq!(dialog.get_attribute("aria-modal").as_deref(), Some("true"));
    // Styled by an adopted sheet, with no `<style>` element or `style` attribute that a page's
    // strict `style-src` would refuse.
    assert_eq!(root.adopted_style_sheets().length(), 1);
    assert!(root.query_selector("style, [style]").expect("q").is_none());
    let placed = web_sys::window()
        .expect("window")
        .get_computed_style(&start)
        .expect("style")
        .expect("declaration");
    assert_eq!(
        placed.get_property_value("position").as_deref(),
        Ok("fixed")
    );
    assert_eq!(placed.get_property_value("right").as_deref(), Ok("16px"));
    assert_eq!(client.state(), "idle");
    assert_eq!(client.session_id(), None);
    let s = page.snapshot();
    assert!(
        !format!("{s:?}").contains("Co-browse"),
        "our UI stays out of snapshots"
    );
    client.destroy();
    assert!(doc().query_selector("#cobrowse-ui").expect("q").is_none());
}

#[wasm_bindgen_test]
fn write_mode_actions_respect_restrictions() {
    use cobrowse_client::web::actions::perform;
    use cobrowse_protocol::{AgentAction, RefusalReason};
    let page = Page::new(
        r#"<form onsubmit="return false"><input id="q"><input id="pw" type="Password">
           <input id="c" type="checkbox"><button id="go">Buy</button></form>"#,
    );
    let s = page.snapshot();
    let w = web_sys::window().expect("window");
    let node = |d: &str| page.recorder.node(id_of(&s, d));
    page.take();
    let input = AgentAction::Input {
        node: id_of(&s, "q"),
        value: "typed by agent".into(),
    };
    assert_eq!(perform(&w, node("q"), &input), Ok(()));
    let q: HtmlInputElement = page.el("#q").dyn_into().expect("input");
    assert_eq!(q.value(), "typed by agent");
    assert!(
        page.take()
            .iter()
            .any(|m| matches!(m, Message::Form(f) if f.iter().any(|v| v.state == FormState::Value("typed by agent".into())))),
        "the change is captured like a person's typing"
    );
    let pw = AgentAction::Input {
        node: id_of(&s, "pw"),
        value: "x".into(),
    };
    assert_eq!(perform(&w, node("pw"), &pw), Err(RefusalReason::Restricted));
    let buy = AgentAction::Click {
        node: id_of(&s, "go"),
        x: 1,
        y: 1,
    };
    assert_eq!(
        perform(&w, node("go"), &buy),
        Err(RefusalReason::Restricted)
    );
    let check = AgentAction::Check {
        node: id_of(&s, "c"),
        checked: true,
    };
    assert_eq!(perform(&w, node("c"), &check), Ok(()));
    let c: HtmlInputElement = page.el("#c").dyn_into().expect("input");
    assert!(c.checked());
    assert_eq!(perform(&w, None, &check), Err(RefusalReason::NoSuchNode));
}

#[wasm_bindgen_test]
fn push_state_navigation_is_reported_with_the_next_change() {
    use cobrowse_protocol::NavKind;
    let page = Page::new(r#"<main id="app">home</main>"#);
    let w = web_sys::window().expect("window");
    let history = w.history().expect("history");
    let original = w.location().href().expect("href");
    page.snapshot();
    page.recorder.navigation(NavKind::Load);
    page.take();
    history
        .push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("?view=cart"))
        .expect("pushState");
    page.el("#app").set_text_content(Some("cart"));
    page.recorder.flush();
    let sent = page.take();
    history
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&original))
        .expect("restore");
    assert!(
        sent.iter().any(|m| matches!(m, Message::Navigation(n)
            if n.kind == NavKind::Push && n.url.ends_with("?view=cart"))),
        "{sent:?}"
    );
}

/// Resolves at the iframe's next `load` event.
async fn next_load(el: &Element) {
    let target = el.clone();
    let p = js_sys::Promise::new(&mut |resolve, _| {
        let opts = web_sys::AddEventListenerOptions::new();
        opts.set_once(true);
        let _ = target.add_event_listener_with_callback_and_add_event_listener_options(
            "load", &resolve, &opts,
        );
    });
    wasm_bindgen_futures::JsFuture::from(p).await.expect("load");
}

#[wasm_bindgen_test]
async fn same_origin_iframe_documents_are_captured_and_followed() {
    let page = Page::new(r#"<iframe id="f"></iframe>"#);
    let frame = page.el("#f");
    let content = |f: &Element| {
        f.dyn_ref::<web_sys::HtmlIFrameElement>()
            .and_then(|f| f.content_document())
            .and_then(|d| d.body())
            .and_then(|b| b.text_content())
            .unwrap_or_default()
    };
    frame
        .set_attribute("srcdoc", "<p id=in>inside</p>")
        .expect("srcdoc");
    // The initial about:blank may report a load of its own first; wait for ours.
    for _ in 0..5 {
        if content(&frame).contains("inside") {
            break;
        }
        next_load(&frame).await;
    }
    let s = page.snapshot();
    let docs = s
        .nodes
        .iter()
        .filter(|r| matches!(r.data, NodeData::Document { .. }))
        .count();
    assert_eq!(docs, 2, "top document and the iframe's");
    assert!(all_text(&s).contains("inside"));
    page.take();

    // Changes inside the iframe are observed.
    let inner = frame
        .dyn_ref::<web_sys::HtmlIFrameElement>()
        .and_then(|f| f.content_document())
        .expect("same-origin document");
    let p = inner.get_element_by_id("in").expect("p");
    p.set_text_content(Some("changed inside"));
    page.recorder.flush();
    let sent = page.take();
    assert!(
        sent.iter().any(|m| matches!(m, Message::Mutations(b) if b.inserts.iter().any(|i|
            matches!(i, Insert::New(sub) if sub.nodes[0].data == NodeData::Text("changed inside".into()))))),
        "{sent:?}"
    );

    // A new document in the frame replaces the old one.
    frame
        .set_attribute("srcdoc", "<p>second page</p>")
        .expect("srcdoc");
    for _ in 0..5 {
        next_load(&frame).await;
        if content(&frame).contains("second page") {
            break;
        }
    }
    let sent = page.take();
    // (The srcdoc attribute change comes in its own batch first.)
    let b = sent
        .iter()
        .find_map(|m| match m {
            Message::Mutations(b) if !b.inserts.is_empty() => Some(b),
            _ => None,
        })
        .unwrap_or_else(|| panic!("a batch for the new document: {sent:?}"));
    assert_eq!(b.removes.len(), 1, "{b:?}");
    assert!(b.inserts.iter().any(|i| matches!(i, Insert::New(sub)
        if matches!(sub.nodes[0].data, NodeData::Document { .. })
            && sub.nodes.iter().any(|r| r.data == NodeData::Text("second page".into())))));
}

#[wasm_bindgen_test]
async fn hover_focus_and_pointer_are_sent_once_per_frame() {
    use cobrowse_protocol::Party;
    let page = Page::new(r#"<button id="b">buy</button><input id="i">"#);
    let s = page.snapshot();
    let (b, i) = (id_of(&s, "b"), id_of(&s, "i"));
    page.take();
    let over = |el: &Element, x: i32| {
        let init = web_sys::MouseEventInit::new();
        init.set_bubbles(true);
        init.set_composed(true);
        init.set_client_x(x);
        init.set_client_y(7);
        for ty in ["pointerover", "pointermove"] {
            let ev = web_sys::MouseEvent::new_with_mouse_event_init_dict(ty, &init).expect("ev");
            el.dispatch_event(&ev).expect("dispatch");
        }
    };
    let button = page.el("#b");
    for x in 1..=20 {
        over(&button, x);
    }
    page.el("#i")
        .dyn_into::<web_sys::HtmlElement>()
        .expect("html")
        .focus()
        .expect("focus");
    next_frame().await;
    next_frame().await;
    let sent = page.take();
    let pointers: Vec<_> = sent
        .iter()
        .filter_map(|m| match m {
            Message::Pointer(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(pointers.len(), 1, "20 moves, one frame: {sent:?}");
    assert_eq!(pointers[0].pos, Some((20, 7)), "latest position wins");
    assert_eq!(pointers[0].party, Party::Customer);
    let pseudo = sent
        .iter()
        .rev()
        .find_map(|m| match m {
            Message::Pseudo(p) => Some(p),
            _ => None,
        })
        .expect("pseudo state");
    assert_eq!(pseudo.hover, Some(b));
    assert_eq!(pseudo.focus, Some(i));
}

/// The live DOM asked node by node: every question goes to [`WebDom`] except the one-call walk,
/// so a subtree is serialized the other way.
struct NodeByNode<'a>(&'a WebDom);

impl DomTree for NodeByNode<'_> {
    type Node = web_sys::Node;
    fn key(&self, n: &Self::Node) -> u64 {
        self.0.key(n)
    }
    fn parent(&self, n: &Self::Node) -> Option<Self::Node> {
        self.0.parent(n)
    }
    fn next_sibling(&self, n: &Self::Node) -> Option<Self::Node> {
        self.0.next_sibling(n)
    }
    fn children(&self, n: &Self::Node) -> Vec<Self::Node> {
        self.0.children(n)
    }
    fn children_known(&self, n: &Self::Node, raw: &RawNode) -> Vec<Self::Node> {
        self.0.children_known(n, raw)
    }
    fn is_root(&self, n: &Self::Node) -> bool {
        self.0.is_root(n)
    }
    fn is_excluded(&self, n: &Self::Node) -> bool {
        self.0.is_excluded(n)
    }
    fn hides_children(&self, n: &Self::Node) -> bool {
        self.0.hides_children(n)
    }
    fn hides_children_known(&self, n: &Self::Node, raw: &RawNode) -> bool {
        self.0.hides_children_known(n, raw)
    }
    fn describe(&self, n: &Self::Node) -> Option<RawNode> {
        self.0.describe(n)
    }
    fn describe_captured(&self, n: &Self::Node) -> Option<RawNode> {
        self.0.describe_captured(n)
    }
    fn attribute(&self, n: &Self::Node, name: &str) -> Option<String> {
        self.0.attribute(n, name)
    }
    fn text(&self, n: &Self::Node) -> Option<String> {
        self.0.text(n)
    }
    fn form_state(&self, n: &Self::Node) -> Option<FormState> {
        self.0.form_state(n)
    }
    fn form_state_known(&self, n: &Self::Node, raw: &RawNode) -> Option<FormState> {
        self.0.form_state_known(n, raw)
    }
    fn scroll(&self, n: &Self::Node) -> Option<(i32, i32)> {
        self.0.scroll(n)
    }
    fn matches_mask_rule(&self, n: &Self::Node) -> bool {
        self.0.matches_mask_rule(n)
    }
    fn matches_mask_rule_itself(&self, n: &Self::Node) -> bool {
        self.0.matches_mask_rule_itself(n)
    }
    fn was_password(&self, n: &Self::Node) -> bool {
        self.0.was_password(n)
    }
}

/// What serializing `root` gives through `dom`.
fn serialized<D: DomTree<Node = web_sys::Node>>(
    dom: &D,
    root: &web_sys::Node,
    inserted: bool,
) -> (Vec<NodeRecord>, NameTable, SideState) {
    let mut mirror = IdMirror::new(WeakKeys::default());
    let mut names = NameTable::new();
    let mut side = SideState {
        inserted,
        ..SideState::default()
    };
    let raw = dom.describe(root).expect("root describable");
    let (_, nodes) = serialize_subtree(
        dom,
        &mut mirror,
        &DefaultPolicy,
        &mut names,
        root,
        raw,
        None,
        false,
        &mut side,
    );
    (nodes, names, side)
}

#[wasm_bindgen_test]
async fn a_subtree_walked_in_one_call_or_node_by_node_gives_the_same_records() {
    let page = Page::new(
        r#"<section id="s" style="width:40px;height:40px;overflow:auto"><div style="width:400px;height:400px">tall</div></section>
<p title="t">a<b>b</b><!--c--><script>var x = "<p>";</script><i data-cobrowse-ui><u>ours</u></i></p>
<form><input id="pw" type="password" value="secret"><input id="tx" value="typed"><textarea>area</textarea>
<select><option>a</option><option selected>b</option></select><input type="checkbox" checked></form>
<svg><g><text>svg text</text></g></svg><iframe id="f" srcdoc="<p>inside <b>frame</b></p>"></iframe>
<div id="host"></div><template><p>inert</p></template>"#,
    );
    let d = doc();
    next_load(&page.el("#f")).await;
    page.el("#s").set_scroll_top(25);
    page.el("#s").set_scroll_left(7);
    let host = page.el("#host");
    let shadow = host
        .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
        .expect("shadow");
    shadow.set_inner_html("<p>in <em>shadow</em></p><slot></slot>");
    let odd = d.create_element("b").expect("b");
    odd.set_attribute("data-v", "x\0y").expect("attr");
    odd.append_child(&d.create_text_node("t\0u")).expect("text");
    page.root.append_child(&odd).expect("append");
    // Deeper than the walk goes: both ways must stop at the same depth.
    let mut at = page.root.clone();
    for _ in 0..(cobrowse_client::capture::MAX_DEPTH + 10) {
        let next = d.create_element("div").expect("div");
        at.append_child(&next).expect("append");
        at = next;
    }
    let dom = WebDom::new(d.clone());
    for inserted in [false, true] {
        for root in [
            d.clone().unchecked_into::<web_sys::Node>(),
            page.root.clone().into(),
        ] {
            let raw = dom.describe(&root).expect("describable");
            assert!(
                dom.walk(&root, &raw, !inserted).is_some(),
                "read in one call"
            );
            let (bulk, bulk_names, bulk_side) = serialized(&dom, &root, inserted);
            let (one, one_names, one_side) = serialized(&NodeByNode(&dom), &root, inserted);
            assert!(
                bulk.len() > cobrowse_client::capture::MAX_DEPTH,
                "the deep chain counts"
            );
            assert_eq!(bulk, one, "records (inserted: {inserted})");
            assert_eq!(bulk_names, one_names);
            assert_eq!(bulk_side, one_side);
            assert_eq!(
                !inserted,
                !bulk_side.scroll.is_empty(),
                "the scrolled section"
            );
            assert!(!bulk_side.form.is_empty(), "the controls");
        }
    }
    let (bulk, _, _) = serialized(&dom, &page.root.clone().into(), false);
    let texts: Vec<&str> = bulk
        .iter()
        .filter_map(|r| match &r.data {
            NodeData::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    for expected in [
        "tall", "inside ", "frame", "in ", "shadow", "t\0u", "svg text",
    ] {
        assert!(texts.contains(&expected), "{expected:?} in {texts:?}");
    }
    assert!(!texts.contains(&"ours"), "our UI is left out");
    assert!(
        !texts.iter().any(|t| t.contains("var x")),
        "script text is left out"
    );
}

#[wasm_bindgen_test]
async fn subtrees_read_ahead_in_one_call_are_the_walks_of_each() {
    use cobrowse_client::restrictions::{Rule, RuleAction};
    use cobrowse_client::web::restrict;
    let d = doc();
    let mask = Rule {
        selector: ".m".into(),
        action: RuleAction::Mask,
        url_pattern: None,
    };
    let hide = Rule {
        selector: ".gone".into(),
        action: RuleAction::Hide,
        url_pattern: None,
    };
    restrict::install(&d, vec![mask, hide], Vec::new(), None);
    let page = Page::new(
        r#"<p title="t">a<b class="m">b</b><!--c--><script>var x = "<p>";</script><i data-cobrowse-ui><u>ours</u></i></p>
<form><input id="pw" type="password" value="secret"><textarea>area</textarea></form>
<svg><g><text>svg text</text></g></svg><iframe id="f" srcdoc="<p>inside <b class=gone>frame</b></p>"></iframe>
<div id="host"><span>slotted</span></div><div class="gone"><p>hidden</p></div><span>leaf</span><br>"#,
    );
    next_load(&page.el("#f")).await;
    page.el("#host")
        .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
        .expect("shadow")
        .set_inner_html("<p>in <em class=m>shadow</em></p><slot></slot>");
    let mut deep = page.el("#host");
    for _ in 0..(cobrowse_client::capture::MAX_DEPTH + 10) {
        let next = d.create_element("div").expect("div");
        deep.append_child(&next).expect("append");
        deep = next;
    }
    let roots: Vec<web_sys::Node> = {
        let list = page.root.child_nodes();
        (0..list.length()).filter_map(|i| list.item(i)).collect()
    };
    let dom = WebDom::new(d.clone());
    let walks = |dom: &WebDom| -> Vec<_> {
        roots
            .iter()
            .map(|r| {
                let raw = dom.describe(r);
                raw.and_then(|raw| dom.walk(r, &raw, false))
            })
            .collect()
    };
    dom.begin_pass();
    let want = walks(&dom);
    dom.end_pass();
    assert!(want.iter().filter(|w| w.is_some()).count() >= 5, "{want:?}");
    dom.begin_pass();
    dom.prewalk(&roots);
    let got = walks(&dom);
    dom.end_pass();
    assert_eq!(got, want);

    // What was read ahead answers the walks (a pass sees no changes; this one is only to tell).
    let text = page.el("#pw").parent_node().expect("form");
    dom.begin_pass();
    dom.prewalk(&roots);
    text.append_child(&d.create_text_node("after the read"))
        .expect("append");
    let ahead = walks(&dom);
    dom.end_pass();
    assert_eq!(ahead, want, "answered from the read-ahead");
    let fresh = walks(&dom);
    assert_ne!(fresh, want, "a walk of its own sees the change");
}

/// Every node of `root`'s tree, across shadow roots, frame documents and template contents.
fn all_nodes(root: &web_sys::Node, out: &mut Vec<web_sys::Node>) {
    out.push(root.clone());
    if let Some(el) = root.dyn_ref::<Element>() {
        if let Some(s) = el.shadow_root() {
            all_nodes(&s.into(), out);
        }
        if let Some(f) = el.dyn_ref::<web_sys::HtmlIFrameElement>()
            && let Some(d) = f.content_document()
        {
            all_nodes(&d.into(), out);
        }
        if el.local_name() == "template"
            && let Ok(content) = js_sys::Reflect::get(el, &"content".into())
            && let Some(c) = content.dyn_ref::<web_sys::Node>()
        {
            all_nodes(c, out);
        }
    }
    let kids = root.child_nodes();
    for i in 0..kids.length() {
        if let Some(k) = kids.item(i) {
            all_nodes(&k, out);
        }
    }
}

#[wasm_bindgen_test]
async fn placement_asked_in_one_call_answers_as_the_climb_does() {
    use cobrowse_client::coalesce::Placement;
    use cobrowse_client::restrictions::{Rule, RuleAction};
    use cobrowse_client::web::restrict;
    let d = doc();
    let hide = Rule {
        selector: "#gone, .gone".into(),
        action: RuleAction::Hide,
        url_pattern: None,
    };
    restrict::install(&d, vec![hide], Vec::new(), None);
    let page = Page::new(
        r#"<p>a<b>b</b><!--c--></p><script>var s = "<p>";</script><i data-cobrowse-ui><u>ours</u></i>
<div id="gone"><span>hidden <em>deep</em></span></div><svg><script>1</script><g><text>t</text></g></svg>
<iframe id="f" srcdoc="<p>inside <b class=gone>frame <i>x</i></b></p><script>1</script>"></iframe>
<div id="host"><span>slotted</span></div><div id="hidden-host" class="gone"></div>
<template><p>inert</p></template>"#,
    );
    next_load(&page.el("#f")).await;
    for (host, inner) in [
        (
            "#host",
            "<p>in <em>shadow</em></p><slot></slot><i data-cobrowse-ui>ui</i>",
        ),
        ("#hidden-host", "<p>under a hidden host</p>"),
    ] {
        page.el(host)
            .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
            .expect("shadow")
            .set_inner_html(inner);
    }
    let mut nodes = Vec::new();
    all_nodes(&d.clone().into(), &mut nodes);
    // Out of the document: a detached subtree, and a removed element's text.
    let loose = d.create_element("div").expect("div");
    loose.set_inner_html("<p>detached <b>tree</b></p>");
    all_nodes(&loose.clone().into(), &mut nodes);
    let removed = page.el("#gone").first_element_child().expect("span");
    removed.remove();
    all_nodes(&removed.clone().into(), &mut nodes);

    let dom = WebDom::new(d.clone());
    let want: Vec<bool> = nodes
        .iter()
        .map(|n| Placement::default().placed(&NodeByNode(&dom), n))
        .collect();
    // Alone, then in one pass in both orders (its cache must not change an answer).
    for (n, w) in nodes.iter().zip(&want) {
        dom.begin_pass();
        assert_eq!(dom.placed_at_once(n), Some(*w), "{}", n.node_name());
        dom.end_pass();
    }
    for order in [false, true] {
        dom.begin_pass();
        let mut pairs: Vec<_> = nodes.iter().zip(&want).collect();
        if order {
            pairs.reverse();
        }
        for (n, w) in pairs {
            assert_eq!(
                dom.placed_at_once(n),
                Some(*w),
                "{} (one pass)",
                n.node_name()
            );
        }
        dom.end_pass();
    }
    // The answers are not all alike: each way out of the capture is met.
    let text_of = |needle: &str| {
        nodes
            .iter()
            .zip(&want)
            .find(|(n, _)| {
                n.node_type() == web_sys::Node::TEXT_NODE
                    && n.text_content().as_deref() == Some(needle)
            })
            .map(|(_, w)| *w)
            .unwrap_or_else(|| panic!("text {needle:?}"))
    };
    for shown in ["a", "shadow", "slotted", "inside ", "t"] {
        assert!(text_of(shown), "{shown:?} is placed");
    }
    for hidden in [
        "var s = \"<p>\";",
        "1",
        "ours",
        "ui",
        "frame ",
        "x",
        "inert",
        "detached ",
        "deep",
        "under a hidden host",
    ] {
        assert!(!text_of(hidden), "{hidden:?} is not placed");
    }
    restrict::clear();
    drop(page);
}
