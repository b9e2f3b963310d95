//! `Paint` frames from a real page (headless Chromium): after a snapshot every topic goes out;
//! defining a custom element, `animate()`, `showModal()`/`showPopover()` and `new FontFace()` each
//! send their topic's new state at the next frame; masked elements' states stay home; stopping
//! the recorder puts the page's `animate` and `FontFace` back.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p cobrowse-client --target wasm32-unknown-unknown`
#![cfg(target_arch = "wasm32")]
#![allow(missing_docs)] // test crate

use cobrowse_client::web::recorder::Recorder;
use cobrowse_client::web::restrict;
use cobrowse_protocol::policy::{Rule, RuleAction};
use cobrowse_protocol::{
    ColorScheme, FontSource, Message, NodeData, NodeId, Paint, PlayState, Snapshot, TopLayerKind,
    decode, encode,
};
use cobrowse_web_glue::testing::next_frame;
use js_sys::Reflect;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web_sys::{Document, Element};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = "
export function define_element(name) { customElements.define(name, class extends HTMLElement {}); }
export function animate_opacity(el) { return el.animate([{ opacity: 1 }, { opacity: 0.5 }], { duration: 100000, fill: 'forwards' }); }
export function add_face(family) { const f = new FontFace(family, 'url(fonts/test-face.woff2)', { weight: '700' }); document.fonts.add(f); return f; }
")]
extern "C" {
    fn define_element(name: &str);
    fn animate_opacity(el: &Element) -> JsValue;
    fn add_face(family: &str) -> JsValue;
}

fn doc() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("document")
}

/// The paint topics among the frames sent so far (taken).
fn paints(sent: &Rc<RefCell<Vec<Message>>>) -> Vec<Paint> {
    std::mem::take(&mut *sent.borrow_mut())
        .into_iter()
        .filter_map(|m| match m {
            Message::Paint(p) => Some(p),
            _ => None,
        })
        .collect()
}

/// The wire id of the element with DOM id `dom_id` in `s`.
fn id_of(s: &Snapshot, dom_id: &str) -> NodeId {
    s.nodes
        .iter()
        .enumerate()
        .find(|(_, r)| match &r.data {
            NodeData::Element { attrs, .. } => attrs
                .iter()
                .any(|a| s.names.resolve(a.name) == Some("id") && a.value == dom_id),
            _ => false,
        })
        .map(|(i, _)| s.first_id + i as u32)
        .unwrap_or_else(|| panic!("#{dom_id} not captured"))
}

#[wasm_bindgen_test]
async fn paint_topics_follow_the_snapshot_and_the_page() {
    let d = doc();
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
    define_element("paint-defined");
    let root = d.create_element("div").expect("div");
    root.set_id("fixture-paint");
    root.set_inner_html(
        r#"<paint-defined></paint-defined><paint-later></paint-later>
           <div id="box">box</div><div id="masked" class="secret">secret</div>
           <dialog id="dlg">modal</dialog><div id="pop" popover>pop</div>"#,
    );
    d.body().expect("body").append_child(&root).expect("append");
    let sent = Rc::new(RefCell::new(Vec::new()));
    let s = Rc::clone(&sent);
    let recorder = Recorder::start(
        web_sys::window().expect("window"),
        d.clone(),
        Rc::new(move |m: Message| s.borrow_mut().push(decode(&encode(&m)).expect("decodes"))),
        false,
        cobrowse_client::mask::PageMask::NONE,
    )
    .expect("recorder");
    let snap = match recorder.snapshot() {
        Some(Message::Snapshot(s)) => *s,
        other => panic!("expected a snapshot, got {other:?}"),
    };
    next_frame().await;
    let first = paints(&sent);
    assert!(
        first.contains(&Paint::ColorScheme(ColorScheme::Light)),
        "{first:?}"
    );
    assert!(
        first.contains(&Paint::Undefined(vec!["paint-later".into()])),
        "only the undefined name: {first:?}"
    );
    assert!(first.contains(&Paint::TopLayer(vec![])));
    assert!(first.contains(&Paint::SelectPopup(None)));

    // Defining the element sends the names again (whenDefined, then a frame).
    define_element("paint-later");
    next_frame().await;
    next_frame().await;
    assert_eq!(paints(&sent), [Paint::Undefined(vec![])]);

    // An animation by script: sent with its element's id; the masked element's is not.
    let by = |id: &str| d.get_element_by_id(id).expect("element");
    let _anim = animate_opacity(&by("box"));
    let _hidden = animate_opacity(&by("masked"));
    next_frame().await;
    let got = paints(&sent);
    let [Paint::Animations(list)] = got.as_slice() else {
        panic!("one animations frame expected: {got:?}");
    };
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0].node, id_of(&snap, "box"));
    assert_eq!(list[0].state, PlayState::Running);
    assert_eq!(list[0].timing.duration_us, Some(100_000_000));
    assert_eq!(
        list[0].keyframes[1].properties,
        [("opacity".into(), "0.5".into())]
    );

    // The top layer, in the order things entered it.
    let call = |el: &Element, f: &str| {
        let func: js_sys::Function = Reflect::get(el, &f.into()).expect(f).unchecked_into();
        func.call0(el).expect(f);
    };
    call(&by("pop"), "showPopover");
    call(&by("dlg"), "showModal");
    next_frame().await;
    next_frame().await;
    let got = paints(&sent);
    let layer = got
        .iter()
        .rev()
        .find_map(|p| match p {
            Paint::TopLayer(t) => Some(t.clone()),
            _ => None,
        })
        .expect("a top-layer frame");
    let kinds: Vec<(NodeId, TopLayerKind)> = layer.iter().map(|e| (e.node, e.kind)).collect();
    // showModal() hid the auto popover: only the dialog is left.
    assert_eq!(kinds, [(id_of(&snap, "dlg"), TopLayerKind::ModalDialog)]);
    call(&by("dlg"), "close");

    // A face made while capturing: its source is known from the hook.
    let _face = add_face("Paint Test Face");
    next_frame().await;
    let got = paints(&sent);
    let fonts = got
        .iter()
        .find_map(|p| match p {
            Paint::Fonts(f) => Some(f.clone()),
            _ => None,
        })
        .expect("a fonts frame");
    let face = fonts
        .iter()
        .find(|f| f.family == "Paint Test Face")
        .unwrap_or_else(|| panic!("the face is not in {fonts:?} ({got:?})"));
    assert_eq!(
        face.source,
        FontSource::Css("url(fonts/test-face.woff2)".into())
    );
    assert_eq!(face.descriptors, [("weight".into(), "700".into())]);
    assert!(face.base_url.starts_with("http"), "{}", face.base_url);

    // Stopping restores the page's own functions.
    let window = web_sys::window().expect("window");
    let animate_now = || {
        Reflect::get(
            &Reflect::get(
                &Reflect::get(&window, &"Element".into()).expect("Element"),
                &"prototype".into(),
            )
            .expect("prototype"),
            &"animate".into(),
        )
        .expect("animate")
    };
    let wrapped = animate_now();
    let font_face_wrapped = Reflect::get(&window, &"FontFace".into()).expect("FontFace");
    drop(recorder);
    assert_ne!(animate_now(), wrapped, "animate restored");
    assert_ne!(
        Reflect::get(&window, &"FontFace".into()).expect("FontFace"),
        font_face_wrapped,
        "FontFace restored"
    );
    restrict::clear();
    root.remove();
}
