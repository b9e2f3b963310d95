//! A tiny arena DOM for native tests of capture and coalescing.

use super::*;

/// One node of the arena.
#[derive(Debug, Clone)]
pub struct TNode {
    /// What the node is.
    pub raw: RawNode,
    /// Its parent, when attached.
    pub parent: Option<usize>,
    /// Its children in order.
    pub children: Vec<usize>,
    /// Live form state, for controls.
    pub form: Option<FormState>,
}

/// An arena DOM. Node 0 is the document. Every change is logged as a MutationObserver
/// record would report it, so tests feed the coalescer what a browser would.
#[derive(Debug, Clone)]
pub struct TestDom {
    /// The arena.
    pub nodes: Vec<TNode>,
    /// Records since the last [`TestDom::take_records`].
    pub log: Vec<crate::record::Record<usize>>,
    /// Inputs seen as passwords (as the browser side remembers them).
    pub passwords: std::cell::RefCell<std::collections::HashSet<usize>>,
    /// Scroll offsets of scrolled elements.
    pub scrolled: std::collections::HashMap<usize, (i32, i32)>,
    /// How many times a scroll offset was read (a layout read in a browser).
    pub scroll_reads: std::cell::Cell<usize>,
    /// How many times a mask rule was checked against an element and all its ancestors.
    pub ancestor_rule_checks: std::cell::Cell<usize>,
}

impl Default for TestDom {
    fn default() -> Self {
        Self::new()
    }
}

impl TestDom {
    /// A document (node 0) at `https://shop.example/`.
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
            passwords: Default::default(),
            scrolled: Default::default(),
            scroll_reads: Default::default(),
            ancestor_rule_checks: Default::default(),
        }
    }

    /// Takes the records logged since the last call (one observer callback).
    pub fn take_records(&mut self) -> Vec<crate::record::Record<usize>> {
        std::mem::take(&mut self.log)
    }

    /// A detached node.
    pub fn create(&mut self, raw: RawNode) -> usize {
        self.nodes.push(TNode {
            raw,
            parent: None,
            children: vec![],
            form: None,
        });
        self.nodes.len() - 1
    }

    /// A detached HTML element.
    pub fn el(&mut self, tag: &str) -> usize {
        self.create(RawNode::Element {
            tag: tag.into(),
            ns: Namespace::Html,
            attrs: vec![],
        })
    }

    /// A detached text node.
    pub fn new_text(&mut self, t: &str) -> usize {
        self.create(RawNode::Text(t.into()))
    }

    /// Detaches `n` from its parent; returns the old parent.
    pub fn remove(&mut self, n: usize) -> Option<usize> {
        let p = self.nodes[n].parent.take()?;
        self.nodes[p].children.retain(|c| *c != n);
        self.log.push(crate::record::Record::ChildList {
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
        self.log.push(crate::record::Record::ChildList {
            added: vec![n],
            removed: vec![],
        });
    }

    /// Appends `n` to `parent`.
    pub fn append(&mut self, parent: usize, n: usize) {
        self.insert(parent, n, None);
    }

    /// Sets (`Some`) or removes (`None`) an attribute.
    pub fn set_attr(&mut self, n: usize, name: &str, value: Option<&str>) {
        let old = self.attribute(&n, name);
        self.log.push(crate::record::Record::Attribute {
            target: n,
            name: name.into(),
            old,
            now: None,
        });
        if let RawNode::Element { attrs, .. } = &mut self.nodes[n].raw {
            attrs.retain(|(k, _)| k != name);
            if let Some(v) = value {
                attrs.push((name.into(), v.into()));
            }
        }
    }

    /// Replaces a text node's data.
    pub fn set_text(&mut self, n: usize, t: &str) {
        let old = self.text(&n);
        self.log
            .push(crate::record::Record::Text { target: n, old });
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
    fn scroll(&self, node: &usize) -> Option<(i32, i32)> {
        self.scroll_reads.set(self.scroll_reads.get() + 1);
        self.scrolled.get(node).copied()
    }
    /// The stand-in for a site's mask rule: the element or an ancestor has the class `masked`.
    fn matches_mask_rule(&self, node: &usize) -> bool {
        self.ancestor_rule_checks
            .set(self.ancestor_rule_checks.get() + 1);
        let mut cur = Some(*node);
        while let Some(n) = cur {
            if self
                .attribute(&n, "class")
                .is_some_and(|c| c.split_ascii_whitespace().any(|t| t == "masked"))
            {
                return true;
            }
            cur = self.nodes[n].parent;
        }
        false
    }
    fn matches_mask_rule_itself(&self, node: &usize) -> bool {
        self.attribute(node, "class")
            .is_some_and(|c| c.split_ascii_whitespace().any(|t| t == "masked"))
    }
    fn was_password(&self, node: &usize) -> bool {
        let now = self
            .attribute(node, "type")
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("password"));
        let mut seen = self.passwords.borrow_mut();
        if now {
            seen.insert(*node);
        }
        now || seen.contains(node)
    }
}

/// A small page for tests: document > html > body > ul > li×n, each `li` holding the text
/// `item i`; its records are already taken, as after the snapshot.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// The page.
    pub dom: TestDom,
    /// `<body>`.
    pub body: usize,
    /// `<ul>`.
    pub list: usize,
    /// The `<li>`s in order.
    pub items: Vec<usize>,
}

