//! [`DomTree`] and [`NodeKeys`] over the real DOM (`web_sys::Node`).
//!
//! Node → id lookups use a JS `WeakMap`, so the mirror's reverse direction never keeps a removed
//! node alive. A second `WeakMap` hands out per-node keys for the coalescer's sets (JS nodes are
//! not hashable from Rust).

use crate::capture::{DomTree, MAX_DEPTH, RawNode};
use crate::mirror::NodeKeys;
use crate::walk::WalkEntry;
use crate::web::restrict;
use cobrowse_protocol::{FormState, Namespace, NodeId};
use js_sys::{Array, JsString, WeakMap};
use std::cell::{Cell, RefCell};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    Document, DocumentType, Element, HtmlIFrameElement, HtmlInputElement, HtmlSelectElement,
    HtmlTextAreaElement, Node, ShadowRootMode,
};

pub use crate::ui::UI_ATTR;
// Nodes of a captured same-origin iframe belong to another realm, where `dyn_ref` (`instanceof`)
// rejects them: these casts, shared with the agent page, decide by `nodeType`, `localName` and
// namespace instead.
pub use cobrowse_web_glue::realm::{element, html_element, html_tag, shadow_root};

#[wasm_bindgen(module = "/src/web/dom_reader.js")]
extern "C" {
    /// One node's description as a string (see `dom_reader.js`), `None` for the rest.
    #[wasm_bindgen(js_name = describe)]
    fn describe_js(node: &Node) -> Option<String>;
    #[wasm_bindgen(js_name = walk)]
    #[allow(clippy::too_many_arguments)] // The walk's rules, one argument each.
    fn walk_js(
        root: &Node,
        attr: &JsString,
        max_depth: u32,
        with_scroll: bool,
        mask: Option<&JsString>,
        hide: Option<&JsString>,
        nodes: &Array,
        roots: &Array,
    ) -> Vec<u8>;
    #[wasm_bindgen(js_name = walkMany)]
    #[allow(clippy::too_many_arguments)] // The walk's rules, one argument each.
    fn walk_many_js(
        list: &Array,
        attr: &JsString,
        max_depth: u32,
        mask: Option<&JsString>,
        hide: Option<&JsString>,
        nodes: &Array,
        roots: &Array,
        index: &WeakMap,
    ) -> Vec<u8>;
    #[wasm_bindgen(js_name = describeCaptured)]
    fn describe_captured_js(node: &Node, attr: &JsString) -> Option<String>;
    #[wasm_bindgen(js_name = isElementWith)]
    fn is_element_with(node: &Node, attr: &JsString) -> bool;
    /// The number a `WeakMap` holds for `node`, `NaN` for none: one call and no handle for the
    /// value, for the lookups every node of a batch needs.
    #[wasm_bindgen(js_name = numberOf)]
    fn number_of(map: &WeakMap, node: &Node) -> f64;
    /// Sets the number a `WeakMap` holds for `node`, without a handle for the number first.
    #[wasm_bindgen(js_name = setNumber)]
    fn set_number(map: &WeakMap, node: &Node, value: f64);
    /// `DomTree::placed_at_once` in one call: 1 yes, 0 no, 2 unreadable.
    #[wasm_bindgen(js_name = placed)]
    fn placed_js(
        node: &Node,
        root: &Node,
        attr: &JsString,
        hide: Option<&JsString>,
        cache: &js_sys::Map,
    ) -> u32;
    /// A sheet's rule texts in one string (see `dom_reader.js`), for `web::sheets`.
    #[wasm_bindgen(js_name = ruleTexts)]
    pub(crate) fn rule_texts_js(sheet: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = isScrolled)]
    fn is_scrolled(el: &Element) -> bool;
}

/// The `i`-th node a walk pushed onto `nodes`.
fn node_at(nodes: &Array, i: u32) -> Option<Node> {
    let n = nodes.get(i);
    (!n.is_undefined()).then(|| n.unchecked_into::<Node>())
}

