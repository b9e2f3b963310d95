//! Secrets a real page holds never leave it (headless Chromium): a password revealed by a "show
//! password" button (and what is typed after the switch), card and one-time-code fields by their
//! `autocomplete`, hidden inputs, mask and restrict rules across shadow roots and same-origin
//! frames (also for later changes), a masked checkbox's, select's and canvas's state, and the
//! site's URL parameters and title. Every frame the recorder sends is scanned for the canaries.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p cobrowse-client --target wasm32-unknown-unknown --test secrets`
#![cfg(target_arch = "wasm32")]
#![allow(missing_docs)] // test crate

use cobrowse_client::mask::PageMask;
use cobrowse_client::restrictions::{Rule, RuleAction};
use cobrowse_client::web::actions::perform;
use cobrowse_client::web::recorder::Recorder;
use cobrowse_client::web::restrict;
use cobrowse_protocol::{
    AgentAction, FormState, Message, NavKind, NodeData, NodeId, RefusalReason, Snapshot, decode,
    encode, walk_tree,
};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web_sys::{Document, Element, HtmlIFrameElement, HtmlInputElement};

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

/// Called with each frame as it is sent (to await one).
type Watcher = Rc<RefCell<Option<Box<dyn Fn(&Message)>>>>;

/// A fixture under `<body>`, its rules installed and a recorder on the document whose frames
/// (encoded and decoded, as the server would see them) are kept.
struct Page {
    root: Element,
    sent: Rc<RefCell<Vec<Message>>>,
    on_send: Watcher,
    recorder: Recorder,
}

impl Page {
    fn new(html: &str, rules: Vec<Rule>, page: PageMask) -> Page {
        let d = doc();
        restrict::install(&d, rules, vec![], Some(restrict::DEFAULT_MARKER));
        if let Some(old) = d.get_element_by_id("fixture-s") {
            old.remove();
        }
        let root = d.create_element("div").expect("div");
        root.set_id("fixture-s");
        root.set_inner_html(html);
        d.body().expect("body").append_child(&root).expect("append");
        let sent = Rc::new(RefCell::new(Vec::new()));
        let on_send: Watcher = Rc::default();
        let (s, o) = (Rc::clone(&sent), Rc::clone(&on_send));
        let recorder = Recorder::start(
            web_sys::window().expect("window"),
            d,
            Rc::new(move |m: Message| {
                let m = decode(&encode(&m)).expect("decodes");
                if let Some(f) = o.borrow().as_ref() {
                    f(&m);
                }
                s.borrow_mut().push(m);
            }),
            false,
            page,
        )
        .expect("recorder");
        Page {
            root,
            sent,
            on_send,
            recorder,
        }
    }

    fn el(&self, sel: &str) -> Element {
        self.root
            .query_selector(sel)
            .expect("selector")
            .unwrap_or_else(|| panic!("{sel}"))
    }

    fn snapshot(&self) -> Snapshot {
        match self.recorder.snapshot() {
            Some(Message::Snapshot(s)) => {
                let m = decode(&encode(&Message::Snapshot(s))).expect("decodes");
                match m {
                    Message::Snapshot(s) => *s,
                    _ => unreachable!(),
                }
            }
            other => panic!("expected a snapshot, got {other:?}"),
        }
    }

    /// Everything sent since the last call, as one string.
    fn take_text(&self) -> String {
        let msgs = std::mem::take(&mut *self.sent.borrow_mut());
        format!("{msgs:?}")
    }

    fn take(&self) -> Vec<Message> {
        std::mem::take(&mut *self.sent.borrow_mut())
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        self.root.remove();
        restrict::clear();
    }
}

fn assert_absent(text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!text.contains(s), "{s} left the browser: {text}");
    }
}

/// The wire id of the element with DOM `id` in a snapshot.
fn id_of(s: &Snapshot, dom_id: &str) -> NodeId {
    let mut found = None;
    walk_tree(&s.nodes, s.first_id, |id, _, rec| {
        if let NodeData::Element { attrs, .. } = &rec.data
            && attrs
                .iter()
                .any(|a| s.names.resolve(a.name) == Some("id") && a.value == dom_id)
        {
            found = Some(id);
        }
    });
    found.unwrap_or_else(|| panic!("#{dom_id} in the snapshot"))
}

