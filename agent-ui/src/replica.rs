//! The replica model: id → node bookkeeping and the rules for applying page state, over any DOM.
//!
//! [`Replica`] owns the mirror of the customer's tree (ids, parents, children, what each node is)
//! and drives a [`DomBackend`] that performs the actual DOM operations. The browser adapter lives in
//! `web::dom`; tests use an in-memory double. Keeping the rules here means they run under native
//! `cargo test`, and the browser adapter stays a thin list of DOM calls.
//!
//! Rules:
//! * A [`Snapshot`] replaces the replica whole (ids may be renumbered between snapshots).
//! * A [`MutationBatch`] is applied in the order it documents: removes (whole subtrees), inserts in
//!   list order (`New` builds a subtree, `Move` keeps the node and its id), attributes, texts.
//! * Unknown ids, impossible moves and DOM refusals are ignored with a debug log and counted in
//!   [`Applied::ignored`]; they never panic. The next snapshot repairs any drift.
//! * Every element, attribute and text passes through [`crate::sanitize`] on the way in.

use crate::debug;
use crate::frames::FramePolicy;
use crate::sanitize::{
    ElementCtx, Rendered, classify, created_element, forced_attributes, sanitize_attribute,
    sanitize_css_imports,
};
use crate::sheets::{SheetPolicy, is_stylesheet_rel};
use crate::url::{is_http, resolve};
use cobrowse_protocol::{
    FormValue, Insert, MutationBatch, NameTable, Namespace, NodeData, NodeId, NodeRecord,
    ScrollPosition, ScrollTarget, SelectionRange, SheetOp, Snapshot, walk_tree,
};
use std::collections::HashMap;

/// The DOM operations the replica needs. Every fallible operation reports failure instead of
/// panicking; the model then skips the node (and its subtree).
pub trait DomBackend {
    /// A node handle (cheap to clone).
    type Node: Clone;

    /// Empties the replica and returns its top document, in standards mode when the customer's
    /// page has a doctype (quirks mode otherwise, like the customer's).
    fn reset(&mut self, standards: bool) -> Option<Self::Node>;
    /// `createElementNS(ns, tag)`.
    fn create_element(&mut self, ns: &str, tag: &str) -> Option<Self::Node>;
    /// `createTextNode(text)`.
    fn create_text(&mut self, text: &str) -> Option<Self::Node>;
    /// `createComment(text)`.
    fn create_comment(&mut self, text: &str) -> Option<Self::Node>;
    /// A doctype node.
    fn create_doctype(
        &mut self,
        name: &str,
        public_id: &str,
        system_id: &str,
    ) -> Option<Self::Node>;
    /// Attaches an open shadow root to `host`, returning it.
    fn attach_shadow(&mut self, host: &Self::Node) -> Option<Self::Node>;
    /// The (emptied) content document of the frame element `frame`.
    fn frame_document(&mut self, frame: &Self::Node) -> Option<Self::Node>;
    /// Inserts `child` into `parent` before `before` (append when `None`). False when refused.
    fn insert(
        &mut self,
        parent: &Self::Node,
        child: &Self::Node,
        before: Option<&Self::Node>,
    ) -> bool;
    /// Detaches `node` from its parent.
    fn remove(&mut self, node: &Self::Node);
    /// `setAttribute` (namespaced for `xlink:`/`xml:` names). False when refused (bad name).
    fn set_attribute(&mut self, el: &Self::Node, name: &str, value: &str) -> bool;
    /// `removeAttribute`.
    fn remove_attribute(&mut self, el: &Self::Node, name: &str);
    /// Sets a text or comment node's data.
    fn set_text(&mut self, node: &Self::Node, text: &str);
    /// Puts the replica's own first children into a document's `<head>`: a `<base>` with the
    /// customer's effective base URL (empty: no `href`, when the page has no http(s) URL) and a
    /// restrictive CSP `<meta>`. Called again when the base changes; it must update rather than
    /// duplicate.
    fn prepare_head(&mut self, head: &Self::Node, base: &str);
    /// Sets a form control's live state (value, checked, selected options).
    fn set_form_state(&mut self, el: &Self::Node, state: &cobrowse_protocol::FormState);
    /// Scrolls the top window (`None`), a document's window, or an element. A scroll the replica
    /// cannot reach yet (its content is shorter until images or fonts load) is remembered and
    /// retried.
    fn scroll(&mut self, target: Option<&Self::Node>, x: i32, y: i32);
    /// Retries remembered scrolls (after a mutation batch: content may have grown).
    fn retry_scrolls(&mut self) {}
    /// Replaces the rules of the sheet owned by `owner` (a `<style>` or `<link>`).
    fn replace_rules(&mut self, owner: &Self::Node, rules: &[String]);
    /// `insertRule` at `path` (through grouping rules) in `owner`'s sheet.
    fn insert_rule(&mut self, owner: &Self::Node, path: &[u32], rule: &str);
    /// `deleteRule` at `path` in `owner`'s sheet.
    fn delete_rule(&mut self, owner: &Self::Node, path: &[u32]);
    /// Remembers `node` ↔ `id` for pointer targeting (a `WeakMap` in the browser).
    fn register(&mut self, node: &Self::Node, id: NodeId);
    /// Shows the customer's selection (replacing the one shown before). Offsets are the
    /// customer's; the backend clamps them to what the replica node really holds.
    fn select(&mut self, selection: Selected<&Self::Node>);
}

/// The customer's selection as the replica shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selected<N> {
    /// Nothing selected.
    None,
    /// A document range: `(container, offset)` at each end, both in one document (text offsets in
    /// UTF-16 units, element offsets as child indexes).
    Range {
        /// Start boundary.
        start: (N, u32),
        /// End boundary.
        end: (N, u32),
    },
    /// The selection inside a text control (`setSelectionRange`).
    Control {
        /// The `<input>` or `<textarea>`.
        el: N,
        /// `selectionStart`.
        start: u32,
        /// `selectionEnd`.
        end: u32,
    },
}

impl<N> Selected<N> {
    /// The same selection over borrowed nodes.
    pub fn as_ref(&self) -> Selected<&N> {
        match self {
            Selected::None => Selected::None,
            Selected::Range { start, end } => Selected::Range {
                start: (&start.0, start.1),
                end: (&end.0, end.1),
            },
            Selected::Control { el, start, end } => Selected::Control {
                el,
                start: *start,
                end: *end,
            },
        }
    }
}

/// What a mirrored node is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Document {
        /// The document's own URL.
        url: String,
        /// Effective base URL for resolution (the document URL, or a `<base href>` within it).
        base: String,
        /// Its `<head>`, once seen, for base updates.
        head: Option<NodeId>,
    },
    Doctype,
    Element {
        tag: String,
        ns: Namespace,
        rendered: Rendered,
    },
    Text,
    Comment,
    Shadow,
}

#[derive(Debug, Clone)]
struct Entry<N> {
    node: N,
    kind: Kind,
    parent: Option<NodeId>,
    children: Vec<NodeId>,
    /// The document (top or iframe) this node belongs to.
    doc: NodeId,
}

/// Counts of what a call applied and ignored, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Operations performed.
    pub applied: u32,
    /// Operations skipped (unknown id, impossible move, DOM refusal).
    pub ignored: u32,
}

impl Applied {
    /// Adds `more` to these counts.
    pub fn add(&mut self, more: Applied) {
        self.applied += more.applied;
        self.ignored += more.ignored;
    }
}

/// The replica of one customer page.
pub struct Replica<B: DomBackend> {
    backend: B,
    nodes: HashMap<NodeId, Entry<B::Node>>,
    root: Option<NodeId>,
    /// Sheets owned by elements, by sheet id.
    sheets: HashMap<u32, NodeId>,
    /// Which third-party frames are loaded by URL ([`crate::frames`]).
    frame_policy: FramePolicy,
    /// `<iframe>`/`<frame>` elements with an http(s) `src`: the resolved URL, and whether the
    /// replica loaded it (a `src` is only ever set on the replica's frame by [`Replica::sync_frame`]).
    frame_srcs: HashMap<NodeId, (String, bool)>,
    /// Which cross-origin stylesheets load through the CSS proxy ([`crate::sheets`]).
    sheet_policy: SheetPolicy,
    /// HTML `<link>` elements: their sanitised direct `href` and whether `rel` says stylesheet,
    /// so the shown `href` (direct or proxied) follows changes of either and of the policy.
    links: HashMap<NodeId, LinkState>,
}

