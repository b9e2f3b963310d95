//! The replica model: the order page state is applied in, over any DOM.
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
//! * Each public entry point ends with [`DomBackend::flush`]: a backend may defer its DOM calls
//!   within one (the browser's runs a whole batch in one call into JS), never beyond.
//!
//! Files: this one holds the public entry points; `build` creates, moves and changes nodes;
//! `resources` decides what loads (base URLs, frames, stylesheet links, sheets); `paint` what the
//! page paints beyond its DOM (top layer, script animations, FontFace faces); `backend` the DOM
//! operations ([`DomBackend`], [`Selected`]). The id → parent/children bookkeeping is
//! [`cobrowse_protocol::IdTree`], the same tree model the customer's client keeps.

mod backend;
mod build;
mod paint;
mod resources;

#[cfg(test)]
mod tests;

pub use backend::{DomBackend, Selected};

use crate::debug;
use crate::frames::FramePolicy;
use crate::sanitize::Rendered;
use crate::sheets::SheetPolicy;
use cobrowse_protocol::{
    FormValue, IdTree, Insert, MutationBatch, Namespace, NodeData, NodeId, NodeRecord,
    ScrollPosition, ScrollTarget, SelectionRange, SheetOp, SheetOwner, SheetState, Snapshot,
    walk_tree,
};
use std::collections::HashMap;

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

/// What the tree holds per node (its place in the tree is [`IdTree`]'s).
#[derive(Debug, Clone)]
struct Entry<N> {
    node: N,
    kind: Kind,
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

    /// One operation performed.
    const ONE: Applied = Applied {
        applied: 1,
        ignored: 0,
    };

    /// One operation skipped.
    const SKIPPED: Applied = Applied {
        applied: 0,
        ignored: 1,
    };
}

/// The replica of one customer page.
pub struct Replica<B: DomBackend> {
    backend: B,
    nodes: IdTree<Entry<B::Node>>,
    /// The top document's id, once a snapshot arrived.
    root: Option<NodeId>,
    /// Sheets owned by elements, by sheet id.
    sheets: HashMap<u32, NodeId>,
    /// Which third-party frames are loaded by URL ([`crate::frames`]).
    frame_policy: FramePolicy,
    /// `<iframe>`/`<frame>` elements with an http(s) `src`: the resolved URL, and whether the
    /// replica loaded it (a `src` is only ever set on the replica's frame by `sync_frame`).
    frame_srcs: HashMap<NodeId, (String, bool)>,
    /// Which cross-origin stylesheets load through the CSS proxy ([`crate::sheets`]).
    sheet_policy: SheetPolicy,
    /// HTML `<link>` elements: their sanitised direct `href`, whether `rel` says stylesheet and
    /// the customer's rules of the sheet, so the shown `href` (the rules, proxied or direct)
    /// follows changes of any of them and of the policy.
    links: HashMap<NodeId, LinkState>,
    /// Top layer, script animations and faces as shown (`paint`).
    painted: paint::Painted,
    /// A snapshot's sheets of elements, by owner, while its nodes are built: a `<link>` is
    /// created already showing the rules the customer sent, never loading its URL first.
    staged_sheets: HashMap<NodeId, SheetState>,
}

/// What decides a `<link>`'s shown `href` and `integrity`.
#[derive(Debug, Clone, Default)]
struct LinkState {
    /// The sanitised direct `href`.
    href: Option<String>,
    /// Whether `rel` says stylesheet.
    stylesheet: bool,
    /// The customer's rules of its sheet, as a `data:text/css` URL (`crate::sheets`).
    inline: Option<String>,
    /// The customer's `integrity` (it holds for the URL's bytes, never for the rules' text).
    integrity: Option<String>,
}

fn is_html(ns: &Namespace) -> bool {
    matches!(ns, Namespace::Html)
}