/// The attribute names of the element with DOM `id` in a snapshot.
fn attr_names(s: &Snapshot, dom_id: &str) -> Vec<String> {
    let id = id_of(s, dom_id);
    let rec = &s.nodes[(id - s.first_id) as usize];
    match &rec.data {
        NodeData::Element { attrs, .. } => attrs
            .iter()
            .filter_map(|a| s.names.resolve(a.name).map(str::to_owned))
            .collect(),
        _ => vec![],
    }
}

fn input(el: &Element) -> &HtmlInputElement {
    el.unchecked_ref()
}

/// Fires an `input` event as typing does (bubbling and composed, so it leaves a shadow root).
fn fire_input(el: &Element) {
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    let ev = web_sys::Event::new_with_event_init_dict("input", &init).expect("event");
    el.dispatch_event(&ev).expect("dispatch");
}

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
fn a_revealed_password_stays_masked_with_what_is_typed_after() {
    let page = Page::new(
        r#"<input id="pw" type="password" value="PwAttr-1001"><input id="plain">"#,
        vec![],
        PageMask::NONE,
    );
    let pw = page.el("#pw");
    input(&pw).set_value("PwLive-1002");
    let text = format!("{:?}", page.snapshot());
    assert_absent(&text, &["PwAttr-1001", "PwLive-1002"]);

    // The eye button: the field becomes text, then the customer types.
    pw.set_attribute("type", "text").expect("type");
    input(&pw).set_value("PwRevealed-1003");
    fire_input(&pw);
    pw.set_attribute("value", "PwRevealedAttr-1004")
        .expect("value");
    page.recorder.flush();
    // A control typed the same way does reach the agent: the scan can see.
    let plain = page.el("#plain");
    input(&plain).set_value("Visible-1005");
    fire_input(&plain);
    let text = page.take_text();
    assert!(text.contains("Visible-1005"), "{text}");
    assert!(text.contains("\"text\""), "the type change itself is sent");
    assert_absent(&text, &["PwRevealed-1003", "PwRevealedAttr-1004"]);
    // Also in the next snapshot, where the field is a text field from the start.
    let text = format!("{:?}", page.snapshot());
    assert_absent(&text, &["PwRevealed-1003", "PwRevealedAttr-1004"]);

    // Added as a password and switched before the observer reported it.
    let late = doc().create_element("input").expect("input");
    late.set_attribute("type", "password").expect("type");
    page.root.append_child(&late).expect("append");
    late.set_attribute("type", "text").expect("type");
    late.set_attribute("value", "PwLate-1006").expect("value");
    page.recorder.flush();
    input(&late).set_value("PwLateTyped-1007");
    fire_input(&late);
    assert_absent(&page.take_text(), &["PwLate-1006", "PwLateTyped-1007"]);
}

#[wasm_bindgen_test]
fn secret_autocomplete_fields_and_hidden_inputs_never_leave() {
    let page = Page::new(
        r#"<input id="card" autocomplete="cc-number" value="Card-4111-2001">
           <input id="otp" autocomplete="one-time-code">
           <input id="cvc" autocomplete="billing CC-CSC">
           <select id="month" autocomplete="cc-exp-month">
             <option value="m01">Jan-2002</option><option value="m12" selected>Dec-2003</option>
           </select>
           <input type="hidden" id="csrf" name="csrf" value="Csrf-2004">
           <input id="name" autocomplete="name" value="Visible-2000">"#,
        vec![],
        PageMask::NONE,
    );
    input(&page.el("#otp")).set_value("Otp-2005");
    input(&page.el("#cvc")).set_value("Cvc-2006");
    let snap = page.snapshot();
    let text = format!("{snap:?}");
    assert!(text.contains("Visible-2000"), "{text}");
    assert_absent(
        &text,
        &[
            "Card-4111-2001",
            "Otp-2005",
            "Cvc-2006",
            "Jan-2002",
            "Dec-2003",
            "m12",
            "Csrf-2004",
        ],
    );
    let month = id_of(&snap, "month");
    let csrf = id_of(&snap, "csrf");
    assert!(
        snap.form.iter().all(|f| f.node != month && f.node != csrf),
        "no state for the expiry select or the hidden input: {:?}",
        snap.form
    );
    assert!(!attr_names(&snap, "csrf").contains(&"value".to_owned()));
    // The customer sees the card field is hidden from the agent.
    let outline = web_sys::window()
        .expect("window")
        .get_computed_style(&page.el("#card"))
        .expect("style")
        .expect("declaration")
        .get_property_value("outline-style")
        .expect("outline-style");
    assert_eq!(outline, "dashed");

    // Later: typed, chosen, set by script.
    input(&page.el("#card")).set_value("Card-5500-2007");
    fire_input(&page.el("#card"));
    let sel = page.el("#month");
    sel.unchecked_ref::<web_sys::HtmlSelectElement>()
        .set_selected_index(0);
    fire_input(&sel);
    page.el("#csrf")
        .set_attribute("value", "Csrf-2008")
        .expect("value");
    input(&page.el("#csrf")).set_value("Csrf-2009");
    fire_input(&page.el("#csrf"));
    page.recorder.flush();
    let sent = page.take();
    let text = format!("{sent:?}");
    assert_absent(&text, &["Card-5500-2007", "Csrf-2008", "Csrf-2009"]);
    assert!(
        !sent.iter().any(|m| matches!(m, Message::Form(v)
            if v.iter().any(|f| f.node == month || f.node == csrf))),
        "{sent:?}"
    );
}

