//! Pseudo-state copies in a real replica: each `:hover`/`:focus` rule's copy sits right after it,
//! so a later rule of equal specificity still wins (a selected link stays selected while the
//! customer hovers it), and the customer's rule indices skip the copies. Run with
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p cobrowse-agent --target wasm32-unknown-unknown`.

#![cfg(target_arch = "wasm32")]
#![allow(missing_docs)] // Test crate.

use cobrowse_agent::replica::Replica;
use cobrowse_agent::web::dom::WebDom;
use cobrowse_agent::web::styles::Styles;
use cobrowse_protocol::{
    Attribute, NameTable, Namespace, NodeData, NodeRecord, Party, PseudoState, SheetOp, SheetOwner,
    SheetState, Snapshot, Viewport,
};
use cobrowse_web_glue::testing::next_frame;
use js_sys::Reflect;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Document, HtmlIFrameElement};

wasm_bindgen_test_configure!(run_in_browser);

const CSS: &str = "a { color: rgb(0, 0, 0); } \
    .filters a:hover { color: rgb(255, 0, 0); } \
    .filters a.selected { color: rgb(0, 0, 255); } \
    @media (min-width: 1px) { .filters a:focus { outline: 2px solid rgb(0, 128, 0); } }";

/// doc 1 > html 2 > [head 3 > style 4 > css 5], [body 6 > ul.filters 7 > a#all.selected 8 > "All" 9]
fn snapshot() -> Snapshot {
    let mut names = NameTable::new();
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
    let nodes = vec![
        NodeRecord::new(
            NodeData::Document {
                url: "https://shop.example/".into(),
            },
            1,
        ),
        el("html", &[], 2),
        el("head", &[], 1),
        el("style", &[], 1),
        NodeRecord::new(NodeData::Text(CSS.into()), 0),
        el("body", &[], 1),
        el("ul", &[("class", "filters")], 1),
        el("a", &[("id", "all"), ("class", "selected")], 1),
        NodeRecord::new(NodeData::Text("All".into()), 0),
    ];
    Snapshot {
        names,
        first_id: 1,
        nodes,
        form: vec![],
        scroll: vec![],
        viewport: Viewport::default(),
        sheets: vec![],
    }
}

/// Two animation frames: the page renders, and work deferred to a frame has run.
async fn two_frames() {
    next_frame().await;
    next_frame().await;
}

fn selectors(doc: &Document) -> Vec<String> {
    let sheet = Reflect::get(
        &doc.query_selector("style").ok().flatten().expect("style"),
        &"sheet".into(),
    )
    .expect("sheet");
    let rules = Reflect::get(&sheet, &"cssRules".into()).expect("rules");
    let n = Reflect::get(&rules, &"length".into())
        .ok()
        .and_then(|l| l.as_f64())
        .unwrap_or(0.0) as u32;
    (0..n)
        .map(|i| {
            let r = Reflect::get_u32(&rules, i).expect("rule");
            Reflect::get(&r, &"selectorText".into())
                .ok()
                .and_then(|s| s.as_string())
                .or_else(|| {
                    Reflect::get(&r, &"cssText".into())
                        .ok()
                        .and_then(|t| t.as_string())
                })
                .unwrap_or_default()
        })
        .collect()
}

fn color(doc: &Document) -> String {
    let a = doc.get_element_by_id("all").expect("a");
    doc.default_view()
        .expect("window")
        .get_computed_style(&a)
        .ok()
        .flatten()
        .and_then(|s| s.get_property_value("color").ok())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn copies_sit_next_to_their_rules_and_indices_skip_them() {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .expect("document");
    let frame: HtmlIFrameElement = doc
        .create_element("iframe")
        .expect("iframe")
        .unchecked_into();
    frame
        .set_attribute("sandbox", "allow-same-origin")
        .expect("sandbox");
    doc.body()
        .expect("body")
        .append_child(&frame)
        .expect("append");
    let mut replica = Replica::new(WebDom::new(frame));
    let snap = snapshot();
    replica.apply_snapshot(&snap);
    let mut styles = Styles::new();
    styles.on_snapshot(&snap, &replica);
    two_frames().await;
    let rdoc = replica
        .backend()
        .document()
        .expect("replica document")
        .clone();
    assert_eq!(
        selectors(&rdoc),
        [
            "a",
            ".filters a:hover",
            ".filters a[data-cobrowse-hover]",
            ".filters a.selected",
            "@media (min-width: 1px) {\n  .filters a:focus { outline: rgb(0, 128, 0) solid 2px; }\n  .filters a[data-cobrowse-focus] { outline: rgb(0, 128, 0) solid 2px; }\n}",
        ]
    );

    // The customer hovers the selected link: the later, equally specific `.selected` rule wins,
    // as on the customer's page (a copy after every sheet would have made it red).
    styles.set_pseudo(
        PseudoState {
            party: Party::Customer,
            hover: Some(8),
            focus: None,
            focus_visible: false,
            active: None,
        },
        &replica,
    );
    assert_eq!(color(&rdoc), "rgb(0, 0, 255)");

    // The customer's rule 1 (`:hover`) is deleted: its copy goes with it; a rule inserted at the
    // customer's index 2 lands after `.selected`, not between a rule and its copy. Nothing is
    // copied twice when the copies are added again.
    let op = SheetOp::Delete {
        sheet: 9,
        path: vec![1],
    };
    let set = SheetOp::Set(SheetState {
        sheet: 9,
        owner: SheetOwner::Node(4),
        rules: vec![
            "a { color: rgb(0, 0, 0); }".into(),
            ".filters a:hover { color: rgb(255, 0, 0); }".into(),
            ".filters a.selected { color: rgb(0, 0, 255); }".into(),
        ],
        base_url: None,
        disabled: false,
    });
    replica.apply_sheet(&set);
    styles.apply(&set, &replica);
    two_frames().await;
    assert_eq!(
        selectors(&rdoc),
        [
            "a",
            ".filters a:hover",
            ".filters a[data-cobrowse-hover]",
            ".filters a.selected",
        ]
    );
    replica.apply_sheet(&op);
    replica.apply_sheet(&SheetOp::Insert {
        sheet: 9,
        path: vec![2],
        rule: "b { color: rgb(1, 2, 3); }".into(),
    });
    assert_eq!(selectors(&rdoc), ["a", ".filters a.selected", "b"]);
    styles.apply(&op, &replica);
    two_frames().await;
    assert_eq!(selectors(&rdoc), ["a", ".filters a.selected", "b"]);
}