/// What decides a `<link>`'s shown `href`.
#[derive(Debug, Clone, Default)]
struct LinkState {
    href: Option<String>,
    stylesheet: bool,
}

fn is_html(ns: &Namespace) -> bool {
    matches!(ns, Namespace::Html)
}

impl<B: DomBackend> Replica<B> {
    /// An empty replica over `backend`.
    pub fn new(backend: B) -> Self {
        Replica {
            backend,
            nodes: HashMap::new(),
            root: None,
            sheets: HashMap::new(),
            frame_policy: FramePolicy::default(),
            frame_srcs: HashMap::new(),
            sheet_policy: SheetPolicy::default(),
            links: HashMap::new(),
        }
    }

    /// Sets which stylesheets load through the CSS proxy, and re-points the links already shown
    /// (the policy arrives with the session answer, normally before any snapshot).
    pub fn set_sheet_policy(&mut self, policy: SheetPolicy) {
        let before: Vec<(NodeId, Option<String>)> = self
            .links
            .iter()
            .map(|(id, l)| (*id, self.shown_href(l)))
            .collect();
        self.sheet_policy = policy;
        for (id, old) in before {
            let new = self.links.get(&id).and_then(|l| self.shown_href(l));
            if new != old
                && let (Some(v), Some(e)) = (new, self.nodes.get(&id))
            {
                let node = e.node.clone();
                self.backend.set_attribute(&node, "href", &v);
            }
        }
    }

    /// The `href` a `<link>` shows: through the proxy for allowed stylesheets, else direct.
    fn shown_href(&self, l: &LinkState) -> Option<String> {
        let href = l.href.as_ref()?;
        Some(
            l.stylesheet
                .then(|| self.sheet_policy.sheet_url(href))
                .flatten()
                .unwrap_or_else(|| href.clone()),
        )
    }

    /// True when `id` is an HTML `<link>`.
    fn is_link(&self, id: NodeId) -> bool {
        matches!(self.nodes.get(&id).map(|e| &e.kind), Some(Kind::Element { tag, ns, .. })
            if is_html(ns) && tag == "link")
    }

    /// Sets which third-party frames the replica loads by URL, and applies it to the frames
    /// already shown (the policy arrives with the session answer, normally before any snapshot).
    pub fn set_frame_policy(&mut self, policy: FramePolicy) {
        self.frame_policy = policy;
        let ids: Vec<NodeId> = self.frame_srcs.keys().copied().collect();
        for id in ids {
            self.sync_frame(id);
        }
    }

    /// Records the customer's `src` of frame element `id` (`None`: removed) and syncs the replica.
    fn set_frame_src(&mut self, id: NodeId, src: Option<&str>, base: &str) {
        let resolved = src.and_then(|v| resolve(base, v)).filter(|u| is_http(u));
        match resolved {
            Some(u) => {
                let loaded = self.frame_srcs.get(&id).is_some_and(|(_, l)| *l);
                self.frame_srcs.insert(id, (u, loaded));
            }
            None => {
                if self.frame_srcs.get(&id).is_some_and(|(_, l)| *l)
                    && let Some(node) = self.nodes.get(&id).map(|e| e.node.clone())
                {
                    self.backend.remove_attribute(&node, "src");
                }
                self.frame_srcs.remove(&id);
                return;
            }
        }
        self.sync_frame(id);
    }

    /// Loads frame `id` by URL when the policy allows its origin, and unloads it when no longer.
    /// A frame the replica never loaded keeps no `src` at all: touching `src` would navigate it
    /// and wipe a document rebuilt into it.
    fn sync_frame(&mut self, id: NodeId) {
        let Some(e) = self.nodes.get(&id) else {
            self.frame_srcs.remove(&id);
            return;
        };
        let doc_url = match self.nodes.get(&e.doc).map(|d| &d.kind) {
            Some(Kind::Document { url, .. }) => url.clone(),
            _ => String::new(),
        };
        let node = e.node.clone();
        let Some((src, loaded)) = self.frame_srcs.get_mut(&id) else {
            return;
        };
        match self.frame_policy.frame_url(src, &doc_url) {
            Some(url) => {
                debug!("frame {id}: third-party origin allowed; loading {url}");
                self.backend.set_attribute(&node, "src", &url);
                *loaded = true;
            }
            None if *loaded => {
                self.backend.remove_attribute(&node, "src");
                *loaded = false;
            }
            None => {}
        }
    }

    /// The backend, for callers that need the DOM directly (pointer targeting, tests).
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Mutable access to the backend.
    pub fn backend_mut(&mut self) -> &mut B {
        &mut self.backend
    }

    /// The node for `id`, if the replica has it.
    pub fn node(&self, id: NodeId) -> Option<&B::Node> {
        self.nodes.get(&id).map(|e| &e.node)
    }

    /// Number of mirrored nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True before the first snapshot.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The URL of the top document, once a snapshot arrived.
    pub fn page_url(&self) -> Option<&str> {
        match &self.nodes.get(&self.root?)?.kind {
            Kind::Document { url, .. } => Some(url),
            _ => None,
        }
    }

    /// The iframe element that holds document `doc`, for mapping iframe pointer positions.
    pub fn frame_of(&self, doc: NodeId) -> Option<&B::Node> {
        let e = self.nodes.get(&doc)?;
        let parent = e.parent?;
        self.nodes.get(&parent).map(|p| &p.node)
    }

    /// Replaces the whole replica with `snap` (tree, form state, sheets, scroll).
    pub fn apply_snapshot(&mut self, snap: &Snapshot) -> Applied {
        let mut stats = Applied::default();
        self.nodes.clear();
        self.sheets.clear();
        self.frame_srcs.clear();
        self.links.clear();
        self.root = None;
        let standards = snap
            .nodes
            .iter()
            .skip(1)
            .take(4)
            .any(|n| matches!(n.data, NodeData::Doctype { .. }));
        let Some(top) = self.backend.reset(standards) else {
            debug!("replica document unavailable; snapshot skipped");
            stats.ignored += 1;
            return stats;
        };
        let Some(NodeRecord {
            data: NodeData::Document { url },
            ..
        }) = snap.nodes.first()
        else {
            debug!("snapshot root is not a document; skipped");
            stats.ignored += 1;
            return stats;
        };
        let root = snap.first_id;
        self.backend.register(&top, root);
        self.nodes.insert(
            root,
            Entry {
                node: top,
                kind: Kind::Document {
                    url: url.clone(),
                    base: url.clone(),
                    head: None,
                },
                parent: None,
                children: Vec::new(),
                doc: root,
            },
        );
        self.root = Some(root);
        stats.applied += 1;
        let rest = &snap.nodes;
        walk_tree(rest, snap.first_id, |id, parent, rec| {
            let Some(parent) = parent else { return };
            if self.build_node(id, parent, None, rec, &snap.names) {
                stats.applied += 1;
            } else {
                stats.ignored += 1;
            }
        });
        stats.add(self.apply_form(&snap.form));
        for s in &snap.sheets {
            stats.add(self.apply_sheet(&SheetOp::Set(s.clone())));
        }
        for s in &snap.scroll {
            stats.add(self.apply_scroll(s));
        }
        stats
    }

