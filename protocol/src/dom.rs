//! DOM records: snapshots and mutation batches.
//!
//! Trees travel **flat, in pre-order**: each [`NodeRecord`] says how many children follow it. A flat
//! list keeps decoding iterative (no recursion, so no stack overflow on a hostile 100k-deep tree)
//! and lets [`validate_tree`] enforce depth and size limits in one pass.
//!
//! Node ids are **implicit and sequential**: the `i`-th record of a list whose first id is
//! `first_id` has id `first_id + i`. The customer's id mirror hands out ids in that order, so ids
//! cost nothing on the wire. Ids stay stable for the life of a node across mutation batches (moves
//! keep them); a full [`Snapshot`](crate::Snapshot) may renumber everything, and replaces the replica whole.
//!
//! Special children: an element's open shadow root is a [`NodeData::ShadowRoot`] record and an
//! iframe's content document is a [`NodeData::Document`] record; both are listed among the host's
//! children (first), so the same tree walk reaches them.

use crate::names::{Name, NameTable};
use serde::{Deserialize, Serialize};

/// Stable id of a node within one customer page (see the module docs for how ids are assigned).
pub type NodeId = u32;

/// Element namespace. HTML is the default; SVG and MathML need `createElementNS` on replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Namespace {
    /// `http://www.w3.org/1999/xhtml`
    Html,
    /// `http://www.w3.org/2000/svg`
    Svg,
    /// `http://www.w3.org/1998/Math/MathML`
    MathMl,
    /// Any other namespace URI.
    Other(String),
}

impl Namespace {
    /// The namespace URI, as `createElementNS` wants it.
    pub fn uri(&self) -> &str {
        match self {
            Namespace::Html => "http://www.w3.org/1999/xhtml",
            Namespace::Svg => "http://www.w3.org/2000/svg",
            Namespace::MathMl => "http://www.w3.org/1998/Math/MathML",
            Namespace::Other(uri) => uri,
        }
    }

    /// Maps a namespace URI (as `Element.namespaceURI` reports it) to the compact form.
    pub fn from_uri(uri: Option<&str>) -> Self {
        match uri {
            None | Some("http://www.w3.org/1999/xhtml") => Namespace::Html,
            Some("http://www.w3.org/2000/svg") => Namespace::Svg,
            Some("http://www.w3.org/1998/Math/MathML") => Namespace::MathMl,
            Some(other) => Namespace::Other(other.to_owned()),
        }
    }
}

/// One attribute of an element. Values are already masked by the customer side where policy says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Attribute {
    /// Interned attribute name (resolve with the message's [`NameTable`]).
    pub name: Name,
    /// Attribute value.
    pub value: String,
}

/// What a node is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum NodeData {
    /// A document: the page itself (root of a snapshot) or an iframe's content document.
    Document {
        /// The document's URL, against which its relative URLs resolve.
        url: String,
    },
    /// `<!DOCTYPE …>`.
    Doctype {
        /// Usually `html`.
        name: String,
        /// Public identifier (often empty).
        public_id: String,
        /// System identifier (often empty).
        system_id: String,
    },
    /// An element with its namespace and attributes.
    Element {
        /// Interned tag name (lower case for HTML, as the DOM reports `localName`).
        tag: Name,
        /// Namespace of the element.
        ns: Namespace,
        /// Attributes in document order.
        attrs: Vec<Attribute>,
    },
    /// A text node.
    Text(String),
    /// A comment node.
    Comment(String),
    /// An element's shadow root (listed as the first child of its host).
    ShadowRoot {
        /// `true` for `mode: "open"`; closed roots are only captured when the page lets us.
        open: bool,
    },
}

/// One node of a flat pre-order tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct NodeRecord {
    /// What the node is.
    pub data: NodeData,
    /// How many direct children follow (each followed in turn by its own descendants).
    pub children: u32,
}

impl NodeRecord {
    /// A record with `children` direct children.
    pub fn new(data: NodeData, children: u32) -> Self {
        Self { data, children }
    }
}

/// A control's current state, which attributes alone do not carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum FormState {
    /// Current value of an input, textarea or select (single).
    Value(String),
    /// Checkbox or radio `checked` (and not indeterminate).
    Checked(bool),
    /// Selected option indices of a `<select>` (several when `multiple`).
    Selected(Vec<u32>),
    /// A checkbox whose `indeterminate` is set (drawn as the mixed dash whatever `checked` is),
    /// with its `checked`. Only script sets it, and no attribute carries it.
    Indeterminate(bool),
}

