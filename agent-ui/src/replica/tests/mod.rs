//! Native tests of the replica model over the in-memory DOM: building, mutation order, ids,
//! iframes and shadow roots, selection, form and scroll state. Sanitising and loading rules are in
//! the child modules.

mod hostile;
mod names;
mod paint;
mod resources;

use super::{Applied, Replica};
use crate::memdom::MemDom;
use cobrowse_protocol::{
    AddedSubtree, AttrChange, Attribute, FormState, FormValue, Insert, MutationBatch, NameTable,
    Namespace, NodeData, NodeId, NodeRecord, ScrollPosition, ScrollTarget, SelectionRange,
    Snapshot, TextChange, Viewport,
};

/// Builds flat trees by hand, like the customer side would.
struct B {
    names: NameTable,
    nodes: Vec<NodeRecord>,
}

impl B {
    fn new() -> Self {
        B {
            names: NameTable::new(),
            nodes: vec![],
        }
    }
    fn doc(&mut self, url: &str, children: u32) -> &mut Self {
        self.nodes.push(NodeRecord::new(
            NodeData::Document { url: url.into() },
            children,
        ));
        self
    }
    fn el(&mut self, tag: &str, attrs: &[(&str, &str)], children: u32) -> &mut Self {
        self.el_ns(tag, Namespace::Html, attrs, children)
    }
    fn el_ns(
        &mut self,
        tag: &str,
        ns: Namespace,
        attrs: &[(&str, &str)],
        children: u32,
    ) -> &mut Self {
        let tag = self.names.intern(tag);
        let attrs = attrs
            .iter()
            .map(|(n, v)| Attribute {
                name: self.names.intern(n),
                value: (*v).into(),
            })
            .collect();
        self.nodes.push(NodeRecord::new(
            NodeData::Element { tag, ns, attrs },
            children,
        ));
        self
    }
    fn text(&mut self, t: &str) -> &mut Self {
        self.nodes
            .push(NodeRecord::new(NodeData::Text(t.into()), 0));
        self
    }
    fn snapshot(&self, first_id: NodeId) -> Snapshot {
        Snapshot {
            names: self.names.clone(),
            first_id,
            nodes: self.nodes.clone(),
            form: vec![],
            scroll: vec![],
            viewport: Viewport::default(),
            sheets: vec![],
        }
    }
}

/// doc(1) > html(2) > [head(3) > style(4) > text(5)], [body(6) > ul(7) > li(8) "a"(9), li(10) "b"(11)]
fn page() -> Snapshot {
    let mut b = B::new();
    b.doc("https://shop.example/p/index.html", 1)
        .el("html", &[], 2)
        .el("head", &[], 1)
        .el("style", &[], 1)
        .text("body{background:url(bg.png)}")
        .el("body", &[("onload", "alert(1)")], 1)
        .el("ul", &[("id", "list")], 2)
        .el("li", &[], 1)
        .text("a")
        .el("li", &[], 1)
        .text("b");
    b.snapshot(1)
}

fn replica() -> Replica<MemDom> {
    let mut r = Replica::new(MemDom::default());
    let s = r.apply_snapshot(&page());
    assert_eq!(s.ignored, 0);
    r
}

fn mutation(names: NameTable) -> MutationBatch {
    MutationBatch {
        names,
        ..Default::default()
    }
}

#[test]
fn snapshot_builds_a_sanitised_tree_with_injected_head() {
    let r = replica();
    assert_eq!(r.len(), 11);
    assert_eq!(r.page_url(), Some("https://shop.example/p/index.html"));
    let html = r.backend().html();
    assert_eq!(
        html,
        "<html><head><base href=\"https://shop.example/p/index.html\"><meta cobrowse-csp>\
         <style>body{background:url(\"https://shop.example/p/bg.png\")}</style></head>\
         <body><ul id=\"list\"><li>a</li><li>b</li></ul></body></html>"
    );
}

