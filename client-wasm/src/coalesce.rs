//! Mutation coalescing: the net effect of one MutationObserver callback as one
//! [`MutationBatch`].
//!
//! The records of a callback describe a history; the agent only needs the difference between the
//! replica (as the [`IdMirror`] remembers it) and the live DOM *now*. So the coalescer reads the
//! final DOM state and uses the records only to know which nodes to look at:
//!
//! * a node added and removed in the same batch is not in the document now → nothing is sent;
//! * a known node that is in the document now but was added somewhere → `Insert::Move`, keeping
//!   its id and subtree — unless its replica copy cannot survive the batch (it sat inside a
//!   subtree that is removed, or now lies inside a new subtree), in which case its old copy is
//!   removed and it is serialized afresh;
//! * a known node no longer in the document → one remove of the topmost such node;
//! * new nodes are serialized once, from the topmost new ancestor (text added under an added
//!   parent travels inside the parent's subtree, never twice);
//! * inserts are ordered so that every `next_sibling` is already in the replica when applied;
//! * attributes and texts are compared with their value before the batch (the first record's
//!   `oldValue`): set-then-removed becomes one removal, or nothing if it did not exist before;
//! * removed subtrees' ids are forgotten, so the mirror holds exactly what the replica holds.

use crate::capture::{DomTree, SideState, captured_children, masks_text_under, serialize_subtree};
use crate::mask::{MaskPolicy, mask_attribute, masked_text};
use crate::mirror::{IdMirror, NodeKeys};
use cobrowse_protocol::{
    AddedSubtree, AttrChange, Insert, MutationBatch, NameTable, NodeId, TextChange,
};
use std::collections::{HashMap, HashSet};

/// One MutationObserver record, reduced to plain data.
#[derive(Debug, Clone)]
pub enum Record<N> {
    /// `childList`.
    ChildList {
        /// Nodes in `addedNodes`.
        added: Vec<N>,
        /// Nodes in `removedNodes`.
        removed: Vec<N>,
    },
    /// `attributes` (observed with `attributeOldValue`).
    Attribute {
        /// The element.
        target: N,
        /// Attribute name.
        name: String,
        /// Value before this change.
        old: Option<String>,
    },
    /// `characterData` (observed with `characterDataOldValue`).
    Text {
        /// The text or comment node.
        target: N,
        /// Data before this change.
        old: Option<String>,
    },
}

/// The result of coalescing one callback.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Coalesced {
    /// The batch to send (skip it when [`MutationBatch::is_empty`]).
    pub batch: MutationBatch,
    /// Form state and scroll offsets of the newly inserted nodes.
    pub side: SideState,
}

struct Pass<'a, D: DomTree, K: NodeKeys<D::Node>> {
    dom: &'a D,
    mirror: &'a mut IdMirror<D::Node, K>,
    policy: &'a dyn MaskPolicy,
    placed: HashMap<u64, bool>,
}

impl<D: DomTree, K: NodeKeys<D::Node>> Pass<'_, D, K> {
    /// True when `node` is captured in the document now: reaches the root through captured
    /// ancestors only.
    fn placed(&mut self, node: &D::Node) -> bool {
        let key = self.dom.key(node);
        if let Some(&p) = self.placed.get(&key) {
            return p;
        }
        let mut visited = vec![key];
        let mut cur = node.clone();
        let result = loop {
            if self.dom.is_excluded(&cur) || !self.dom.captures(&cur) {
                break false;
            }
            if self.dom.is_root(&cur) {
                break true;
            }
            let Some(parent) = self.dom.parent(&cur) else {
                break false;
            };
            if self.dom.hides_children(&parent) {
                break false;
            }
            let pk = self.dom.key(&parent);
            if let Some(&p) = self.placed.get(&pk) {
                break p;
            }
            visited.push(pk);
            cur = parent;
        };
        for k in visited {
            self.placed.insert(k, result);
        }
        result
    }

    /// True when `id` or a replica ancestor is in `removes`.
    fn doomed(&self, id: NodeId, removes: &HashSet<NodeId>) -> bool {
        self.mirror
            .any_ancestor_or_self(id, |a| removes.contains(&a))
    }

    /// True when `id`'s replica copy dies with a *strict* ancestor in `removes`.
    fn doomed_by_ancestor(&self, id: NodeId, removes: &HashSet<NodeId>) -> bool {
        self.mirror
            .parent(id)
            .is_some_and(|p| self.doomed(p, removes))
    }

    /// The next sibling of `node` that the replica has (or will have): excluded and
    /// undescribable siblings are skipped.
    fn next_captured_sibling(&self, node: &D::Node) -> Option<D::Node> {
        let mut cur = self.dom.next_sibling(node);
        while let Some(s) = cur {
            if !self.dom.is_excluded(&s) && self.dom.captures(&s) {
                return Some(s);
            }
            cur = self.dom.next_sibling(&s);
        }
        None
    }
}