#[wasm_bindgen_test]
async fn rules_reach_into_shadow_roots_and_same_origin_frames() {
    let page = Page::new(
        r#"<div id="host" class="secret-host"></div>
           <div id="open-host"></div>
           <div id="locked" class="locked-host"></div>
           <iframe id="pay"></iframe>
           <div id="box" class="secret-host"></div>
           <div id="plain"></div>"#,
        vec![
            rule(".secret-host", RuleAction::Mask),
            rule("#pay", RuleAction::Mask),
            rule(".inner-secret", RuleAction::Mask),
            rule(".locked-host", RuleAction::Restrict),
        ],
        PageMask::NONE,
    );
    let shadow = |host: &str, html: &str| {
        let init = web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open);
        let root = page.el(host).attach_shadow(&init).expect("shadow");
        root.set_inner_html(html);
        root
    };
    let secret_root = shadow(
        "#host",
        r#"<p id="sp">ShadowText-3001</p><input id="si" value="ShadowValue-3002">"#,
    );
    shadow(
        "#open-host",
        r#"<p>Visible-3000</p><span class="inner-secret">ShadowInner-3003</span>"#,
    );
    let locked_root = shadow("#locked", r#"<button id="lb" type="button">Go</button>"#);
    let frame = page.el("#pay");
    frame
        .set_attribute(
            "srcdoc",
            r#"<p id="fp">FrameText-3004</p><input id="fi" value="FrameValue-3005">"#,
        )
        .expect("srcdoc");
    let frame_doc = || {
        frame
            .unchecked_ref::<HtmlIFrameElement>()
            .content_document()
            .expect("same-origin frame")
    };
    for _ in 0..5 {
        if frame_doc().get_element_by_id("fp").is_some() {
            break;
        }
        next_load(&frame).await;
    }
    let text = format!("{:?}", page.snapshot());
    assert!(text.contains("Visible-3000"), "{text}");
    assert_absent(
        &text,
        &[
            "ShadowText-3001",
            "ShadowValue-3002",
            "ShadowInner-3003",
            "FrameText-3004",
            "FrameValue-3005",
        ],
    );

    // Later changes inside both trees.
    let sp = secret_root.get_element_by_id("sp").expect("sp");
    sp.set_text_content(Some("ShadowLater-3006"));
    let si = secret_root.get_element_by_id("si").expect("si");
    si.set_attribute("title", "ShadowTitle-3007")
        .expect("title");
    input(&si).set_value("ShadowTyped-3008");
    fire_input(&si);
    let fp = frame_doc().get_element_by_id("fp").expect("fp");
    fp.first_child()
        .expect("text")
        .set_node_value(Some("FrameLater-3009"));
    let fi = frame_doc().get_element_by_id("fi").expect("fi");
    fi.set_attribute("value", "FrameAttr-3010").expect("value");
    page.recorder.flush();
    let sent = page.take_text();
    assert!(sent.contains("Mutations"), "the changes were sent: {sent}");
    assert_absent(
        &sent,
        &[
            "ShadowLater-3006",
            "ShadowTitle-3007",
            "ShadowTyped-3008",
            "FrameLater-3009",
            "FrameAttr-3010",
        ],
    );

    // Nodes inserted later, in one batch: into both trees, and children of a masked parent
    // between children of a plain one (a batch shares its answers between siblings, and must
    // not carry one parent's answer to the other's children).
    let add = |parent: &web_sys::Node, text: &str| {
        let d = parent.owner_document().expect("document");
        let b = d.create_element("b").expect("b");
        b.set_text_content(Some(text));
        parent.append_child(&b).expect("append");
    };
    add(&secret_root, "ShadowNew-3011");
    add(&frame_doc().body().expect("frame body"), "FrameNew-3012");
    let (boxed, plain) = (page.el("#box"), page.el("#plain"));
    for i in 0..20 {
        add(&boxed, &format!("BoxNew-{}", 3100 + i));
        add(&plain, &format!("PlainNew-{}", 3200 + i));
    }
    // Whole new subtrees, read in one go with the batch's others: a rule on an element inside.
    for i in 0..2 {
        let d = plain.owner_document().expect("document");
        let div = d.create_element("div").expect("div");
        div.set_inner_html(&format!(
            r#"<p>PlainTree-{}</p><p><span class="inner-secret">InnerNew-{}</span></p>"#,
            3300 + i,
            3400 + i
        ));
        plain.append_child(&div).expect("append");
    }
    page.recorder.flush();
    let sent = page.take_text();
    assert!(
        sent.contains("PlainTree-3300") && sent.contains("PlainTree-3301"),
        "{sent}"
    );
    assert_absent(&sent, &["InnerNew-3400", "InnerNew-3401"]);
    for i in 0..20 {
        let shown = format!("PlainNew-{}", 3200 + i);
        assert!(sent.contains(&shown), "{shown} was sent: {sent}");
    }
    let hidden: Vec<String> = (0..20).map(|i| format!("BoxNew-{}", 3100 + i)).collect();
    let mut secrets: Vec<&str> = hidden.iter().map(String::as_str).collect();
    secrets.extend(["ShadowNew-3011", "FrameNew-3012"]);
    assert_absent(&sent, &secrets);

    // A restrict rule on a host covers the controls inside its shadow root.
    let w = web_sys::window().expect("window");
    let button = locked_root.get_element_by_id("lb").expect("lb");
    let click = AgentAction::Click {
        node: 1,
        x: 1,
        y: 1,
    };
    assert_eq!(
        perform(&w, Some(button.into()), &click),
        Err(RefusalReason::Restricted)
    );
    // And a mask rule on a frame keeps the agent from typing into its fields.
    let type_in = AgentAction::Input {
        node: 1,
        value: "x".into(),
    };
    assert_eq!(
        perform(&w, Some(fi.into()), &type_in),
        Err(RefusalReason::Restricted)
    );
}

