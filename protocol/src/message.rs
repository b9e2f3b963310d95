//! Every message the product exchanges.
//!
//! Direction is by convention (the relay enforces it by role): the customer sends page state
//! (snapshot, mutations, form, scroll, viewport, sheets, navigation, media, canvas, selection,
//! pointer, pseudo-state); the agent sends pointer, clicks, mode requests and write-mode actions;
//! the server sends welcome, session events, controller events, snapshot requests and errors.
//!
//! Tags are fixed forever once released; see [`Message::tag`].

use crate::dom::{FormValue, MutationBatch, NodeId, ScrollPosition, Snapshot};
use serde::{Deserialize, Serialize};

/// Who a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Role {
    /// The person whose browser runs the page.
    Customer,
    /// A support agent viewing the replica.
    Agent,
    /// An agent-desktop integration that follows and ends sessions without viewing.
    Controller,
}

/// The two parties that have a pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Party {
    /// The customer.
    Customer,
    /// The agent.
    Agent,
}

/// First frame of every connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Hello {
    /// Role the connection asks for.
    pub role: Role,
    /// The 9-digit session token.
    pub token: String,
    /// Agent auth token, when the server requires one for agents and controllers.
    pub auth: Option<String>,
    /// Agent identity (for `agentSessionsLimit` and history); free text from the agent desktop.
    pub agent_id: Option<String>,
    /// On reconnect: the last server sequence number this client applied, if any.
    pub resume_from: Option<u64>,
    /// Client software and version, for logs.
    pub client: String,
}

/// Session state as users see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum SessionState {
    /// Created, waiting for an agent.
    Idle,
    /// An agent has joined.
    Active,
    /// Over; cannot be re-joined.
    Ended,
}

/// Interaction mode of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Mode {
    /// The agent can point; nothing reaches the page.
    Pointer,
    /// The customer approved agent actions.
    Write,
}

/// Server's answer to a valid [`Hello`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Welcome {
    /// The role granted.
    pub role: Role,
    /// Session token.
    pub token: String,
    /// History id (UUID) of the session.
    pub history_id: String,
    /// Current state.
    pub state: SessionState,
    /// Current mode.
    pub mode: Mode,
    /// Whether write mode may be requested at all.
    pub write_mode_allowed: bool,
    /// Number of agents connected now.
    pub agents: u32,
    /// Server clock, milliseconds since the Unix epoch.
    pub server_time_ms: u64,
    /// Name of the node that owns the session.
    pub node: String,
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum EndReason {
    /// The customer pressed exit (or the page called `stop()`).
    CustomerExit,
    /// The agent left.
    AgentExit,
    /// A controller ended it.
    ControllerStop,
    /// `POST …/stop` on the REST API.
    ApiStop,
    /// No agent joined within `inactivityDuration`.
    InactivityTimeout,
    /// A party lost its connection and did not return within `maxInterval`.
    ConnectionLost,
    /// The server shut down.
    ServerShutdown,
    /// Anything else, with a short explanation.
    Other(String),
}

/// Lifecycle notices sent to the parties of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum SessionEvent {
    /// An agent joined; the session is active.
    AgentJoined {
        /// The agent's id, if it gave one.
        agent_id: Option<String>,
        /// Agents connected now.
        agents: u32,
    },
    /// An agent disconnected (it may return within `maxInterval`).
    AgentLeft {
        /// The agent's id, if it gave one.
        agent_id: Option<String>,
        /// Agents connected now.
        agents: u32,
    },
    /// The customer's connection dropped; waiting for it to return.
    CustomerDisconnected,
    /// The customer is back (after a reload, navigation or network drop).
    CustomerReconnected,
    /// The session ended; the connection closes after this frame.
    Ended(EndReason),
    /// The agent (identified by `agent_id`) is at its `agentSessionsLimit`.
    AgentBusy,
    /// The server is going away (shutdown); clients should reconnect elsewhere.
    ServerGoingAway,
    /// Another node now owns the session (cluster failover); its public URL.
    OwnerChanged {
        /// Public URL of the new owner node.
        server_url: String,
    },
}

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

