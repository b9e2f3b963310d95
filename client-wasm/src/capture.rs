//! Serializing live DOM subtrees into the protocol's flat pre-order records.
//!
//! The DOM is reached only through the [`DomTree`] trait, so the serializer (and the coalescer
//! built on it) runs natively over a test tree and in the browser over `web_sys::Node`s.
//!
//! Invariants the serializer keeps:
//! * our own UI ([`DomTree::is_excluded`]) is never captured, nor anything under it;
//! * `<script>` elements are sent without their children ([`DomTree::hides_children`]), so their
//!   code never leaves the page;
//! * values and texts pass through the [`MaskPolicy`] before they are put in a record;
//! * ids are assigned from the mirror in pre-order, matching the protocol's implicit numbering.

use crate::mask::{ElementFacts, MaskPolicy, mask_attribute, mask_value, masked_text};
use crate::mirror::{IdMirror, NodeKeys};
use cobrowse_protocol::{
    Attribute, FormState, FormValue, NameTable, Namespace, NodeData, NodeId, NodeRecord,
    ScrollPosition, ScrollTarget,
};

/// Deepest tree we capture; deeper content is cut (the protocol's decoders refuse depth > 2048).
pub const MAX_DEPTH: usize = 1_500;

/// A node as the DOM describes it, before interning and masking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawNode {
    /// A document.
    Document {
        /// Its URL.
        url: String,
    },
    /// A doctype.
    Doctype {
        /// Name.
        name: String,
        /// Public id.
        public_id: String,
        /// System id.
        system_id: String,
    },
    /// An element.
    Element {
        /// `localName`.
        tag: String,
        /// Namespace.
        ns: Namespace,
        /// Attributes in document order.
        attrs: Vec<(String, String)>,
    },
    /// A text node.
    Text(String),
    /// A comment.
    Comment(String),
    /// A shadow root.
    ShadowRoot {
        /// Open or closed.
        open: bool,
    },
}

impl RawNode {
    /// Masking facts when this is an element.
    pub fn facts(&self, matches_mask_rule: bool) -> Option<ElementFacts<'_>> {
        match self {
            RawNode::Element { tag, attrs, .. } => Some(ElementFacts {
                tag,
                input_type: attrs
                    .iter()
                    .find(|(n, _)| n == "type")
                    .map(|(_, v)| v.as_str()),
                matches_mask_rule,
            }),
            _ => None,
        }
    }
}

/// Read access to a DOM, as much as capture needs. Implemented over `web_sys::Node` in the
/// browser and over a small arena in tests.
pub trait DomTree {
    /// A node handle.
    type Node: Clone;
    /// A key identifying the node for the life of one coalescing pass (sets and maps need it;
    /// JS nodes are not hashable).
    fn key(&self, node: &Self::Node) -> u64;
    /// Parent in capture terms: a shadow root's parent is its host.
    fn parent(&self, node: &Self::Node) -> Option<Self::Node>;
    /// Next sibling in the live DOM (unfiltered).
    fn next_sibling(&self, node: &Self::Node) -> Option<Self::Node>;
    /// Children in capture order (an open shadow root first), unfiltered.
    fn children(&self, node: &Self::Node) -> Vec<Self::Node>;
    /// True for the top document (the root of every snapshot).
    fn is_root(&self, node: &Self::Node) -> bool;
    /// True for our own UI (`data-cobrowse-ui`): never captured, nor its subtree.
    fn is_excluded(&self, node: &Self::Node) -> bool;
    /// True when the node's children are never captured (`<script>`).
    fn hides_children(&self, node: &Self::Node) -> bool;
    /// The node's description, or `None` for node kinds we do not capture.
    fn describe(&self, node: &Self::Node) -> Option<RawNode>;
    /// True when [`DomTree::describe`] would return `Some` (cheaper: no attribute copies).
    fn captures(&self, node: &Self::Node) -> bool {
        self.describe(node).is_some()
    }
    /// Current value of attribute `name` of an element.
    fn attribute(&self, node: &Self::Node, name: &str) -> Option<String>;
    /// Current data of a text or comment node.
    fn text(&self, node: &Self::Node) -> Option<String>;
    /// Live state of a form control (unmasked), when the node is one.
    fn form_state(&self, _node: &Self::Node) -> Option<FormState> {
        None
    }
    /// Non-zero scroll offsets of an element.
    fn scroll(&self, _node: &Self::Node) -> Option<(i32, i32)> {
        None
    }
    /// True when a site masking rule matches the element or an ancestor (issue #5).
    fn matches_mask_rule(&self, _node: &Self::Node) -> bool {
        false
    }
}

