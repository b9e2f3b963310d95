//! The DOM operations the replica model drives ([`DomBackend`]), and the selection it shows.
//!
//! The browser implements them in `web::dom`, native tests in an in-memory double; the model
//! itself never touches a real DOM.

use cobrowse_protocol::{NodeId, ScriptAnimation, ScriptFont, TopLayerKind};

/// The DOM operations the replica needs. Every fallible operation reports failure instead of
/// panicking; the model then skips the node (and its subtree).
pub trait DomBackend {
    /// A node handle (cheap to clone).
    type Node: Clone;

    /// Empties the replica and returns its top document, in standards mode when the customer's
    /// page has a doctype (quirks mode otherwise, like the customer's).
    fn reset(&mut self, standards: bool) -> Option<Self::Node>;
    /// Creates an element: in the HTML namespace with `createElement(tag)`, which keeps the name
    /// whole (`x:script` is an unknown element), otherwise with `createElementNS(ns, tag)`, which
    /// splits a prefix off. See [`crate::sanitize::created_name`].
    fn create_element(&mut self, ns: &str, tag: &str) -> Option<Self::Node>;
    /// The `(namespaceURI, localName)` of an element as the DOM made it, which the replica
    /// checks against the name it vetted before the element goes anywhere.
    fn element_name(&self, el: &Self::Node) -> Option<(String, String)>;
    /// [`DomBackend::create_element`], keeping the element only when the DOM made it as
    /// `(ns, vetted)` (see [`DomBackend::element_name`]): the sanitiser's second wall. A backend
    /// that defers its DOM calls makes the same check where the element is really created, and
    /// leaves a refused element (and so its subtree) out of the document.
    fn create_vetted_element(&mut self, ns: &str, tag: &str, vetted: &str) -> Option<Self::Node> {
        let n = self.create_element(ns, tag)?;
        let made = self.element_name(&n);
        if made.as_ref().is_none_or(|(u, l)| u != ns || l != vetted) {
            crate::debug!("<{tag}> was made as {made:?}, not {vetted}");
            return None;
        }
        Some(n)
    }
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
    /// Puts `el` into the top layer as `kind` (`showModal()`, `showPopover()`) or, with `show`
    /// false, takes it out, leaving its `open` attribute as it was. False when refused.
    fn top_layer(&mut self, el: &Self::Node, kind: TopLayerKind, show: bool) -> bool;
    /// Plays animation `key` (sanitised) on `el`, at its time, state and rate. False when refused.
    fn animate(&mut self, key: u32, el: &Self::Node, anim: &ScriptAnimation) -> bool;
    /// Brings playing animation `key` to `anim`'s state, time and rate.
    fn sync_animation(&mut self, key: u32, anim: &ScriptAnimation);
    /// Cancels animation `key` (nothing when unknown).
    fn cancel_animation(&mut self, key: u32);
    /// Adds face `face` (sanitised) to document `doc`'s fonts as `key`. False when refused.
    fn add_font(&mut self, key: u32, doc: &Self::Node, face: &ScriptFont) -> bool;
    /// Removes face `key` from its document's fonts (nothing when unknown).
    fn remove_font(&mut self, key: u32);
    /// `node` left the model (removed, or its subtree was): a backend keeping its own handle
    /// table frees the entry.
    fn forget(&mut self, _node: &Self::Node) {}
    /// Performs the operations a deferring backend recorded. The model calls it at the end of
    /// each public entry point, so the DOM is current whenever control returns to the page.
    fn flush(&mut self) {}
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
