//! Serializing live DOM subtrees into the protocol's flat pre-order records.
//!
//! The DOM is reached only through the [`DomTree`] trait, so the serializer (and the coalescer
//! built on it) runs natively over a test tree and in the browser over `web_sys::Node`s.
//!
//! Invariants the serializer keeps:
//! * our own UI ([`DomTree::is_excluded`]) is never captured, nor anything under it;
//! * `<script>` elements are sent without their children ([`DomTree::hides_children`]), so their
//!   code never leaves the page;
//! * values, texts, attributes and document addresses pass through [`crate::mask`] (and the
//!   [`MaskPolicy`]) before they are put in a record; element facts are gathered in one place,
//!   [`facts_of`];
//! * ids are assigned from the mirror in pre-order, matching the protocol's implicit numbering.

use crate::mask::{ElementFacts, MaskPolicy, mask_attribute, mask_form_state, masked_text};
use crate::mirror::{IdMirror, NodeKeys};
use crate::walk::WalkEntry;
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
    /// Masking facts when this is an element; `matches_mask_rule` and `was_password` are the
    /// DOM side's (see [`facts_of`]).
    pub fn facts(&self, matches_mask_rule: bool, was_password: bool) -> Option<ElementFacts<'_>> {
        match self {
            RawNode::Element { tag, attrs, .. } => {
                let attr = |name: &str| {
                    attrs
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.as_str())
                };
                Some(ElementFacts {
                    tag,
                    input_type: attr("type"),
                    autocomplete: attr("autocomplete"),
                    was_password,
                    matches_mask_rule,
                })
            }
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
    /// [`DomTree::describe`] of a node met among children, `None` for excluded ones too (one
    /// question instead of two, for a side whose questions cost a call each).
    fn describe_captured(&self, node: &Self::Node) -> Option<RawNode> {
        if self.is_excluded(node) {
            None
        } else {
            self.describe(node)
        }
    }
    /// The whole capture walk of `root`'s subtree read at once ([`crate::walk`]), with scroll
    /// offsets when `with_scroll`; `None` to be walked node by node (the default). A side whose
    /// questions cost a call each answers them all in one.
    fn walk(
        &self,
        _root: &Self::Node,
        _raw: &RawNode,
        _with_scroll: bool,
    ) -> Option<Vec<WalkEntry<Self::Node>>> {
        None
    }
    /// The subtrees of `roots` are about to be walked (without scroll offsets), within the
    /// current pass: a side whose walk costs a call each may read them all in one and answer
    /// [`DomTree::walk`] from what it read. The answers must be the walks' own.
    fn prewalk(&self, _roots: &[Self::Node]) {}
    /// Whether `node` is captured in the document now (it reaches the root through captured
    /// ancestors that show their children), answered in one question when the side can (the
    /// browser climbs in JS); `None` lets the coalescer climb with the questions above
    /// (`coalesce::Placement`), which is what the answer must equal.
    fn placed_at_once(&self, _node: &Self::Node) -> Option<bool> {
        None
    }
    /// A coalescing pass begins: the DOM does not change until it ends, so answers of
    /// [`DomTree::placed_at_once`] may be kept until [`DomTree::end_pass`].
    fn begin_pass(&self) {}
    /// The pass ends: forget what it kept (it may hold nodes the page dropped).
    fn end_pass(&self) {}
    /// True when [`DomTree::describe`] would return `Some` (cheaper: no attribute copies).
    fn captures(&self, node: &Self::Node) -> bool {
        self.describe(node).is_some()
    }
    /// Current value of attribute `name` of an element.
    fn attribute(&self, node: &Self::Node, name: &str) -> Option<String>;
    /// [`DomTree::attribute`] when its raw value was read already (with the records, nothing
    /// having run since): the DOM side applies what it would to a value it reads itself.
    fn attribute_read(
        &self,
        node: &Self::Node,
        name: &str,
        _value: Option<String>,
    ) -> Option<String> {
        self.attribute(node, name)
    }
    /// Current data of a text or comment node.
    fn text(&self, node: &Self::Node) -> Option<String>;
    /// Live state of a form control (unmasked), when the node is one.
    fn form_state(&self, _node: &Self::Node) -> Option<FormState> {
        None
    }
    /// [`DomTree::children`] of a node described as `raw`: a side whose reads cost a call each
    /// (the browser's) answers what the description already tells without asking the DOM again.
    fn children_known(&self, node: &Self::Node, _raw: &RawNode) -> Vec<Self::Node> {
        self.children(node)
    }
    /// [`DomTree::hides_children`] of a node described as `raw` (see
    /// [`DomTree::children_known`]).
    fn hides_children_known(&self, node: &Self::Node, _raw: &RawNode) -> bool {
        self.hides_children(node)
    }
    /// [`DomTree::form_state`] of a node described as `raw` (see [`DomTree::children_known`]).
    fn form_state_known(&self, node: &Self::Node, _raw: &RawNode) -> Option<FormState> {
        self.form_state(node)
    }
    /// Non-zero scroll offsets of an element.
    fn scroll(&self, _node: &Self::Node) -> Option<(i32, i32)> {
        None
    }
    /// True when a site masking rule matches the element or an ancestor (across shadow roots
    /// and same-origin frames).
    fn matches_mask_rule(&self, _node: &Self::Node) -> bool {
        false
    }
    /// True when a site masking rule matches the element itself, ancestors not considered: a
    /// walk down a subtree knows its ancestors' answer already (asking each element about all
    /// its ancestors costs a subtree's size times its depth).
    fn matches_mask_rule_itself(&self, node: &Self::Node) -> bool {
        self.matches_mask_rule(node)
    }
    /// True when the element is `<input type=password>` or was one at any time the DOM side
    /// saw it (a "show password" button turns it into a text field; it stays a secret).
    fn was_password(&self, _node: &Self::Node) -> bool {
        false
    }
}