    /// Creates the node for `rec` with id `id` under `parent` (before `before`, else appended),
    /// sanitised. False when skipped.
    fn build_node(
        &mut self,
        id: NodeId,
        parent: NodeId,
        before: Option<NodeId>,
        rec: &NodeRecord,
        names: &NameTable,
    ) -> bool {
        let Some(p) = self.nodes.get(&parent) else {
            // Parent skipped (or unknown): the whole subtree goes with it.
            debug!("node {id}: parent {parent} unknown; skipped");
            return false;
        };
        let parent_node = p.node.clone();
        let parent_kind = p.kind.clone();
        let doc = p.doc;
        if self.nodes.contains_key(&id) {
            // A reused id: forget the old node so the map stays a function.
            debug!("node {id} already present; replacing");
            self.purge(id, true);
        }
        let base = self.base_of(doc);
        let (node, kind, inserted_doc) = match &rec.data {
            NodeData::Document { url } => {
                let frame_ok = matches!(&parent_kind, Kind::Element { tag, ns, rendered: Rendered::Normal }
                    if is_html(ns) && matches!(tag.as_str(), "iframe" | "frame"));
                if !frame_ok {
                    debug!("node {id}: document outside a frame; skipped");
                    return false;
                }
                let Some(d) = self.backend.frame_document(&parent_node) else {
                    debug!("node {id}: frame document unavailable; skipped");
                    return false;
                };
                let kind = Kind::Document {
                    url: url.clone(),
                    base: url.clone(),
                    head: None,
                };
                (d, kind, Some(id))
            }
            NodeData::ShadowRoot { .. } => {
                if !matches!(
                    parent_kind,
                    Kind::Element {
                        rendered: Rendered::Normal,
                        ..
                    }
                ) {
                    return false;
                }
                let Some(s) = self.backend.attach_shadow(&parent_node) else {
                    debug!("node {id}: attachShadow refused; skipped");
                    return false;
                };
                (s, Kind::Shadow, None)
            }
            NodeData::Doctype {
                name,
                public_id,
                system_id,
            } => {
                let Some(n) = self.backend.create_doctype(name, public_id, system_id) else {
                    return false;
                };
                (n, Kind::Doctype, None)
            }
            NodeData::Element { tag, ns, .. } => {
                let Some(tag) = names.resolve(*tag) else {
                    debug!("node {id}: unknown tag name; skipped");
                    return false;
                };
                let tag = if is_html(ns) {
                    tag.to_ascii_lowercase()
                } else {
                    tag.to_owned()
                };
                let rendered = classify(&tag, ns);
                let (cns, ctag) = created_element(&tag, ns, rendered);
                let Some(n) = self.backend.create_element(cns, ctag) else {
                    debug!("node {id}: cannot create <{tag}>; skipped");
                    return false;
                };
                let kind = Kind::Element {
                    tag,
                    ns: ns.clone(),
                    rendered,
                };
                (n, kind, None)
            }
            NodeData::Text(t) => {
                let text = text_for(&parent_kind, t, &base, &self.sheet_policy);
                let Some(n) = self.backend.create_text(&text) else {
                    return false;
                };
                (n, Kind::Text, None)
            }
            NodeData::Comment(t) => {
                let Some(n) = self.backend.create_comment(t) else {
                    return false;
                };
                (n, Kind::Comment, None)
            }
        };
        // Attributes before insertion: an element never appears in the replica unsanitised.
        if let (NodeData::Element { attrs, .. }, Kind::Element { tag, ns, rendered }) =
            (&rec.data, &kind)
        {
            let ctx = ElementCtx {
                tag,
                ns,
                rendered: *rendered,
            };
            let is_link = is_html(ns) && tag == "link" && *rendered == Rendered::Normal;
            let mut link = LinkState::default();
            if is_link {
                link.stylesheet = is_stylesheet_rel(
                    attrs
                        .iter()
                        .find(|a| names.resolve(a.name) == Some("rel"))
                        .map(|a| a.value.as_str()),
                );
            }
            for a in attrs {
                let Some(name) = names.resolve(a.name) else {
                    continue;
                };
                if let Some(v) = sanitize_attribute(&ctx, name, &a.value, &base) {
                    if is_link && name == "href" {
                        // Set once, already pointing where it will load from.
                        link.href = Some(v);
                        let shown = self.shown_href(&link).unwrap_or_default();
                        self.backend.set_attribute(&node, name, &shown);
                        continue;
                    }
                    self.backend.set_attribute(&node, name, &v);
                }
            }
            if is_link {
                self.links.insert(id, link);
            }
            for (n, v) in forced_attributes(&ctx) {
                self.backend.set_attribute(&node, n, v);
            }
        }
        let attached = matches!(kind, Kind::Document { .. } | Kind::Shadow);
        if !attached {
            let before_node = before
                .and_then(|b| self.nodes.get(&b))
                .map(|e| e.node.clone());
            if before.is_some() && before_node.is_none() {
                debug!("node {id}: next sibling unknown; appending");
            }
            if !self
                .backend
                .insert(&parent_node, &node, before_node.as_ref())
            {
                debug!("node {id}: insert refused; skipped");
                return false;
            }
        }
        self.backend.register(&node, id);
        let entry_doc = inserted_doc.unwrap_or(doc);
        self.nodes.insert(
            id,
            Entry {
                node,
                kind,
                parent: Some(parent),
                children: Vec::new(),
                doc: entry_doc,
            },
        );
        self.link_child(parent, id, before);
        self.after_element_created(id, rec, names);
        true
    }

    /// True when `id` is an HTML `<iframe>`/`<frame>` rendered as itself.
    fn is_frame(&self, id: NodeId) -> bool {
        matches!(self.nodes.get(&id).map(|e| &e.kind), Some(Kind::Element { tag, ns, rendered: Rendered::Normal })
            if is_html(ns) && matches!(tag.as_str(), "iframe" | "frame"))
    }

    /// Post-insertion work for special elements: `<head>` gets the replica's base and CSP,
    /// `<base href>` changes the document's base.
    fn after_element_created(&mut self, id: NodeId, rec: &NodeRecord, names: &NameTable) {
        let Some(e) = self.nodes.get(&id) else { return };
        let Kind::Element { tag, ns, .. } = &e.kind else {
            return;
        };
        if !is_html(ns) {
            return;
        }
        let doc = e.doc;
        match tag.as_str() {
            "iframe" | "frame" if self.is_frame(id) => {
                if let NodeData::Element { attrs, .. } = &rec.data
                    && let Some(src) = attrs.iter().find(|a| names.resolve(a.name) == Some("src"))
                {
                    let base = self.base_of(doc);
                    self.set_frame_src(id, Some(&src.value), &base);
                }
            }
            "head" => {
                let is_doc_head = e.parent.and_then(|p| self.nodes.get(&p)).is_some_and(|p| {
                    matches!(&p.kind, Kind::Element { tag, .. } if tag == "html")
                        && p.parent.is_some_and(|gp| gp == doc)
                });
                if is_doc_head {
                    if let Some(Entry {
                        kind: Kind::Document { head, .. },
                        ..
                    }) = self.nodes.get_mut(&doc)
                    {
                        *head = Some(id);
                    }
                    let base = Some(self.base_of(doc))
                        .filter(|b| is_http(b))
                        .unwrap_or_default();
                    let node = self.nodes.get(&id).map(|e| e.node.clone());
                    if let Some(node) = node {
                        self.backend.prepare_head(&node, &base);
                    }
                }
            }
            "base" => {
                if let NodeData::Element { attrs, .. } = &rec.data {
                    let href = attrs
                        .iter()
                        .find(|a| names.resolve(a.name) == Some("href"))
                        .map(|a| a.value.clone());
                    if let Some(href) = href {
                        self.set_doc_base(doc, &href);
                    }
                }
            }
            _ => {}
        }
    }

    /// A customer `<base href>`: the document's effective base becomes it (http(s) only).
    fn set_doc_base(&mut self, doc: NodeId, href: &str) {
        let Some(Entry {
            kind: Kind::Document { url, base, head },
            ..
        }) = self.nodes.get_mut(&doc)
        else {
            return;
        };
        let new_base = resolve(url, href)
            .filter(|b| is_http(b))
            .unwrap_or_else(|| url.clone());
        if *base == new_base {
            return;
        }
        *base = new_base.clone();
        let head = *head;
        if let Some(node) = head
            .and_then(|h| self.nodes.get(&h))
            .map(|e| e.node.clone())
        {
            let href = if is_http(&new_base) {
                new_base.as_str()
            } else {
                ""
            };
            self.backend.prepare_head(&node, href);
        }
    }

    fn base_of(&self, doc: NodeId) -> String {
        match self.nodes.get(&doc).map(|e| &e.kind) {
            Some(Kind::Document { base, .. }) => base.clone(),
            _ => String::new(),
        }
    }

    fn link_child(&mut self, parent: NodeId, child: NodeId, before: Option<NodeId>) {
        if let Some(p) = self.nodes.get_mut(&parent) {
            let pos = before.and_then(|b| p.children.iter().position(|c| *c == b));
            match pos {
                Some(i) => p.children.insert(i, child),
                None => p.children.push(child),
            }
        }
    }