impl ListPage {
    /// Builds the page with `n` items.
    pub fn new(n: usize) -> ListPage {
        let mut dom = TestDom::new();
        let html = dom.el("html");
        dom.append(0, html);
        let body = dom.el("body");
        dom.append(html, body);
        let list = dom.el("ul");
        dom.append(body, list);
        let items = (0..n)
            .map(|i| {
                let li = dom.el("li");
                let t = dom.new_text(&format!("item {i}"));
                dom.append(li, t);
                dom.append(list, li);
                li
            })
            .collect();
        dom.take_records();
        ListPage {
            dom,
            body,
            list,
            items,
        }
    }
}

/// The whole document captured as a snapshot captures it, giving every captured node its id in
/// `mirror`: the first id, the flat pre-order records and their name table.
pub fn capture_document<K: NodeKeys<usize>>(
    dom: &TestDom,
    mirror: &mut IdMirror<usize, K>,
) -> (NodeId, Vec<NodeRecord>, NameTable) {
    let mut names = NameTable::new();
    let raw = dom
        .describe(&0)
        .expect("the arena's node 0 is the document");
    let (first, nodes) = serialize_subtree(
        dom,
        mirror,
        &crate::mask::DefaultPolicy,
        &mut names,
        &0,
        raw,
        None,
        false,
        &mut SideState::default(),
    );
    (first, nodes, names)
}

impl TestDom {
    /// True when `a` is `b` or an ancestor of `b`.
    pub fn is_ancestor(&self, a: usize, b: usize) -> bool {
        let mut cur = Some(b);
        while let Some(c) = cur {
            if c == a {
                return true;
            }
            cur = self.nodes[c].parent;
        }
        false
    }

    /// One random mutation, as a page's script might make it: a new element (maybe with text)
    /// appended somewhere, a removal, a move before another node or to the end of another
    /// element, a class set or removed, a text changed. `pool` holds the nodes to pick from (new
    /// nodes join it); `below(n)` picks a number in `0..n`. Every step keeps a tree.
    pub fn random_mutation(
        &mut self,
        pool: &mut Vec<usize>,
        below: &mut dyn FnMut(usize) -> usize,
    ) {
        let pick = pool[below(pool.len())];
        match below(7) {
            0 | 1 => {
                let n = self.el(["li", "div", "span"][below(3)]);
                if below(2) == 0 {
                    let t = self.new_text("t");
                    self.append(n, t);
                    pool.push(t);
                }
                pool.push(n);
                let parent = pool[below(pool.len())];
                if matches!(self.nodes[parent].raw, RawNode::Element { .. })
                    && !self.is_ancestor(n, parent)
                {
                    self.append(parent, n);
                }
            }
            2 => {
                self.remove(pick);
            }
            3 => {
                let other = pool[below(pool.len())];
                if let Some(p) = self.nodes[other].parent
                    && !self.is_ancestor(pick, p)
                    && pick != other
                {
                    self.insert(p, pick, Some(other));
                }
            }
            4 => {
                if matches!(self.nodes[pick].raw, RawNode::Element { .. }) {
                    self.set_attr(pick, "class", [Some("a"), Some("b"), None][below(3)]);
                }
            }
            5 => {
                if matches!(self.nodes[pick].raw, RawNode::Text(_)) {
                    self.set_text(pick, ["x", "y", "t"][below(3)]);
                }
            }
            _ => {
                let parent = pool[below(pool.len())];
                if matches!(self.nodes[parent].raw, RawNode::Element { .. })
                    && !self.is_ancestor(pick, parent)
                {
                    self.append(parent, pick);
                }
            }
        }
    }
}
