//! [`IdTree`]: the replica's tree by node id — parent, ordered children and a value per node.
//!
//! Both ends model the same tree: the customer's client keeps the shape the agent's replica has
//! (to coalesce a batch of mutations into what the replica must do), the agent keeps the shape it
//! built (to apply them). Mutation semantics — where an insert lands, what a move may not do,
//! what a removal forgets — are written here once, so the two ends cannot drift apart.
//!
//! The tree is acyclic by construction ([`IdTree::move_to`] refuses to move a node into its own
//! subtree); walks up the tree are still bounded by the node count, so a bug can never become an
//! endless loop on a customer's page.

use crate::dom::NodeId;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

#[derive(Debug, Clone)]
struct Entry<T> {
    value: T,
    parent: Option<NodeId>,
    children: Vec<NodeId>,
}

/// Nodes by id, each with a value, its parent and its children in document order.
///
/// `S` hashes the ids. The default resists ids chosen to collide, which a tree built from a
/// peer's frames needs; a party that hands out the ids itself (the customer's client numbers
/// its nodes 1, 2, 3 …) may pick a faster hasher.
#[derive(Clone)]
pub struct IdTree<T, S = RandomState> {
    entries: HashMap<NodeId, Entry<T>, S>,
}

// By hand: a hasher need not print itself.
impl<T: std::fmt::Debug, S> std::fmt::Debug for IdTree<T, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.entries.iter()).finish()
    }
}

impl<T, S: Default> Default for IdTree<T, S> {
    fn default() -> Self {
        IdTree {
            entries: HashMap::default(),
        }
    }
}

impl<T, S: BuildHasher + Default> IdTree<T, S> {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the tree holds no node.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `id` is in the tree.
    pub fn contains(&self, id: NodeId) -> bool {
        self.entries.contains_key(&id)
    }

    /// The value of `id`.
    pub fn get(&self, id: NodeId) -> Option<&T> {
        self.entries.get(&id).map(|e| &e.value)
    }

    /// The value of `id`, to change.
    pub fn get_mut(&mut self, id: NodeId) -> Option<&mut T> {
        self.entries.get_mut(&id).map(|e| &mut e.value)
    }