#[test]
fn mutations_apply_in_documented_order_and_moves_keep_ids() {
    let mut r = replica();
    let mut names = NameTable::new();
    let li = names.intern("li");
    let class = names.intern("class");
    let mut m = mutation(names);
    // Remove the second li, insert a new one first, move the first li to the end.
    m.removes.push(10);
    m.inserts.push(Insert::New(AddedSubtree {
        parent: 7,
        next_sibling: Some(8),
        first_id: 20,
        nodes: vec![
            NodeRecord::new(
                NodeData::Element {
                    tag: li,
                    ns: Namespace::Html,
                    attrs: vec![],
                },
                1,
            ),
            NodeRecord::new(NodeData::Text("new".into()), 0),
        ],
    }));
    m.inserts.push(Insert::Move {
        node: 8,
        parent: 7,
        next_sibling: None,
    });
    m.attrs.push(AttrChange {
        node: 8,
        name: class,
        value: Some("moved".into()),
    });
    m.texts.push(TextChange {
        node: 9,
        text: "a2".into(),
    });
    let s = r.apply_mutations(&m);
    assert_eq!(
        s,
        Applied {
            applied: 6,
            ignored: 0
        }
    );
    assert!(
        r.node(10).is_none() && r.node(11).is_none(),
        "removed subtree forgotten"
    );
    assert!(r.node(20).is_some() && r.node(21).is_some());
    assert!(
        r.backend().html().ends_with(
            "<ul id=\"list\"><li>new</li><li class=\"moved\">a2</li></ul></body></html>"
        )
    );
    // A later text change still reaches the moved node's text by its old id.
    let mut m2 = mutation(NameTable::new());
    m2.texts.push(TextChange {
        node: 9,
        text: "a3".into(),
    });
    assert_eq!(r.apply_mutations(&m2).applied, 1);
    assert!(r.backend().html().contains("<li class=\"moved\">a3</li>"));
}

#[test]
fn unknown_ids_and_impossible_moves_are_ignored() {
    let mut r = replica();
    let before = r.backend().html();
    let mut names = NameTable::new();
    let id_attr = names.intern("id");
    let mut m = mutation(names);
    m.removes.extend([999, 1]); // unknown, and the root document
    m.inserts.push(Insert::Move {
        node: 7,
        parent: 8,
        next_sibling: None,
    }); // into own child
    m.inserts.push(Insert::Move {
        node: 998,
        parent: 7,
        next_sibling: None,
    });
    m.inserts.push(Insert::New(AddedSubtree {
        parent: 997,
        next_sibling: None,
        first_id: 50,
        nodes: vec![NodeRecord::new(NodeData::Text("x".into()), 0)],
    }));
    m.attrs.push(AttrChange {
        node: 996,
        name: id_attr,
        value: Some("x".into()),
    });
    m.attrs.push(AttrChange {
        node: 9,
        name: id_attr,
        value: Some("x".into()),
    }); // a text node
    m.texts.push(TextChange {
        node: 995,
        text: "x".into(),
    });
    m.texts.push(TextChange {
        node: 7,
        text: "x".into(),
    }); // an element
    let s = r.apply_mutations(&m);
    assert_eq!(
        s,
        Applied {
            applied: 0,
            ignored: 9
        }
    );
    assert_eq!(r.backend().html(), before);
}

/// A reused id replaces the old node with its subtree; when the new node's parent was that node or
/// lay inside it, the parent is gone too and the new node is skipped (the tree never gets a node
/// that is its own ancestor).
#[test]
fn a_reused_id_under_its_own_old_subtree_is_skipped() {
    let mut r = replica();
    let mut names = NameTable::new();
    let ul = names.intern("ul");
    let el = |tag| {
        NodeRecord::new(
            NodeData::Element {
                tag,
                ns: Namespace::Html,
                attrs: vec![],
            },
            0,
        )
    };
    let mut m = mutation(names);
    // ul(7) again, under its own old child li(8); then body(6) again, under itself.
    m.inserts.push(Insert::New(AddedSubtree {
        parent: 8,
        next_sibling: None,
        first_id: 7,
        nodes: vec![el(ul)],
    }));
    m.inserts.push(Insert::New(AddedSubtree {
        parent: 6,
        next_sibling: None,
        first_id: 6,
        nodes: vec![el(ul)],
    }));
    let s = r.apply_mutations(&m);
    assert_eq!(
        s,
        Applied {
            applied: 0,
            ignored: 2
        }
    );
    assert!((6..=11).all(|id| r.node(id).is_none()));
    assert!(r.backend().html().ends_with("</head></html>"));
    // The tree stays walkable: a move into what is left still works.
    let mut m2 = mutation(NameTable::new());
    m2.inserts.push(Insert::Move {
        node: 4,
        parent: 2,
        next_sibling: None,
    });
    assert_eq!(r.apply_mutations(&m2).applied, 1);
}