impl<B: DomBackend> Replica<B> {
    /// An empty replica over `backend`.
    pub fn new(backend: B) -> Self {
        Replica {
            backend,
            nodes: IdTree::new(),
            root: None,
            sheets: HashMap::new(),
            frame_policy: FramePolicy::default(),
            frame_srcs: HashMap::new(),
            sheet_policy: SheetPolicy::default(),
            links: HashMap::new(),
            painted: paint::Painted::default(),
            staged_sheets: HashMap::new(),
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
        self.nodes.get(id).map(|e| &e.node)
    }

    /// The top document's id, once a snapshot arrived.
    pub fn root(&self) -> Option<NodeId> {
        self.root
    }

    /// The replica's children of `id` in document order (nodes the replica injects itself, such
    /// as its `<base>`, have no id and are not listed).
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        self.nodes.children(id)
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
        match &self.nodes.get(self.root?)?.kind {
            Kind::Document { url, .. } => Some(url),
            _ => None,
        }
    }

    /// The iframe element that holds document `doc`, for mapping iframe pointer positions.
    pub fn frame_of(&self, doc: NodeId) -> Option<&B::Node> {
        let parent = self.nodes.parent(doc)?;
        self.nodes.get(parent).map(|p| &p.node)
    }

    /// Replaces the whole replica with `snap` (tree, form state, sheets, scroll).
    pub fn apply_snapshot(&mut self, snap: &Snapshot) -> Applied {
        let stats = self.build_snapshot(snap);
        self.backend.flush();
        stats
    }

    fn build_snapshot(&mut self, snap: &Snapshot) -> Applied {
        let mut stats = Applied::default();
        self.forget_paint();
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
        self.staged_sheets = snap
            .sheets
            .iter()
            .filter_map(|s| match s.owner {
                SheetOwner::Node(owner) => Some((owner, s.clone())),
                SheetOwner::Constructed => None,
            })
            .collect();
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
                doc: root,
            },
            None,
            None,
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
        // Link sheets were shown as their nodes were built; the others are applied now.
        let staged = std::mem::take(&mut self.staged_sheets);
        for s in &snap.sheets {
            let consumed = matches!(s.owner, SheetOwner::Node(o) if !staged.contains_key(&o));
            if consumed {
                stats.applied += 1;
            } else {
                stats.add(self.apply_sheet(&SheetOp::Set(s.clone())));
            }
        }
        for s in &snap.scroll {
            stats.add(self.apply_scroll(s));
        }
        stats
    }

    /// Applies one mutation batch in its documented order.
    pub fn apply_mutations(&mut self, batch: &MutationBatch) -> Applied {
        let mut stats = Applied::default();
        for &id in &batch.removes {
            if Some(id) == self.root || !self.nodes.contains(id) {
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
        self.backend.flush();
        if stats.applied > 0 {
            self.backend.retry_scrolls();
        }
        stats
    }

    /// Applies form control state.
    pub fn apply_form(&mut self, values: &[FormValue]) -> Applied {
        let mut stats = Applied::default();
        for v in values {
            match self.nodes.get(v.node) {
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
        self.backend.flush();
        stats
    }

    /// Shows the customer's selection (`Selection` message): the first range the replica can
    /// resolve (browsers show one). A range whose ends lie in different documents, or in nodes
    /// the replica does not have, shows nothing rather than something wrong.
    pub fn apply_selection(&mut self, ranges: &[SelectionRange]) -> Applied {
        let Some(r) = ranges.first() else {
            self.backend.select(Selected::None);
            return Applied::ONE;
        };
        let (Some(s), Some(e)) = (self.nodes.get(r.start_node), self.nodes.get(r.end_node)) else {
            debug!("selection {r:?}: unknown node; cleared");
            self.backend.select(Selected::None);
            return Applied::SKIPPED;
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
                Applied::ONE
            }
            ScrollTarget::Node(id) => match self.nodes.get(id) {
                Some(e) if !matches!(e.kind, Kind::Text | Kind::Comment | Kind::Doctype) => {
                    let node = e.node.clone();
                    self.backend.scroll(Some(&node), s.x, s.y);
                    Applied::ONE
                }
                _ => {
                    debug!("scroll of {id}: unknown; ignored");
                    Applied::SKIPPED
                }
            },
        }
    }
}