    /// The parent of `id` (`None` for a root or an unknown id).
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.entries.get(&id).and_then(|e| e.parent)
    }

    /// The children of `id` in document order (empty for an unknown id).
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        self.entries.get(&id).map_or(&[], |e| &e.children)
    }

    /// Every node with its value, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (NodeId, &T)> {
        self.entries.iter().map(|(id, e)| (*id, &e.value))
    }

    /// Adds `id` with `value` as a child of `parent`, before its child `before` (appended when
    /// `before` is `None` or not a child of `parent`); `parent: None` adds a root. An id already
    /// in the tree is removed first, with its subtree. Returns false (and adds nothing) when the
    /// parent is unknown.
    pub fn insert(
        &mut self,
        id: NodeId,
        value: T,
        parent: Option<NodeId>,
        before: Option<NodeId>,
    ) -> bool {
        if parent.is_some_and(|p| p == id || !self.entries.contains_key(&p)) {
            return false;
        }
        if self.entries.contains_key(&id) {
            self.remove_subtree(id);
        }
        if parent.is_some_and(|p| !self.entries.contains_key(&p)) {
            // The parent sat inside the subtree just removed.
            return false;
        }
        self.entries.insert(
            id,
            Entry {
                value,
                parent,
                children: Vec::new(),
            },
        );
        if let Some(p) = parent {
            self.link(p, id, before);
        }
        true
    }

    /// Moves `id` (with its subtree) under `parent`, before `before` (appended when `None` or not
    /// a child there). Refused — false, nothing changes — when either id is unknown or `parent`
    /// is `id` itself or inside its subtree (the tree would get a cycle).
    pub fn move_to(&mut self, id: NodeId, parent: NodeId, before: Option<NodeId>) -> bool {
        if !self.entries.contains_key(&id)
            || !self.entries.contains_key(&parent)
            || self.is_inside(parent, id)
        {
            return false;
        }
        self.unlink(id);
        if let Some(e) = self.entries.get_mut(&id) {
            e.parent = Some(parent);
        }
        self.link(parent, id, before.filter(|b| *b != id));
        true
    }

    /// Removes `id` and its whole subtree; returns the removed nodes and values, `id` first,
    /// then in depth-first order.
    pub fn remove_subtree(&mut self, id: NodeId) -> Vec<(NodeId, T)> {
        if !self.entries.contains_key(&id) {
            return Vec::new();
        }
        self.unlink(id);
        let mut removed = Vec::new();
        let mut stack = vec![id];
        while let Some(cur) = stack.pop() {
            if let Some(e) = self.entries.remove(&cur) {
                stack.extend(e.children.iter().rev());
                removed.push((cur, e.value));
            }
        }
        removed
    }

    /// True when `node` is `ancestor` or lies inside its subtree.
    pub fn is_inside(&self, node: NodeId, ancestor: NodeId) -> bool {
        self.any_ancestor_or_self(node, |id| id == ancestor)
    }

    /// True when `id` or one of its ancestors satisfies `pred`.
    pub fn any_ancestor_or_self(&self, id: NodeId, mut pred: impl FnMut(NodeId) -> bool) -> bool {
        let mut cur = Some(id);
        let mut steps = self.entries.len() + 1;
        while let Some(c) = cur {
            if pred(c) {
                return true;
            }
            steps -= 1;
            if steps == 0 {
                return false;
            }
            cur = self.parent(c);
        }
        false
    }

    /// Forgets every node.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    fn link(&mut self, parent: NodeId, child: NodeId, before: Option<NodeId>) {
        if let Some(p) = self.entries.get_mut(&parent) {
            match before.and_then(|b| p.children.iter().position(|c| *c == b)) {
                Some(i) => p.children.insert(i, child),
                None => p.children.push(child),
            }
        }
    }

    fn unlink(&mut self, child: NodeId) {
        if let Some(parent) = self.parent(child)
            && let Some(p) = self.entries.get_mut(&parent)
            && let Some(i) = p.children.iter().position(|c| *c == child)
        {
            p.children.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// root(1) → a(2) → a1(4); root → b(3)
    fn tree() -> IdTree<&'static str> {
        let mut t = IdTree::new();
        assert!(t.insert(1, "root", None, None));
        assert!(t.insert(2, "a", Some(1), None));
        assert!(t.insert(3, "b", Some(1), None));
        assert!(t.insert(4, "a1", Some(2), None));
        t
    }

    #[test]
    fn inserts_keep_document_order() {
        let mut t = tree();
        assert!(t.insert(5, "c", Some(1), Some(3)));
        assert_eq!(t.children(1), &[2, 5, 3]);
        assert!(
            t.insert(6, "d", Some(1), Some(99)),
            "unknown `before` appends"
        );
        assert_eq!(t.children(1), &[2, 5, 3, 6]);
        assert!(!t.insert(7, "x", Some(99), None), "unknown parent");
        assert!(!t.contains(7));
        assert_eq!(t.get(5), Some(&"c"));
    }

    #[test]
    fn moves_carry_the_subtree_and_never_make_a_cycle() {
        let mut t = tree();
        assert!(t.move_to(2, 3, None));
        assert_eq!(t.children(1), &[3]);
        assert_eq!(t.children(3), &[2]);
        assert!(t.is_inside(4, 3));
        assert!(!t.move_to(3, 4, None), "into its own subtree");
        assert!(!t.move_to(3, 3, None), "under itself");
        assert!(!t.move_to(9, 1, None), "unknown node");
        assert_eq!(t.parent(3), Some(1));
        assert!(t.move_to(4, 1, Some(3)));
        assert_eq!(t.children(1), &[4, 3]);
    }

    #[test]
    fn removal_forgets_exactly_the_subtree() {
        let mut t = tree();
        let removed: Vec<NodeId> = t.remove_subtree(2).into_iter().map(|(id, _)| id).collect();
        assert_eq!(removed, vec![2, 4]);
        assert_eq!(t.children(1), &[3]);
        assert_eq!(t.len(), 2);
        assert!(t.remove_subtree(2).is_empty());
    }

    #[test]
    fn reinserting_an_id_replaces_its_old_subtree() {
        let mut t = tree();
        assert!(t.insert(2, "a again", Some(3), None));
        assert!(!t.contains(4));
        assert_eq!(t.children(1), &[3]);
        assert_eq!(t.children(3), &[2]);
        assert!(
            !t.insert(4, "x", Some(4), None),
            "a node cannot be its own parent"
        );
    }

    #[test]
    fn ancestor_walks_stop() {
        let t = tree();
        let mut seen = Vec::new();
        assert!(!t.any_ancestor_or_self(4, |id| {
            seen.push(id);
            false
        }));
        assert_eq!(seen, vec![4, 2, 1]);
    }

    /// Random inserts, moves and removals keep the links consistent: every child names its
    /// parent, every non-root is in its parent's children exactly once, and no walk up the tree
    /// comes back to where it started.
    #[test]
    fn random_operations_keep_the_tree_consistent() {
        arbtest::arbtest(|u| {
            let mut t: IdTree<u8> = IdTree::new();
            t.insert(1, 0, None, None);
            for _ in 0..u.int_in_range(0..=60)? {
                let id = u.int_in_range(1..=24)?;
                let other = u.int_in_range(1..=24)?;
                let before = if u.arbitrary()? {
                    Some(u.int_in_range(1..=24)?)
                } else {
                    None
                };
                match u.int_in_range(0..=2)? {
                    0 => {
                        t.insert(id, 0, Some(other), before);
                    }
                    1 => {
                        t.move_to(id, other, before);
                    }
                    _ if id != 1 => {
                        t.remove_subtree(id);
                    }
                    _ => {}
                }
            }
            for (id, _) in t.iter() {
                for c in t.children(id) {
                    assert_eq!(t.parent(*c), Some(id));
                }
                if let Some(p) = t.parent(id) {
                    assert_eq!(t.children(p).iter().filter(|c| **c == id).count(), 1);
                }
                let mut seen = std::collections::HashSet::new();
                let mut cur = Some(id);
                while let Some(c) = cur {
                    assert!(seen.insert(c), "cycle through {c}");
                    cur = t.parent(c);
                }
            }
            Ok(())
        });
    }
}