/// The captured children of `node`: excluded and undescribable nodes dropped.
pub fn captured_children<D: DomTree>(dom: &D, node: &D::Node) -> Vec<(D::Node, RawNode)> {
    if dom.hides_children(node) {
        return Vec::new();
    }
    dom.children(node)
        .into_iter()
        .filter(|c| !dom.is_excluded(c))
        .filter_map(|c| dom.describe(&c).map(|raw| (c, raw)))
        .collect()
}

/// What serializing a subtree produced besides its records.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SideState {
    /// Form control state found in the subtree.
    pub form: Vec<FormValue>,
    /// Non-zero element scroll offsets found in the subtree.
    pub scroll: Vec<ScrollPosition>,
}

/// Masks a form state for a control.
pub fn mask_form_state(
    policy: &dyn MaskPolicy,
    facts: &ElementFacts<'_>,
    state: FormState,
) -> FormState {
    match state {
        FormState::Value(v) => FormState::Value(mask_value(policy, facts, &v)),
        other => other,
    }
}

/// Converts a described node into its record data, interning names and masking values.
/// `parent_masks_text` says whether text directly inside this node's parent is masked.
pub fn to_node_data(
    raw: &RawNode,
    facts_rule: bool,
    parent_masks_text: bool,
    policy: &dyn MaskPolicy,
    names: &mut NameTable,
) -> NodeData {
    match raw {
        RawNode::Document { url } => NodeData::Document { url: url.clone() },
        RawNode::Doctype {
            name,
            public_id,
            system_id,
        } => NodeData::Doctype {
            name: name.clone(),
            public_id: public_id.clone(),
            system_id: system_id.clone(),
        },
        RawNode::Element { tag, ns, attrs } => {
            let facts = raw.facts(facts_rule).unwrap_or_default();
            NodeData::Element {
                tag: names.intern(tag),
                ns: ns.clone(),
                attrs: attrs
                    .iter()
                    .map(|(n, v)| Attribute {
                        name: names.intern(n),
                        value: mask_attribute(policy, &facts, n, v),
                    })
                    .collect(),
            }
        }
        RawNode::Text(t) => {
            if parent_masks_text {
                NodeData::Text(masked_text(t))
            } else {
                NodeData::Text(t.clone())
            }
        }
        RawNode::Comment(c) => NodeData::Comment(c.clone()),
        RawNode::ShadowRoot { open } => NodeData::ShadowRoot { open: *open },
    }
}

/// Whether text nodes directly under `node` are masked.
pub fn masks_text_under<D: DomTree>(
    dom: &D,
    node: &D::Node,
    raw: &RawNode,
    policy: &dyn MaskPolicy,
) -> bool {
    raw.facts(dom.matches_mask_rule(node))
        .is_some_and(|f| policy.masks_text(&f))
}

/// Serializes the captured subtree rooted at `root` (whose description is `raw`), assigning ids
/// from `mirror` in pre-order under replica parent `parent`. `parent_masks_text` applies when
/// the root is a text node. Returns the records (the first has id `first_id`, returned too).
#[allow(clippy::too_many_arguments)] // One call site per caller; a struct would only rename them.
pub fn serialize_subtree<D: DomTree, K: NodeKeys<D::Node>>(
    dom: &D,
    mirror: &mut IdMirror<D::Node, K>,
    policy: &dyn MaskPolicy,
    names: &mut NameTable,
    root: &D::Node,
    raw: RawNode,
    parent: Option<NodeId>,
    parent_masks_text: bool,
    side: &mut SideState,
) -> (NodeId, Vec<NodeRecord>) {
    let first_id = mirror.next_id();
    let mut out = Vec::new();
    // (node, description, replica parent, masks text of parent, depth)
    let mut stack = vec![(root.clone(), raw, parent, parent_masks_text, 1usize)];
    while let Some((node, raw, parent, masked_text, depth)) = stack.pop() {
        let id = mirror.assign(&node, parent);
        let rule = dom.matches_mask_rule(&node);
        let data = to_node_data(&raw, rule, masked_text, policy, names);
        let children = if depth >= MAX_DEPTH {
            Vec::new()
        } else {
            captured_children(dom, &node)
        };
        if let Some(facts) = raw.facts(rule) {
            if let Some(state) = dom.form_state(&node) {
                side.form.push(FormValue {
                    node: id,
                    state: mask_form_state(policy, &facts, state),
                });
            }
            if let Some((x, y)) = dom.scroll(&node) {
                side.scroll.push(ScrollPosition {
                    target: ScrollTarget::Node(id),
                    x,
                    y,
                });
            }
        }
        let child_masks_text = masks_text_under(dom, &node, &raw, policy) || masked_text;
        out.push(NodeRecord::new(data, children.len() as u32));
        for (child, craw) in children.into_iter().rev() {
            stack.push((child, craw, Some(id), child_masks_text, depth + 1));
        }
    }
    (first_id, out)
}