/// The state of one form control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct FormValue {
    /// The control.
    pub node: NodeId,
    /// Its state (masked values arrive as placeholders).
    pub state: FormState,
}

/// What scrolled: the top window, or an element (an iframe document's id for its window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ScrollTarget {
    /// The top-level window.
    Window,
    /// A scrolled element, or a document node for an iframe's window.
    Node(NodeId),
}

/// A scroll position in CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ScrollPosition {
    /// What scrolled.
    pub target: ScrollTarget,
    /// `scrollX` / `scrollLeft`.
    pub x: i32,
    /// `scrollY` / `scrollTop`.
    pub y: i32,
}

/// A subtree inserted by a mutation batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct AddedSubtree {
    /// Where it goes.
    pub parent: NodeId,
    /// Inserted before this sibling; `None` appends. The sibling is already in the replica when the
    /// insert is applied (the recorder orders inserts so).
    pub next_sibling: Option<NodeId>,
    /// Id of `nodes[0]`.
    pub first_id: NodeId,
    /// The subtree, flat pre-order.
    pub nodes: Vec<NodeRecord>,
}

/// One insert in a mutation batch: a new subtree, or an existing node moved (keeping its id and
/// its whole subtree, so reordering a list costs a few bytes per row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Insert {
    /// A new subtree.
    New(AddedSubtree),
    /// An existing node moved under `parent`, before `next_sibling` (`None` appends).
    Move {
        /// The moved node.
        node: NodeId,
        /// Its new parent.
        parent: NodeId,
        /// Its new next sibling.
        next_sibling: Option<NodeId>,
    },
}

/// An attribute set (`Some`) or removed (`None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct AttrChange {
    /// The element.
    pub node: NodeId,
    /// Interned attribute name.
    pub name: Name,
    /// New value, or `None` when the attribute was removed.
    pub value: Option<String>,
}

/// A text or comment node's new content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct TextChange {
    /// The text or comment node.
    pub node: NodeId,
    /// Its new data.
    pub text: String,
}

/// The net effect of one MutationObserver callback, already coalesced by the recorder.
///
/// Apply in field order: `removes` (whole subtrees), then `inserts` in list order, then `attrs`,
/// then `texts`. Ids in `removes` are never reused by `inserts` of the same batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct MutationBatch {
    /// Names used by this batch beyond the static dictionary.
    pub names: NameTable,
    /// Roots of removed subtrees.
    pub removes: Vec<NodeId>,
    /// New subtrees and moves, in application order.
    pub inserts: Vec<Insert>,
    /// Attribute changes (the last value of each attribute in the batch).
    pub attrs: Vec<AttrChange>,
    /// Text changes (the last data of each node in the batch).
    pub texts: Vec<TextChange>,
}

impl MutationBatch {
    /// True when applying the batch would change nothing.
    pub fn is_empty(&self) -> bool {
        self.removes.is_empty()
            && self.inserts.is_empty()
            && self.attrs.is_empty()
            && self.texts.is_empty()
    }
}

/// Why a flat tree is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// The list is empty where a root is required.
    #[error("empty node list")]
    Empty,
    /// A record announces more children than the list holds.
    #[error("node list ends inside a subtree")]
    Truncated,
    /// Records remain after the root's subtree ends.
    #[error("{0} records after the end of the tree")]
    TrailingRecords(usize),
    /// Deeper than the limit.
    #[error("tree deeper than {0}")]
    TooDeep(usize),
    /// An interned name does not resolve.
    #[error("name id {0} is not in the dictionary or the message's table")]
    UnknownName(u32),
    /// `first_id + len` overflows the id space.
    #[error("node ids overflow")]
    IdOverflow,
}