#[wasm_bindgen_test]
async fn masked_checkboxes_selects_and_canvases_withhold_their_state() {
    let page = Page::new(
        r#"<input type="checkbox" id="cb" class="secret" checked>
           <select id="sel" class="secret"><option>SelA-4001</option><option selected>SelB-4002</option></select>
           <canvas id="c-secret" class="secret" width="8" height="8"></canvas>
           <canvas id="c-plain" width="8" height="8"></canvas>
           <input type="checkbox" id="cb-plain" checked>"#,
        vec![rule(".secret", RuleAction::Mask)],
        PageMask::NONE,
    );
    let snap = page.snapshot();
    let text = format!("{snap:?}");
    assert_absent(&text, &["SelA-4001", "SelB-4002"]);
    let (cb, sel, plain) = (
        id_of(&snap, "cb"),
        id_of(&snap, "sel"),
        id_of(&snap, "cb-plain"),
    );
    assert!(
        snap.form.iter().all(|f| f.node != cb && f.node != sel),
        "{:?}",
        snap.form
    );
    assert!(
        snap.form
            .iter()
            .any(|f| f.node == plain && f.state == FormState::Checked(true)),
        "an unmasked checkbox's state is sent: {:?}",
        snap.form
    );
    assert!(!attr_names(&snap, "cb").contains(&"checked".to_owned()));
    assert!(attr_names(&snap, "cb-plain").contains(&"checked".to_owned()));

    // Clicking the masked checkbox and choosing an option send nothing about them.
    page.el("#cb")
        .unchecked_ref::<web_sys::HtmlElement>()
        .click();
    page.el("#sel")
        .unchecked_ref::<web_sys::HtmlSelectElement>()
        .set_selected_index(0);
    fire_input(&page.el("#sel"));
    let sent = page.take();
    assert!(
        !sent.iter().any(|m| matches!(m, Message::Form(v)
            if v.iter().any(|f| f.node == cb || f.node == sel))),
        "{sent:?}"
    );

    // Both canvases are drawn on; the plain one's frame arrives, the masked one's never does.
    let (secret_c, plain_c) = (id_of(&snap, "c-secret"), id_of(&snap, "c-plain"));
    for id in ["#c-secret", "#c-plain"] {
        // Through `Reflect`: the crate does not enable web-sys's canvas bindings.
        use js_sys::{Function, Reflect};
        let c = page.el(id);
        let call = |obj: &JsValue, name: &str, args: &js_sys::Array| {
            let f: Function = Reflect::get(obj, &name.into())
                .expect(name)
                .unchecked_into();
            f.apply(obj, args).expect(name)
        };
        let ctx = call(&c, "getContext", &js_sys::Array::of1(&"2d".into()));
        Reflect::set(&ctx, &"fillStyle".into(), &"#c00".into()).expect("fillStyle");
        let args = js_sys::Array::of4(&0.into(), &0.into(), &8.into(), &8.into());
        call(&ctx, "fillRect", &args);
    }
    let arrived = js_sys::Promise::new(&mut |resolve, _| {
        let resolve = resolve.clone();
        *page.on_send.borrow_mut() = Some(Box::new(move |m: &Message| {
            if matches!(m, Message::Canvas(f) if f.node == plain_c) {
                let _ = resolve.call0(&JsValue::NULL);
            }
        }));
    });
    wasm_bindgen_futures::JsFuture::from(arrived)
        .await
        .expect("the plain canvas's frame");
    *page.on_send.borrow_mut() = None;
    let sent = page.take();
    assert!(
        !sent
            .iter()
            .any(|m| matches!(m, Message::Canvas(f) if f.node == secret_c)),
        "the masked canvas's pixels were sent"
    );
}