/// A click, drawn as a ring on both sides (and, in write mode, performed via [`AgentAction`]).
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

/// Mode negotiation. Agents send `Request`; customers answer `Granted`/`Denied`; either side or the
/// server may send `Revoked`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ModeChange {
    /// The agent asks for write mode.
    Request,
    /// The customer approved: write mode is on.
    Granted,
    /// The customer declined.
    Denied,
    /// Back to pointer mode, and who decided.
    Revoked {
        /// Who returned to pointer mode.
        by: Party,
    },
}

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

/// Stable error codes (also used in REST error bodies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ErrorCode {
    /// A frame could not be decoded.
    BadFrame,
    /// A frame exceeded a limit.
    TooLarge,
    /// The first frame was not a valid `Hello`, or a message is not allowed for the role.
    ProtocolViolation,
    /// The frame's version is not supported.
    UnsupportedVersion,
    /// No live session has this token.
    UnknownSession,
    /// The session has ended.
    SessionEnded,
    /// Missing or wrong agent auth token.
    Unauthorized,
    /// The page's origin is not allowed.
    OriginRefused,
    /// Too many attempts from this address.
    RateLimited,
    /// The agent is at its session limit.
    AgentBusy,
    /// The session already has a customer connected.
    CustomerPresent,
    /// Something failed on the server.
    Internal,
}

/// An error report; the sender usually closes the connection after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ErrorFrame {
    /// Stable code.
    pub code: ErrorCode,
    /// Human-readable detail.
    pub message: String,
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

/// What a controller is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ControllerEventKind {
    /// The controller is attached to the session.
    Join,
    /// An agent joined; the session is active.
    Activated,
    /// The session ended.
    Deactivated,
}

/// A notification for agent-desktop controllers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ControllerEvent {
    /// What happened.
    pub kind: ControllerEventKind,
    /// Session token.
    pub token: String,
    /// History id.
    pub history_id: String,
    /// Session start, ms since the Unix epoch.
    pub started_at_ms: u64,
}

/// Every message. See the crate docs for the frame layout and [`Message::tag`] for tags.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Message {
    /// Client → server, first frame.
    Hello(Hello),
    /// Server → client, answer to `Hello`.
    Welcome(Welcome),
    /// Server → parties: lifecycle.
    Session(SessionEvent),
    /// Customer → agents: the full page.
    Snapshot(Box<Snapshot>),
    /// Customer → agents: DOM changes.
    Mutations(MutationBatch),
    /// Customer → agents: form control state.
    Form(Vec<FormValue>),
    /// Customer → agents: a scroll position.
    Scroll(ScrollPosition),
    /// Customer → agents: viewport size.
    Viewport(Viewport),
    /// Either party: pointer position.
    Pointer(Pointer),
    /// Either party: a click ring.
    Click(Click),
    /// Either party: hover/focus/active targets.
    Pseudo(PseudoState),
    /// Customer → agents: CSSOM change.
    Sheet(SheetOp),
    /// Customer → agents: the page URL changed.
    Navigation(Navigation),
    /// Mode negotiation.
    Mode(ModeChange),
    /// Agent → customer: a write-mode action.
    Action(AgentAction),
    /// Customer/server → agent: an action was refused.
    Refused(ActionRefused),
    /// Keep-alive probe with an opaque value echoed by `Pong`.
    Ping(u64),
    /// Keep-alive answer.
    Pong(u64),
    /// An error, usually followed by close.
    Error(ErrorFrame),
    /// Server → customer: send a fresh snapshot.
    RequestSnapshot,
    /// A party ends the session (exit button, `stop()`, controller end).
    Leave,
    /// Customer → agents: media playback state.
    Media(MediaState),
    /// Customer → agents: canvas pixels.
    Canvas(CanvasFrame),
    /// Customer → agents: text selection.
    Selection(Vec<SelectionRange>),
    /// Server → controllers.
    Controller(ControllerEvent),
    /// A message with a tag this build does not know; kept raw so it can be relayed or ignored.
    Unknown {
        /// Its tag.
        tag: u32,
        /// Its body, undecoded.
        body: Vec<u8>,
    },
}

