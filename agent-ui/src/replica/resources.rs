//! What the replica loads and from where: each document's base URL, third-party frames (by the
//! frame policy), `<link>` stylesheets (the rules the customer sent, else direct or through the
//! CSS proxy), and sheets owned by `<style>`/`<link>` elements.

use super::{Applied, DomBackend, Entry, Kind, LinkState, Replica, is_html};
use crate::debug;
use crate::frames::FramePolicy;
use crate::sanitize::{Rendered, sanitize_css_imports};
use crate::sheets::{SheetPolicy, css_data_url, is_stylesheet_rel};
use crate::url::{is_http, resolve};
use cobrowse_protocol::{Namespace, NodeId, SheetOp, SheetOwner, SheetState};

impl<B: DomBackend> Replica<B> {
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
                && let (Some(v), Some(e)) = (new, self.nodes.get(id))
            {
                let node = e.node.clone();
                self.backend.set_attribute(&node, "href", &v);
            }
        }
        self.backend.flush();
    }

    /// The `href` a `<link>` shows: the customer's rules when it sent them, else through the proxy
    /// for allowed stylesheets, else direct.
    pub(super) fn shown_href(&self, l: &LinkState) -> Option<String> {
        if l.stylesheet
            && let Some(inline) = &l.inline
        {
            return Some(inline.clone());
        }
        let href = l.href.as_ref()?;
        Some(
            l.stylesheet
                .then(|| self.sheet_policy.sheet_url(href))
                .flatten()
                .unwrap_or_else(|| href.clone()),
        )
    }

    /// Makes `<link>` `node` show `after` where it showed `before`: its `href`, its `integrity`
    /// (left out while the rules are shown: it holds for the URL's bytes), and the original URL
    /// in `data-cobrowse-href` while the rules are shown (for people and tests reading the DOM).
    pub(super) fn show_link(&mut self, node: &B::Node, before: &LinkState, after: &LinkState) {
        let inline = |l: &LinkState| l.stylesheet && l.inline.is_some();
        let integrity = |l: &LinkState| l.integrity.clone().filter(|_| !inline(l));
        let marker = |l: &LinkState| l.href.clone().filter(|_| inline(l));
        for (name, old, new) in [
            ("href", self.shown_href(before), self.shown_href(after)),
            ("integrity", integrity(before), integrity(after)),
            ("data-cobrowse-href", marker(before), marker(after)),
        ] {
            match new {
                Some(v) if Some(&v) != old.as_ref() => {
                    self.backend.set_attribute(node, name, &v);
                }
                Some(_) => {}
                None if old.is_some() => self.backend.remove_attribute(node, name),
                None => {}
            }
        }
    }

    /// True when `id` is an HTML `<link>`.
    pub(super) fn is_link(&self, id: NodeId) -> bool {
        matches!(self.nodes.get(id).map(|e| &e.kind), Some(Kind::Element { tag, ns, .. })
            if is_html(ns) && tag == "link")
    }

    /// A customer `href`, `rel` or `integrity` change on `<link>` `id` (`sanitized`: the
    /// sanitised value): the shown attributes follow. A new `href` drops the rules the customer
    /// sent for the old one (the new sheet's come once it loaded there).
    pub(super) fn set_link_attribute(
        &mut self,
        id: NodeId,
        node: &B::Node,
        name: &str,
        value: Option<&str>,
        sanitized: Option<String>,
    ) {
        let before = self.links.get(&id).cloned().unwrap_or_default();
        let mut l = before.clone();
        if name.eq_ignore_ascii_case("href") {
            if l.href != sanitized {
                l.inline = None;
            }
            l.href = sanitized;
        } else if name.eq_ignore_ascii_case("integrity") {
            l.integrity = sanitized;
        } else {
            l.stylesheet = is_stylesheet_rel(value);
            match &sanitized {
                Some(v) => {
                    self.backend.set_attribute(node, name, v);
                }
                None => self.backend.remove_attribute(node, name),
            }
        }
        self.show_link(node, &before, &l);
        self.links.insert(id, l);
    }

    /// The customer's rules of a linked sheet as the `data:` URL the replica's `<link>` shows:
    /// sanitised like a `<style>`'s text, URLs resolved against the sheet's own URL.
    pub(super) fn inline_sheet(&self, state: &SheetState, doc: NodeId) -> String {
        let base = state
            .base_url
            .clone()
            .filter(|b| is_http(b))
            .unwrap_or_else(|| self.base_of(doc));
        let policy = &self.sheet_policy;
        let text: Vec<String> = state
            .rules
            .iter()
            .map(|r| sanitize_css_imports(r, &base, &|u| policy.sheet_url(u)))
            .collect();
        css_data_url(&text.join("\n"))
    }

    /// Sets which third-party frames the replica loads by URL, and applies it to the frames
    /// already shown (the policy arrives with the session answer, normally before any snapshot).
    pub fn set_frame_policy(&mut self, policy: FramePolicy) {
        self.frame_policy = policy;
        let ids: Vec<NodeId> = self.frame_srcs.keys().copied().collect();
        for id in ids {
            self.sync_frame(id);
        }
        self.backend.flush();
    }

    /// Records the customer's `src` of frame element `id` (`None`: removed) and syncs the replica.
    pub(super) fn set_frame_src(&mut self, id: NodeId, src: Option<&str>, base: &str) {
        let resolved = src.and_then(|v| resolve(base, v)).filter(|u| is_http(u));
        match resolved {
            Some(u) => {
                let loaded = self.frame_srcs.get(&id).is_some_and(|(_, l)| *l);
                self.frame_srcs.insert(id, (u, loaded));
            }
            None => {
                if self.frame_srcs.get(&id).is_some_and(|(_, l)| *l)
                    && let Some(node) = self.nodes.get(id).map(|e| e.node.clone())
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
        let Some(e) = self.nodes.get(id) else {
            self.frame_srcs.remove(&id);
            return;
        };
        let doc_url = self.doc_url(e.doc);
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

    /// A customer `<base href>`: the document's effective base becomes it (http(s) only).
    pub(super) fn set_doc_base(&mut self, doc: NodeId, href: &str) {
        let Some(Entry {
            kind: Kind::Document { url, base, head },
            ..
        }) = self.nodes.get_mut(doc)
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
        if let Some(node) = head.and_then(|h| self.nodes.get(h)).map(|e| e.node.clone()) {
            let href = if is_http(&new_base) {
                new_base.as_str()
            } else {
                ""
            };
            self.backend.prepare_head(&node, href);
        }
    }

    /// The effective base URL of document `doc` (empty when unknown).
    pub(super) fn base_of(&self, doc: NodeId) -> String {
        match self.nodes.get(doc).map(|e| &e.kind) {
            Some(Kind::Document { base, .. }) => base.clone(),
            _ => String::new(),
        }
    }

    /// The own URL of document `doc` (empty when unknown).
    pub(super) fn doc_url(&self, doc: NodeId) -> String {
        match self.nodes.get(doc).map(|e| &e.kind) {
            Some(Kind::Document { url, .. }) => url.clone(),
            _ => String::new(),
        }
    }

    /// Applies a CSSOM change for sheets owned by `<style>`/`<link>` elements. Constructed sheets
    /// and `adoptedStyleSheets` are the browser side's (`web::styles`) and count as ignored here.
    pub fn apply_sheet(&mut self, op: &SheetOp) -> Applied {
        let stats = self.sheet_op(op);
        self.backend.flush();
        stats
    }

    fn sheet_op(&mut self, op: &SheetOp) -> Applied {
        match op {
            SheetOp::Set(state) => {
                let SheetOwner::Node(owner) = state.owner else {
                    return Applied::SKIPPED;
                };
                let Some(e) = self.nodes.get(owner) else {
                    return Applied::SKIPPED;
                };
                if self.is_link(owner) {
                    let (node, doc) = (e.node.clone(), e.doc);
                    let before = self.links.get(&owner).cloned().unwrap_or_default();
                    let mut after = before.clone();
                    after.inline = Some(self.inline_sheet(state, doc));
                    self.show_link(&node, &before, &after);
                    self.links.insert(owner, after);
                    self.sheets.insert(state.sheet, owner);
                    return Applied::ONE;
                }
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
                Applied::ONE
            }
            SheetOp::Insert { sheet, path, rule } => {
                let Some(e) = self.sheets.get(sheet).and_then(|o| self.nodes.get(*o)) else {
                    return Applied::SKIPPED;
                };
                let node = e.node.clone();
                let policy = &self.sheet_policy;
                let rule =
                    sanitize_css_imports(rule, &self.base_of(e.doc), &|u| policy.sheet_url(u));
                self.backend.insert_rule(&node, path, &rule);
                Applied::ONE
            }
            SheetOp::Delete { sheet, path } => {
                let Some(e) = self.sheets.get(sheet).and_then(|o| self.nodes.get(*o)) else {
                    return Applied::SKIPPED;
                };
                let node = e.node.clone();
                self.backend.delete_rule(&node, path);
                Applied::ONE
            }
            SheetOp::Remove { sheet } => {
                self.sheets.remove(sheet);
                Applied::ONE
            }
            SheetOp::Adopt { .. } => Applied::SKIPPED,
        }
    }
}

/// The data a text node gets given its parent: emptied inside script-like elements, sanitised CSS
/// inside `<style>`.
/// `@import`s of allowed origins go through the CSS proxy (`policy`), as linked sheets do.
pub(super) fn text_for(parent: &Kind, text: &str, base: &str, policy: &SheetPolicy) -> String {
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