/// Parses [`describe_js`]'s string; `None` when it is not one (the caller reads the node
/// property by property).
fn parse_described(mut s: String) -> Option<RawNode> {
    let kind = *s.as_bytes().first()?;
    match kind {
        b'T' | b'C' => {
            s.remove(0);
            Some(if kind == b'T' {
                RawNode::Text(s)
            } else {
                RawNode::Comment(s)
            })
        }
        b'E' => {
            let mut fields = s[1..].split('\0');
            let tag = fields.next()?.to_owned();
            let ns = Namespace::from_uri(fields.next().filter(|n| !n.is_empty()));
            let mut attrs = Vec::new();
            while let Some(name) = fields.next() {
                attrs.push((name.to_owned(), fields.next()?.to_owned()));
            }
            Some(RawNode::Element { tag, ns, attrs })
        }
        _ => None,
    }
}

thread_local! {
    /// [`UI_ATTR`] as a JS string, made once: it is asked about for every captured node.
    static UI_ATTR_JS: JsString = JsString::from(UI_ATTR);
    /// Where `walk` sets the walked nodes and the roots it met aside; emptied after each walk,
    /// so they keep no node alive.
    static WALK_NODES: Array = Array::new();
    static WALK_ROOTS: Array = Array::new();
}

/// The number `map` holds for `node`, if any.
fn number_in(map: &WeakMap, node: &Node) -> Option<f64> {
    let n = number_of(map, node);
    (!n.is_nan()).then_some(n)
}

/// Node → id store backed by a JS `WeakMap`.
#[derive(Debug)]
pub struct WeakKeys(WeakMap);

impl Default for WeakKeys {
    fn default() -> Self {
        WeakKeys(WeakMap::new())
    }
}

impl NodeKeys<Node> for WeakKeys {
    fn get(&self, node: &Node) -> Option<NodeId> {
        number_in(&self.0, node).map(|f| f as NodeId)
    }
    fn set(&mut self, node: &Node, id: NodeId) {
        set_number(&self.0, node, f64::from(id));
    }
    fn delete(&mut self, node: &Node) {
        self.0.delete(node.as_ref());
    }
    fn clear(&mut self) {
        self.0 = WeakMap::new();
    }
}

/// The live document, seen through [`DomTree`].
#[derive(Debug)]
pub struct WebDom {
    document: Document,
    root: Node,
    keys: WeakMap,
    next_key: Cell<u64>,
    /// Open shadow roots and same-origin iframe documents met while listing children; the
    /// recorder observes them (a document-wide observer does not see into either).
    found_roots: RefCell<Vec<Node>>,
    /// For the coalescing pass under way: its rules and the answers so far.
    pass: RefCell<Option<Pass>>,
}

/// What one coalescing pass shares between its questions (the DOM does not change within it).
#[derive(Debug)]
struct Pass {
    /// Placement answers by node (`placed` in `dom_reader.js`).
    placed: js_sys::Map,
    /// The hide rule's selector.
    hide: Option<JsString>,
    /// The mask rule's selector.
    mask: Option<JsString>,
    /// Mask rule answers by element ([`restrict::is_masked_in`]).
    masked: js_sys::Map,
    /// Subtrees read ahead by [`DomTree::prewalk`]: root → its number in `walked`.
    walk_index: WeakMap,
    /// Their walks, each taken by the [`DomTree::walk`] of its root.
    walked: Vec<Option<Vec<WalkEntry<Node>>>>,
}

impl WebDom {
    /// A view of `document`.
    pub fn new(document: Document) -> Self {
        let root: Node = document.clone().into();
        WebDom {
            document,
            root,
            keys: WeakMap::new(),
            next_key: Cell::new(1),
            found_roots: RefCell::new(Vec::new()),
            pass: RefCell::new(None),
        }
    }

