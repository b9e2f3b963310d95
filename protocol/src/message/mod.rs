//! Every message the product exchanges.
//!
//! Direction is by convention (the relay enforces it by role): the customer sends page state
//! (snapshot, mutations, form, scroll, viewport, sheets, navigation, media, canvas, selection,
//! pointer, pseudo-state); the agent sends pointer, clicks, mode requests and write-mode actions;
//! the server sends welcome, session events, controller events, snapshot requests and errors.
//!
//! Tags are fixed forever once released; see [`Message::tag`]. The payload types live by topic:
//! [`session`] (handshake, lifecycle, modes, errors), [`page`] (page state besides the DOM),
//! [`action`] (write mode), [`paint`] (what the page paints that its DOM does not say),
//! [`link`] (sequence numbers and acknowledgements), [`render`] (the agent's render latency,
//! for metrics), [`control`] (several agents: who is there, who holds control) and [`ink`] (the
//! agent's annotations).

pub mod action;
pub mod control;
pub mod ink;
pub mod link;
pub mod page;
pub mod paint;
pub mod render;
pub mod session;

pub use action::*;
pub use control::*;
pub use ink::*;
pub use link::*;
pub use page::*;
pub use paint::*;
pub use render::*;
pub use session::*;

use crate::dom::{FormValue, MutationBatch, ScrollPosition};

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
    /// Customer → agents: one topic of what the page paints that its DOM does not say.
    Paint(Paint),
    /// Any party on a sequenced link: one frame with its sequence number.
    Seq(Sequenced),
    /// Any party on a sequenced link: every sequenced frame up to this number was applied.
    Ack(u64),
    /// Agent → server: render latencies of its replica, for metrics only.
    Render(RenderReport),
    /// Agent → customer and the other agents: the next points of an annotation stroke.
    Ink(Ink),
    /// Server → every party: the agents in the session and who holds control.
    Roster(Roster),
    /// Agent ↔ server: asking for and handing over control between agents.
    Control(ControlChange),
    /// Client → server, to a server whose [`Welcome::batch`] says it takes them: complete
    /// frames sent as one WebSocket message, applied in order as if each had come alone. A
    /// page's task often yields several frames (a keystroke: its form value, selection and the
    /// framework's DOM update), and every WebSocket message costs the page's main thread far
    /// more than its bytes. The frames stay opaque here: the relay decodes each on its own.
    Batch(Vec<Vec<u8>>),
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
    pub const PAINT: u32 = 26;
    pub const SEQ: u32 = 27;
    pub const ACK: u32 = 28;
    pub const RENDER: u32 = 29;
    pub const ROSTER: u32 = 30;
    pub const CONTROL: u32 = 31;
    pub const INK: u32 = 34;
    pub const BATCH: u32 = 35;
    /// The highest tag this build knows; anything above decodes as `Unknown` (32 and 33 are
    /// unassigned and decode as `Unknown` too: see [`super::is_known_tag`]).
    pub const LAST: u32 = BATCH;

    /// A set of tags, one bit per tag (tags above 63 are never members): what a party decodes.
    pub type TagSet = u64;

    /// The set of the given tags.
    pub const fn set_of(tags: &[u32]) -> TagSet {
        let mut set = 0;
        let mut i = 0;
        while i < tags.len() {
            assert!(tags[i] < 64, "a TagSet holds tags 0..=63");
            set |= 1 << tags[i];
            i += 1;
        }
        set
    }

    /// True when `tag` is in `set`.
    pub const fn contains(set: TagSet, tag: u32) -> bool {
        tag < 64 && set & (1 << tag) != 0
    }

    /// Every tag: a party that decodes whatever it is sent (the server, tools).
    pub const ALL: TagSet = u64::MAX;

    /// What a customer's client can be sent: everything but the page state it sends itself and
    /// the frames only clients send. Its decoder leaves the rest as `Unknown` (ignored, as from
    /// a newer server), so the customer's wasm carries no decoder for snapshots, mutations,
    /// sheets, paint or canvas frames, which are the bulk of the codec.
    pub const CUSTOMER_RECEIVES: TagSet = !set_of(&[
        HELLO, SNAPSHOT, MUTATIONS, FORM, SCROLL, VIEWPORT, SHEET, NAVIGATION, LEAVE, MEDIA,
        CANVAS, SELECTION, PAINT, RENDER, BATCH,
    ]);
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
            Message::Paint(_) => PAINT,
            Message::Seq(_) => SEQ,
            Message::Ack(_) => ACK,
            Message::Render(_) => RENDER,
            Message::Ink(_) => INK,
            Message::Roster(_) => ROSTER,
            Message::Control(_) => CONTROL,
            Message::Batch(_) => BATCH,
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

    /// The message kind's name (`Snapshot`, `Pointer`, …), for logs and refusal reasons; an
    /// unknown tag is named with its number.
    pub fn kind_name(&self) -> String {
        match self {
            Message::Unknown { tag, .. } => format!("unknown message (tag {tag})"),
            other => {
                let dbg = format!("{other:?}");
                let end = dbg.find(['(', ' ', '{']).unwrap_or(dbg.len());
                dbg[..end].to_string()
            }
        }
    }

    /// True for page-state messages that a late-joining agent needs to rebuild the current page
    /// (the relay keeps these since the last snapshot). Pointers, clicks and ink are transient.
    pub fn is_page_state(&self) -> bool {
        is_page_state_tag(self.tag())
    }
}

/// True for the tags this build decodes into a message of their own (not `Unknown`).
pub fn is_known_tag(tag: u32) -> bool {
    matches!(tag, 1..=tags::CONTROL | tags::INK | tags::BATCH)
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
            | PAINT
    )
}
