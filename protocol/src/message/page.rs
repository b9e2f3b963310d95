//! Page state the customer streams besides the DOM itself: viewport, pointers, clicks,
//! pseudo-states, stylesheets (CSSOM), navigation, media, canvas and text selection.

use super::session::Party;
use crate::dom::{FormValue, NodeId, NodeRecord, ScrollPosition};
use crate::names::NameTable;
use serde::{Deserialize, Serialize};

/// Customer viewport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Viewport {
    /// `innerWidth` in CSS pixels.
    pub width: u32,
    /// `innerHeight` in CSS pixels.
    pub height: u32,
    /// `devicePixelRatio` × 100 (integers keep frames comparable byte for byte).
    pub dpr_centi: u16,
}

/// A pointer position in CSS pixels relative to the viewport of the document it is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Pointer {
    /// Whose pointer.
    pub party: Party,
    /// Position, or `None` when the pointer left the window.
    pub pos: Option<(i32, i32)>,
    /// The iframe document it is over, or `None` for the top document.
    pub frame: Option<NodeId>,
}

/// A click, drawn as a ring on both sides (and, in write mode, performed via [`AgentAction`](super::AgentAction)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Click {
    /// Who clicked.
    pub party: Party,
    /// X in CSS pixels (top viewport).
    pub x: i32,
    /// Y in CSS pixels (top viewport).
    pub y: i32,
    /// The element clicked, when known.
    pub node: Option<NodeId>,
}

/// Which elements are hovered, focused or active for one party; the renderer maps these to the
/// rewritten pseudo-class selectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PseudoState {
    /// Whose state.
    pub party: Party,
    /// Innermost hovered element.
    pub hover: Option<NodeId>,
    /// Focused element.
    pub focus: Option<NodeId>,
    /// Whether focus should look keyboard-driven (`:focus-visible`).
    pub focus_visible: bool,
    /// Element being pressed (`:active`).
    pub active: Option<NodeId>,
}

/// Identifies a stylesheet for CSSOM updates.
pub type SheetId = u32;

/// Who owns a stylesheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum SheetOwner {
    /// The sheet of a `<style>` or `<link>` element.
    Node(NodeId),
    /// A constructed sheet (`new CSSStyleSheet()`), used through `adoptedStyleSheets`.
    Constructed,
}

/// A stylesheet's full rule list as the CSSOM has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SheetState {
    /// Id used by later [`SheetOp`]s.
    pub sheet: SheetId,
    /// Owner.
    pub owner: SheetOwner,
    /// `cssText` of each top-level rule, in order.
    pub rules: Vec<String>,
    /// Base URL for relative `url()`s in the rules.
    pub base_url: Option<String>,
    /// `sheet.disabled`.
    pub disabled: bool,
}

/// A CSSOM change made by script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum SheetOp {
    /// A sheet's whole content (new sheet, `replaceSync`, or a sheet read after load).
    Set(SheetState),
    /// `insertRule(rule, index)`; `path` leads through grouping rules (`@media`) to the index.
    Insert {
        /// Sheet.
        sheet: SheetId,
        /// Index path.
        path: Vec<u32>,
        /// Rule text.
        rule: String,
    },
    /// `deleteRule(index)` at `path`.
    Delete {
        /// Sheet.
        sheet: SheetId,
        /// Index path.
        path: Vec<u32>,
    },
    /// `adoptedStyleSheets` of a document or shadow root changed.
    Adopt {
        /// The document or shadow root node.
        target: NodeId,
        /// The adopted sheets, in order.
        sheets: Vec<SheetId>,
    },
    /// The sheet is gone.
    Remove {
        /// Sheet.
        sheet: SheetId,
    },
}

/// How the customer reached the current URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum NavKind {
    /// A full page load (a snapshot follows).
    Load,
    /// `history.pushState`.
    Push,
    /// `history.replaceState`.
    Replace,
    /// Only the fragment changed.
    Hash,
    /// Back or forward within the session history.
    Traverse,
}

/// The customer is now at `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Navigation {
    /// Full URL.
    pub url: String,
    /// `document.title`.
    pub title: String,
    /// How.
    pub kind: NavKind,
}

/// `<video>` / `<audio>` playback state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct MediaState {
    /// The media element.
    pub node: NodeId,
    /// `currentTime` in milliseconds.
    pub time_ms: u64,
    /// `paused`.
    pub paused: bool,
    /// `muted`.
    pub muted: bool,
    /// `playbackRate` × 100.
    pub rate_centi: u16,
}

/// A `<canvas>`'s pixels as an image, sent at a capped rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct CanvasFrame {
    /// The canvas element.
    pub node: NodeId,
    /// Image MIME type (`image/webp`, `image/png`).
    pub mime: String,
    /// Encoded image.
    pub data: Vec<u8>,
}

/// One selected range, by node id and offset. Offsets are the DOM's: UTF-16 units in a text
/// node, child indexes (among captured children) in an element. When both ends name the same
/// `<input>`/`<textarea>`, the offsets are its `selectionStart`/`selectionEnd` in its value.
/// Inside masked text or values they count placeholder characters (the customer converts them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SelectionRange {
    /// Start container.
    pub start_node: NodeId,
    /// Start offset.
    pub start_offset: u32,
    /// End container.
    pub end_node: NodeId,
    /// End offset.
    pub end_offset: u32,
}

/// The full state of the customer's page: enough to build the replica from nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Snapshot {
    /// Names used by `nodes` beyond the static dictionary.
    pub names: NameTable,
    /// Id of `nodes[0]`; the others follow sequentially.
    pub first_id: NodeId,
    /// The page as a flat pre-order tree; `nodes[0]` is the top [`NodeData::Document`](crate::NodeData::Document).
    pub nodes: Vec<NodeRecord>,
    /// Form control state.
    pub form: Vec<FormValue>,
    /// Window and element scroll positions (only non-zero ones).
    pub scroll: Vec<ScrollPosition>,
    /// Customer viewport.
    pub viewport: Viewport,
    /// CSSOM state that the markup does not show (script-inserted rules, adopted sheets).
    pub sheets: Vec<SheetState>,
}