    /// Reads what `walkMany` returned: each root's walk, in order (`None` if any part is
    /// not a packing of its nodes).
    fn unpack_many(
        &self,
        packed: &[u8],
        nodes: &Array,
    ) -> Option<Vec<Option<Vec<WalkEntry<Node>>>>> {
        let split = packed.iter().position(|b| *b == b'\n')?;
        let head = std::str::from_utf8(&packed[..split]).ok()?;
        let mut body = &packed[split + 1..];
        let mut first = 0u32;
        let mut out = Vec::new();
        for part in head.split_terminator(';') {
            let (count, bytes) = part.split_once(',')?;
            let (count, bytes): (u32, usize) = (count.parse().ok()?, bytes.parse().ok()?);
            let text = std::str::from_utf8(body.get(..bytes)?).ok()?;
            body = &body[bytes..];
            let at = first;
            let entries = crate::walk::unpack(
                text,
                count,
                |i| node_at(nodes, at + i),
                |n| self.describe(n),
            )?;
            first += count;
            out.push(Some(entries));
        }
        (body.is_empty() && first == nodes.length()).then_some(out)
    }

    /// Runs a walk in JS (`call`, given our UI's marker and the arrays it fills with the nodes
    /// and the shadow roots and frame documents it met) and reads its packing (`unpack`); the
    /// roots met are kept for the recorder when the packing reads.
    fn read_walks<T>(
        &self,
        call: impl FnOnce(&JsString, &Array, &Array) -> Vec<u8>,
        unpack: impl FnOnce(&[u8], &Array) -> Option<T>,
    ) -> Option<T> {
        WALK_NODES.with(|nodes| {
            WALK_ROOTS.with(|roots| {
                let packed = UI_ATTR_JS.with(|attr| call(attr, nodes, roots));
                let read = unpack(&packed, nodes);
                if read.is_some() {
                    let mut found = self.found_roots.borrow_mut();
                    found.extend(roots.iter().map(|r| r.unchecked_into::<Node>()));
                }
                nodes.set_length(0);
                roots.set_length(0);
                read
            })
        })
    }

    /// The document.
    pub fn document(&self) -> &Document {
        &self.document
    }

    /// The document as a node.
    pub fn root(&self) -> &Node {
        &self.root
    }

    /// Takes the shadow roots and iframe documents found since the last call.
    pub fn take_found_roots(&self) -> Vec<Node> {
        std::mem::take(&mut self.found_roots.borrow_mut())
    }
}

/// The content document of a same-origin `<iframe>` (cross-origin ones give `None`).
pub fn iframe_document(node: &Node) -> Option<Document> {
    html_tag::<HtmlIFrameElement>(node, "iframe")?.content_document()
}

/// Live state of a form control, unmasked.
pub fn control_state(node: &Node) -> Option<FormState> {
    let el = html_element(node)?;
    match el.local_name().as_str() {
        "input" => {
            let input = el.unchecked_ref::<HtmlInputElement>();
            match input.type_().to_ascii_lowercase().as_str() {
                "checkbox" if input.indeterminate() => {
                    Some(FormState::Indeterminate(input.checked()))
                }
                "checkbox" | "radio" => Some(FormState::Checked(input.checked())),
                // A file input's value is a fake path; never useful, possibly revealing.
                "file" => None,
                _ => Some(FormState::Value(input.value())),
            }
        }
        "textarea" => Some(FormState::Value(
            el.unchecked_ref::<HtmlTextAreaElement>().value(),
        )),
        "select" => {
            let select = el.unchecked_ref::<HtmlSelectElement>();
            let options = select.options();
            let selected = (0..options.length())
                .filter(|i| {
                    options
                        .item(*i)
                        .map(|o| o.unchecked_into::<web_sys::HtmlOptionElement>())
                        .is_some_and(|o| o.selected())
                })
                .collect();
            Some(FormState::Selected(selected))
        }
        _ => None,
    }
}

/// Attribute `name` of `node` as capture reports it: a hidden element's box style only, else
/// its value (`value` reads it, or hands over the value read with the records).
fn attribute_as_reported(
    node: &Node,
    name: &str,
    value: impl FnOnce(&Element, &str) -> Option<String>,
) -> Option<String> {
    let el = element(node)?;
    if restrict::is_hidden(el) {
        return restrict::hidden_attribute(el, name);
    }
    value(el, name)
}