/// Tag numbers, fixed once released.
pub mod tags {
    #![allow(missing_docs)] // The names say it; see the `Message` variants.
    pub const HELLO: u32 = 1;
    pub const WELCOME: u32 = 2;
    pub const SESSION: u32 = 3;
    pub const SNAPSHOT: u32 = 4;
    pub const MUTATIONS: u32 = 5;
    pub const FORM: u32 = 6;
    pub const SCROLL: u32 = 7;
    pub const VIEWPORT: u32 = 8;
    pub const POINTER: u32 = 9;
    pub const CLICK: u32 = 10;
    pub const PSEUDO: u32 = 11;
    pub const SHEET: u32 = 12;
    pub const NAVIGATION: u32 = 13;
    pub const MODE: u32 = 14;
    pub const ACTION: u32 = 15;
    pub const REFUSED: u32 = 16;
    pub const PING: u32 = 17;
    pub const PONG: u32 = 18;
    pub const ERROR: u32 = 19;
    pub const REQUEST_SNAPSHOT: u32 = 20;
    pub const LEAVE: u32 = 21;
    pub const MEDIA: u32 = 22;
    pub const CANVAS: u32 = 23;
    pub const SELECTION: u32 = 24;
    pub const CONTROLLER: u32 = 25;
}

impl Message {
    /// The frame tag of this message.
    pub fn tag(&self) -> u32 {
        use tags::*;
        match self {
            Message::Hello(_) => HELLO,
            Message::Welcome(_) => WELCOME,
            Message::Session(_) => SESSION,
            Message::Snapshot(_) => SNAPSHOT,
            Message::Mutations(_) => MUTATIONS,
            Message::Form(_) => FORM,
            Message::Scroll(_) => SCROLL,
            Message::Viewport(_) => VIEWPORT,
            Message::Pointer(_) => POINTER,
            Message::Click(_) => CLICK,
            Message::Pseudo(_) => PSEUDO,
            Message::Sheet(_) => SHEET,
            Message::Navigation(_) => NAVIGATION,
            Message::Mode(_) => MODE,
            Message::Action(_) => ACTION,
            Message::Refused(_) => REFUSED,
            Message::Ping(_) => PING,
            Message::Pong(_) => PONG,
            Message::Error(_) => ERROR,
            Message::RequestSnapshot => REQUEST_SNAPSHOT,
            Message::Leave => LEAVE,
            Message::Media(_) => MEDIA,
            Message::Canvas(_) => CANVAS,
            Message::Selection(_) => SELECTION,
            Message::Controller(_) => CONTROLLER,
            Message::Unknown { tag, .. } => *tag,
        }
    }

    /// The party a pointer, click or pseudo-state frame speaks for (`None` for other messages).
    /// The relay checks it against the sender's role, so nobody can draw the other's pointer.
    pub fn party(&self) -> Option<Party> {
        match self {
            Message::Pointer(p) => Some(p.party),
            Message::Click(c) => Some(c.party),
            Message::Pseudo(p) => Some(p.party),
            _ => None,
        }
    }

    /// True for page-state messages that a late-joining agent needs to rebuild the current page
    /// (the relay keeps these since the last snapshot). Pointers and clicks are transient.
    pub fn is_page_state(&self) -> bool {
        is_page_state_tag(self.tag())
    }
}

/// [`Message::is_page_state`] by tag, for code that has only peeked at a frame's tag.
pub fn is_page_state_tag(tag: u32) -> bool {
    use tags::*;
    matches!(
        tag,
        SNAPSHOT
            | MUTATIONS
            | FORM
            | SCROLL
            | VIEWPORT
            | SHEET
            | NAVIGATION
            | MEDIA
            | CANVAS
            | SELECTION
    )
}
