//! Building and changing replica nodes: create (sanitised, attributes before insertion), move,
//! remove, attribute and text changes.

use super::resources::text_for;
use super::{DomBackend, Entry, Kind, LinkState, Replica, is_html};
use crate::debug;
use crate::sanitize::{
    ElementCtx, Rendered, classify, created_element, created_name, forced_attributes,
    sanitize_attribute,
};
use crate::sheets::is_stylesheet_rel;
use crate::url::is_http;
use cobrowse_protocol::{NameTable, Namespace, NodeData, NodeId, NodeRecord};

impl<B: DomBackend> Replica<B> {
    /// Creates the node for `rec` with id `id` under `parent` (before `before`, else appended),
    /// sanitised. False when skipped.
    pub(super) fn build_node(
        &mut self,
        id: NodeId,
        parent: NodeId,
        before: Option<NodeId>,
        rec: &NodeRecord,
        names: &NameTable,
    ) -> bool {
        let Some(p) = self.nodes.get(parent) else {
            // Parent skipped (or unknown): the whole subtree goes with it.
            debug!("node {id}: parent {parent} unknown; skipped");
            return false;
        };
        let parent_node = p.node.clone();
        let parent_kind = p.kind.clone();
        let doc = p.doc;
        if self.nodes.contains(id) {
            // A reused id: forget the old node so the map stays a function.
            debug!("node {id} already present; replacing");
            self.purge(id, true);
            if !self.nodes.contains(parent) {
                // The parent was that node or inside it: it went with it.
                debug!("node {id}: parent {parent} replaced with it; skipped");
                return false;
            }
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
                // The second wall: the element made must be the one vetted.
                let vetted = created_name(ctag, &Namespace::from_uri(Some(cns)));
                let Some(n) = self.backend.create_vetted_element(cns, ctag, vetted) else {
                    debug!("node {id}: cannot create <{tag}> as {vetted}; skipped");
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
                        link.href = Some(v);
                        continue;
                    }
                    if is_link && name == "integrity" {
                        link.integrity = Some(v);
                        continue;
                    }
                    self.backend.set_attribute(&node, name, &v);
                }
            }
            if is_link {
                // Set once, already pointing where it will load from (the customer's rules when
                // the snapshot carries them).
                if let Some(sheet) = self.staged_sheets.remove(&id) {
                    link.inline = Some(self.inline_sheet(&sheet, doc));
                    self.sheets.insert(sheet.sheet, id);
                }
                self.show_link(&node, &LinkState::default(), &link);
                self.links.insert(id, link);
            }
            for (n, v) in forced_attributes(&ctx) {
                self.backend.set_attribute(&node, n, v);
            }
        }
        let attached = matches!(kind, Kind::Document { .. } | Kind::Shadow);
        if !attached {
            let before_node = before
                .and_then(|b| self.nodes.get(b))
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
        let inserted = self.nodes.insert(
            id,
            Entry {
                node,
                kind,
                doc: entry_doc,
            },
            Some(parent),
            before,
        );
        // `IdTree::insert` refuses only an unknown parent, which the checks above rule out.
        debug_assert!(inserted, "node {id}: parent {parent} known");
        self.after_element_created(id, rec, names);
        true
    }

    /// True when `id` is an HTML `<iframe>`/`<frame>` rendered as itself.
    pub(super) fn is_frame(&self, id: NodeId) -> bool {
        matches!(self.nodes.get(id).map(|e| &e.kind), Some(Kind::Element { tag, ns, rendered: Rendered::Normal })
            if is_html(ns) && matches!(tag.as_str(), "iframe" | "frame"))
    }

    /// Post-insertion work for special elements: `<head>` gets the replica's base and CSP,
    /// `<base href>` changes the document's base.
    fn after_element_created(&mut self, id: NodeId, rec: &NodeRecord, names: &NameTable) {
        let Some(e) = self.nodes.get(id) else { return };
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
                let is_doc_head = self.nodes.parent(id).is_some_and(|p| {
                    self.nodes.get(p).is_some_and(
                        |pe| matches!(&pe.kind, Kind::Element { tag, .. } if tag == "html"),
                    ) && self.nodes.parent(p) == Some(doc)
                });
                if is_doc_head {
                    if let Some(Entry {
                        kind: Kind::Document { head, .. },
                        ..
                    }) = self.nodes.get_mut(doc)
                    {
                        *head = Some(id);
                    }
                    let base = Some(self.base_of(doc))
                        .filter(|b| is_http(b))
                        .unwrap_or_default();
                    let node = self.nodes.get(id).map(|e| e.node.clone());
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

    /// Forgets `id` and its descendants; detaches it from the DOM when `detach`.
    pub(super) fn purge(&mut self, id: NodeId, detach: bool) {
        let Some(e) = self.nodes.get(id) else { return };
        if detach && !matches!(e.kind, Kind::Document { .. } | Kind::Shadow) {
            let node = e.node.clone();
            self.backend.remove(&node);
        }
        for (_, e) in self.nodes.remove_subtree(id) {
            self.backend.forget(&e.node);
        }
        let nodes = &self.nodes;
        self.sheets.retain(|_, owner| nodes.contains(*owner));
        self.frame_srcs.retain(|id, _| nodes.contains(*id));
        self.links.retain(|id, _| nodes.contains(*id));
    }

    /// Moves `id` under `parent` (before `before`, else appended), keeping its id. False when
    /// unknown or impossible (into itself, a document or shadow root moved, a leaf as parent).
    pub(super) fn move_node(&mut self, id: NodeId, parent: NodeId, before: Option<NodeId>) -> bool {
        let (Some(e), Some(p)) = (self.nodes.get(id), self.nodes.get(parent)) else {
            debug!("move {id} → {parent}: unknown id; ignored");
            return false;
        };
        if matches!(e.kind, Kind::Document { .. } | Kind::Shadow)
            || matches!(p.kind, Kind::Text | Kind::Comment | Kind::Doctype)
            || self.nodes.is_inside(parent, id)
            || before == Some(id)
        {
            debug!("move {id} → {parent}: impossible; ignored");
            return false;
        }
        let node = e.node.clone();
        let parent_node = p.node.clone();
        let new_doc = p.doc;
        let before_node = before.and_then(|b| {
            self.nodes
                .get(b)
                .filter(|_| self.nodes.parent(b) == Some(parent))
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
        let before = before_node.and(before);
        // `IdTree::move_to` refuses exactly the moves ruled out above (unknown ids, a cycle).
        let moved = self.nodes.move_to(id, parent, before);
        debug_assert!(moved, "move {id} → {parent} checked");
        // Keep `doc` right when a node moves between documents (rare: iframes of one origin).
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            let Some(e) = self.nodes.get_mut(n) else {
                continue;
            };
            if matches!(e.kind, Kind::Document { .. }) {
                continue;
            }
            e.doc = new_doc;
            stack.extend_from_slice(self.nodes.children(n));
        }
        true
    }

    /// A customer attribute change on element `id` (`None`: removed), sanitised. False when the
    /// id is unknown, not an element, or the attribute is not the customer's to change.
    pub(super) fn set_attribute(&mut self, id: NodeId, name: &str, value: Option<&str>) -> bool {
        let Some(e) = self.nodes.get(id) else {
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
        let link_attr = ["href", "rel", "integrity"]
            .iter()
            .any(|a| name.eq_ignore_ascii_case(a))
            && self.is_link(id);
        if link_attr {
            self.set_link_attribute(id, &node, name, value, sanitized);
            return true;
        }
        match sanitized {
            Some(v) => {
                self.backend.set_attribute(&node, name, &v);
            }
            None => self.backend.remove_attribute(&node, name),
        }
        if is_base {
            let url = self.doc_url(doc);
            self.set_doc_base(doc, value.unwrap_or(&url));
        }
        true
    }

    /// A customer text change on text or comment node `id`. False when unknown or another kind.
    pub(super) fn set_text(&mut self, id: NodeId, text: &str) -> bool {
        let Some(e) = self.nodes.get(id) else {
            debug!("text of {id}: unknown id; ignored");
            return false;
        };
        if !matches!(e.kind, Kind::Text | Kind::Comment) {
            return false;
        }
        let node = e.node.clone();
        let is_text = e.kind == Kind::Text;
        let doc = e.doc;
        let parent_kind = self
            .nodes
            .parent(id)
            .and_then(|p| self.nodes.get(p))
            .map(|p| p.kind.clone());
        let data = match (is_text, parent_kind) {
            (true, Some(pk)) => text_for(&pk, text, &self.base_of(doc), &self.sheet_policy),
            _ => text.to_owned(),
        };
        self.backend.set_text(&node, &data);
        true
    }
}