    fn unlink_child(&mut self, parent: Option<NodeId>, child: NodeId) {
        if let Some(p) = parent.and_then(|p| self.nodes.get_mut(&p))
            && let Some(i) = p.children.iter().position(|c| *c == child)
        {
            p.children.remove(i);
        }
    }

    /// Forgets `id` and its descendants; detaches it from the DOM when `detach`.
    fn purge(&mut self, id: NodeId, detach: bool) {
        let Some(e) = self.nodes.get(&id) else { return };
        let parent = e.parent;
        if detach && !matches!(e.kind, Kind::Document { .. } | Kind::Shadow) {
            let node = e.node.clone();
            self.backend.remove(&node);
        }
        self.unlink_child(parent, id);
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            if let Some(e) = self.nodes.remove(&n) {
                stack.extend(e.children);
            }
        }
        self.sheets
            .retain(|_, owner| self.nodes.contains_key(owner));
        self.frame_srcs.retain(|id, _| self.nodes.contains_key(id));
        self.links.retain(|id, _| self.nodes.contains_key(id));
    }

    /// True when `node` is `ancestor` or lies inside it.
    fn is_inside(&self, node: NodeId, ancestor: NodeId) -> bool {
        let mut cur = Some(node);
        while let Some(c) = cur {
            if c == ancestor {
                return true;
            }
            cur = self.nodes.get(&c).and_then(|e| e.parent);
        }
        false
    }

    /// Applies one mutation batch in its documented order.
    pub fn apply_mutations(&mut self, batch: &MutationBatch) -> Applied {
        let mut stats = Applied::default();
        for &id in &batch.removes {
            if Some(id) == self.root || !self.nodes.contains_key(&id) {
                debug!("remove {id}: unknown or root; ignored");
                stats.ignored += 1;
                continue;
            }
            self.purge(id, true);
            stats.applied += 1;
        }
        for ins in &batch.inserts {
            match ins {
                Insert::New(sub) => {
                    let (parent, before) = (sub.parent, sub.next_sibling);
                    let mut first = true;
                    walk_tree(&sub.nodes, sub.first_id, |id, p, rec| {
                        let (p, b) = match p {
                            None if first => (parent, before),
                            None => {
                                stats.ignored += 1;
                                return;
                            }
                            Some(p) => (p, None),
                        };
                        first = false;
                        if self.build_node(id, p, b, rec, &batch.names) {
                            stats.applied += 1;
                        } else {
                            stats.ignored += 1;
                        }
                    });
                }
                Insert::Move {
                    node,
                    parent,
                    next_sibling,
                } => {
                    if self.move_node(*node, *parent, *next_sibling) {
                        stats.applied += 1;
                    } else {
                        stats.ignored += 1;
                    }
                }
            }
        }
        for a in &batch.attrs {
            let Some(name) = batch.names.resolve(a.name) else {
                stats.ignored += 1;
                continue;
            };
            if self.set_attribute(a.node, name, a.value.as_deref()) {
                stats.applied += 1;
            } else {
                stats.ignored += 1;
            }
        }
        for t in &batch.texts {
            if self.set_text(t.node, &t.text) {
                stats.applied += 1;
            } else {
                stats.ignored += 1;
            }
        }
        if stats.applied > 0 {
            self.backend.retry_scrolls();
        }
        stats
    }

    fn move_node(&mut self, id: NodeId, parent: NodeId, before: Option<NodeId>) -> bool {
        let (Some(e), Some(p)) = (self.nodes.get(&id), self.nodes.get(&parent)) else {
            debug!("move {id} → {parent}: unknown id; ignored");
            return false;
        };
        if matches!(e.kind, Kind::Document { .. } | Kind::Shadow)
            || matches!(p.kind, Kind::Text | Kind::Comment | Kind::Doctype)
            || self.is_inside(parent, id)
            || before == Some(id)
        {
            debug!("move {id} → {parent}: impossible; ignored");
            return false;
        }
        let node = e.node.clone();
        let old_parent = e.parent;
        let parent_node = p.node.clone();
        let new_doc = p.doc;
        let before_node = before.and_then(|b| {
            self.nodes
                .get(&b)
                .filter(|s| s.parent == Some(parent))
                .map(|s| s.node.clone())
        });
        if before.is_some() && before_node.is_none() {
            debug!("move {id}: next sibling unknown; appending");
        }
        if !self
            .backend
            .insert(&parent_node, &node, before_node.as_ref())
        {
            return false;
        }
        self.unlink_child(old_parent, id);
        let before = before_node.and(before);
        self.link_child(parent, id, before);
        // Keep `doc` right when a node moves between documents (rare: iframes of one origin).
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            if let Some(e) = self.nodes.get_mut(&n) {
                if n == id {
                    e.parent = Some(parent);
                }
                if matches!(e.kind, Kind::Document { .. }) {
                    continue;
                }
                e.doc = new_doc;
                stack.extend(e.children.iter().copied());
            }
        }
        true
    }

    fn set_attribute(&mut self, id: NodeId, name: &str, value: Option<&str>) -> bool {
        let Some(e) = self.nodes.get(&id) else {
            debug!("attribute {name} on {id}: unknown id; ignored");
            return false;
        };
        let Kind::Element { tag, ns, rendered } = &e.kind else {
            return false;
        };
        let ctx = ElementCtx {
            tag,
            ns,
            rendered: *rendered,
        };
        let is_base = is_html(ns) && tag == "base" && name.eq_ignore_ascii_case("href");
        let doc = e.doc;
        let node = e.node.clone();
        let base = self.base_of(doc);
        if name.eq_ignore_ascii_case("src") && self.is_frame(id) {
            // Never set by sanitising (frames do not load the customer's `src`); only a
            // third-party origin on the allow-list loads, see `sync_frame`.
            self.set_frame_src(id, value, &base);
            return true;
        }
        // Forced attributes (iframe sandbox) are never the customer's to change.
        if forced_attributes(&ctx)
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            return false;
        }
        let sanitized = value.and_then(|v| sanitize_attribute(&ctx, name, v, &base));
        let link_attr = (name.eq_ignore_ascii_case("href") || name.eq_ignore_ascii_case("rel"))
            && self.is_link(id);
        if link_attr {
            let mut l = self.links.get(&id).cloned().unwrap_or_default();
            let old = self.shown_href(&l);
            if name.eq_ignore_ascii_case("href") {
                l.href = sanitized;
            } else {
                l.stylesheet = is_stylesheet_rel(value);
                match &sanitized {
                    Some(v) => {
                        self.backend.set_attribute(&node, name, v);
                    }
                    None => self.backend.remove_attribute(&node, name),
                }
            }
            let new = self.shown_href(&l);
            self.links.insert(id, l);
            match new {
                Some(v) if Some(&v) != old.as_ref() => {
                    self.backend.set_attribute(&node, "href", &v);
                }
                Some(_) => {}
                None => self.backend.remove_attribute(&node, "href"),
            }
            return true;
        }
        match sanitized {
            Some(v) => {
                self.backend.set_attribute(&node, name, &v);
            }
            None => self.backend.remove_attribute(&node, name),
        }
        if is_base {
            let url = match self.nodes.get(&doc).map(|d| &d.kind) {
                Some(Kind::Document { url, .. }) => url.clone(),
                _ => String::new(),
            };
            self.set_doc_base(doc, value.unwrap_or(&url));
        }
        true
    }

    fn set_text(&mut self, id: NodeId, text: &str) -> bool {
        let Some(e) = self.nodes.get(&id) else {
            debug!("text of {id}: unknown id; ignored");
            return false;
        };
        if !matches!(e.kind, Kind::Text | Kind::Comment) {
            return false;
        }
        let node = e.node.clone();
        let is_text = e.kind == Kind::Text;
        let doc = e.doc;
        let parent_kind = e
            .parent
            .and_then(|p| self.nodes.get(&p))
            .map(|p| p.kind.clone());
        let data = match (is_text, parent_kind) {
            (true, Some(pk)) => text_for(&pk, text, &self.base_of(doc), &self.sheet_policy),
            _ => text.to_owned(),
        };
        self.backend.set_text(&node, &data);
        true
    }

    /// Applies form control state.
    pub fn apply_form(&mut self, values: &[FormValue]) -> Applied {
        let mut stats = Applied::default();
        for v in values {
            match self.nodes.get(&v.node) {
                Some(Entry {
                    node,
                    kind:
                        Kind::Element {
                            rendered: Rendered::Normal,
                            ..
                        },
                    ..
                }) => {
                    let node = node.clone();
                    self.backend.set_form_state(&node, &v.state);
                    stats.applied += 1;
                }
                _ => {
                    debug!("form state of {}: unknown element; ignored", v.node);
                    stats.ignored += 1;
                }
            }
        }
        stats
    }

    /// Shows the customer's selection (`Selection` message): the first range the replica can
    /// resolve (browsers show one). A range whose ends lie in different documents, or in nodes
    /// the replica does not have, shows nothing rather than something wrong.
    pub fn apply_selection(&mut self, ranges: &[SelectionRange]) -> Applied {
        let Some(r) = ranges.first() else {
            self.backend.select(Selected::None);
            return Applied {
                applied: 1,
                ignored: 0,
            };
        };
        let (Some(s), Some(e)) = (self.nodes.get(&r.start_node), self.nodes.get(&r.end_node))
        else {
            debug!("selection {r:?}: unknown node; cleared");
            self.backend.select(Selected::None);
            return Applied {
                applied: 0,
                ignored: 1,
            };
        };
        let control = r.start_node == r.end_node
            && matches!(&s.kind, Kind::Element { tag, ns, rendered: Rendered::Normal }
                if is_html(ns) && matches!(tag.as_str(), "input" | "textarea"));
        let ok = !matches!(
            s.kind,
            Kind::Doctype | Kind::Comment | Kind::Document { .. } | Kind::Shadow
        ) && !matches!(
            e.kind,
            Kind::Doctype | Kind::Comment | Kind::Document { .. } | Kind::Shadow
        ) && s.doc == e.doc;
        let sel = if control {
            Selected::Control {
                el: s.node.clone(),
                start: r.start_offset.min(r.end_offset),
                end: r.end_offset.max(r.start_offset),
            }
        } else if ok {
            Selected::Range {
                start: (s.node.clone(), r.start_offset),
                end: (e.node.clone(), r.end_offset),
            }
        } else {
            Selected::None
        };
        let shown = !matches!(sel, Selected::None);
        self.backend.select(sel.as_ref());
        Applied {
            applied: u32::from(shown),
            ignored: u32::from(!shown),
        }
    }

    /// Applies a scroll position.
    pub fn apply_scroll(&mut self, s: &ScrollPosition) -> Applied {
        match s.target {
            ScrollTarget::Window => {
                self.backend.scroll(None, s.x, s.y);
                Applied {
                    applied: 1,
                    ignored: 0,
                }
            }
            ScrollTarget::Node(id) => match self.nodes.get(&id) {
                Some(e) if !matches!(e.kind, Kind::Text | Kind::Comment | Kind::Doctype) => {
                    let node = e.node.clone();
                    self.backend.scroll(Some(&node), s.x, s.y);
                    Applied {
                        applied: 1,
                        ignored: 0,
                    }
                }
                _ => {
                    debug!("scroll of {id}: unknown; ignored");
                    Applied {
                        applied: 0,
                        ignored: 1,
                    }
                }
            },
        }
    }

    /// Applies a CSSOM change for sheets owned by `<style>`/`<link>` elements. Constructed sheets
    /// and `adoptedStyleSheets` are left for the pseudo-hover/CSS work (issue #4) and counted as
    /// ignored.
    pub fn apply_sheet(&mut self, op: &SheetOp) -> Applied {
        let ok = Applied {
            applied: 1,
            ignored: 0,
        };
        let skip = Applied {
            applied: 0,
            ignored: 1,
        };
        match op {
            SheetOp::Set(state) => {
                let cobrowse_protocol::SheetOwner::Node(owner) = state.owner else {
                    return skip;
                };
                let Some(e) = self.nodes.get(&owner) else {
                    return skip;
                };
                let base = state
                    .base_url
                    .clone()
                    .filter(|b| is_http(b))
                    .unwrap_or_else(|| self.base_of(e.doc));
                let node = e.node.clone();
                let policy = &self.sheet_policy;
                let import = |u: &str| policy.sheet_url(u);
                let rules: Vec<String> = state
                    .rules
                    .iter()
                    .map(|r| sanitize_css_imports(r, &base, &import))
                    .collect();
                self.backend.replace_rules(&node, &rules);
                self.sheets.insert(state.sheet, owner);
                ok
            }
            SheetOp::Insert { sheet, path, rule } => {
                let Some(e) = self.sheets.get(sheet).and_then(|o| self.nodes.get(o)) else {
                    return skip;
                };
                let node = e.node.clone();
                let policy = &self.sheet_policy;
                let rule =
                    sanitize_css_imports(rule, &self.base_of(e.doc), &|u| policy.sheet_url(u));
                self.backend.insert_rule(&node, path, &rule);
                ok
            }
            SheetOp::Delete { sheet, path } => {
                let Some(e) = self.sheets.get(sheet).and_then(|o| self.nodes.get(o)) else {
                    return skip;
                };
                let node = e.node.clone();
                self.backend.delete_rule(&node, path);
                ok
            }
            SheetOp::Remove { sheet } => {
                self.sheets.remove(sheet);
                ok
            }
            SheetOp::Adopt { .. } => skip,
        }
    }
}