/// The masking facts of `node`, described by `raw` (`None` unless it is an element): the one
/// place that asks the DOM side what the masking rules need.
pub fn facts_of<'r, D: DomTree>(
    dom: &D,
    node: &D::Node,
    raw: &'r RawNode,
) -> Option<ElementFacts<'r>> {
    facts_known(dom, node, raw, None)
}

/// Whether a mask rule matches a node of a walk or one of its ancestors, from what the walk
/// knows: `parent` is the answer for the node's parent in capture terms (a shadow root's is its
/// host's, a frame document's its `<iframe>`'s), `None` when unknown (the walk's root). Only
/// elements are asked; other nodes pass their parent's answer on.
fn rule_matches<D: DomTree>(
    dom: &D,
    node: &D::Node,
    raw: &RawNode,
    parent: Option<bool>,
    itself: impl FnOnce() -> bool,
) -> Option<bool> {
    match (raw, parent) {
        (RawNode::Element { .. }, Some(true)) => Some(true),
        (RawNode::Element { .. }, Some(false)) => Some(itself()),
        (RawNode::Element { .. }, None) => Some(dom.matches_mask_rule(node)),
        (_, known) => known,
    }
}

/// [`facts_of`] with the mask rule's answer known (see [`rule_matches`]); `None` asks the DOM.
fn facts_known<'r, D: DomTree>(
    dom: &D,
    node: &D::Node,
    raw: &'r RawNode,
    rule: Option<bool>,
) -> Option<ElementFacts<'r>> {
    let RawNode::Element { tag, .. } = raw else {
        return None;
    };
    // Only inputs can be passwords; spare every other element the look-up.
    let was_password = tag.eq_ignore_ascii_case("input") && dom.was_password(node);
    raw.facts(
        rule.unwrap_or_else(|| dom.matches_mask_rule(node)),
        was_password,
    )
}

/// The captured children of `node` (described as `raw`, when known): excluded and
/// undescribable nodes dropped.
pub fn captured_children<D: DomTree>(
    dom: &D,
    node: &D::Node,
    raw: Option<&RawNode>,
) -> Vec<(D::Node, RawNode)> {
    let children = match raw {
        Some(raw) if dom.hides_children_known(node, raw) => return Vec::new(),
        Some(raw) => dom.children_known(node, raw),
        None if dom.hides_children(node) => return Vec::new(),
        None => dom.children(node),
    };
    children
        .into_iter()
        .filter_map(|c| dom.describe_captured(&c).map(|raw| (c, raw)))
        .collect()
}

/// What serializing a subtree produced besides its records.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SideState {
    /// Form control state found in the subtree.
    pub form: Vec<FormValue>,
    /// Non-zero element scroll offsets found in the subtree.
    pub scroll: Vec<ScrollPosition>,
    /// The subtree was just put into the document by the page, so its elements' boxes are new
    /// and unscrolled: their offsets are not read. Reading one (`scrollLeft`) forces a style and
    /// layout pass inside the mutation callback; a script that scrolls an inserted element later
    /// is reported by that element's scroll event, as any scroll is.
    pub inserted: bool,
}