/// Deduplicates nodes by key, keeping first occurrences in order.
fn dedup<D: DomTree>(dom: &D, nodes: impl IntoIterator<Item = D::Node>) -> Vec<D::Node> {
    let mut seen = HashSet::new();
    nodes
        .into_iter()
        .filter(|n| seen.insert(dom.key(n)))
        .collect()
}

/// Coalesces `records` (one MutationObserver callback, in order) against the live `dom` and the
/// replica remembered by `mirror`, which it updates to the state after the returned batch.
pub fn coalesce<D: DomTree, K: NodeKeys<D::Node>>(
    dom: &D,
    mirror: &mut IdMirror<D::Node, K>,
    policy: &dyn MaskPolicy,
    records: &[Record<D::Node>],
) -> Coalesced {
    let mut added = Vec::new();
    let mut removed = Vec::new();
    // (node, name) → value before the batch, in first-seen order.
    let mut attr_order: Vec<(D::Node, String, Option<String>)> = Vec::new();
    let mut attr_seen: HashSet<(u64, String)> = HashSet::new();
    let mut text_order: Vec<(D::Node, Option<String>)> = Vec::new();
    let mut text_seen: HashSet<u64> = HashSet::new();
    for r in records {
        match r {
            Record::ChildList {
                added: a,
                removed: rm,
            } => {
                added.extend(a.iter().cloned());
                removed.extend(rm.iter().cloned());
            }
            Record::Attribute { target, name, old } => {
                if attr_seen.insert((dom.key(target), name.clone())) {
                    attr_order.push((target.clone(), name.clone(), old.clone()));
                }
            }
            Record::Text { target, old } => {
                if text_seen.insert(dom.key(target)) {
                    text_order.push((target.clone(), old.clone()));
                }
            }
        }
    }
    let added = dedup(dom, added);
    let touched = dedup(dom, removed.into_iter().chain(added.iter().cloned()));

    let mut pass = Pass {
        dom,
        mirror,
        policy,
        placed: HashMap::new(),
    };

    // Known nodes that left the document: candidates for removal.
    let mut removes: HashSet<NodeId> = HashSet::new();
    let mut remove_order: Vec<NodeId> = Vec::new();
    for n in &touched {
        if let Some(id) = pass.mirror.id(n)
            && !pass.placed(n)
            && removes.insert(id)
        {
            remove_order.push(id);
        }
    }

    // Known nodes in the document that were added somewhere: moves, unless unsafe.
    let moved: Vec<(D::Node, NodeId)> = added
        .iter()
        .filter_map(|n| {
            let id = pass.mirror.id(n)?;
            // Placed is checked after the id so unknown nodes do not fill the cache needlessly.
            pass.placed(n).then(|| (n.clone(), id))
        })
        .collect();
    let mut converted: HashSet<NodeId> = HashSet::new();
    loop {
        let mut changed = false;
        for (n, id) in &moved {
            if converted.contains(id) {
                continue;
            }
            // (a) a current ancestor is new, converted or doomed: the node lies in a subtree
            //     that is serialized afresh, so it cannot be moved there.
            let mut unsafe_move = false;
            let mut cur = dom.parent(n);
            while let Some(a) = cur {
                match pass.mirror.id(&a) {
                    None => {
                        unsafe_move = true;
                        break;
                    }
                    Some(aid) if converted.contains(&aid) || pass.doomed(aid, &removes) => {
                        unsafe_move = true;
                        break;
                    }
                    Some(_) => {}
                }
                if dom.is_root(&a) {
                    break;
                }
                cur = dom.parent(&a);
            }
            // (b) its replica copy dies with a removed ancestor before inserts apply.
            let dies = pass.doomed_by_ancestor(*id, &removes);
            if unsafe_move || dies {
                converted.insert(*id);
                if !dies && removes.insert(*id) {
                    remove_order.push(*id);
                }
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }

    // Only topmost removals are sent; the mirror forgets whole replica subtrees.
    let final_removes: Vec<NodeId> = remove_order
        .iter()
        .copied()
        .filter(|id| !pass.doomed_by_ancestor(*id, &removes))
        .collect();
    for id in &final_removes {
        pass.mirror.forget_subtree(*id);
    }

    // Pending inserts: topmost new (or re-sent) nodes, and safe moves.
    let mut pending: Vec<D::Node> = Vec::new();
    let mut pending_keys: HashSet<u64> = HashSet::new();
    for n in &added {
        if !pass.placed(n) {
            continue;
        }
        let parent_known = dom.parent(n).and_then(|p| pass.mirror.id(&p)).is_some();
        if !parent_known {
            // Inside a new subtree: serialized with its topmost new ancestor.
            continue;
        }
        if pending_keys.insert(dom.key(n)) {
            pending.push(n.clone());
        }
    }

    let first_new_id = pass.mirror.next_id();
    let mut batch = MutationBatch {
        removes: final_removes,
        ..MutationBatch::default()
    };
    let mut side = SideState::default();
    let mut emitted: HashSet<u64> = HashSet::new();
    for start in &pending {
        if emitted.contains(&dom.key(start)) {
            continue;
        }
        // Emit the chain of pending next siblings from its end, so each insert's next sibling
        // is already in the replica.
        let mut chain = vec![start.clone()];
        let mut cur = start.clone();
        while let Some(s) = pass.next_captured_sibling(&cur) {
            let k = dom.key(&s);
            if pending_keys.contains(&k) && !emitted.contains(&k) {
                chain.push(s.clone());
                cur = s;
            } else {
                break;
            }
        }
        for n in chain.into_iter().rev() {
            emitted.insert(dom.key(&n));
            emit_insert(
                &mut pass,
                &mut batch.names,
                &mut batch.inserts,
                &mut side,
                &n,
            );
        }
    }

    // Attributes: net change against the value before the batch, for surviving old nodes.
    for (n, name, old) in attr_order {
        let Some(id) = pass.mirror.id(&n) else {
            continue;
        };
        if id >= first_new_id || !pass.placed(&n) {
            continue; // new nodes were serialized with their current attributes
        }
        let now = dom.attribute(&n, &name);
        if now == old {
            continue;
        }
        let value = now.map(|v| {
            let raw = dom.describe(&n);
            let facts = raw
                .as_ref()
                .and_then(|r| r.facts(dom.matches_mask_rule(&n)))
                .unwrap_or_default();
            mask_attribute(policy, &facts, &name, &v)
        });
        batch.attrs.push(AttrChange {
            node: id,
            name: batch.names.intern(&name),
            value,
        });
    }

    // Texts: the last data of each surviving old node, when it differs from before the batch.
    for (n, old) in text_order {
        let Some(id) = pass.mirror.id(&n) else {
            continue;
        };
        if id >= first_new_id || !pass.placed(&n) {
            continue;
        }
        let Some(now) = dom.text(&n) else { continue };
        if Some(&now) == old.as_ref() {
            continue;
        }
        let masked = dom.parent(&n).is_some_and(|p| {
            dom.describe(&p)
                .is_some_and(|raw| masks_text_under(dom, &p, &raw, policy))
        });
        batch.texts.push(TextChange {
            node: id,
            text: if masked { masked_text(&now) } else { now },
        });
    }

    Coalesced { batch, side }
}

fn emit_insert<D: DomTree, K: NodeKeys<D::Node>>(
    pass: &mut Pass<'_, D, K>,
    names: &mut NameTable,
    inserts: &mut Vec<Insert>,
    side: &mut SideState,
    node: &D::Node,
) {
    let dom = pass.dom;
    let Some(parent_node) = dom.parent(node) else {
        return;
    };
    let Some(parent) = pass.mirror.id(&parent_node) else {
        return;
    };
    let next_sibling = pass
        .next_captured_sibling(node)
        .and_then(|s| pass.mirror.id(&s));
    if let Some(id) = pass.mirror.id(node) {
        pass.mirror.reparent(id, parent);
        inserts.push(Insert::Move {
            node: id,
            parent,
            next_sibling,
        });
        return;
    }
    let Some(raw) = dom.describe(node) else {
        return;
    };
    let parent_masks_text = dom
        .describe(&parent_node)
        .is_some_and(|praw| masks_text_under(dom, &parent_node, &praw, pass.policy));
    let (first_id, nodes) = serialize_subtree(
        dom,
        pass.mirror,
        pass.policy,
        names,
        node,
        raw,
        Some(parent),
        parent_masks_text,
        side,
    );
    inserts.push(Insert::New(AddedSubtree {
        parent,
        next_sibling,
        first_id,
        nodes,
    }));
}

/// The children a snapshot or subtree would capture under `node`; re-exported for the DOM side.
pub fn children_of<D: DomTree>(dom: &D, node: &D::Node) -> Vec<D::Node> {
    captured_children(dom, node)
        .into_iter()
        .map(|(n, _)| n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::RawNode;
    use crate::capture::testdom::TestDom;
    use crate::mask::DefaultPolicy;
    use crate::mirror::HashKeys;
    use cobrowse_protocol::{NodeData, NodeRecord, walk_tree};

    type Mirror = IdMirror<usize, HashKeys<usize>>;

    /// The agent's view, rebuilt only from what the coalescer sends. Applying panics on any
    /// reference to a node the replica does not have: that is the contract under test.
    #[derive(Default)]
    struct Replica {
        names: Vec<NameTable>,
        nodes: HashMap<NodeId, (NodeRecord, usize, Vec<NodeId>)>,
        parent: HashMap<NodeId, NodeId>,
        root: NodeId,
    }

    impl Replica {
        fn add_tree(&mut self, nodes: &[NodeRecord], first: NodeId, names: &NameTable) -> NodeId {
            self.names.push(names.clone());
            let table = self.names.len() - 1;
            walk_tree(nodes, first, |id, parent, rec| {
                assert!(!self.nodes.contains_key(&id), "id {id} reused");
                self.nodes.insert(id, (rec.clone(), table, vec![]));
                if let Some(p) = parent {
                    self.nodes.get_mut(&p).expect("parent").2.push(id);
                    self.parent.insert(id, p);
                }
            });
            first
        }

        fn attach(&mut self, id: NodeId, parent: NodeId, next: Option<NodeId>) {
            if let Some(old) = self.parent.remove(&id) {
                self.nodes
                    .get_mut(&old)
                    .expect("old parent")
                    .2
                    .retain(|c| *c != id);
            }
            let kids = &mut self.nodes.get_mut(&parent).expect("insert parent exists").2;
            let pos = match next {
                Some(n) => kids
                    .iter()
                    .position(|c| *c == n)
                    .expect("next_sibling is a child of parent in the replica"),
                None => kids.len(),
            };
            kids.insert(pos, id);
            self.parent.insert(id, parent);
        }

        fn apply(&mut self, b: &MutationBatch) {
            for r in &b.removes {
                assert!(self.nodes.contains_key(r), "removed id {r} exists");
                if let Some(p) = self.parent.remove(r) {
                    self.nodes.get_mut(&p).expect("p").2.retain(|c| c != r);
                }
                let mut stack = vec![*r];
                while let Some(c) = stack.pop() {
                    let (_, _, kids) = self.nodes.remove(&c).expect("node");
                    self.parent.remove(&c);
                    stack.extend(kids);
                }
            }
            for ins in &b.inserts {
                match ins {
                    Insert::New(sub) => {
                        let id = self.add_tree(&sub.nodes, sub.first_id, &b.names);
                        self.attach(id, sub.parent, sub.next_sibling);
                    }
                    Insert::Move {
                        node,
                        parent,
                        next_sibling,
                    } => {
                        assert!(self.nodes.contains_key(node), "moved id {node} exists");
                        self.attach(*node, *parent, *next_sibling)
                    }
                }
            }
            self.names.push(b.names.clone());
            let table = self.names.len() - 1;
            for a in &b.attrs {
                let name = b.names.resolve(a.name).expect("name").to_owned();
                let (rec, t, _) = self.nodes.get_mut(&a.node).expect("attr node exists");
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
                let (rec, _, _) = self.nodes.get_mut(&t.node).expect("text node exists");
                rec.data = NodeData::Text(t.text.clone());
            }
        }

        fn render(&self) -> String {
            let mut out = String::new();
            self.render_node(self.root, &mut out);
            out
        }

        fn render_node(&self, id: NodeId, out: &mut String) {
            let (rec, t, kids) = &self.nodes[&id];
            let names = &self.names[*t];
            out.push_str(&render_data(&rec.data, names));
            out.push('[');
            for k in kids {
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
        let mut names = NameTable::new();
        let raw = dom.describe(&0).expect("doc");
        let (first, nodes) = serialize_subtree(
            dom,
            &mut m,
            &DefaultPolicy,
            &mut names,
            &0,
            raw,
            None,
            false,
            &mut SideState::default(),
        );
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

    /// document > html > body > ul > li×n each with text "item i"; snapshot taken.
    fn fixture(n: usize) -> Fixture {
        let mut dom = TestDom::new();
        let html = dom.el("html");
        dom.append(0, html);
        let body = dom.el("body");
        dom.append(html, body);
        let list = dom.el("ul");
        dom.append(body, list);
        let mut items = vec![];
        for i in 0..n {
            let li = dom.el("li");
            let t = dom.new_text(&format!("item {i}"));
            dom.append(li, t);
            dom.append(list, li);
            items.push(li);
        }
        dom.take_records();
        let mut mirror: Mirror = IdMirror::new(HashKeys::default());
        let mut names = NameTable::new();
        let raw = dom.describe(&0).expect("doc");
        let (first, nodes) = serialize_subtree(
            &dom,
            &mut mirror,
            &DefaultPolicy,
            &mut names,
            &0,
            raw,
            None,
            false,
            &mut SideState::default(),
        );
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
                    let pick = pool[rng.below(pool.len())];
                    match rng.below(7) {
                        0 | 1 => {
                            let n = f.dom.el(["li", "div", "span"][rng.below(3)]);
                            if rng.below(2) == 0 {
                                let t = f.dom.new_text("t");
                                f.dom.append(n, t);
                                pool.push(t);
                            }
                            pool.push(n);
                            let parent = pool[rng.below(pool.len())];
                            if matches!(f.dom.nodes[parent].raw, RawNode::Element { .. })
                                && !is_ancestor(&f.dom, n, parent)
                            {
                                f.dom.append(parent, n);
                            }
                        }
                        2 => {
                            f.dom.remove(pick);
                        }
                        3 => {
                            // Move pick before another node, if that makes a tree.
                            let other = pool[rng.below(pool.len())];
                            if let Some(p) = f.dom.nodes[other].parent
                                && !is_ancestor(&f.dom, pick, p)
                                && pick != other
                            {
                                f.dom.insert(p, pick, Some(other));
                            }
                        }
                        4 => {
                            let v = rng.below(3);
                            let val = ["a", "b"].get(v).copied();
                            f.dom.set_attr(pick, "class", val);
                        }
                        5 => {
                            if matches!(f.dom.nodes[pick].raw, RawNode::Text(_)) {
                                f.dom.set_text(pick, ["x", "y", "t"][rng.below(3)]);
                            }
                        }
                        _ => {
                            let parent = pool[rng.below(pool.len())];
                            if matches!(f.dom.nodes[parent].raw, RawNode::Element { .. })
                                && !is_ancestor(&f.dom, pick, parent)
                            {
                                f.dom.append(parent, pick);
                            }
                        }
                    }
                }
                // Keep the body (the list's parent chain) in the document so there is a page.
                if f.dom.nodes[f.list].parent.is_none() {
                    f.dom.append(f.body, f.list);
                }
                f.flush();
            }
        }
    }

    /// True when `a` is `b` or an ancestor of `b`.
    fn is_ancestor(dom: &TestDom, a: usize, b: usize) -> bool {
        let mut cur = Some(b);
        while let Some(c) = cur {
            if c == a {
                return true;
            }
            cur = dom.nodes[c].parent;
        }
        false
    }
}
