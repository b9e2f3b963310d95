//! Coalescing checked case by case and with random bursts against a replica rebuilt only from
//! what the coalescer sends.

use super::*;
use crate::capture::testdom::{ListPage, TestDom, capture_document};
use crate::mask::DefaultPolicy;
use crate::mirror::HashKeys;
use cobrowse_protocol::{IdTree, NodeData, NodeRecord, walk_tree};

type Mirror = IdMirror<usize, HashKeys<usize>>;

/// The agent's view, rebuilt only from what the coalescer sends, on the protocol's `IdTree` (the
/// tree model the agent's replica uses too). Applying panics on any reference to a node the
/// replica does not have: that is the contract under test. (`contract/` runs the same batches
/// through the real agent replica.)
#[derive(Default)]
struct Replica {
    names: Vec<NameTable>,
    nodes: IdTree<(NodeRecord, usize)>,
    root: NodeId,
}

impl Replica {
    fn add_tree(&mut self, nodes: &[NodeRecord], first: NodeId, names: &NameTable) -> NodeId {
        self.names.push(names.clone());
        let table = self.names.len() - 1;
        walk_tree(nodes, first, |id, parent, rec| {
            assert!(!self.nodes.contains(id), "id {id} reused");
            assert!(
                self.nodes.insert(id, (rec.clone(), table), parent, None),
                "parent of {id} exists"
            );
        });
        first
    }

    fn attach(&mut self, id: NodeId, parent: NodeId, next: Option<NodeId>) {
        if let Some(n) = next {
            assert!(
                self.nodes.children(parent).contains(&n),
                "next_sibling is a child of parent in the replica"
            );
        }
        assert!(
            self.nodes.move_to(id, parent, next),
            "insert of {id} under {parent} applies"
        );
    }