/// Converts a described node into its record data, interning names and masking values.
/// `facts` are the node's ([`facts_of`]); `parent_masks_text` says whether text directly inside
/// this node's parent is masked.
pub fn to_node_data(
    raw: &RawNode,
    facts: Option<ElementFacts<'_>>,
    parent_masks_text: bool,
    policy: &dyn MaskPolicy,
    names: &mut NameTable,
) -> NodeData {
    match raw {
        RawNode::Document { url } => NodeData::Document {
            url: policy.page().address(url),
        },
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
            let facts = facts.unwrap_or_default();
            NodeData::Element {
                tag: names.intern(tag),
                ns: ns.clone(),
                attrs: attrs
                    .iter()
                    .filter_map(|(n, v)| {
                        Some(Attribute {
                            value: mask_attribute(policy, &facts, n, v)?,
                            name: names.intern(n),
                        })
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
    facts_of(dom, node, raw).is_some_and(|f| policy.masks_text(&f))
}

/// Serializes the captured subtree rooted at `root` (whose description is `raw`), assigning ids
/// from `mirror` in pre-order under replica parent `parent`. `parent_masks_text` applies when
/// the root is a text node. Returns the records (the first has id `first_id`, returned too).
/// The subtree is read in one go when `dom` can ([`DomTree::walk`]), else node by node; both
/// ways visit the same nodes with the same answers.
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
    let mut v = Visitor {
        dom,
        mirror,
        policy,
        names,
        side,
        out: Vec::new(),
    };
    if let Some(entries) = dom.walk(root, &raw, !v.side.inserted) {
        // Open ancestors: (replica id, children still to come, masks text, mask rule).
        let mut open: Vec<(NodeId, u32, bool, Option<bool>)> = Vec::new();
        for (i, e) in entries.into_iter().enumerate() {
            let (parent, masked_text, parent_rule) = match open.last_mut() {
                Some(top) if i > 0 => {
                    top.1 -= 1;
                    let at = (Some(top.0), top.2, top.3);
                    if top.1 == 0 {
                        open.pop();
                    }
                    at
                }
                _ => (parent, parent_masks_text, None),
            };
            let raw = match e.raw {
                Some(r) => r,
                None => raw.clone(), // the root, described by our caller
            };
            let seen = Seen {
                node: &e.node,
                raw: &raw,
                parent,
                masked_text,
                parent_rule,
                children: e.children,
            };
            let (id, masks, rule) = v.visit(seen, || e.masked_itself, || e.scroll);
            if e.children > 0 {
                open.push((id, e.children, masks, rule));
            }
        }
        return (first_id, v.out);
    }
    // (node, description, replica parent, masks text of parent, mask rule of parent, depth)
    let mut stack = vec![(root.clone(), raw, parent, parent_masks_text, None, 1usize)];
    while let Some((node, raw, parent, masked_text, parent_rule, depth)) = stack.pop() {
        let children = if depth >= MAX_DEPTH {
            Vec::new()
        } else {
            captured_children(dom, &node, Some(&raw))
        };
        let seen = Seen {
            node: &node,
            raw: &raw,
            parent,
            masked_text,
            parent_rule,
            children: children.len() as u32,
        };
        let (id, masks, rule) = v.visit(
            seen,
            || dom.matches_mask_rule_itself(&node),
            || dom.scroll(&node),
        );
        for (child, craw) in children.into_iter().rev() {
            stack.push((child, craw, Some(id), masks, rule, depth + 1));
        }
    }
    (first_id, v.out)
}

/// One node as a capture walk reaches it.
struct Seen<'a, N> {
    node: &'a N,
    raw: &'a RawNode,
    /// Its replica parent.
    parent: Option<NodeId>,
    /// Its parent masks the text directly under it.
    masked_text: bool,
    /// Whether a mask rule matches the parent or an ancestor ([`rule_matches`]).
    parent_rule: Option<bool>,
    /// How many captured children it has.
    children: u32,
}

/// What [`serialize_subtree`] builds, whichever way it walks.
struct Visitor<'a, D: DomTree, K: NodeKeys<D::Node>> {
    dom: &'a D,
    mirror: &'a mut IdMirror<D::Node, K>,
    policy: &'a dyn MaskPolicy,
    names: &'a mut NameTable,
    side: &'a mut SideState,
    out: Vec<NodeRecord>,
}

impl<D: DomTree, K: NodeKeys<D::Node>> Visitor<'_, D, K> {
    /// Serializes one node: `masked_itself` answers whether a mask rule matches the element
    /// itself, `scroll` its scroll offsets (asked only when needed). Returns its id, whether its
    /// text children are masked, and its mask rule answer (for its children).
    fn visit(
        &mut self,
        n: Seen<'_, D::Node>,
        masked_itself: impl FnOnce() -> bool,
        scroll: impl FnOnce() -> Option<(i32, i32)>,
    ) -> (NodeId, bool, Option<bool>) {
        let (dom, policy) = (self.dom, self.policy);
        let id = self.mirror.assign(n.node, n.parent);
        let rule = rule_matches(dom, n.node, n.raw, n.parent_rule, masked_itself);
        let facts = facts_known(dom, n.node, n.raw, rule);
        let data = to_node_data(n.raw, facts, n.masked_text, policy, self.names);
        if let Some(facts) = facts {
            if let Some(state) = dom
                .form_state_known(n.node, n.raw)
                .and_then(|s| mask_form_state(policy, &facts, s))
            {
                self.side.form.push(FormValue { node: id, state });
            }
            if !self.side.inserted
                && let Some((x, y)) = scroll()
            {
                self.side.scroll.push(ScrollPosition {
                    target: ScrollTarget::Node(id),
                    x,
                    y,
                });
            }
        }
        let masks = facts.is_some_and(|f| policy.masks_text(&f)) || n.masked_text;
        self.out.push(NodeRecord::new(data, n.children));
        (id, masks, rule)
    }
}