/// The data a text node gets given its parent: emptied inside script-like elements, sanitised CSS
/// inside `<style>`.
/// `@import`s of allowed origins go through the CSS proxy (`policy`), as linked sheets do.
fn text_for(parent: &Kind, text: &str, base: &str, policy: &SheetPolicy) -> String {
    match parent {
        Kind::Element {
            rendered: Rendered::InertScript,
            ..
        } => String::new(),
        Kind::Element {
            tag,
            rendered: Rendered::Normal,
            ns: Namespace::Html | Namespace::Svg,
        } if tag == "style" => sanitize_css_imports(text, base, &|u| policy.sheet_url(u)),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memdom::MemDom;
    use cobrowse_protocol::{AddedSubtree, AttrChange, Attribute, FormState, TextChange, Viewport};

    /// Builds flat trees by hand, like the customer side would.
    struct B {
        names: NameTable,
        nodes: Vec<NodeRecord>,
    }

    impl B {
        fn new() -> Self {
            B {
                names: NameTable::new(),
                nodes: vec![],
            }
        }
        fn doc(&mut self, url: &str, children: u32) -> &mut Self {
            self.nodes.push(NodeRecord::new(
                NodeData::Document { url: url.into() },
                children,
            ));
            self
        }
        fn el(&mut self, tag: &str, attrs: &[(&str, &str)], children: u32) -> &mut Self {
            self.el_ns(tag, Namespace::Html, attrs, children)
        }
        fn el_ns(
            &mut self,
            tag: &str,
            ns: Namespace,
            attrs: &[(&str, &str)],
            children: u32,
        ) -> &mut Self {
            let tag = self.names.intern(tag);
            let attrs = attrs
                .iter()
                .map(|(n, v)| Attribute {
                    name: self.names.intern(n),
                    value: (*v).into(),
                })
                .collect();
            self.nodes.push(NodeRecord::new(
                NodeData::Element { tag, ns, attrs },
                children,
            ));
            self
        }
        fn text(&mut self, t: &str) -> &mut Self {
            self.nodes
                .push(NodeRecord::new(NodeData::Text(t.into()), 0));
            self
        }
        fn snapshot(&self, first_id: NodeId) -> Snapshot {
            Snapshot {
                names: self.names.clone(),
                first_id,
                nodes: self.nodes.clone(),
                form: vec![],
                scroll: vec![],
                viewport: Viewport::default(),
                sheets: vec![],
            }
        }
    }

    /// doc(1) > html(2) > [head(3) > style(4) > text(5)], [body(6) > ul(7) > li(8) "a"(9), li(10) "b"(11)]
    fn page() -> Snapshot {
        let mut b = B::new();
        b.doc("https://shop.example/p/index.html", 1)
            .el("html", &[], 2)
            .el("head", &[], 1)
            .el("style", &[], 1)
            .text("body{background:url(bg.png)}")
            .el("body", &[("onload", "alert(1)")], 1)
            .el("ul", &[("id", "list")], 2)
            .el("li", &[], 1)
            .text("a")
            .el("li", &[], 1)
            .text("b");
        b.snapshot(1)
    }

    fn replica() -> Replica<MemDom> {
        let mut r = Replica::new(MemDom::default());
        let s = r.apply_snapshot(&page());
        assert_eq!(s.ignored, 0);
        r
    }

    #[test]
    fn snapshot_builds_a_sanitised_tree_with_injected_head() {
        let r = replica();
        assert_eq!(r.len(), 11);
        assert_eq!(r.page_url(), Some("https://shop.example/p/index.html"));
        let html = r.backend().html();
        assert_eq!(
            html,
            "<html><head><base href=\"https://shop.example/p/index.html\"><meta cobrowse-csp>\
             <style>body{background:url(\"https://shop.example/p/bg.png\")}</style></head>\
             <body><ul id=\"list\"><li>a</li><li>b</li></ul></body></html>"
        );
    }

    #[test]
    fn scripts_handlers_and_script_urls_never_reach_the_dom() {
        let mut b = B::new();
        b.doc("https://shop.example/", 1)
            .el("html", &[], 1)
            .el("body", &[], 4)
            .el("script", &[("src", "x.js")], 1)
            .text("window.pwned = 1")
            .el(
                "a",
                &[("href", "javascript:alert(1)"), ("onclick", "x()")],
                1,
            )
            .text("go")
            .el_ns("svg", Namespace::Svg, &[("onload", "x()")], 1)
            .el_ns("script", Namespace::Svg, &[], 1)
            .text("alert(2)")
            .el(
                "iframe",
                &[("srcdoc", "<script>x</script>"), ("src", "https://x/")],
                0,
            );
        let mut r = Replica::new(MemDom::default());
        r.apply_snapshot(&b.snapshot(100));
        let html = r.backend().html();
        assert_eq!(
            html,
            "<html><body><template data-cobrowse-injected=\"inert-script\"></template><a>go</a>\
             <svg><template data-cobrowse-injected=\"inert-script\"></template></svg>\
             <iframe sandbox=\"allow-same-origin\"></iframe></body></html>"
        );
    }

    fn mutation(names: NameTable) -> MutationBatch {
        MutationBatch {
            names,
            ..Default::default()
        }
    }

    #[test]
    fn mutations_apply_in_documented_order_and_moves_keep_ids() {
        let mut r = replica();
        let mut names = NameTable::new();
        let li = names.intern("li");
        let class = names.intern("class");
        let mut m = mutation(names);
        // Remove the second li, insert a new one first, move the first li to the end.
        m.removes.push(10);
        m.inserts.push(Insert::New(AddedSubtree {
            parent: 7,
            next_sibling: Some(8),
            first_id: 20,
            nodes: vec![
                NodeRecord::new(
                    NodeData::Element {
                        tag: li,
                        ns: Namespace::Html,
                        attrs: vec![],
                    },
                    1,
                ),
                NodeRecord::new(NodeData::Text("new".into()), 0),
            ],
        }));
        m.inserts.push(Insert::Move {
            node: 8,
            parent: 7,
            next_sibling: None,
        });
        m.attrs.push(AttrChange {
            node: 8,
            name: class,
            value: Some("moved".into()),
        });
        m.texts.push(TextChange {
            node: 9,
            text: "a2".into(),
        });
        let s = r.apply_mutations(&m);
        assert_eq!(
            s,
            Applied {
                applied: 6,
                ignored: 0
            }
        );
        assert!(
            r.node(10).is_none() && r.node(11).is_none(),
            "removed subtree forgotten"
        );
        assert!(r.node(20).is_some() && r.node(21).is_some());
        assert!(r.backend().html().ends_with(
            "<ul id=\"list\"><li>new</li><li class=\"moved\">a2</li></ul></body></html>"
        ));
        // A later text change still reaches the moved node's text by its old id.
        let mut m2 = mutation(NameTable::new());
        m2.texts.push(TextChange {
            node: 9,
            text: "a3".into(),
        });
        assert_eq!(r.apply_mutations(&m2).applied, 1);
        assert!(r.backend().html().contains("<li class=\"moved\">a3</li>"));
    }

    #[test]
    fn unknown_ids_and_impossible_moves_are_ignored() {
        let mut r = replica();
        let before = r.backend().html();
        let mut names = NameTable::new();
        let id_attr = names.intern("id");
        let mut m = mutation(names);
        m.removes.extend([999, 1]); // unknown, and the root document
        m.inserts.push(Insert::Move {
            node: 7,
            parent: 8,
            next_sibling: None,
        }); // into own child
        m.inserts.push(Insert::Move {
            node: 998,
            parent: 7,
            next_sibling: None,
        });
        m.inserts.push(Insert::New(AddedSubtree {
            parent: 997,
            next_sibling: None,
            first_id: 50,
            nodes: vec![NodeRecord::new(NodeData::Text("x".into()), 0)],
        }));
        m.attrs.push(AttrChange {
            node: 996,
            name: id_attr,
            value: Some("x".into()),
        });
        m.attrs.push(AttrChange {
            node: 9,
            name: id_attr,
            value: Some("x".into()),
        }); // a text node
        m.texts.push(TextChange {
            node: 995,
            text: "x".into(),
        });
        m.texts.push(TextChange {
            node: 7,
            text: "x".into(),
        }); // an element
        let s = r.apply_mutations(&m);
        assert_eq!(
            s,
            Applied {
                applied: 0,
                ignored: 9
            }
        );
        assert_eq!(r.backend().html(), before);
    }

    #[test]
    fn mutation_time_injection_is_sanitised() {
        let mut r = replica();
        let mut names = NameTable::new();
        let onclick = names.intern("onclick");
        let href = names.intern("href");
        let script = names.intern("script");
        let mut m = mutation(names);
        m.attrs.push(AttrChange {
            node: 7,
            name: onclick,
            value: Some("x()".into()),
        });
        m.attrs.push(AttrChange {
            node: 8,
            name: href,
            value: Some("javascript:x()".into()),
        });
        m.inserts.push(Insert::New(AddedSubtree {
            parent: 6,
            next_sibling: None,
            first_id: 30,
            nodes: vec![
                NodeRecord::new(
                    NodeData::Element {
                        tag: script,
                        ns: Namespace::Html,
                        attrs: vec![],
                    },
                    1,
                ),
                NodeRecord::new(NodeData::Text("x()".into()), 0),
            ],
        }));
        m.texts.push(TextChange {
            node: 31,
            text: "y()".into(),
        });
        m.texts.push(TextChange {
            node: 5,
            text: "a{background:url(javascript:x)}".into(),
        });
        r.apply_mutations(&m);
        let html = r.backend().html();
        assert!(
            !html.contains("onclick") && !html.contains("x()") && !html.contains("y()"),
            "{html}"
        );
        assert!(!html.contains("javascript"), "{html}");
        assert!(
            html.contains("<template data-cobrowse-injected=\"inert-script\"></template></body>"),
            "{html}"
        );
    }

    #[test]
    fn customer_base_changes_the_injected_base_and_resolution() {
        let mut b = B::new();
        b.doc("https://shop.example/a/b.html", 1)
            .el("html", &[], 2)
            .el("head", &[], 1)
            .el("base", &[("href", "/static/"), ("target", "_top")], 0)
            .el("body", &[], 1)
            .el("img", &[("src", "x.png")], 0);
        let mut r = Replica::new(MemDom::default());
        r.apply_snapshot(&b.snapshot(1));
        let html = r.backend().html();
        assert!(
            html.contains(
                "<head><base href=\"https://shop.example/static/\"><meta cobrowse-csp><base></head>"
            ),
            "{html}"
        );
        assert!(
            html.contains("<img src=\"https://shop.example/static/x.png\">"),
            "{html}"
        );
    }

    #[test]
    fn iframe_documents_and_shadow_roots_are_rebuilt() {
        let mut b = B::new();
        b.doc("https://shop.example/", 1)
            .el("html", &[], 1)
            .el("body", &[], 2)
            .el("iframe", &[], 1)
            .doc("https://shop.example/frame.html", 1)
            .el("html", &[], 1)
            .el("body", &[], 1)
            .text("inside")
            .el("my-widget", &[], 2);
        b.nodes
            .push(NodeRecord::new(NodeData::ShadowRoot { open: true }, 1));
        b.el("b", &[], 1).text("shadow").text("light");
        let mut r = Replica::new(MemDom::default());
        let s = r.apply_snapshot(&b.snapshot(1));
        assert_eq!(s.ignored, 0);
        let html = r.backend().html();
        assert!(
            html.contains("<iframe sandbox=\"allow-same-origin\">#document<html><body>inside</body></html></iframe>"),
            "{html}"
        );
        assert!(
            html.contains("<my-widget>#shadow<b>shadow</b>light</my-widget>"),
            "{html}"
        );
        // Removing the iframe forgets its document's nodes too.
        let mut m = mutation(NameTable::new());
        m.removes.push(4);
        r.apply_mutations(&m);
        assert!(r.node(5).is_none() && r.node(8).is_none());
    }

    #[test]
    fn third_party_frames_are_blank_unless_their_origin_is_allowed() {
        let mut b = B::new();
        b.doc("https://shop.example/", 1)
            .el("html", &[], 1)
            .el("body", &[], 3)
            .el(
                "iframe",
                &[("src", "https://maps.example/embed"), ("width", "320")],
                0,
            )
            .el("iframe", &[("src", "https://ads.example/x")], 0)
            .el("iframe", &[("src", "/same-origin.html")], 0);
        let mut r = Replica::new(MemDom::default());
        r.apply_snapshot(&b.snapshot(1));
        let html = r.backend().html();
        assert!(
            !html.contains("src="),
            "nothing loads without a policy: {html}"
        );
        assert!(
            html.contains("<iframe width=\"320\" sandbox=\"allow-same-origin\">"),
            "{html}"
        );

        // The policy arrives (session answer): the listed origin loads, sandboxed; others stay.
        r.set_frame_policy(FramePolicy::new(
            &["https://maps.example".into()],
            Some("http://agent.example/"),
        ));
        let html = r.backend().html();
        assert!(
            html.contains("src=\"https://maps.example/embed\""),
            "{html}"
        );
        assert_eq!(html.matches("src=").count(), 1, "{html}");
        assert_eq!(html.matches("sandbox=\"allow-same-origin\"").count(), 3);

        // The customer points the allowed frame elsewhere, then at a refused origin.
        let mut m = mutation(NameTable::new());
        let src = m.names.intern("src");
        m.attrs.push(AttrChange {
            node: 4,
            name: src,
            value: Some("https://maps.example/other".into()),
        });
        r.apply_mutations(&m);
        assert!(
            r.backend()
                .html()
                .contains("src=\"https://maps.example/other\"")
        );
        m.attrs[0].value = Some("https://tracker.example/".into());
        r.apply_mutations(&m);
        assert!(!r.backend().html().contains("src="));
        // A refused frame never gets a `src` at all, not even an empty one.
        m.attrs[0].node = 5;
        m.attrs[0].value = Some("https://ads.example/y".into());
        r.apply_mutations(&m);
        assert!(!r.backend().html().contains("src="));
        // The policy going away unloads what it loaded.
        m.attrs[0].node = 4;
        m.attrs[0].value = Some("https://maps.example/again".into());
        r.apply_mutations(&m);
        assert!(r.backend().html().contains("src="));
        r.set_frame_policy(FramePolicy::default());
        assert!(!r.backend().html().contains("src="));
    }

    #[test]
    fn allowed_stylesheet_links_load_through_the_css_proxy() {
        const PROXIED: &str = "href=\"http://cb.example/cobrowse/css-proxy?url=https%3A%2F%2Fshop.example%2Fcss%2Fsite.css\"";
        let mut b = B::new();
        b.doc("https://shop.example/p/", 1)
            .el("html", &[], 1)
            .el("head", &[], 3)
            .el(
                "link",
                &[("rel", "stylesheet"), ("href", "/css/site.css")],
                0,
            )
            .el("link", &[("rel", "icon"), ("href", "/favicon.ico")], 0)
            .el("style", &[], 1)
            .text("@import url(/css/more.css); @import 'https://fonts.example/f.css';");
        let mut r = Replica::new(MemDom::default());
        r.apply_snapshot(&b.snapshot(1));
        let html = r.backend().html();
        assert!(
            html.contains("href=\"https://shop.example/css/site.css\""),
            "direct without a policy: {html}"
        );

        // The policy arrives: the stylesheet is re-pointed, the icon is not.
        r.set_sheet_policy(SheetPolicy::new(
            &["https://shop.example".into()],
            Some("http://cb.example/cobrowse/slave.html"),
        ));
        let html = r.backend().html();
        assert!(html.contains(PROXIED), "{html}");
        assert!(
            html.contains("href=\"https://shop.example/favicon.ico\""),
            "{html}"
        );

        // A snapshot taken with the policy in place builds the proxied href directly, and
        // routes an inline sheet's allowed @import too (the other origin's stays direct).
        r.apply_snapshot(&b.snapshot(1));
        let html = r.backend().html();
        assert!(html.contains(PROXIED), "{html}");
        assert!(
            html.contains("@import url(\"http://cb.example/cobrowse/css-proxy?url=https%3A%2F%2Fshop.example%2Fcss%2Fmore.css\"); @import url(\"https://fonts.example/f.css\");"),
            "{html}"
        );

        // rel and href changes follow: the icon becomes a stylesheet, the sheet moves off-list.
        let mut m = mutation(NameTable::new());
        let rel = m.names.intern("rel");
        let href = m.names.intern("href");
        m.attrs.push(AttrChange {
            node: 5,
            name: rel,
            value: Some("stylesheet".into()),
        });
        m.attrs.push(AttrChange {
            node: 4,
            name: href,
            value: Some("https://cdn.other.example/x.css".into()),
        });
        r.apply_mutations(&m);
        let html = r.backend().html();
        assert!(
            html.contains("css-proxy?url=https%3A%2F%2Fshop.example%2Ffavicon.ico"),
            "{html}"
        );
        assert!(
            html.contains("href=\"https://cdn.other.example/x.css\""),
            "{html}"
        );
        // Script URLs stay dropped on links too.
        m.attrs.truncate(1);
        m.attrs[0] = AttrChange {
            node: 4,
            name: href,
            value: Some("javascript:alert(1)".into()),
        };
        r.apply_mutations(&m);
        assert!(!r.backend().html().contains("javascript"));
    }

    #[test]
    fn selections_resolve_to_replica_nodes_or_clear() {
        // page(): doc 1 > html 2 > head 3 > style 4 > text 5; body 6 > ul 7 > li 8 "a" 9, li 10 "b" 11
        let mut r = replica();
        let range = |s, so, e, eo| SelectionRange {
            start_node: s,
            start_offset: so,
            end_node: e,
            end_offset: eo,
        };
        assert_eq!(r.apply_selection(&[range(9, 0, 11, 1)]).applied, 1);
        assert_eq!(
            r.backend().log.last().map(String::as_str),
            Some("select 9:0 11:1")
        );
        // Element boundaries are child indexes; reversed control offsets are put in order.
        r.apply_selection(&[range(7, 0, 7, 2)]);
        assert_eq!(
            r.backend().log.last().map(String::as_str),
            Some("select 7:0 7:2")
        );
        // Unknown nodes and document nodes show nothing rather than something wrong.
        assert_eq!(r.apply_selection(&[range(9, 0, 404, 1)]).ignored, 1);
        assert_eq!(
            r.backend().log.last().map(String::as_str),
            Some("select none")
        );
        assert_eq!(r.apply_selection(&[range(1, 0, 9, 1)]).ignored, 1);
        r.apply_selection(&[]);
        assert_eq!(
            r.backend().log.last().map(String::as_str),
            Some("select none")
        );

        // A text control's selection.
        let mut b = B::new();
        b.doc("https://shop.example/", 1)
            .el("html", &[], 1)
            .el("body", &[], 1)
            .el("input", &[("value", "hello")], 0);
        let mut r = Replica::new(MemDom::default());
        r.apply_snapshot(&b.snapshot(1));
        r.apply_selection(&[range(4, 4, 4, 1)]);
        assert_eq!(
            r.backend().log.last().map(String::as_str),
            Some("select control 4 1..4")
        );
    }

    #[test]
    fn form_and_scroll_state_reach_known_nodes_only() {
        let mut r = replica();
        let f = r.apply_form(&[
            FormValue {
                node: 7,
                state: FormState::Value("hi".into()),
            },
            FormValue {
                node: 404,
                state: FormState::Checked(true),
            },
        ]);
        assert_eq!(
            f,
            Applied {
                applied: 1,
                ignored: 1
            }
        );
        assert_eq!(
            r.apply_scroll(&ScrollPosition {
                target: ScrollTarget::Node(7),
                x: 0,
                y: 40
            }),
            Applied {
                applied: 1,
                ignored: 0
            }
        );
        assert_eq!(
            r.apply_scroll(&ScrollPosition {
                target: ScrollTarget::Node(5),
                x: 0,
                y: 40
            })
            .ignored,
            1
        );
        assert!(r.backend().log.iter().any(|l| l == "form 7 Value(\"hi\")"));
        assert!(r.backend().log.iter().any(|l| l == "scroll 7 0,40"));
    }

    #[test]
    fn a_new_snapshot_replaces_everything() {
        let mut r = replica();
        let mut b = B::new();
        b.doc("https://shop.example/next", 1).el("html", &[], 0);
        r.apply_snapshot(&b.snapshot(500));
        assert_eq!(r.len(), 2);
        assert!(r.node(7).is_none());
        assert_eq!(r.backend().html(), "<html></html>");
    }

    /// A corpus of hostile markup (as a customer page's DOM would report it), at snapshot time
    /// and injected by mutations: nothing executable may reach the replica.
    #[test]
    fn hostile_vectors_leave_nothing_executable() {
        let html: &[(&str, &[(&str, &str)])] = &[
            ("script", &[("src", "https://evil.example/x.js")]),
            ("script", &[("type", "module")]),
            ("noscript", &[]),
            ("img", &[("src", "x"), ("onerror", "alert(1)")]),
            ("body", &[("onload", "alert(1)")]),
            ("svg", &[("onload", "alert(1)")]),
            ("a", &[("href", "javascript:alert(1)")]),
            ("a", &[("href", " javascript:alert(1)")]),
            ("a", &[("href", "JAVASCRIPT:alert(1)")]),
            ("a", &[("href", "jav\tascript:alert(1)")]),
            ("a", &[("href", "java\nscript:alert(1)")]),
            ("a", &[("href", "vbscript:msgbox(1)")]),
            ("a", &[("href", "data:text/html,<script>alert(1)</script>")]),
            ("iframe", &[("src", "javascript:alert(1)")]),
            ("iframe", &[("srcdoc", "<script>alert(1)</script>")]),
            (
                "iframe",
                &[(
                    "src",
                    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
                )],
            ),
            ("object", &[("data", "javascript:alert(1)")]),
            ("embed", &[("src", "javascript:alert(1)")]),
            ("applet", &[("code", "Evil.class")]),
            ("form", &[("action", "javascript:alert(1)")]),
            ("button", &[("formaction", "javascript:alert(1)")]),
            (
                "input",
                &[("type", "image"), ("src", "javascript:alert(1)")],
            ),
            (
                "meta",
                &[
                    ("http-equiv", "refresh"),
                    ("content", "0;url=javascript:alert(1)"),
                ],
            ),
            (
                "meta",
                &[
                    ("http-equiv", "Content-Security-Policy"),
                    ("content", "default-src 'none'"),
                ],
            ),
            ("base", &[("href", "javascript:alert(1)//")]),
            (
                "link",
                &[("rel", "stylesheet"), ("href", "javascript:alert(1)")],
            ),
            (
                "link",
                &[
                    ("rel", "import"),
                    ("href", "data:text/html,<script>alert(1)</script>"),
                ],
            ),
            (
                "video",
                &[
                    ("poster", "javascript:alert(1)"),
                    ("onloadstart", "alert(1)"),
                ],
            ),
            ("img", &[("srcset", "javascript:alert(1) 1x, x.png 2x")]),
            ("div", &[("style", "background:url(javascript:alert(1))")]),
            ("div", &[("style", "background-image:url('vbscript:x')")]),
            ("details", &[("open", ""), ("ontoggle", "alert(1)")]),
            ("input", &[("autofocus", ""), ("onfocus", "alert(1)")]),
            ("marquee", &[("onstart", "alert(1)")]),
            (
                "a",
                &[("target", "_top"), ("href", "https://evil.example/")],
            ),
            ("area", &[("href", "javascript:alert(1)")]),
            ("isindex", &[("action", "javascript:alert(1)")]),
            ("math", &[("href", "javascript:alert(1)")]),
            ("form", &[("id", "f"), ("target", "_parent")]),
        ];
        let svg: &[(&str, &[(&str, &str)])] = &[
            ("script", &[("href", "data:,alert(1)")]),
            ("a", &[("xlink:href", "javascript:alert(1)")]),
            ("a", &[("href", "javascript:alert(1)")]),
            (
                "use",
                &[(
                    "href",
                    "data:image/svg+xml,<svg id='x' onload='alert(1)'/>#x",
                )],
            ),
            (
                "set",
                &[("attributeName", "href"), ("to", "javascript:alert(1)")],
            ),
            (
                "animate",
                &[("attributeName", "onclick"), ("values", "alert(1)")],
            ),
            (
                "animate",
                &[("attributeName", "href"), ("values", "javascript:alert(1)")],
            ),
            ("image", &[("href", "javascript:alert(1)")]),
            ("foreignObject", &[("onload", "alert(1)")]),
            ("style", &[("onload", "alert(1)")]),
        ];
        let mut b = B::new();
        b.doc("https://shop.example/", 1)
            .el("html", &[], 2)
            .el("head", &[], 0)
            .el("body", &[], (html.len() + 1) as u32);
        for (tag, attrs) in html {
            b.el(tag, attrs, 1).text("alert(1)");
        }
        b.el_ns("svg", Namespace::Svg, &[], svg.len() as u32);
        for (tag, attrs) in svg {
            b.el_ns(tag, Namespace::Svg, attrs, 0);
        }
        b.el_ns(
            "frameset",
            Namespace::Other("urn:x".into()),
            &[("onload", "x")],
            0,
        );
        // The frameset record above makes body's child count one too many: drop it from body.
        b.nodes.pop();
        let snap = b.snapshot(1);
        let mut r = Replica::new(MemDom::default());
        r.apply_snapshot(&snap);
        // The same vectors again, injected as attribute changes onto an existing element.
        let mut names = NameTable::new();
        let mut m = mutation(NameTable::new());
        for (_, attrs) in html.iter().chain(svg) {
            for (n, v) in *attrs {
                m.attrs.push(AttrChange {
                    node: 5,
                    name: names.intern(n),
                    value: Some((*v).into()),
                });
            }
        }
        m.names = names;
        r.apply_mutations(&m);
        let out = r.backend().html().to_ascii_lowercase();
        let text_free = out.as_str();
        for bad in [
            "<script",
            "<object",
            "<embed",
            "<applet",
            "<noscript",
            " on",
            "javascript:",
            "vbscript:",
            "data:text/html",
            "srcdoc",
            "http-equiv",
            "_top",
            "_parent",
            "evil.example/x.js",
            "autofocus",
        ] {
            assert!(!text_free.contains(bad), "{bad:?} survived in {out}");
        }
        assert!(out.contains("<template"), "scripts became inert templates");
    }

    #[test]
    fn sheets_owned_by_style_elements_are_sanitised() {
        let mut r = replica();
        let s = r.apply_sheet(&SheetOp::Set(cobrowse_protocol::SheetState {
            sheet: 3,
            owner: cobrowse_protocol::SheetOwner::Node(4),
            rules: vec![
                "a{background:url(javascript:x)}".into(),
                "b{x:url(i.png)}".into(),
            ],
            base_url: None,
            disabled: false,
        }));
        assert_eq!(s.applied, 1);
        assert!(
            r.apply_sheet(&SheetOp::Insert {
                sheet: 3,
                path: vec![0],
                rule: "c{}".into()
            })
            .applied
                == 1
        );
        assert!(
            r.apply_sheet(&SheetOp::Insert {
                sheet: 9,
                path: vec![0],
                rule: "c{}".into()
            })
            .ignored
                == 1
        );
        let log = &r.backend().log;
        assert!(
            log.iter().any(|l| l.contains("rules 4")
                && l.contains("about:invalid")
                && l.contains("https://shop.example/p/i.png")),
            "{log:?}"
        );
    }
}