#[cfg(test)]
pub(crate) mod testdom {
    //! A tiny arena DOM for native tests of capture and coalescing.

    use super::*;

    /// One node of the arena.
    #[derive(Debug, Clone)]
    pub struct TNode {
        pub raw: RawNode,
        pub parent: Option<usize>,
        pub children: Vec<usize>,
        pub form: Option<FormState>,
    }

    /// An arena DOM. Node 0 is the document. Every change is logged as a MutationObserver
    /// record would report it, so tests feed the coalescer what a browser would.
    #[derive(Debug, Clone)]
    pub struct TestDom {
        pub nodes: Vec<TNode>,
        pub log: Vec<crate::coalesce::Record<usize>>,
    }

    impl TestDom {
        pub fn new() -> Self {
            TestDom {
                nodes: vec![TNode {
                    raw: RawNode::Document {
                        url: "https://shop.example/".into(),
                    },
                    parent: None,
                    children: vec![],
                    form: None,
                }],
                log: vec![],
            }
        }

        /// Takes the records logged since the last call (one observer callback).
        pub fn take_records(&mut self) -> Vec<crate::coalesce::Record<usize>> {
            std::mem::take(&mut self.log)
        }

        pub fn create(&mut self, raw: RawNode) -> usize {
            self.nodes.push(TNode {
                raw,
                parent: None,
                children: vec![],
                form: None,
            });
            self.nodes.len() - 1
        }

        pub fn el(&mut self, tag: &str) -> usize {
            self.create(RawNode::Element {
                tag: tag.into(),
                ns: Namespace::Html,
                attrs: vec![],
            })
        }

        pub fn new_text(&mut self, t: &str) -> usize {
            self.create(RawNode::Text(t.into()))
        }

        /// Detaches `n` from its parent; returns the old parent.
        pub fn remove(&mut self, n: usize) -> Option<usize> {
            let p = self.nodes[n].parent.take()?;
            self.nodes[p].children.retain(|c| *c != n);
            self.log.push(crate::coalesce::Record::ChildList {
                added: vec![],
                removed: vec![n],
            });
            Some(p)
        }

        /// Inserts `n` into `parent` before `before` (append when `None`).
        pub fn insert(&mut self, parent: usize, n: usize, before: Option<usize>) {
            self.remove(n);
            let pos = before
                .and_then(|b| self.nodes[parent].children.iter().position(|c| *c == b))
                .unwrap_or(self.nodes[parent].children.len());
            self.nodes[parent].children.insert(pos, n);
            self.nodes[n].parent = Some(parent);
            self.log.push(crate::coalesce::Record::ChildList {
                added: vec![n],
                removed: vec![],
            });
        }

        pub fn append(&mut self, parent: usize, n: usize) {
            self.insert(parent, n, None);
        }

        pub fn set_attr(&mut self, n: usize, name: &str, value: Option<&str>) {
            let old = self.attribute(&n, name);
            self.log.push(crate::coalesce::Record::Attribute {
                target: n,
                name: name.into(),
                old,
            });
            if let RawNode::Element { attrs, .. } = &mut self.nodes[n].raw {
                attrs.retain(|(k, _)| k != name);
                if let Some(v) = value {
                    attrs.push((name.into(), v.into()));
                }
            }
        }

