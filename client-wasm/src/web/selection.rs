//! The customer's text selection, read from the DOM and expressed in wire ids and offsets.
//!
//! Two sources: the selection inside a focused `<input>`/`<textarea>` (`selectionStart`/`End`,
//! which `getSelection()` does not describe), else the document's `getSelection()` ranges — the
//! focused same-origin iframe's document's when focus is inside one (each document has its own
//! selection; the recorder listens to `selectionchange` in every captured frame document). Only
//! non-collapsed selections are sent: a caret is not selected text. A boundary in a node the
//! agent does not have (our UI, hidden content, script text) drops its range. Offsets inside
//! masked text or masked values are converted by [`crate::selection::wire_offset`], so they say
//! nothing the same-length placeholder does not already show.
//!
//! The recorder reads the selection once per animation frame after `selectionchange`, and sends
//! it only when it changed.

use crate::capture::{DomTree, masks_text_under};
use crate::mask::MaskPolicy;
use crate::mirror::IdMirror;
use crate::selection::wire_offset;
use crate::web::dom::{WeakKeys, WebDom, element, html_element, iframe_document};
use cobrowse_protocol::SelectionRange;
use wasm_bindgen::JsCast;
use web_sys::{Document, HtmlInputElement, HtmlTextAreaElement, Node};

/// What the recorder needs to translate DOM positions.
pub struct Ctx<'a> {
    /// The captured document.
    pub dom: &'a WebDom,
    /// Node ↔ id.
    pub mirror: &'a IdMirror<Node, WeakKeys>,
    /// Masking policy.
    pub policy: &'a dyn MaskPolicy,
}

impl Ctx<'_> {
    /// The current selection as wire ranges (empty: nothing selected, or nothing the agent may
    /// see).
    pub fn current(&self) -> Vec<SelectionRange> {
        self.in_document(self.dom.document(), 0)
    }

    /// The selection that counts in `doc`: a focused text control's, else — when focus is in a
    /// captured same-origin iframe — that frame's, else `doc`'s own ranges.
    fn in_document(&self, doc: &Document, depth: u32) -> Vec<SelectionRange> {
        if let Some(active) = doc.active_element() {
            let active: &Node = active.unchecked_ref();
            if let Some(r) = self.control_range(active) {
                return r.into_iter().collect();
            }
            if depth < 8
                && self.mirror.id(active).is_some()
                && let Some(inner) = iframe_document(active)
            {
                return self.in_document(&inner, depth + 1);
            }
        }
        let Ok(Some(sel)) = doc.get_selection() else {
            return Vec::new();
        };
        (0..sel.range_count())
            .filter_map(|i| sel.get_range_at(i).ok())
            .filter(|r| !r.collapsed())
            .filter_map(|r| {
                let (sn, so) = self.boundary(&r.start_container().ok()?, r.start_offset().ok()?)?;
                let (en, eo) = self.boundary(&r.end_container().ok()?, r.end_offset().ok()?)?;
                Some(SelectionRange {
                    start_node: sn,
                    start_offset: so,
                    end_node: en,
                    end_offset: eo,
                })
            })
            .collect()
    }

    /// `Some(range or none)` when `node` is a text control (its selection is the one that
    /// counts, even when empty); `None` for other elements.
    fn control_range(&self, node: &Node) -> Option<Option<SelectionRange>> {
        let el = html_element(node)?;
        let (value, start, end) = match el.local_name().as_str() {
            "input" => {
                let i = el.unchecked_ref::<HtmlInputElement>();
                // Types without a text selection (checkbox, email, number…) answer null.
                let start = i.selection_start().ok().flatten();
                let end = i.selection_end().ok().flatten();
                (i.value(), start, end)
            }
            "textarea" => {
                let t = el.unchecked_ref::<HtmlTextAreaElement>();
                (
                    t.value(),
                    t.selection_start().ok().flatten(),
                    t.selection_end().ok().flatten(),
                )
            }
            _ => return None,
        };
        let (Some(start), Some(end)) = (start, end) else {
            return Some(None);
        };
        let Some(id) = self.mirror.id(node) else {
            return Some(None);
        };
        if start == end || element(node).is_some_and(crate::web::restrict::is_hidden) {
            return Some(None);
        }
        let masked = self.dom.describe(node).is_some_and(|raw| {
            crate::capture::facts_of(self.dom, node, &raw)
                .is_some_and(|f| crate::mask::value_masked(self.policy, &f))
        });
        Some(Some(SelectionRange {
            start_node: id,
            start_offset: wire_offset(&value, start, masked),
            end_node: id,
            end_offset: wire_offset(&value, end, masked),
        }))
    }

    /// A DOM boundary `(container, offset)` as `(id, offset)` in the agent's tree.
    fn boundary(&self, node: &Node, offset: u32) -> Option<(u32, u32)> {
        let id = self.mirror.id(node)?;
        match node.node_type() {
            Node::TEXT_NODE | Node::CDATA_SECTION_NODE => {
                let text = node.node_value().unwrap_or_default();
                let parent = node.parent_node()?;
                let masked = self
                    .dom
                    .describe(&parent)
                    .is_some_and(|raw| masks_text_under(self.dom, &parent, &raw, self.policy));
                Some((id, wire_offset(&text, offset, masked)))
            }
            Node::COMMENT_NODE | Node::PROCESSING_INSTRUCTION_NODE => None,
            _ => {
                // A child index: count only the children the agent has (ours and hidden ones are
                // not captured).
                let children = node.child_nodes();
                let before = (0..offset.min(children.length()))
                    .filter_map(|i| children.item(i))
                    .filter(|c| self.mirror.id(c).is_some())
                    .count() as u32;
                Some((id, before))
            }
        }
    }
}
