//! `Paint` frames on the real replica (headless Chromium): the top layer, script animations and
//! FontFace faces through the sandboxed, script-free replica's own APIs, called from this page;
//! `:defined` and the customer's colour scheme through the replica's styles. Run with
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p cobrowse-agent --target wasm32-unknown-unknown`.

#![cfg(target_arch = "wasm32")]
#![allow(missing_docs)] // Test crate.

use cobrowse_agent::replica::Replica;
use cobrowse_agent::web::dom::WebDom;
use cobrowse_agent::web::styles::Styles;
use cobrowse_protocol::{
    AnimationTiming, Attribute, ColorScheme, Composite, FillMode, FontSource, Keyframe, NameTable,
    Namespace, NodeData, NodeRecord, Paint, PlayState, PlaybackDirection, ScriptAnimation,
    ScriptFont, Snapshot, TopLayerEntry, TopLayerKind, Viewport,
};
use cobrowse_web_glue::testing::next_frame;
use js_sys::Reflect;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Document, Element, HtmlIFrameElement};

wasm_bindgen_test_configure!(run_in_browser);

/// 1 doc, 2 doctype, 3 html, 4 head, 5 style, 6 css, 7 body, 8 dialog[open], 9 "d",
/// 10 div#pop[popover], 11 "p", 12 div#box, 13 "box", 14 x-a, 15 "a"
fn snapshot() -> Snapshot {
    let mut names = NameTable::new();
    let mut nodes = Vec::new();
    let mut el = |tag: &str, attrs: &[(&str, &str)], children: u32| {
        let tag = names.intern(tag);
        let attrs = attrs
            .iter()
            .map(|(n, v)| Attribute {
                name: names.intern(n),
                value: (*v).into(),
            })
            .collect();
        NodeRecord::new(
            NodeData::Element {
                tag,
                ns: Namespace::Html,
                attrs,
            },
            children,
        )
    };
    let text = |t: &str| NodeRecord::new(NodeData::Text(t.into()), 0);
    nodes.push(NodeRecord::new(
        NodeData::Document {
            url: "https://shop.example/p/".into(),
        },
        2,
    ));
    nodes.push(NodeRecord::new(
        NodeData::Doctype {
            name: "html".into(),
            public_id: String::new(),
            system_id: String::new(),
        },
        0,
    ));
    nodes.push(el("html", &[], 2));
    nodes.push(el("head", &[], 1));
    nodes.push(el("style", &[], 1));
    nodes.push(text(
        "x-a { display: block } x-a:not(:defined) { visibility: hidden } \
         @media (prefers-color-scheme: dark) { body { background-color: rgb(1, 2, 3) } } \
         @supports (display: block) { @media (prefers-color-scheme: dark) { \
           #box { color: rgb(4, 5, 6) } } } \
         @media all { x-a:not(:defined) { color: rgb(7, 8, 9) } #pop { color-scheme: light dark } }",
    ));
    nodes.push(el("body", &[], 4));
    nodes.push(el("dialog", &[("id", "dlg"), ("open", "")], 1));
    nodes.push(text("d"));
    nodes.push(el("div", &[("id", "pop"), ("popover", "")], 1));
    nodes.push(text("p"));
    nodes.push(el("div", &[("id", "box")], 1));
    nodes.push(text("box"));
    nodes.push(el("x-a", &[("id", "xa")], 1));
    nodes.push(text("a"));
    Snapshot {
        names,
        first_id: 1,
        nodes,
        form: vec![],
        scroll: vec![],
        viewport: Viewport {
            width: 400,
            height: 300,
            dpr_centi: 100,
        },
        sheets: vec![],
    }
}

fn page() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("test page has a document")
}

fn built() -> (Replica<WebDom>, Document) {
    let doc = page();
    let f: HtmlIFrameElement = doc
        .create_element("iframe")
        .expect("iframe")
        .unchecked_into();
    f.set_attribute("sandbox", "allow-same-origin")
        .expect("sandbox");
    doc.body().expect("body").append_child(&f).expect("append");
    let mut r = Replica::new(WebDom::new(f));
    assert_eq!(r.apply_snapshot(&snapshot()).ignored, 0);
    let d = r.backend().document().expect("replica document").clone();
    (r, d)
}

fn by(doc: &Document, id: &str) -> Element {
    doc.get_element_by_id(id)
        .unwrap_or_else(|| panic!("#{id} missing"))
}

fn matches(el: &Element, sel: &str) -> bool {
    el.matches(sel).expect("valid selector")
}

fn computed(doc: &Document, el: &Element, prop: &str) -> String {
    doc.default_view()
        .expect("window")
        .get_computed_style(el)
        .expect("style")
        .expect("style")
        .get_property_value(prop)
        .expect("value")
}

#[wasm_bindgen_test]
fn the_top_layer_is_shown_and_taken_back_without_moving_the_agents_focus() {
    let (mut r, doc) = built();
    let (dlg, pop) = (by(&doc, "dlg"), by(&doc, "pop"));
    let s = r.apply_paint(&Paint::TopLayer(vec![
        TopLayerEntry {
            node: 8,
            kind: TopLayerKind::ModalDialog,
        },
        TopLayerEntry {
            node: 10,
            kind: TopLayerKind::Popover,
        },
    ]));
    assert_eq!((s.applied, s.ignored), (2, 0));
    assert!(matches(&dlg, ":modal"));
    assert!(matches(&pop, ":popover-open"));
    // The agent page's keyboard focus did not move into the replica.
    let active = page().active_element();
    assert!(
        active.as_ref().is_none_or(|a| a.node_name() != "IFRAME"),
        "focus went to {:?}",
        active.map(|a| a.node_name())
    );
    r.apply_paint(&Paint::TopLayer(vec![]));
    assert!(!matches(&dlg, ":modal") && !matches(&pop, ":popover-open"));
    // The customer's dialog is still open (non-modal): its attribute came with the DOM.
    assert!(dlg.has_attribute("open"));
}

#[wasm_bindgen_test]
fn script_animations_and_faces_reach_the_replica() {
    let (mut r, doc) = built();
    let fade = ScriptAnimation {
        key: 1,
        node: 12,
        pseudo: None,
        keyframes: [("1"), ("0.25")]
            .iter()
            .map(|v| Keyframe {
                offset_millionths: None,
                easing: "linear".into(),
                composite: Composite::Auto,
                properties: vec![("opacity".into(), (*v).into())],
            })
            .collect(),
        timing: AnimationTiming {
            delay_us: 0,
            end_delay_us: 0,
            duration_us: Some(1_000),
            iterations_milli: Some(1_000),
            iteration_start_milli: 0,
            direction: PlaybackDirection::Normal,
            fill: FillMode::Forwards,
            easing: "linear".into(),
        },
        composite: Composite::Replace,
        state: PlayState::Finished,
        current_us: Some(1_000),
        rate_milli: 1_000,
    };
    assert_eq!(r.apply_paint(&Paint::Animations(vec![fade])).applied, 1);
    let bx = by(&doc, "box");
    assert_eq!(computed(&doc, &bx, "opacity"), "0.25");
    r.apply_paint(&Paint::Animations(vec![]));
    assert_eq!(computed(&doc, &bx, "opacity"), "1");

    let fonts = Reflect::get(&doc, &"fonts".into()).expect("fonts");
    let size = || {
        Reflect::get(&fonts, &"size".into())
            .ok()
            .and_then(|s| s.as_f64())
            .unwrap_or(-1.0)
    };
    let before = size();
    let face = ScriptFont {
        doc: 1,
        family: "Shop Face".into(),
        source: FontSource::Css("url(f.woff2)".into()),
        base_url: "https://shop.example/fonts/".into(),
        descriptors: vec![("weight".into(), "700".into())],
    };
    assert_eq!(r.apply_paint(&Paint::Fonts(vec![face])).applied, 1);
    assert_eq!(size(), before + 1.0);
    let added = js_sys::try_iter(&fonts)
        .expect("iterable")
        .expect("iterable")
        .filter_map(Result::ok)
        .find(|f| {
            Reflect::get(f, &"family".into())
                .ok()
                .and_then(|v| v.as_string())
                .is_some_and(|v| v.contains("Shop Face"))
        })
        .expect("the face is in the replica's fonts");
    assert_eq!(
        Reflect::get(&added, &"weight".into())
            .ok()
            .and_then(|v| v.as_string())
            .as_deref(),
        Some("700")
    );
    r.apply_paint(&Paint::Fonts(vec![]));
    assert_eq!(size(), before);
}

#[wasm_bindgen_test]
async fn defined_and_the_colour_scheme_follow_the_customer() {
    let (r, doc) = built();
    let mut styles = Styles::new();
    styles.on_snapshot(&snapshot(), &r);
    let (xa, body) = (by(&doc, "xa"), doc.body().expect("body"));
    next_frame().await;
    // Nothing known yet: the replica defines nothing, and this browser prefers light.
    assert_eq!(computed(&doc, &xa, "visibility"), "hidden");
    assert_ne!(computed(&doc, &body, "background-color"), "rgb(1, 2, 3)");

    // The customer defined x-a and prefers dark.
    assert!(styles.apply_paint(&Paint::Undefined(vec![])));
    assert!(styles.apply_paint(&Paint::ColorScheme(ColorScheme::Dark)));
    next_frame().await;
    next_frame().await;
    assert_eq!(computed(&doc, &xa, "visibility"), "visible");
    assert_eq!(computed(&doc, &body, "background-color"), "rgb(1, 2, 3)");
    // Rules nested in grouping rules, and a `color-scheme` that offers both, follow too.
    let (boxed, pop) = (by(&doc, "box"), by(&doc, "pop"));
    assert_eq!(computed(&doc, &boxed, "color"), "rgb(4, 5, 6)");
    assert_ne!(computed(&doc, &xa, "color"), "rgb(7, 8, 9)");
    assert_eq!(computed(&doc, &pop, "color-scheme"), "dark");

    // Then x-a is undefined there again (a new page) and the customer switches to light.
    styles.apply_paint(&Paint::Undefined(vec!["x-a".into()]));
    styles.apply_paint(&Paint::ColorScheme(ColorScheme::Light));
    next_frame().await;
    next_frame().await;
    assert_eq!(computed(&doc, &xa, "visibility"), "hidden");
    assert_ne!(computed(&doc, &body, "background-color"), "rgb(1, 2, 3)");
    assert_ne!(computed(&doc, &boxed, "color"), "rgb(4, 5, 6)");
    assert_eq!(computed(&doc, &xa, "color"), "rgb(7, 8, 9)");
    assert_eq!(computed(&doc, &pop, "color-scheme"), "light");
    // The replica's DOM is the customer's: the rewrite lives in the CSSOM only.
    let style_text = doc
        .query_selector("style:not([data-cobrowse-injected])")
        .expect("selector")
        .expect("style")
        .text_content()
        .unwrap_or_default();
    assert!(style_text.contains("x-a:not(:defined)"));
    assert!(
        !styles.apply_paint(&Paint::TopLayer(vec![])),
        "not a styles topic"
    );
}