/// Checks that `nodes` is exactly one well-formed pre-order tree no deeper than `max_depth`, that
/// every name resolves in `names`, and that its ids fit. Iterative: safe on any input.
pub fn validate_tree(
    nodes: &[NodeRecord],
    first_id: NodeId,
    names: &NameTable,
    max_depth: usize,
) -> Result<(), TreeError> {
    if nodes.is_empty() {
        return Err(TreeError::Empty);
    }
    if first_id.checked_add(nodes.len() as u32).is_none() || nodes.len() > u32::MAX as usize {
        return Err(TreeError::IdOverflow);
    }
    // Stack of "children still expected" for each open ancestor.
    let mut open: Vec<u32> = Vec::new();
    for (i, rec) in nodes.iter().enumerate() {
        if i > 0 {
            match open.last_mut() {
                Some(n) => *n -= 1,
                None => return Err(TreeError::TrailingRecords(nodes.len() - i)),
            }
        }
        if let NodeData::Element { tag, attrs, .. } = &rec.data {
            for name in std::iter::once(tag).chain(attrs.iter().map(|a| &a.name)) {
                if !names.contains(*name) {
                    return Err(TreeError::UnknownName(name.0));
                }
            }
        }
        open.push(rec.children);
        if open.len() > max_depth {
            return Err(TreeError::TooDeep(max_depth));
        }
        while open.last() == Some(&0) {
            open.pop();
        }
    }
    if open.is_empty() {
        Ok(())
    } else {
        Err(TreeError::Truncated)
    }
}

/// Calls `visit(id, parent_id, record)` for each record of a valid flat tree, in order, without
/// recursion. Renderers build the DOM with it. The root's parent is `None`.
pub fn walk_tree<'a>(
    nodes: &'a [NodeRecord],
    first_id: NodeId,
    mut visit: impl FnMut(NodeId, Option<NodeId>, &'a NodeRecord),
) {
    // (id, children still expected)
    let mut open: Vec<(NodeId, u32)> = Vec::new();
    for (i, rec) in nodes.iter().enumerate() {
        let id = first_id.wrapping_add(i as u32);
        let parent = open.last_mut().map(|(pid, left)| {
            *left = left.saturating_sub(1);
            *pid
        });
        visit(id, parent, rec);
        open.push((id, rec.children));
        while matches!(open.last(), Some((_, 0))) {
            open.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(names: &mut NameTable, tag: &str, children: u32) -> NodeRecord {
        NodeRecord::new(
            NodeData::Element {
                tag: names.intern(tag),
                ns: Namespace::Html,
                attrs: vec![],
            },
            children,
        )
    }

    #[test]
    fn validates_and_walks_a_small_tree() {
        let mut n = NameTable::new();
        let nodes = vec![
            NodeRecord::new(
                NodeData::Document {
                    url: "http://x/".into(),
                },
                1,
            ),
            el(&mut n, "html", 2),
            el(&mut n, "head", 0),
            el(&mut n, "body", 1),
            NodeRecord::new(NodeData::Text("hi".into()), 0),
        ];
        validate_tree(&nodes, 10, &n, 16).unwrap();
        let mut seen = vec![];
        walk_tree(&nodes, 10, |id, parent, _| seen.push((id, parent)));
        assert_eq!(
            seen,
            vec![
                (10, None),
                (11, Some(10)),
                (12, Some(11)),
                (13, Some(11)),
                (14, Some(13))
            ]
        );
    }

    #[test]
    fn rejects_malformed_trees() {
        let mut n = NameTable::new();
        assert_eq!(validate_tree(&[], 0, &n, 8), Err(TreeError::Empty));
        let truncated = vec![el(&mut n, "div", 2), el(&mut n, "p", 0)];
        assert_eq!(
            validate_tree(&truncated, 0, &n, 8),
            Err(TreeError::Truncated)
        );
        let trailing = vec![el(&mut n, "div", 0), el(&mut n, "p", 0)];
        assert_eq!(
            validate_tree(&trailing, 0, &n, 8),
            Err(TreeError::TrailingRecords(1))
        );
        let mut deep: Vec<_> = (0..10).map(|_| el(&mut n, "div", 1)).collect();
        deep.push(el(&mut n, "p", 0));
        assert_eq!(validate_tree(&deep, 0, &n, 8), Err(TreeError::TooDeep(8)));
        let bad_name = vec![NodeRecord::new(
            NodeData::Element {
                tag: Name(9999),
                ns: Namespace::Svg,
                attrs: vec![],
            },
            0,
        )];
        assert_eq!(
            validate_tree(&bad_name, 0, &n, 8),
            Err(TreeError::UnknownName(9999))
        );
        assert_eq!(
            validate_tree(&[el(&mut n, "p", 0),], u32::MAX, &n, 8),
            Err(TreeError::IdOverflow)
        );
    }

    #[test]
    fn namespace_uris_round_trip() {
        for ns in [
            Namespace::Html,
            Namespace::Svg,
            Namespace::MathMl,
            Namespace::Other("urn:x".into()),
        ] {
            assert_eq!(Namespace::from_uri(Some(ns.uri())), ns);
        }
        assert_eq!(Namespace::from_uri(None), Namespace::Html);
    }
}
