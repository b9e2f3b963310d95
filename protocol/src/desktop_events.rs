//! The integration API's events (part of the REST contract, re-exported by [`crate::rest`]): what
//! an agent desktop hears on its event streams and webhooks, how a stream is opened without an
//! `Authorization` header (tickets), and the headers a webhook delivery carries.

use crate::codes::{Code, as_code};
use crate::message::{Mode, SessionState};
use serde::{Deserialize, Serialize};

/// Path prefix of an agent's event stream: `{LIVE_AGENTS_PATH}/{agentId}/events`.
pub const LIVE_AGENTS_PATH: &str = "/cobrowse/rest/live/agents";
/// Path of `POST` for an event-stream ticket ([`EventTicket`]).
pub const EVENT_TICKETS_PATH: &str = "/cobrowse/rest/live/event-tickets";
/// The query parameter that carries an [`EventTicket`] on an event stream's URL.
pub const EVENT_TICKET_PARAM: &str = "ticket";
/// Webhook request header with the delivery's signature: `t=<unix seconds>,v1=<hex>`, where
/// `<hex>` is HMAC-SHA256 with the configured secret over `<t>.<body>` (the time is signed too,
/// so a receiver that refuses old `t` refuses replays).
pub const WEBHOOK_SIGNATURE_HEADER: &str = "Cobrowse-Signature";
/// Webhook request header with the event's [`DesktopEventKind`] code.
pub const WEBHOOK_EVENT_HEADER: &str = "Cobrowse-Event";
/// Webhook request header with the delivery's id (a UUID, the same on every retry), so a
/// receiver can drop a duplicate.
pub const WEBHOOK_DELIVERY_HEADER: &str = "Cobrowse-Delivery";

/// What a [`DesktopEvent`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DesktopEventKind {
    /// The first event of a session's stream: the session as it is when the stream attaches.
    State,
    /// An agent joined holding control (`agentId` is that agent; `agents` counts the agents now
    /// connected).
    Join,
    /// The session became active: its first agent joined (`activatedAt` is that moment).
    Activated,
    /// The last agent left (`agents` is 0); the session waits for an agent to come back.
    Deactivated,
    /// Write mode was granted or ended (`mode`).
    Mode,
    /// The session ended (`endReason`); nothing follows on a session's stream.
    Ended,
    /// An agent joined as an observer: it watches, another agent holds control (`agentId` is the
    /// observer; `agents` counts every agent connected).
    Observe,
    /// Control passed to another agent (`agentId` is the agent holding it now); the session is
    /// back in pointer mode until that agent's write-mode request is granted.
    Control,
}

impl DesktopEventKind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [DesktopEventKind] = &[
        DesktopEventKind::State,
        DesktopEventKind::Join,
        DesktopEventKind::Activated,
        DesktopEventKind::Deactivated,
        DesktopEventKind::Mode,
        DesktopEventKind::Ended,
        DesktopEventKind::Observe,
        DesktopEventKind::Control,
    ];
}

impl Code for DesktopEventKind {
    fn code(&self) -> &'static str {
        match self {
            DesktopEventKind::State => "state",
            DesktopEventKind::Join => "join",
            DesktopEventKind::Activated => "activated",
            DesktopEventKind::Deactivated => "deactivated",
            DesktopEventKind::Mode => "mode",
            DesktopEventKind::Ended => "ended",
            DesktopEventKind::Observe => "observe",
            DesktopEventKind::Control => "control",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        DesktopEventKind::ALL
            .iter()
            .copied()
            .find(|k| k.code() == code)
    }
}

/// One session event for agent desktops: a `data:` line of the event streams
/// (`GET live/sessions/{token}/events`, `GET live/agents/{agentId}/events`), a webhook's body,
/// and what the agent page posts to its embedding window (`postMessage`, as
/// `{"cobrowse": <this>}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DesktopEvent {
    /// What happened.
    #[serde(rename = "type", with = "as_code")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::desktop_event_kind))]
    pub kind: DesktopEventKind,
    /// The 9-digit session number.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9]{9}$"))]
    pub token: String,
    /// The history record's id: `GET history/sessions/{historyId}` after the end.
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub history_id: String,
    /// The session's state after the event.
    #[serde(with = "as_code")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::session_state))]
    pub state: SessionState,
    /// Creation time.
    pub created_at: u64,
    /// When the first agent joined (`null` while idle): the activation, not the creation.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub activated_at: Option<u64>,
    /// The agent identity the event is about: the joining agent for `join` and `observe`, the
    /// agent now holding control for `control`, else the session's first agent (a JWT's `sub`, else the id the agent page declared); `null` when unknown.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub agent_id: Option<String>,
    /// Agents connected after the event.
    pub agents: u32,
    /// `pointer` or `write`, after the event.
    #[serde(with = "as_code")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::mode))]
    pub mode: Mode,
    /// Why the session ended (an end reason's code), for `ended`; else `null`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub end_reason: Option<String>,
    /// When the server saw the event happen.
    pub at: u64,
}

/// `200` answer of `POST /cobrowse/rest/live/event-tickets`: a short-lived, single-use ticket
/// that opens one event stream as `?ticket=…`, for clients that cannot send an `Authorization`
/// header (the browser's `EventSource`). It speaks for the credential that asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventTicket {
    /// The ticket (URL-safe).
    pub ticket: String,
    /// After this time the ticket opens nothing.
    pub expires_at: u64,
}