    fn apply(&mut self, b: &MutationBatch) {
        for r in &b.removes {
            assert!(self.nodes.contains(*r), "removed id {r} exists");
            self.nodes.remove_subtree(*r);
        }
        for ins in &b.inserts {
            match ins {
                Insert::New(sub) => {
                    assert!(self.nodes.contains(sub.parent), "insert parent exists");
                    let id = self.add_tree(&sub.nodes, sub.first_id, &b.names);
                    self.attach(id, sub.parent, sub.next_sibling);
                }
                Insert::Move {
                    node,
                    parent,
                    next_sibling,
                } => {
                    assert!(self.nodes.contains(*node), "moved id {node} exists");
                    self.attach(*node, *parent, *next_sibling)
                }
            }
        }
        self.names.push(b.names.clone());
        let table = self.names.len() - 1;
        for a in &b.attrs {
            let name = b.names.resolve(a.name).expect("name").to_owned();
            let (rec, t) = self.nodes.get_mut(a.node).expect("attr node exists");
            let NodeData::Element { attrs, .. } = &mut rec.data else {
                panic!("attr on non-element")
            };
            // Re-intern into this batch's table so the rendered name resolves.
            let old_table = self.names[*t].clone();
            attrs.retain(|x| old_table.resolve(x.name) != Some(name.as_str()));
            let mut rebuilt: Vec<(String, String)> = attrs
                .iter()
                .map(|x| {
                    (
                        old_table.resolve(x.name).expect("n").to_owned(),
                        x.value.clone(),
                    )
                })
                .collect();
            if let Some(v) = &a.value {
                rebuilt.push((name.clone(), v.clone()));
            }
            let mut nt = NameTable::new();
            *attrs = rebuilt
                .into_iter()
                .map(|(k, v)| cobrowse_protocol::Attribute {
                    name: nt.intern(&k),
                    value: v,
                })
                .collect();
            if let NodeData::Element { tag, .. } = &mut rec.data {
                let tname = old_table.resolve(*tag).expect("tag").to_owned();
                *tag = nt.intern(&tname);
            }
            self.names.push(nt);
            *t = self.names.len() - 1;
        }
        let _ = table;
        for t in &b.texts {
            let (rec, _) = self.nodes.get_mut(t.node).expect("text node exists");
            rec.data = NodeData::Text(t.text.clone());
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        self.render_node(self.root, &mut out);
        out
    }

    fn render_node(&self, id: NodeId, out: &mut String) {
        let (rec, t) = self.nodes.get(id).expect("rendered node exists");
        let names = &self.names[*t];
        out.push_str(&render_data(&rec.data, names));
        out.push('[');
        for k in self.nodes.children(id) {
            self.render_node(*k, out);
        }
        out.push(']');
    }
}

fn render_data(d: &NodeData, names: &NameTable) -> String {
    match d {
        NodeData::Element { tag, attrs, .. } => {
            let mut a: Vec<String> = attrs
                .iter()
                .map(|x| format!("{}={}", names.resolve(x.name).unwrap_or("?"), x.value))
                .collect();
            a.sort();
            format!("<{} {}>", names.resolve(*tag).unwrap_or("?"), a.join(" "))
        }
        NodeData::Text(t) => format!("'{t}'"),
        other => format!("{other:?}"),
    }
}

/// What the agent should see: a fresh capture of the live DOM, rendered the same way.
fn expected(dom: &TestDom) -> String {
    let mut m: Mirror = IdMirror::new(HashKeys::default());
    let (first, nodes, names) = capture_document(dom, &mut m);
    let mut r = Replica::default();
    r.root = r.add_tree(&nodes, first, &names);
    r.render()
}

struct Fixture {
    dom: TestDom,
    mirror: Mirror,
    replica: Replica,
    body: usize,
    list: usize,
    items: Vec<usize>,
}

/// The list page of `n` items; snapshot taken and applied to the replica.
fn fixture(n: usize) -> Fixture {
    let ListPage {
        dom,
        body,
        list,
        items,
    } = ListPage::new(n);
    let mut mirror: Mirror = IdMirror::new(HashKeys::default());
    let (first, nodes, names) = capture_document(&dom, &mut mirror);
    let mut replica = Replica::default();
    replica.root = replica.add_tree(&nodes, first, &names);
    Fixture {
        dom,
        mirror,
        replica,
        body,
        list,
        items,
    }
}

impl Fixture {
    /// Coalesces the pending records, applies the batch to the replica, checks the replica
    /// equals the live DOM and the mirror holds exactly the replica's ids.
    fn flush(&mut self) -> MutationBatch {
        let records = self.dom.take_records();
        let out = coalesce(&self.dom, &mut self.mirror, &DefaultPolicy, &records);
        self.replica.apply(&out.batch);
        assert_eq!(self.replica.render(), expected(&self.dom));
        assert_eq!(
            self.mirror.len(),
            self.replica.nodes.len(),
            "mirror = replica"
        );
        out.batch
    }
}

#[test]
fn added_and_removed_in_one_batch_vanishes() {
    let mut f = fixture(2);
    let div = f.dom.el("div");
    let t = f.dom.new_text("temp");
    f.dom.append(div, t);
    f.dom.append(f.body, div);
    f.dom.remove(div);
    let before = f.mirror.len();
    let b = f.flush();
    assert!(b.is_empty(), "{b:?}");
    assert_eq!(f.mirror.len(), before);
}

#[test]
fn moved_nodes_keep_their_ids() {
    let mut f = fixture(5);
    let ids: Vec<_> = f
        .items
        .iter()
        .map(|i| f.mirror.id(i).expect("id"))
        .collect();
    // Reverse the list by re-appending each item.
    for li in f.items.clone().into_iter().rev() {
        f.dom.append(f.list, li);
    }
    let b = f.flush();
    assert!(b.removes.is_empty());
    assert!(
        b.inserts.iter().all(|i| matches!(i, Insert::Move { .. })),
        "{b:?}"
    );
    let after: Vec<_> = f
        .items
        .iter()
        .map(|i| f.mirror.id(i).expect("id"))
        .collect();
    assert_eq!(ids, after);
}

#[test]
fn move_to_another_known_parent() {
    let mut f = fixture(3);
    let li = f.items[1];
    f.dom.append(f.body, li);
    let b = f.flush();
    assert_eq!(b.inserts.len(), 1);
    assert!(matches!(
        b.inserts[0],
        Insert::Move {
            next_sibling: None,
            ..
        }
    ));
}

#[test]
fn attribute_set_then_removed_is_one_removal_or_nothing() {
    let mut f = fixture(2);
    let li = f.items[0];
    // Did not exist before: set then removed → nothing.
    f.dom.set_attr(li, "class", Some("a"));
    f.dom.set_attr(li, "class", None);
    assert!(f.flush().is_empty());
    // Existed before: changed then removed → one removal.
    f.dom.set_attr(li, "title", Some("t"));
    f.flush();
    f.dom.set_attr(li, "title", Some("u"));
    f.dom.set_attr(li, "title", None);
    let b = f.flush();
    assert_eq!(b.attrs.len(), 1);
    assert_eq!(b.attrs[0].value, None);
    // Set several times → the last value only.
    f.dom.set_attr(li, "data-x", Some("1"));
    f.dom.set_attr(li, "data-x", Some("2"));
    f.dom.set_attr(li, "data-x", Some("3"));
    let b = f.flush();
    assert_eq!(b.attrs.len(), 1);
    assert_eq!(b.attrs[0].value.as_deref(), Some("3"));
    assert_eq!(b.names.resolve(b.attrs[0].name), Some("data-x"));
}

#[test]
fn text_under_added_parent_is_serialized_once() {
    let mut f = fixture(1);
    let li = f.dom.el("li");
    f.dom.append(f.list, li);
    let t = f.dom.new_text("new row");
    f.dom.append(li, t);
    let b = f.flush();
    assert_eq!(b.inserts.len(), 1, "{b:?}");
    let Insert::New(sub) = &b.inserts[0] else {
        panic!("new subtree")
    };
    assert_eq!(sub.nodes.len(), 2);
    assert_eq!(sub.nodes[1].data, NodeData::Text("new row".into()));
}

#[test]
fn inserts_are_ordered_so_next_siblings_exist() {
    let mut f = fixture(1);
    let anchor = f.items[0];
    // Each new node goes before the previous new one: c, b, a, anchor.
    let a = f.dom.el("li");
    f.dom.insert(f.list, a, Some(anchor));
    let b2 = f.dom.el("li");
    f.dom.insert(f.list, b2, Some(a));
    let c = f.dom.el("li");
    f.dom.insert(f.list, c, Some(b2));
    let b = f.flush();
    assert_eq!(b.inserts.len(), 3);
    // The replica check in flush() proves every next_sibling existed when applied.
    let Insert::New(first) = &b.inserts[0] else {
        panic!()
    };
    assert_eq!(first.next_sibling, f.mirror.id(&anchor));
}

#[test]
fn removed_subtrees_are_forgotten() {
    let mut f = fixture(4);
    let before = f.mirror.len();
    f.dom.remove(f.list);
    let b = f.flush();
    assert_eq!(b.removes.len(), 1);
    // ul + 4 li + 4 texts
    assert_eq!(f.mirror.len(), before - 9);
    assert_eq!(f.mirror.id(&f.items[0]), None);
}

#[test]
fn only_topmost_removal_is_sent() {
    let mut f = fixture(3);
    let ul = f.mirror.id(&f.list).expect("ul id");
    let li = f.items[0];
    f.dom.remove(li);
    f.dom.remove(f.list);
    let b = f.flush();
    // The replica still has li under ul: removing ul alone removes both.
    assert_eq!(b.removes, vec![ul]);
    let mut g = fixture(3);
    let t = g.dom.nodes[g.items[0]].children[0];
    g.dom.remove(g.list);
    g.dom.remove(t); // text removed from a node already out of the document
    let b = g.flush();
    assert_eq!(b.removes.len(), 1);
}

#[test]
fn node_moved_out_of_a_removed_subtree_is_resent() {
    let mut f = fixture(3);
    let li = f.items[2];
    f.dom.append(f.body, li);
    f.dom.remove(f.list);
    let b = f.flush();
    assert_eq!(b.removes.len(), 1);
    assert!(matches!(b.inserts[0], Insert::New(_)), "{b:?}");
}

#[test]
fn known_node_moved_into_a_new_subtree() {
    let mut f = fixture(3);
    let wrapper = f.dom.el("section");
    f.dom.append(f.body, wrapper);
    let li = f.items[1];
    f.dom.append(wrapper, li);
    let b = f.flush();
    assert_eq!(b.inserts.len(), 1);
    assert_eq!(b.removes.len(), 1);
}

#[test]
fn our_ui_is_never_captured_and_is_skipped_as_sibling() {
    let mut f = fixture(1);
    let ui = f.dom.el("div");
    f.dom.set_attr(ui, "data-cobrowse-ui", Some(""));
    let inner = f.dom.new_text("Session 123 456 789");
    f.dom.append(ui, inner);
    f.dom.append(f.body, ui);
    f.dom.take_records();
    f.dom.append(f.body, ui); // re-appended: records for our UI alone
    f.dom.set_attr(ui, "class", Some("open"));
    f.dom.set_text(inner, "changed");
    assert!(f.flush().is_empty());
    let p = f.dom.el("p");
    f.dom.insert(f.body, p, Some(ui));
    let b = f.flush();
    let Insert::New(sub) = &b.inserts[0] else {
        panic!()
    };
    assert_eq!(sub.next_sibling, None, "the UI sibling is skipped");
}

#[test]
fn text_changes_are_net() {
    let mut f = fixture(1);
    let t = f.dom.nodes[f.items[0]].children[0];
    f.dom.set_text(t, "x");
    f.dom.set_text(t, "item 0");
    assert!(f.flush().is_empty(), "changed and changed back");
    f.dom.set_text(t, "a");
    f.dom.set_text(t, "b");
    let b = f.flush();
    assert_eq!(b.texts.len(), 1);
    assert_eq!(b.texts[0].text, "b");
}

#[test]
fn script_text_and_password_values_never_leave() {
    let mut f = fixture(0);
    let s = f.dom.el("script");
    f.dom.append(f.body, s);
    f.flush();
    let code = f.dom.new_text("secret()");
    f.dom.append(s, code);
    assert!(f.flush().is_empty());
    let pw = f.dom.el("input");
    f.dom.set_attr(pw, "type", Some("password"));
    f.dom.append(f.body, pw);
    f.flush();
    f.dom.set_attr(pw, "value", Some("hunter2"));
    let b = f.flush();
    assert_eq!(b.attrs[0].value.as_deref(), Some("*******"));
}

#[test]
fn revealed_passwords_and_hidden_inputs_never_leave() {
    let mut f = fixture(0);
    let pw = f.dom.el("input");
    f.dom.set_attr(pw, "type", Some("password"));
    f.dom.append(f.body, pw);
    f.flush();
    // The "show password" button, then a value: still a secret.
    f.dom.set_attr(pw, "type", Some("text"));
    f.dom.set_attr(pw, "value", Some("hunter2"));
    let b = f.flush();
    let sent: Vec<_> = b.attrs.iter().filter_map(|a| a.value.as_deref()).collect();
    assert!(
        sent.contains(&"text") && sent.contains(&"*******"),
        "{sent:?}"
    );
    let hidden = f.dom.el("input");
    f.dom.set_attr(hidden, "type", Some("hidden"));
    f.dom.set_attr(hidden, "value", Some("csrf-1"));
    f.dom.append(f.body, hidden);
    let b = f.flush();
    assert!(!format!("{b:?}").contains("csrf"), "{b:?}");
    f.dom.set_attr(hidden, "value", Some("csrf-2"));
    let b = f.flush();
    assert!(!format!("{b:?}").contains("csrf"), "{b:?}");
}

/// A small deterministic generator (xorshift) so the burst test needs no dependency.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

#[test]
fn bursts_of_random_mutations_keep_the_replica_equal() {
    for seed in 1..=40u64 {
        let mut f = fixture(20);
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut pool: Vec<usize> = f.items.clone();
        pool.push(f.list);
        for _round in 0..5 {
            for _ in 0..200 {
                f.dom.random_mutation(&mut pool, &mut |n| rng.below(n));
            }
            // Keep the body (the list's parent chain) in the document so there is a page.
            if f.dom.nodes[f.list].parent.is_none() {
                f.dom.append(f.body, f.list);
            }
            f.flush();
        }
    }
}

#[test]
fn inserted_subtrees_read_no_scroll_offsets_while_snapshots_do() {
    let mut f = fixture(3);
    // A snapshot reads every element's offsets (a scrolled element's are kept).
    f.dom.scrolled.insert(f.list, (0, 40));
    let mut mirror: Mirror = IdMirror::new(HashKeys::default());
    let reads = f.dom.scroll_reads.get();
    capture_document(&f.dom, &mut mirror);
    assert!(f.dom.scroll_reads.get() > reads, "a snapshot reads offsets");

    // A subtree the page inserts is new and unscrolled: reading its offsets would force a
    // layout inside the mutation callback, so none is read.
    let div = f.dom.el("div");
    let inner = f.dom.el("p");
    f.dom.append(div, inner);
    f.dom.append(f.body, div);
    let reads = f.dom.scroll_reads.get();
    let records = f.dom.take_records();
    let out = coalesce(&f.dom, &mut f.mirror, &DefaultPolicy, &records);
    assert_eq!(out.batch.inserts.len(), 1, "{:?}", out.batch);
    assert_eq!(
        f.dom.scroll_reads.get(),
        reads,
        "offsets read in the callback"
    );
    assert!(out.side.scroll.is_empty());
}

#[test]
fn children_of_one_parent_share_its_masking_answer() {
    let mut f = fixture(0);
    let secret = f.dom.el("div");
    f.dom.set_attr(secret, "class", Some("masked"));
    let plain = f.dom.el("div");
    f.dom.append(f.body, secret);
    f.dom.append(f.body, plain);
    f.flush();
    // One batch: text children of a masked parent between those of a plain one.
    for i in 0..10 {
        let s = f.dom.new_text(&format!("secret {i}"));
        f.dom.append(secret, s);
        let p = f.dom.new_text(&format!("plain {i}"));
        f.dom.append(plain, p);
    }
    f.dom.ancestor_rule_checks.set(0);
    let records = f.dom.take_records();
    let b = coalesce(&f.dom, &mut f.mirror, &DefaultPolicy, &records).batch;
    let texts: Vec<&NodeData> = b
        .inserts
        .iter()
        .filter_map(|i| match i {
            Insert::New(sub) => Some(&sub.nodes[0].data),
            Insert::Move { .. } => None,
        })
        .collect();
    assert_eq!(texts.len(), 20, "{b:?}");
    for i in 0..10 {
        let masked = NodeData::Text(crate::placeholder::masked_text(&format!("secret {i}")));
        assert!(texts.contains(&&masked), "secret {i} masked: {texts:?}");
        let shown = NodeData::Text(format!("plain {i}"));
        assert!(texts.contains(&&shown), "plain {i} shown: {texts:?}");
    }
    assert!(!format!("{b:?}").contains("secret"), "{b:?}");
    // Each parent's rule was climbed once, not once per child.
    assert_eq!(f.dom.ancestor_rule_checks.get(), 2);
}