/// A hidden element's description: an empty box of the same size, no attribute of the original.
fn hidden(el: &Element, tag: String, ns: Namespace) -> RawNode {
    RawNode::Element {
        tag,
        ns,
        attrs: restrict::hidden_attributes(el),
    }
}

impl WebDom {
    /// `node`'s description from `describe`'s string (`None`: read it property by property).
    fn described(&self, node: &Node, packed: Option<String>) -> Option<RawNode> {
        if let Some(raw) = packed.and_then(parse_described) {
            return Some(match raw {
                RawNode::Element { tag, ns, .. }
                    if restrict::is_hidden(node.unchecked_ref::<Element>()) =>
                {
                    hidden(node.unchecked_ref(), tag, ns)
                }
                raw => raw,
            });
        }
        self.describe_slowly(node)
    }

    /// The children of `node` in capture order: `el`'s shadow root, its frame's document when
    /// `maybe_frame` (the frame check reads the element's name and namespace), then the
    /// child nodes.
    fn children_of(&self, node: &Node, el: Option<&Element>, maybe_frame: bool) -> Vec<Node> {
        let mut out = Vec::new();
        if let Some(shadow) = el.and_then(Element::shadow_root) {
            let shadow: Node = shadow.into();
            self.found_roots.borrow_mut().push(shadow.clone());
            out.push(shadow);
        }
        if maybe_frame && let Some(doc) = iframe_document(node) {
            let doc: Node = doc.into();
            self.found_roots.borrow_mut().push(doc.clone());
            out.push(doc);
        }
        let mut child = node.first_child();
        while let Some(c) = child {
            child = c.next_sibling();
            out.push(c);
        }
        out
    }

    /// [`DomTree::describe`] property by property: nodes `dom_reader.js` leaves to us
    /// (documents, doctypes, shadow roots, an attribute value with a NUL).
    fn describe_slowly(&self, node: &Node) -> Option<RawNode> {
        match node.node_type() {
            Node::ELEMENT_NODE => {
                let el = element(node)?;
                let (tag, ns) = (
                    el.local_name(),
                    Namespace::from_uri(el.namespace_uri().as_deref()),
                );
                if restrict::is_hidden(el) {
                    return Some(hidden(el, tag, ns));
                }
                let map = el.attributes();
                let attrs = (0..map.length())
                    .filter_map(|i| map.item(i))
                    .map(|a| (a.name(), a.value()))
                    .collect();
                Some(RawNode::Element { tag, ns, attrs })
            }
            Node::TEXT_NODE | Node::CDATA_SECTION_NODE => {
                Some(RawNode::Text(node.node_value().unwrap_or_default()))
            }
            Node::COMMENT_NODE => Some(RawNode::Comment(node.node_value().unwrap_or_default())),
            Node::DOCUMENT_NODE => Some(RawNode::Document {
                url: node.unchecked_ref::<Document>().url().unwrap_or_default(),
            }),
            Node::DOCUMENT_TYPE_NODE => {
                let dt = node.unchecked_ref::<DocumentType>();
                Some(RawNode::Doctype {
                    name: dt.name(),
                    public_id: dt.public_id(),
                    system_id: dt.system_id(),
                })
            }
            Node::DOCUMENT_FRAGMENT_NODE => {
                let sr = shadow_root(node)?;
                Some(RawNode::ShadowRoot {
                    open: sr.mode() == ShadowRootMode::Open,
                })
            }
            _ => None,
        }
    }
}

impl DomTree for WebDom {
    type Node = Node;

    fn key(&self, node: &Node) -> u64 {
        if let Some(k) = number_in(&self.keys, node) {
            return k as u64;
        }
        let k = self.next_key.get();
        self.next_key.set(k + 1);
        set_number(&self.keys, node, k as f64);
        k
    }

    fn parent(&self, node: &Node) -> Option<Node> {
        node.parent_node().or_else(|| match node.node_type() {
            Node::DOCUMENT_FRAGMENT_NODE => shadow_root(node).map(|s| s.host().into()),
            // An iframe's document hangs under its <iframe>; a document no longer shown in one
            // (navigated away) has no default view and so no parent: it is out of the page.
            Node::DOCUMENT_NODE if !self.is_root(node) => node
                .unchecked_ref::<Document>()
                .default_view()?
                .frame_element()
                .ok()
                .flatten()
                .map(Into::into),
            _ => None,
        })
    }