#[wasm_bindgen_test]
fn the_sites_url_parameters_and_title_are_masked_before_they_leave() {
    let w = web_sys::window().expect("window");
    let history = w.history().expect("history");
    let before = w.location().href().expect("href");
    let d = doc();
    let old_title = d.title();
    history
        .replace_state_with_url(
            &JsValue::NULL,
            "",
            Some("?token=Tok-5001&q=Visible-5000#access_token=Oauth-5002"),
        )
        .expect("replaceState");
    d.set_title("Title-5003");
    let page = Page::new(
        r#"<a id="next" href="/next?token=Tok-5004&page=2">next</a><style id="st"></style>"#,
        vec![],
        PageMask::new(&["token".into()], true).expect("valid"),
    );
    // A sheet changed by script is in the snapshot, with the page's address as its base.
    let sheet = js_sys::Reflect::get(&page.el("#st"), &"sheet".into()).expect("sheet");
    let insert: js_sys::Function = js_sys::Reflect::get(&sheet, &"insertRule".into())
        .expect("insertRule")
        .unchecked_into();
    insert
        .call2(&sheet, &"p { color: red }".into(), &0.into())
        .expect("rule");
    let snap = page.snapshot();
    let nav = page.recorder.navigation(NavKind::Push).expect("navigation");
    let text = format!("{snap:?}\n{nav:?}");
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(&before))
        .expect("replaceState");
    d.set_title(&old_title);
    assert!(text.contains("Visible-5000"), "other parameters stay");
    assert!(text.contains("page=2"), "other link parameters stay");
    assert!(
        snap.sheets.iter().any(|s| s.base_url.is_some()),
        "the scripted sheet is in the snapshot: {:?}",
        snap.sheets
    );
    assert_absent(&text, &["Tok-5001", "Oauth-5002", "Title-5003", "Tok-5004"]);
    let Message::Navigation(n) = nav else {
        panic!("{nav:?}")
    };
    assert!(n.url.contains("token=********"), "{}", n.url);
    assert_eq!(n.title, "**********");
}
