//! Write mode: the actions an agent asks the customer's browser to perform, and why one was
//! refused.

use crate::dom::{NodeId, ScrollPosition, ScrollTarget};
use serde::{Deserialize, Serialize};

/// Where the agent wants the customer's browser to go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum NavAction {
    /// `history.back()`.
    Back,
    /// `history.forward()`.
    Forward,
    /// `location.reload()`.
    Reload,
    /// Go to this URL (only within the instrumented site's origin).
    Url(String),
}

/// Bit flags for [`AgentAction::Key`] modifiers.
pub mod modifiers {
    /// Shift.
    pub const SHIFT: u8 = 1;
    /// Control.
    pub const CTRL: u8 = 2;
    /// Alt / Option.
    pub const ALT: u8 = 4;
    /// Meta / Command.
    pub const META: u8 = 8;
}

/// A write-mode action, targeted by node id (not coordinates) and performed on the customer side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum AgentAction {
    /// Click an element; `x`/`y` are offsets inside it.
    Click {
        /// Target.
        node: NodeId,
        /// X offset in the element.
        x: i32,
        /// Y offset in the element.
        y: i32,
    },
    /// Set the whole value of a text control (also IME-composed text).
    Input {
        /// Target.
        node: NodeId,
        /// New value.
        value: String,
    },
    /// A key press that is not plain text (Enter, Tab, arrows, Backspace …).
    Key {
        /// Target (focused element), if any.
        node: Option<NodeId>,
        /// `KeyboardEvent.key`.
        key: String,
        /// `KeyboardEvent.code`.
        code: String,
        /// [`modifiers`] bits.
        modifiers: u8,
    },
    /// Check or uncheck a checkbox or radio.
    Check {
        /// Target.
        node: NodeId,
        /// New state.
        checked: bool,
    },
    /// Choose options of a select.
    Select {
        /// Target.
        node: NodeId,
        /// Selected option indices.
        selected: Vec<u32>,
    },
    /// Focus an element.
    Focus {
        /// Target.
        node: NodeId,
    },
    /// Scroll the window or an element.
    Scroll(ScrollPosition),
    /// Navigate.
    Navigate(NavAction),
    /// Edit a `contenteditable` element (rich-text editor, comment box) as typing would: place
    /// the caret, then insert or delete through the page's own editing machinery, so the
    /// editor's `beforeinput`/`input` handlers run. Text controls use [`AgentAction::Input`].
    Edit {
        /// The element typed into (the editing host or an element inside it).
        node: NodeId,
        /// Where the agent put the caret, sent with the first edit after a click; `None`
        /// continues at the customer's current caret (where the previous edit left it).
        caret: Option<Caret>,
        /// What to do at the caret.
        op: EditOp,
    },
}

impl AgentAction {
    /// The node the action is aimed at: the element acted on, the focused element of a key
    /// press, the scrolled element (not the window); `None` for navigation. Refusals carry it
    /// so the agent page can point at what was refused.
    pub fn target(&self) -> Option<NodeId> {
        match self {
            AgentAction::Click { node, .. }
            | AgentAction::Input { node, .. }
            | AgentAction::Check { node, .. }
            | AgentAction::Select { node, .. }
            | AgentAction::Focus { node }
            | AgentAction::Edit { node, .. } => Some(*node),
            AgentAction::Key { node, .. } => *node,
            AgentAction::Scroll(pos) => match pos.target {
                ScrollTarget::Node(node) => Some(node),
                ScrollTarget::Window => None,
            },
            AgentAction::Navigate(_) => None,
        }
    }
}

/// A caret position in the customer's DOM, like a collapsed `Selection` (`node`, `offset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Caret {
    /// A text node (offset in UTF-16 code units) or an element (offset in child nodes).
    pub node: NodeId,
    /// The offset, as `Selection.collapse(node, offset)` takes it.
    pub offset: u32,
}

/// One editing step of [`AgentAction::Edit`], named after the `InputEvent.inputType` it becomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum EditOp {
    /// `insertText`: typed, pasted or IME-composed text (sent composed, once).
    Insert(String),
    /// `deleteContentBackward` (Backspace).
    DeleteBackward,
    /// `deleteContentForward` (Delete).
    DeleteForward,
    /// `insertParagraph` (Enter).
    Paragraph,
    /// `insertLineBreak` (Shift+Enter).
    LineBreak,
}

impl EditOp {
    /// The `InputEvent.inputType` this step is announced as in `beforeinput`.
    pub fn input_type(&self) -> &'static str {
        match self {
            EditOp::Insert(_) => "insertText",
            EditOp::DeleteBackward => "deleteContentBackward",
            EditOp::DeleteForward => "deleteContentForward",
            EditOp::Paragraph => "insertParagraph",
            EditOp::LineBreak => "insertLineBreak",
        }
    }
}

/// Why an agent action was not performed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum RefusalReason {
    /// The session is in pointer mode.
    NotInWriteMode,
    /// The element is restricted by the site's policy.
    Restricted,
    /// The target no longer exists.
    NoSuchNode,
    /// The URL is outside the instrumented site.
    OffOrigin,
    /// Write mode is disabled on this server.
    WriteModeDisabled,
    /// An [`AgentAction::Edit`] targeted an element that is not editable on the customer's page.
    NotEditable,
    /// The customer's page was not reached: it went away (reload, navigation, a connection that
    /// did not come back in time) before the action got there, so it was not performed. Sent
    /// only to agents on a sequenced link (older agent pages get `NoSuchNode`, which they know).
    Undelivered,
    /// The agent observes: another agent holds control (`crate::control`), so its actions, mode
    /// requests and hand-overs are not passed on.
    NotInControl,
}

/// Customer (or server) → agent: an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ActionRefused {
    /// The target, when the action had one.
    pub node: Option<NodeId>,
    /// Why.
    pub reason: RefusalReason,
}
