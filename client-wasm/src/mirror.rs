//! The id mirror: which wire id each captured node has, and the replica's shape as the agent
//! last saw it.
//!
//! Ids are handed out sequentially ([`IdMirror::assign`]) because the protocol makes them implicit
//! in pre-order (`first_id + i`). Besides node ↔ id, the mirror keeps the *replica's* parent and
//! children of every id. The coalescer needs that shape: a node moved out of a subtree that is
//! removed in the same batch is gone from the replica once the removal is applied, so it must be
//! re-sent instead of moved; and removing a subtree must forget exactly the ids the agent drops.
//!
//! Node → id lookup is a [`NodeKeys`] store: a `HashMap` in native tests, a JS `WeakMap` in the
//! browser (so the mirror never keeps a detached DOM node alive through that direction).

use cobrowse_protocol::{IdTree, NodeId};
use std::collections::HashMap;
use std::hash::Hash;

/// Node → id lookup. The browser side implements it with a JS `WeakMap`.
pub trait NodeKeys<N> {
    /// The id stored for `node`.
    fn get(&self, node: &N) -> Option<NodeId>;
    /// Stores `id` for `node`, replacing any previous id.
    fn set(&mut self, node: &N, id: NodeId);
    /// Forgets `node`.
    fn delete(&mut self, node: &N);
    /// Forgets every node.
    fn clear(&mut self);
}

/// [`NodeKeys`] over a `HashMap`, for native tests and any hashable node handle.
#[derive(Debug, Default)]
pub struct HashKeys<N: Hash + Eq + Clone>(HashMap<N, NodeId>);

impl<N: Hash + Eq + Clone> NodeKeys<N> for HashKeys<N> {
    fn get(&self, node: &N) -> Option<NodeId> {
        self.0.get(node).copied()
    }
    fn set(&mut self, node: &N, id: NodeId) {
        self.0.insert(node.clone(), id);
    }
    fn delete(&mut self, node: &N) {
        self.0.remove(node);
    }
    fn clear(&mut self) {
        self.0.clear();
    }
}

/// Bidirectional node ↔ id map plus the replica's tree shape.
///
/// Invariant: every id in the tree is a node the agent's replica holds, and its parent /
/// children are the replica's, not necessarily the live DOM's (the two differ while a mutation
/// batch is being coalesced). The shape is the protocol's [`IdTree`], the same type the agent
/// applies batches to, so both ends agree on what a move or a removal does.
#[derive(Debug)]
pub struct IdMirror<N, K: NodeKeys<N>> {
    keys: K,
    /// The ids are this mirror's own counter, so a fast hasher is safe.
    tree: IdTree<N, rustc_hash::FxBuildHasher>,
    next_id: NodeId,
}

impl<N: Clone, K: NodeKeys<N>> IdMirror<N, K> {
    /// An empty mirror using `keys` for node → id lookups. Ids start at 1 (0 stays unused so a
    /// zero in a frame is recognisably wrong).
    pub fn new(keys: K) -> Self {
        IdMirror {
            keys,
            tree: IdTree::new(),
            next_id: 1,
        }
    }

    /// The id of `node`, if the replica holds it.
    pub fn id(&self, node: &N) -> Option<NodeId> {
        self.keys.get(node).filter(|id| self.tree.contains(*id))
    }

    /// The node with `id`.
    pub fn node(&self, id: NodeId) -> Option<&N> {
        self.tree.get(id)
    }

    /// The replica parent of `id`.
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.tree.parent(id)
    }

    /// The replica children of `id`.
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        self.tree.children(id)
    }

    /// Number of ids held.
    pub fn len(&self) -> usize {
        self.tree.len()
    }

    /// True when no id is held.
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// The id the next [`IdMirror::assign`] returns.
    pub fn next_id(&self) -> NodeId {
        self.next_id
    }

    /// Gives `node` the next sequential id under replica parent `parent` and returns it. A node
    /// that had an id loses the old one (callers forget old subtrees first).
    pub fn assign(&mut self, node: &N, parent: Option<NodeId>) -> NodeId {
        let id = self.next_id;
        // Wrapping at u32::MAX would take ~4 billion nodes in one page; restart rather than panic.
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        self.keys.set(node, id);
        // An unknown parent (already forgotten) leaves the node as a root of its own, as before.
        if !self.tree.insert(id, node.clone(), parent, None) {
            self.tree.insert(id, node.clone(), None, None);
        }
        id
    }

    /// Moves `id` under replica parent `parent` (a `Move` insert was emitted).
    pub fn reparent(&mut self, id: NodeId, parent: NodeId) {
        self.tree.move_to(id, parent, None);
    }

    /// True when `id` or one of its replica ancestors satisfies `pred`.
    pub fn any_ancestor_or_self(&self, id: NodeId, pred: impl FnMut(NodeId) -> bool) -> bool {
        self.tree.any_ancestor_or_self(id, pred)
    }

    /// Forgets `id` and its whole replica subtree (the agent removed it). Returns how many ids
    /// were forgotten.
    pub fn forget_subtree(&mut self, id: NodeId) -> usize {
        let removed = self.tree.remove_subtree(id);
        for (cur, node) in &removed {
            if self.keys.get(node) == Some(*cur) {
                self.keys.delete(node);
            }
        }
        removed.len()
    }

    /// Forgets everything (before a full snapshot renumbers the page).
    pub fn clear(&mut self) {
        self.keys.clear();
        self.tree.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mirror() -> IdMirror<u32, HashKeys<u32>> {
        IdMirror::new(HashKeys::default())
    }

    #[test]
    fn ids_are_sequential_and_bidirectional() {
        let mut m = mirror();
        let a = m.assign(&100, None);
        let b = m.assign(&200, Some(a));
        assert_eq!((a, b), (1, 2));
        assert_eq!(m.id(&200), Some(2));
        assert_eq!(m.node(1), Some(&100));
        assert_eq!(m.parent(b), Some(a));
        assert_eq!(m.next_id(), 3);
    }

    #[test]
    fn forgetting_a_subtree_drops_descendants_only() {
        let mut m = mirror();
        let root = m.assign(&0, None);
        let a = m.assign(&1, Some(root));
        let a1 = m.assign(&2, Some(a));
        let _a11 = m.assign(&3, Some(a1));
        let b = m.assign(&4, Some(root));
        assert_eq!(m.forget_subtree(a), 3);
        assert_eq!(m.id(&1), None);
        assert_eq!(m.id(&3), None);
        assert_eq!(m.id(&4), Some(b));
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn reparent_moves_the_subtree_with_the_node() {
        let mut m = mirror();
        let root = m.assign(&0, None);
        let a = m.assign(&1, Some(root));
        let b = m.assign(&2, Some(root));
        let c = m.assign(&3, Some(a));
        m.reparent(c, b);
        assert_eq!(m.parent(c), Some(b));
        m.forget_subtree(a);
        assert_eq!(m.id(&3), Some(c), "moved child survives its old parent");
        m.forget_subtree(b);
        assert_eq!(m.id(&3), None);
    }

    #[test]
    fn reassigned_node_is_not_forgotten_through_its_old_id() {
        let mut m = mirror();
        let root = m.assign(&0, None);
        let old = m.assign(&1, Some(root));
        m.forget_subtree(old);
        let new = m.assign(&1, Some(root));
        assert_ne!(old, new);
        assert_eq!(m.id(&1), Some(new));
        assert!(m.any_ancestor_or_self(new, |id| id == root));
    }
}