    fn next_sibling(&self, node: &Node) -> Option<Node> {
        node.next_sibling()
    }

    fn children(&self, node: &Node) -> Vec<Node> {
        let el = element(node);
        self.children_of(node, el, el.is_some())
    }

    fn children_known(&self, node: &Node, raw: &RawNode) -> Vec<Node> {
        match raw {
            // Leaves: no call at all.
            RawNode::Text(_) | RawNode::Comment(_) | RawNode::Doctype { .. } => Vec::new(),
            RawNode::Element { tag, ns, .. } => self.children_of(
                node,
                Some(node.unchecked_ref()),
                // Only a candidate: `iframe_document` checks the real element.
                tag == "iframe" && *ns == Namespace::Html,
            ),
            RawNode::Document { .. } | RawNode::ShadowRoot { .. } => self.children(node),
        }
    }

    fn is_root(&self, node: &Node) -> bool {
        node.is_same_node(Some(&self.root))
    }

    fn is_excluded(&self, node: &Node) -> bool {
        UI_ATTR_JS.with(|attr| is_element_with(node, attr))
    }

    fn placed_at_once(&self, node: &Node) -> Option<bool> {
        let pass = self.pass.borrow();
        let fresh;
        let (cache, hide) = match pass.as_ref() {
            Some(p) => (&p.placed, p.hide.as_ref()),
            None => {
                // Outside a pass: nothing to share answers with.
                fresh = (js_sys::Map::new(), restrict::walk_selectors(&self.root).1);
                (&fresh.0, fresh.1.as_ref())
            }
        };
        match UI_ATTR_JS.with(|attr| placed_js(node, &self.root, attr, hide, cache)) {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    fn begin_pass(&self) {
        let (mask, hide) = restrict::walk_selectors(&self.root);
        *self.pass.borrow_mut() = Some(Pass {
            placed: js_sys::Map::new(),
            hide,
            mask,
            masked: js_sys::Map::new(),
            walk_index: WeakMap::new(),
            walked: Vec::new(),
        });
    }

    fn end_pass(&self) {
        *self.pass.borrow_mut() = None;
    }

    fn hides_children(&self, node: &Node) -> bool {
        element(node).is_some_and(|e| e.local_name() == "script" || restrict::is_hidden(e))
    }

    fn hides_children_known(&self, node: &Node, raw: &RawNode) -> bool {
        match raw {
            RawNode::Element { tag, .. } => {
                tag == "script" || restrict::is_hidden(node.unchecked_ref())
            }
            _ => false,
        }
    }

    fn form_state_known(&self, node: &Node, raw: &RawNode) -> Option<FormState> {
        // Only these are controls (`control_state`, which checks the real element).
        match raw {
            RawNode::Element {
                tag,
                ns: Namespace::Html,
                ..
            } if matches!(tag.as_str(), "input" | "textarea" | "select") => self.form_state(node),
            _ => None,
        }
    }

    fn matches_mask_rule(&self, node: &Node) -> bool {
        let Some(el) = element(node) else {
            return false;
        };
        match self.pass.borrow().as_ref() {
            Some(p) => restrict::is_masked_in(el, p.mask.as_ref(), &p.masked),
            None => restrict::is_masked(el),
        }
    }

    fn matches_mask_rule_itself(&self, node: &Node) -> bool {
        element(node).is_some_and(restrict::is_masked_itself)
    }

    fn was_password(&self, node: &Node) -> bool {
        element(node).is_some_and(crate::web::facts::was_password)
    }

    fn describe(&self, node: &Node) -> Option<RawNode> {
        self.described(node, describe_js(node))
    }

    fn walk(&self, root: &Node, raw: &RawNode, with_scroll: bool) -> Option<Vec<WalkEntry<Node>>> {
        // A leaf is cheaper node by node: one walk has a fixed cost of a few calls, and a storm
        // inserts thousands of single nodes. (An element whose only content is a shadow root
        // goes node by node too: same records either way.)
        let leaf = match raw {
            RawNode::Text(_) | RawNode::Comment(_) | RawNode::Doctype { .. } => true,
            _ => !root.has_child_nodes(),
        };
        if leaf {
            return None;
        }
        if !with_scroll
            && let Some(p) = self.pass.borrow_mut().as_mut()
            && !p.walked.is_empty()
        {
            let at = number_of(&p.walk_index, root);
            if at.is_finite()
                && let Some(entries) = p.walked.get_mut(at as usize).and_then(Option::take)
            {
                return Some(entries);
            }
        }
        let (mask, hide) = restrict::walk_selectors(root);
        self.read_walks(
            |attr, nodes, roots| {
                walk_js(
                    root,
                    attr,
                    MAX_DEPTH as u32,
                    with_scroll,
                    mask.as_ref(),
                    hide.as_ref(),
                    nodes,
                    roots,
                )
            },
            |packed, nodes| {
                // UTF-8 from the browser's encoder; a failed check only means a walk node by
                // node.
                let packed = std::str::from_utf8(packed).unwrap_or("");
                crate::walk::unpack(
                    packed,
                    nodes.length(),
                    |i| node_at(nodes, i),
                    |n| self.describe(n),
                )
            },
        )
    }

    fn prewalk(&self, list: &[Node]) {
        let Some((mask, hide, index)) = self
            .pass
            .borrow()
            .as_ref()
            .map(|p| (p.mask.clone(), p.hide.clone(), p.walk_index.clone()))
        else {
            return;
        };
        let js_list: Array = list.iter().collect();
        let walked = self.read_walks(
            |attr, nodes, roots| {
                walk_many_js(
                    &js_list,
                    attr,
                    MAX_DEPTH as u32,
                    mask.as_ref(),
                    hide.as_ref(),
                    nodes,
                    roots,
                    &index,
                )
            },
            |packed, nodes| self.unpack_many(packed, nodes),
        );
        // Unreadable (a packing that does not parse): every root is walked on its own instead.
        if let (Some(walked), Some(p)) = (walked, self.pass.borrow_mut().as_mut()) {
            p.walked = walked;
        }
    }

    fn describe_captured(&self, node: &Node) -> Option<RawNode> {
        let packed = UI_ATTR_JS.with(|attr| describe_captured_js(node, attr));
        if packed.as_deref() == Some("X") {
            return None;
        }
        self.described(node, packed)
    }

    fn captures(&self, node: &Node) -> bool {
        match node.node_type() {
            Node::ELEMENT_NODE
            | Node::TEXT_NODE
            | Node::CDATA_SECTION_NODE
            | Node::COMMENT_NODE
            | Node::DOCUMENT_NODE
            | Node::DOCUMENT_TYPE_NODE => true,
            Node::DOCUMENT_FRAGMENT_NODE => shadow_root(node).is_some(),
            _ => false,
        }
    }

    fn attribute(&self, node: &Node, name: &str) -> Option<String> {
        attribute_as_reported(node, name, Element::get_attribute)
    }

    fn attribute_read(&self, node: &Node, name: &str, value: Option<String>) -> Option<String> {
        attribute_as_reported(node, name, |_, _| value)
    }

    fn text(&self, node: &Node) -> Option<String> {
        match node.node_type() {
            Node::TEXT_NODE | Node::COMMENT_NODE | Node::CDATA_SECTION_NODE => node.node_value(),
            _ => None,
        }
    }

    fn form_state(&self, node: &Node) -> Option<FormState> {
        if element(node).is_some_and(restrict::is_hidden) {
            return None;
        }
        control_state(node)
    }

    fn scroll(&self, node: &Node) -> Option<(i32, i32)> {
        let el = element(node)?;
        is_scrolled(el)
            .then(|| (el.scroll_left(), el.scroll_top()))
            .filter(|&(x, y)| x != 0 || y != 0)
    }
}
