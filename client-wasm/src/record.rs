//! One MutationObserver record as plain data: what the browser side hands the coalescer, and
//! what the native test DOM logs for it.

/// One MutationObserver record, reduced to plain data.
#[derive(Debug, Clone)]
pub enum Record<N> {
    /// `childList`.
    ChildList {
        /// Nodes in `addedNodes`.
        added: Vec<N>,
        /// Nodes in `removedNodes`.
        removed: Vec<N>,
    },
    /// `attributes` (observed with `attributeOldValue`).
    Attribute {
        /// The element.
        target: N,
        /// Attribute name.
        name: String,
        /// Value before this change.
        old: Option<String>,
    },
    /// `characterData` (observed with `characterDataOldValue`).
    Text {
        /// The text or comment node.
        target: N,
        /// Data before this change.
        old: Option<String>,
    },
}
