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

use crate::capture::{
    DomTree, SideState, captured_children, facts_of, masks_text_under, serialize_subtree,
};
use crate::mask::{MaskPolicy, attribute_reads_element, mask_attribute, masked_text};
use crate::mirror::{IdMirror, NodeKeys};
pub use crate::record::Record;
use cobrowse_protocol::{
    AddedSubtree, AttrChange, Insert, MutationBatch, NameTable, NodeId, TextChange,
};
// Keys are the client's own (node keys, ids): no peer chooses them.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// The result of coalescing one callback.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Coalesced {
    /// The batch to send (skip it when [`MutationBatch::is_empty`]).
    pub batch: MutationBatch,
    /// Form state and scroll offsets of the newly inserted nodes.
    pub side: SideState,
}

/// Which nodes are captured in the document now, remembered for one pass: a storm among
/// siblings asks about their parent once.
#[derive(Debug, Default)]
pub struct Placement {
    placed: HashMap<u64, bool>,
    /// Whether the children of a node are placed: it is placed and does not hide them.
    children_placed: HashMap<u64, bool>,
}

impl Placement {
    /// True when `node` is captured in the document now: reaches the root through captured
    /// ancestors only, none of which hides its children. Asked of the tree in one question
    /// where it can ([`DomTree::placed_at_once`]), else climbed here.
    pub fn placed<D: DomTree>(&mut self, dom: &D, node: &D::Node) -> bool {
        if let Some(p) = dom.placed_at_once(node) {
            return p;
        }
        let key = dom.key(node);
        if let Some(&p) = self.placed.get(&key) {
            return p;
        }
        let mut visited = vec![key];
        // Visited ancestors that do not hide their children: theirs are placed as they are.
        let mut parents = Vec::new();
        let mut cur = node.clone();
        let result = loop {
            if dom.is_excluded(&cur) || !dom.captures(&cur) {
                break false;
            }
            if dom.is_root(&cur) {
                break true;
            }
            let Some(parent) = dom.parent(&cur) else {
                break false;
            };
            let pk = dom.key(&parent);
            if let Some(&p) = self.children_placed.get(&pk) {
                break p;
            }
            if dom.hides_children(&parent) {
                self.children_placed.insert(pk, false);
                break false;
            }
            parents.push(pk);
            if let Some(&p) = self.placed.get(&pk) {
                break p;
            }
            visited.push(pk);
            cur = parent;
        };
        for k in visited {
            self.placed.insert(k, result);
        }
        for k in parents {
            self.children_placed.insert(k, result);
        }
        result
    }
}

struct Pass<'a, D: DomTree, K: NodeKeys<D::Node>> {
    dom: &'a D,
    mirror: &'a mut IdMirror<D::Node, K>,
    policy: &'a dyn MaskPolicy,
    placement: Placement,
    /// Whether each parent of an inserted subtree masks the text under it, by replica id: a
    /// storm inserts thousands of children of one parent, which need the parent read once.
    masks_text: HashMap<NodeId, bool>,
}

impl<D: DomTree, K: NodeKeys<D::Node>> Pass<'_, D, K> {
    fn placed(&mut self, node: &D::Node) -> bool {
        self.placement.placed(self.dom, node)
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
    let mut seen = HashSet::default();
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
    dom.begin_pass();
    let c = coalesce_pass(dom, mirror, policy, records);
    dom.end_pass();
    c
}

fn coalesce_pass<D: DomTree, K: NodeKeys<D::Node>>(
    dom: &D,
    mirror: &mut IdMirror<D::Node, K>,
    policy: &dyn MaskPolicy,
    records: &[Record<D::Node>],
) -> Coalesced {
    let mut added = Vec::new();
    let mut removed = Vec::new();
    // (node, name) → value before the batch, in first-seen order.
    let mut attr_order: Vec<&Record<D::Node>> = Vec::new();
    let mut attr_seen: HashSet<(u64, String)> = HashSet::default();
    let mut text_order: Vec<(D::Node, Option<String>)> = Vec::new();
    let mut text_seen: HashSet<u64> = HashSet::default();
    for r in records {
        match r {
            Record::ChildList {
                added: a,
                removed: rm,
            } => {
                added.extend(a.iter().cloned());
                removed.extend(rm.iter().cloned());
            }
            Record::Attribute { target, name, .. } => {
                if attr_seen.insert((dom.key(target), name.clone())) {
                    attr_order.push(r);
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
        placement: Placement::default(),
        masks_text: HashMap::default(),
    };

    // Known nodes that left the document: candidates for removal.
    let mut removes: HashSet<NodeId> = HashSet::default();
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
    let mut converted: HashSet<NodeId> = HashSet::default();
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
    let mut pending_keys: HashSet<u64> = HashSet::default();
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

    // Shallowest first: a node's new parent is then already where it ends up. A move into a
    // node that still sits inside the moved node's replica subtree would make a cycle, which the
    // agent's tree refuses; some ancestor of that parent is itself pending (it left the moved
    // subtree), and it is shallower, so it goes first. Stable, so siblings keep their order.
    let depth = |n: &D::Node| {
        let mut d = 0usize;
        let mut cur = dom.parent(n);
        while let Some(p) = cur {
            d += 1;
            if dom.is_root(&p) {
                break;
            }
            cur = dom.parent(&p);
        }
        d
    };
    pending.sort_by_cached_key(|n| depth(n));
    // The new subtrees among them are serialized below, one walk each: read them in one go
    // (a single one costs the same either way, so it is not even looked for).
    if pending.len() > 1 {
        let fresh: Vec<D::Node> = pending
            .iter()
            .filter(|n| pass.mirror.id(n).is_none())
            .cloned()
            .collect();
        if fresh.len() > 1 {
            dom.prewalk(&fresh);
        }
    }

    let first_new_id = pass.mirror.next_id();
    let mut batch = MutationBatch {
        removes: final_removes,
        ..MutationBatch::default()
    };
    let mut side = SideState {
        inserted: true,
        ..SideState::default()
    };
    let mut emitted: HashSet<u64> = HashSet::default();
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
    for r in attr_order {
        let Record::Attribute {
            target: n,
            name,
            old,
            now: read,
        } = r
        else {
            continue;
        };
        let Some(id) = pass.mirror.id(n) else {
            continue;
        };
        if id >= first_new_id || !pass.placed(n) {
            continue; // new nodes were serialized with their current attributes
        }
        let now = match read {
            Some(value) => dom.attribute_read(n, name, value.clone()),
            None => dom.attribute(n, name),
        };
        if now == *old {
            continue;
        }
        // A value that may not leave the browser at all goes out as a removal (the replica
        // never had it either).
        let value = now.and_then(|v| {
            let raw = attribute_reads_element(name)
                .then(|| dom.describe(n))
                .flatten();
            let facts = raw
                .as_ref()
                .and_then(|r| facts_of(dom, n, r))
                .unwrap_or_default();
            mask_attribute(policy, &facts, name, &v)
        });
        if value.is_none() && old.is_none() {
            continue;
        }
        batch.attrs.push(AttrChange {
            node: id,
            name: batch.names.intern(name),
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
    let policy = pass.policy;
    let parent_masks_text = *pass.masks_text.entry(parent).or_insert_with(|| {
        dom.describe(&parent_node)
            .is_some_and(|praw| masks_text_under(dom, &parent_node, &praw, policy))
    });
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
    captured_children(dom, node, None)
        .into_iter()
        .map(|(n, _)| n)
        .collect()
}

#[cfg(test)]
mod tests;