/// The arena DOM the native tests drive (also for other crates' contract tests, behind the
/// `test-support` feature).
#[cfg(any(test, feature = "test-support"))]
pub mod testdom;

#[cfg(test)]
mod tests {
    use super::testdom::TestDom;
    use super::*;
    use crate::mask::DefaultPolicy;
    use crate::mirror::HashKeys;

    /// What serializing a test DOM's whole document gives.
    struct Whole {
        mirror: IdMirror<usize, HashKeys<usize>>,
        names: NameTable,
        side: SideState,
        first: NodeId,
        nodes: Vec<NodeRecord>,
    }

    fn serialize_document(dom: &TestDom) -> Whole {
        let mut mirror = IdMirror::new(HashKeys::default());
        let mut names = NameTable::new();
        let mut side = SideState::default();
        let raw = dom.describe(&0).expect("document");
        let (first, nodes) = serialize_subtree(
            dom,
            &mut mirror,
            &DefaultPolicy,
            &mut names,
            &0,
            raw,
            None,
            false,
            &mut side,
        );
        Whole {
            mirror,
            names,
            side,
            first,
            nodes,
        }
    }

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

        let Whole {
            mirror,
            names,
            side,
            first,
            nodes,
        } = serialize_document(&dom);
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

    #[test]
    fn a_mask_rule_on_an_ancestor_masks_the_subtree_and_is_asked_once_per_walk() {
        let mut dom = TestDom::new();
        let html = dom.el("html");
        dom.append(0, html);
        let body = dom.el("body");
        dom.append(html, body);
        let card = dom.el("div");
        dom.set_attr(card, "class", Some("pay masked"));
        dom.append(body, card);
        let p = dom.el("p");
        dom.append(card, p);
        let number = dom.el("input");
        dom.nodes[number].form = Some(FormState::Value("4111".into()));
        dom.append(p, number);
        let name = dom.el("input");
        dom.nodes[name].form = Some(FormState::Value("Ada".into()));
        dom.append(body, name);

        let Whole {
            mut mirror,
            mut names,
            side,
            ..
        } = serialize_document(&dom);
        let value = |n| {
            let id = mirror.id(&n).expect("captured");
            side.form
                .iter()
                .find(|f| f.node == id)
                .map(|f| f.state.clone())
        };
        assert_eq!(value(number), Some(FormState::Value("****".into())));
        assert_eq!(value(name), Some(FormState::Value("Ada".into())));
        // The walk asked about the root's ancestors once; every element below it inherits.
        assert_eq!(dom.ancestor_rule_checks.get(), 1);

        // A subtree inserted later under the masked card: its root asks about its ancestors.
        let late = dom.el("input");
        dom.nodes[late].form = Some(FormState::Value("123".into()));
        dom.append(p, late);
        let mut side = SideState::default();
        let raw = dom.describe(&late).expect("input");
        let parent = mirror.id(&p);
        serialize_subtree(
            &dom,
            &mut mirror,
            &DefaultPolicy,
            &mut names,
            &late,
            raw,
            parent,
            false,
            &mut side,
        );
        assert_eq!(side.form[0].state, FormState::Value("***".into()));
        assert_eq!(dom.ancestor_rule_checks.get(), 2);
    }
}
