//! Prefixed and namespaced element names: the replica decides on the element the DOM creates,
//! never on the wire's raw string, and nothing can change its referrer policy.

use super::{B, mutation, replica};
use crate::memdom::MemDom;
use crate::replica::Replica;
use cobrowse_protocol::{AddedSubtree, Insert, NameTable, Namespace, NodeData, NodeRecord};

/// A customer element: tag, namespace, attributes.
type El = (
    &'static str,
    Namespace,
    &'static [(&'static str, &'static str)],
);

/// A body holding each element with one text child.
fn page_of(elements: &[El]) -> cobrowse_protocol::Snapshot {
    let mut b = B::new();
    b.doc("https://shop.example/", 1)
        .el("html", &[], 2)
        .el("head", &[], 0)
        .el("body", &[], elements.len() as u32);
    for (tag, ns, attrs) in elements {
        b.el_ns(tag, ns.clone(), attrs, 1).text("parent.pwned=1");
    }
    b.snapshot(1)
}

const PREFIXED: &[El] = &[
    (
        "x:script",
        Namespace::Html,
        &[("src", "https://evil.example/x.js")],
    ),
    (
        "x:iframe",
        Namespace::Html,
        &[("src", "https://evil.example/frame")],
    ),
    (
        "x:base",
        Namespace::Html,
        &[("href", "https://evil.example/")],
    ),
    ("x:style", Namespace::Html, &[]),
    (
        "x:object",
        Namespace::Html,
        &[("data", "https://evil.example/o")],
    ),
    (
        "x:embed",
        Namespace::Html,
        &[("src", "https://evil.example/e")],
    ),
    (
        "x:meta",
        Namespace::Html,
        &[
            ("http-equiv", "refresh"),
            ("content", "0;url=https://evil.example/"),
        ],
    ),
    (
        "svg:script",
        Namespace::Svg,
        &[("href", "https://evil.example/s.js")],
    ),
    ("a:b:script", Namespace::Svg, &[]),
    ("svg:style", Namespace::Svg, &[]),
    ("m:script", Namespace::MathMl, &[]),
];

#[test]
fn prefixed_names_never_make_a_script_frame_base_style_or_plugin() {
    let mut r = Replica::new(MemDom::default());
    let stats = r.apply_snapshot(&page_of(PREFIXED));
    assert_eq!(stats.ignored, 0, "{stats:?}");
    let html = r.backend().html();
    // HTML names are kept whole: unknown elements, their text shown as text (as on the
    // customer's page), none of the special handling of the real element.
    for tag in [
        "x:script", "x:iframe", "x:base", "x:style", "x:object", "x:embed", "x:meta",
    ] {
        assert!(html.contains(&format!("<{tag}")), "{tag} in {html}");
    }
    assert!(!html.contains("http-equiv"), "{html}");
    // A prefixed foreign name would become the element after its prefix: an inert box instead,
    // without the customer's attributes.
    assert_eq!(
        html.matches("<div data-cobrowse-inert=\"\">").count(),
        4,
        "svg:script, a:b:script, svg:style and m:script: {html}"
    );
    assert!(!html.contains("s.js") && !html.contains("<style"), "{html}");
    let body = &html[html.find("<body>").expect("body")..];
    for bad in ["<script", "<iframe", "<base", "<object", "<embed", "<meta"] {
        assert!(!body.contains(bad), "{bad} in {html}");
    }
}

#[test]
fn an_element_made_under_another_name_than_vetted_is_refused() {
    // A backend that splits HTML prefixes (as `createElementNS` does) would make `x:script` a
    // script: the replica reads the name back and drops the node.
    let mut dom = MemDom::default();
    dom.split_html_prefixes = true;
    let mut r = Replica::new(dom);
    let stats = r.apply_snapshot(&page_of(&[
        ("x:script", Namespace::Html, &[]),
        (
            "x:iframe",
            Namespace::Html,
            &[("src", "https://evil.example/")],
        ),
        ("p", Namespace::Html, &[]),
    ]));
    let html = r.backend().html();
    assert!(
        !html.contains("<script") && !html.contains("<iframe"),
        "{html}"
    );
    assert!(html.contains("<p>parent.pwned=1</p>"), "{html}");
    assert!(stats.ignored >= 2, "{stats:?}");
}

#[test]
fn prefixed_names_inserted_later_are_judged_the_same() {
    let mut r = replica();
    let mut names = NameTable::new();
    let nodes = [
        ("x:script", Namespace::Html),
        ("svg:script", Namespace::Svg),
    ]
    .into_iter()
    .flat_map(|(tag, ns)| {
        [
            NodeRecord::new(
                NodeData::Element {
                    tag: names.intern(tag),
                    ns,
                    attrs: vec![],
                },
                1,
            ),
            NodeRecord::new(NodeData::Text("parent.pwned=1".into()), 0),
        ]
    });
    let mut m = mutation(NameTable::new());
    let mut first_id = 40;
    for pair in nodes.collect::<Vec<_>>().chunks(2) {
        m.inserts.push(Insert::New(AddedSubtree {
            parent: 6,
            next_sibling: None,
            first_id,
            nodes: pair.to_vec(),
        }));
        first_id += 2;
    }
    m.names = names;
    r.apply_mutations(&m);
    let html = r.backend().html();
    assert!(
        html.contains("<x:script>parent.pwned=1</x:script>"),
        "{html}"
    );
    assert!(html.contains("<div data-cobrowse-inert=\"\">"), "{html}");
    assert!(!html.contains("<script"), "{html}");
}

#[test]
fn nothing_can_change_the_replicas_referrer_policy() {
    let mut r = Replica::new(MemDom::default());
    r.apply_snapshot(&page_of(&[
        (
            "meta",
            Namespace::Html,
            &[("name", "Referrer"), ("content", "unsafe-url")],
        ),
        (
            "img",
            Namespace::Html,
            &[
                ("src", "https://shop.example/i.png"),
                ("referrerpolicy", "unsafe-url"),
            ],
        ),
        (
            "a",
            Namespace::Html,
            &[
                ("href", "https://shop.example/"),
                ("REFERRERPOLICY", "origin"),
            ],
        ),
        (
            "meta",
            Namespace::Html,
            &[("name", "description"), ("content", "kept")],
        ),
    ]));
    let html = r.backend().html().to_ascii_lowercase();
    assert!(!html.contains("referrer"), "{html}");
    // Without its name the customer's `<meta>` is inert; its content may stay.
    assert!(html.contains("<meta content=\"unsafe-url\">"), "{html}");
    assert!(html.contains("name=\"description\""), "{html}");
}