        pub fn set_text(&mut self, n: usize, t: &str) {
            let old = self.text(&n);
            self.log
                .push(crate::coalesce::Record::Text { target: n, old });
            self.nodes[n].raw = RawNode::Text(t.into());
        }
    }

    impl DomTree for TestDom {
        type Node = usize;
        fn key(&self, node: &usize) -> u64 {
            *node as u64
        }
        fn parent(&self, node: &usize) -> Option<usize> {
            self.nodes.get(*node)?.parent
        }
        fn next_sibling(&self, node: &usize) -> Option<usize> {
            let p = self.parent(node)?;
            let sibs = &self.nodes[p].children;
            let pos = sibs.iter().position(|c| c == node)?;
            sibs.get(pos + 1).copied()
        }
        fn children(&self, node: &usize) -> Vec<usize> {
            self.nodes[*node].children.clone()
        }
        fn is_root(&self, node: &usize) -> bool {
            *node == 0
        }
        fn is_excluded(&self, node: &usize) -> bool {
            matches!(&self.nodes[*node].raw, RawNode::Element { attrs, .. }
                if attrs.iter().any(|(k, _)| k == "data-cobrowse-ui"))
        }
        fn hides_children(&self, node: &usize) -> bool {
            matches!(&self.nodes[*node].raw, RawNode::Element { tag, .. } if tag == "script")
        }
        fn describe(&self, node: &usize) -> Option<RawNode> {
            Some(self.nodes.get(*node)?.raw.clone())
        }
        fn attribute(&self, node: &usize, name: &str) -> Option<String> {
            match &self.nodes[*node].raw {
                RawNode::Element { attrs, .. } => attrs
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone()),
                _ => None,
            }
        }
        fn text(&self, node: &usize) -> Option<String> {
            match &self.nodes[*node].raw {
                RawNode::Text(t) | RawNode::Comment(t) => Some(t.clone()),
                _ => None,
            }
        }
        fn form_state(&self, node: &usize) -> Option<FormState> {
            self.nodes[*node].form.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testdom::TestDom;
    use super::*;
    use crate::mask::DefaultPolicy;
    use crate::mirror::HashKeys;

    #[test]
    fn serializes_pre_order_skipping_our_ui_and_script_text() {
        let mut dom = TestDom::new();
        let html = dom.el("html");
        dom.append(0, html);
        let body = dom.el("body");
        dom.append(html, body);
        let script = dom.el("script");
        dom.append(body, script);
        let code = dom.new_text("steal()");
        dom.append(script, code);
        let ui = dom.el("div");
        dom.set_attr(ui, "data-cobrowse-ui", Some(""));
        dom.append(body, ui);
        let p = dom.el("p");
        dom.append(body, p);
        let t = dom.new_text("hi");
        dom.append(p, t);
        let pw = dom.el("input");
        dom.set_attr(pw, "type", Some("password"));
        dom.set_attr(pw, "value", Some("s3cret"));
        dom.nodes[pw].form = Some(FormState::Value("s3cret!".into()));
        dom.append(body, pw);

        let mut mirror = IdMirror::new(HashKeys::default());
        let mut names = NameTable::new();
        let mut side = SideState::default();
        let raw = dom.describe(&0).expect("document");
        let (first, nodes) = serialize_subtree(
            &dom,
            &mut mirror,
            &DefaultPolicy,
            &mut names,
            &0,
            raw,
            None,
            false,
            &mut side,
        );
        assert_eq!(first, 1);
        cobrowse_protocol::validate_tree(&nodes, first, &names, 64).expect("valid tree");
        // document, html, body, script (no children), p, "hi", input
        assert_eq!(nodes.len(), 7);
        assert_eq!(nodes[3].children, 0, "script text is never captured");
        assert_eq!(mirror.id(&code), None);
        assert_eq!(mirror.id(&ui), None);
        assert_eq!(mirror.id(&t), Some(6));
        let NodeData::Element { attrs, .. } = &nodes[6].data else {
            panic!("input record")
        };
        assert!(attrs.iter().all(|a| !a.value.contains("s3cret")));
        assert_eq!(
            side.form,
            vec![FormValue {
                node: 7,
                state: FormState::Value("*******".into())
            }]
        );
    }
}