#[test]
fn iframe_documents_and_shadow_roots_are_rebuilt() {
    let mut b = B::new();
    b.doc("https://shop.example/", 1)
        .el("html", &[], 1)
        .el("body", &[], 2)
        .el("iframe", &[], 1)
        .doc("https://shop.example/frame.html", 1)
        .el("html", &[], 1)
        .el("body", &[], 1)
        .text("inside")
        .el("my-widget", &[], 2);
    b.nodes
        .push(NodeRecord::new(NodeData::ShadowRoot { open: true }, 1));
    b.el("b", &[], 1).text("shadow").text("light");
    let mut r = Replica::new(MemDom::default());
    let s = r.apply_snapshot(&b.snapshot(1));
    assert_eq!(s.ignored, 0);
    let html = r.backend().html();
    assert!(
        html.contains("<iframe sandbox=\"allow-same-origin\">#document<html><body>inside</body></html></iframe>"),
        "{html}"
    );
    assert!(
        html.contains("<my-widget>#shadow<b>shadow</b>light</my-widget>"),
        "{html}"
    );
    // Removing the iframe forgets its document's nodes too.
    let mut m = mutation(NameTable::new());
    m.removes.push(4);
    r.apply_mutations(&m);
    assert!(r.node(5).is_none() && r.node(8).is_none());
}

#[test]
fn selections_resolve_to_replica_nodes_or_clear() {
    // page(): doc 1 > html 2 > head 3 > style 4 > text 5; body 6 > ul 7 > li 8 "a" 9, li 10 "b" 11
    let mut r = replica();
    let range = |s, so, e, eo| SelectionRange {
        start_node: s,
        start_offset: so,
        end_node: e,
        end_offset: eo,
    };
    assert_eq!(r.apply_selection(&[range(9, 0, 11, 1)]).applied, 1);
    assert_eq!(
        r.backend().log.last().map(String::as_str),
        Some("select 9:0 11:1")
    );
    // Element boundaries are child indexes; reversed control offsets are put in order.
    r.apply_selection(&[range(7, 0, 7, 2)]);
    assert_eq!(
        r.backend().log.last().map(String::as_str),
        Some("select 7:0 7:2")
    );
    // Unknown nodes and document nodes show nothing rather than something wrong.
    assert_eq!(r.apply_selection(&[range(9, 0, 404, 1)]).ignored, 1);
    assert_eq!(
        r.backend().log.last().map(String::as_str),
        Some("select none")
    );
    assert_eq!(r.apply_selection(&[range(1, 0, 9, 1)]).ignored, 1);
    r.apply_selection(&[]);
    assert_eq!(
        r.backend().log.last().map(String::as_str),
        Some("select none")
    );

    // A text control's selection.
    let mut b = B::new();
    b.doc("https://shop.example/", 1)
        .el("html", &[], 1)
        .el("body", &[], 1)
        .el("input", &[("value", "hello")], 0);
    let mut r = Replica::new(MemDom::default());
    r.apply_snapshot(&b.snapshot(1));
    r.apply_selection(&[range(4, 4, 4, 1)]);
    assert_eq!(
        r.backend().log.last().map(String::as_str),
        Some("select control 4 1..4")
    );
}

#[test]
fn form_and_scroll_state_reach_known_nodes_only() {
    let mut r = replica();
    let f = r.apply_form(&[
        FormValue {
            node: 7,
            state: FormState::Value("hi".into()),
        },
        FormValue {
            node: 404,
            state: FormState::Checked(true),
        },
    ]);
    assert_eq!(
        f,
        Applied {
            applied: 1,
            ignored: 1
        }
    );
    assert_eq!(
        r.apply_scroll(&ScrollPosition {
            target: ScrollTarget::Node(7),
            x: 0,
            y: 40
        }),
        Applied {
            applied: 1,
            ignored: 0
        }
    );
    assert_eq!(
        r.apply_scroll(&ScrollPosition {
            target: ScrollTarget::Node(5),
            x: 0,
            y: 40
        })
        .ignored,
        1
    );
    assert!(r.backend().log.iter().any(|l| l == "form 7 Value(\"hi\")"));
    assert!(r.backend().log.iter().any(|l| l == "scroll 7 0,40"));
}

#[test]
fn a_new_snapshot_replaces_everything() {
    let mut r = replica();
    let mut b = B::new();
    b.doc("https://shop.example/next", 1).el("html", &[], 0);
    r.apply_snapshot(&b.snapshot(500));
    assert_eq!(r.len(), 2);
    assert!(r.node(7).is_none());
    assert_eq!(r.backend().html(), "<html></html>");
}
