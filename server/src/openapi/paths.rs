//! The operations of the OpenAPI document, one `#[utoipa::path]` per route: what succeeds, with
//! which types, parameters and credentials. The error answers, the `HEAD` twins of the documents
//! and the security schemes are added from tables in `super`, so their statuses come from
//! `ApiError::status` rather than being written twice.
//!
//! The functions are never called: they only carry their operation's description.
#![allow(dead_code)]

use cobrowse_protocol::policy::DomPolicy;
use cobrowse_protocol::recording::RecordingInfo;
use cobrowse_protocol::rest::{
    CreateSession, CreatedSession, DesktopEvent, EventTicket, Health, HistoryPage, LiveSessionList,
    SessionHistory, SessionLookup, Stopped, UiDefaults,
};

/// Start a session
///
/// The customer's client asks for a session number to read out to the agent. The answer's
/// `customerSecret` is the customer's proof of being the customer (its WebSocket `Hello` and its
/// stop need it); the `gcbSessionServer` cookie names the node, for sticky load balancers.
#[utoipa::path(
    post,
    path = "/cobrowse/rest/live/sessions",
    operation_id = "createSession",
    tag = "live sessions",
    request_body(
        content = Option<CreateSession>,
        content_type = "application/json",
        description = "Optional: an empty body is the same as `{}`."
    ),
    responses((
        status = 201,
        description = "The session was created; nobody has joined it yet.",
        body = CreatedSession,
        headers(("Set-Cookie" = String, description = "`gcbSessionServer=<node>`: the node that holds the session, for sticky load balancing (`HttpOnly; SameSite=Lax`, `Secure` over https).")),
        links(
            ("lookup" = (operation_id = "lookupSession", parameters(("token" = "$response.body#/token")), description = "The agent looks the new session up.")),
            ("stop" = (operation_id = "stopSession", parameters(("token" = "$response.body#/token")), description = "The customer (or an agent) ends it.")),
            ("history" = (operation_id = "getHistory", parameters(("historyId" = "$response.body#/historyId")), description = "Its history record."))
        )
    ))
)]
fn create_session() {}

/// Look a session up (agent)
///
/// What the agent page needs before it connects: the session's state and the node that holds
/// it. Needs the agent credential. A number nobody holds and a malformed one get the same `404`.
#[utoipa::path(
    get,
    path = "/cobrowse/rest/live/sessions/{token}",
    operation_id = "lookupSession",
    tag = "live sessions",
    params(("token" = String, Path, description = "The 9-digit session number the customer reads out.", pattern = "^[0-9]{9}$")),
    security(("agent" = [])),
    responses((
        status = 200,
        description = "The session is live.",
        body = SessionLookup,
        headers(("Set-Cookie" = String, description = "`gcbSessionServer=<node>`: the node that holds the session, so the agent's socket goes straight there."))
    ))
)]
fn lookup_session() {}

/// End a session
///
/// The customer ends its own session with its `customerSecret`; agents and controllers with
/// their credential. Knowing the number is not enough. Ending an ended session answers the same.
#[utoipa::path(
    post,
    path = "/cobrowse/rest/live/sessions/{token}/stop",
    operation_id = "stopSession",
    tag = "live sessions",
    params(("token" = String, Path, description = "The 9-digit session number.", pattern = "^[0-9]{9}$")),
    security(("agent" = []), ("customer" = [])),
    responses((status = 200, description = "The session has ended.", body = Stopped))
)]
fn stop_session() {}

/// A session's history record (agent)
///
/// Who joined when, the pages the customer visited (URLs as masked by the site's rules), how the
/// session ended. Needs the agent credential.
#[utoipa::path(
    get,
    path = "/cobrowse/rest/history/sessions/{historyId}",
    operation_id = "getHistory",
    tag = "history",
    params(("historyId" = String, Path, description = "The record's id (`historyId` of the session).", format = "uuid")),
    security(("agent" = [])),
    responses((status = 200, description = "The record.", body = SessionHistory))
)]
fn get_history() {}

/// What is stored of a session's audit recording (agent)
///
/// Sessions of sites with recording on (`recording.enabled`, `recording.origins`) are recorded
/// for `recording.retention`; this says when the recording starts and ends, how many frames and
/// bytes it holds and which nodes wrote it. `404 unknown_history` when nothing is stored (not
/// recorded, expired, or no such id). Needs the agent credential.
#[utoipa::path(
    get,
    path = "/cobrowse/rest/history/sessions/{historyId}/recording",
    operation_id = "getRecording",
    tag = "history",
    params(("historyId" = String, Path, description = "The session's `historyId`.", format = "uuid")),
    security(("agent" = [])),
    responses((status = 200, description = "The recording's extent.", body = RecordingInfo))
)]
fn get_recording() {}

/// A session's recorded frames (agent)
///
/// The frames the server relayed, as the customer's browser sent them (masked there) and as the
/// agents sent theirs, each with its time and sender: `CBREC01\n`, then entries of
/// `at_ms:u64le source:u8 len:u32le frame` (source 0 customer, 1 agent, 2 server). The replay
/// page (`/cobrowse/replay.html`) reads it. Needs the agent credential.
#[utoipa::path(
    get,
    path = "/cobrowse/rest/history/sessions/{historyId}/recording/frames",
    operation_id = "getRecordingFrames",
    tag = "history",
    params(("historyId" = String, Path, description = "The session's `historyId`.", format = "uuid")),
    security(("agent" = [])),
    responses((status = 200, description = "The recording, binary.", content_type = "application/octet-stream", body = String))
)]
fn get_recording_frames() {}

/// A session's events (agent desktop)
///
/// A `text/event-stream` (Server-Sent Events): one `data:` line of `DesktopEvent` JSON per
/// event, starting with `state` (the session as it is now), ending after `ended`. Idle streams
/// get `: keep-alive` comments (`events.keepalive`); a subscriber that falls
/// `events.subscriberBuffer` events behind gets `event: dropped` and the stream ends. Needs the
/// agent credential, as `Authorization: Bearer` or as a ticket (`?ticket=`, from
/// `POST live/event-tickets`) for `EventSource`. In a cluster, open it on the node that holds
/// the session (the lookup's `node.url`).
#[utoipa::path(
    get,
    path = "/cobrowse/rest/live/sessions/{token}/events",
    operation_id = "streamSessionEvents",
    tag = "agent desktops",
    params(
        ("token" = String, Path, description = "The 9-digit session number.", pattern = "^[0-9]{9}$"),
        ("ticket" = Option<String>, Query, description = "A ticket from `POST live/event-tickets`, instead of `Authorization` (used up).")
    ),
    security(("agent" = []), ("ticket" = [])),
    responses((status = 200, description = "The stream; each `data:` line is one event.", content_type = "text/event-stream", body = DesktopEvent))
)]
fn stream_session_events() {}

/// One agent's events (agent desktop)
///
/// The events of every session on this node that concerns the agent (it joined, or it is the
/// session's first agent), as for a session's stream, without the first `state` event and
/// without an end. A JWT credential opens its own agent's stream only (`sub`); the agent
/// token any agent's.
#[utoipa::path(
    get,
    path = "/cobrowse/rest/live/agents/{agentId}/events",
    operation_id = "streamAgentEvents",
    tag = "agent desktops",
    params(
        ("agentId" = String, Path, description = "The agent identity (a JWT's `sub`, or the id the agent page declared), percent-encoded.", min_length = 1, max_length = 256),
        ("ticket" = Option<String>, Query, description = "A ticket from `POST live/event-tickets`, instead of `Authorization` (used up).")
    ),
    security(("agent" = []), ("ticket" = [])),
    responses((status = 200, description = "The stream; each `data:` line is one event.", content_type = "text/event-stream", body = DesktopEvent))
)]
fn stream_agent_events() {}

/// A ticket for an event stream (agent desktop)
///
/// The browser's `EventSource` cannot send `Authorization`: a ticket in the stream's URL
/// (`?ticket=`) opens one stream, once, within a minute, and speaks for the credential that
/// asked for it. Ask the node that will serve the stream.
#[utoipa::path(
    post,
    path = "/cobrowse/rest/live/event-tickets",
    operation_id = "createEventTicket",
    tag = "agent desktops",
    security(("agent" = [])),
    responses((status = 200, description = "The ticket.", body = EventTicket))
)]
fn create_event_ticket() {}

/// Every live session (supervisor)
///
/// The live sessions of every node of the cluster, newest first: number, state, node, the
/// agents connected now, times, and the page the customer is on as its browser sent it
/// (masked there). Needs a credential with the supervisor role. End one with
/// `POST live/sessions/{token}/stop` and the same credential.
#[utoipa::path(
    get,
    path = "/cobrowse/rest/supervisor/sessions",
    operation_id = "listLiveSessions",
    tag = "supervisors",
    security(("supervisor" = [])),
    responses((status = 200, description = "The live sessions and the server's clock.", body = LiveSessionList))
)]
fn list_live_sessions() {}

/// Search the history (supervisor)
///
/// History records created in `[from, to)` (default: the 30 days before now; a wider range
/// than 366 days is narrowed to its last 366 days), optionally of one agent and one end reason, newest first, a page at a time: pass
/// `nextCursor` as `cursor`, with the same filters, for the next page. Needs a credential with
/// the supervisor role.
#[utoipa::path(
    get,
    path = "/cobrowse/rest/supervisor/history",
    operation_id = "searchHistory",
    tag = "supervisors",
    params(
        ("from" = Option<u64>, Query, description = "Earliest creation time (inclusive), ms since the Unix epoch. Default: 30 days before `to`.", maximum = 9223372036854775807_u64),
        ("to" = Option<u64>, Query, description = "Latest creation time (exclusive). Default: now.", maximum = 9223372036854775807_u64),
        ("agent" = Option<String>, Query, description = "Only sessions whose (first) agent is this identity.", max_length = 256),
        ("endReason" = Option<String>, Query, description = "Only sessions that ended for this reason (`customer_exit`, `api_stop`, …).", max_length = 256),
        ("limit" = Option<u32>, Query, description = "Records per page, 1 to 100 (default 20).", minimum = 1, maximum = 100),
        ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page.", pattern = "^[0-9]{1,18}\\.[A-Za-z0-9-]{1,64}$")
    ),
    security(("supervisor" = [])),
    responses((status = 200, description = "One page of records.", body = HistoryPage))
)]
fn search_history() {}

/// The agent page's defaults
#[utoipa::path(
    get,
    path = "/cobrowse/rest/ui.json",
    operation_id = "getUiDefaults",
    tag = "documents",
    responses((status = 200, description = "Language and theme the operator configured (`ui.locale`, `ui.theme`; `null` for the browser's), and the agent desktops' origins the page posts its events to.", body = UiDefaults))
)]
fn get_ui_defaults() {}

/// The DOM restriction document
///
/// The site owner's rules: what the customer's client masks, hides, or keeps the agent from
/// acting on. The client loads it before it connects and does not share the page without it.
#[utoipa::path(
    get,
    path = "/cobrowse/rest/dom-restrictions.json",
    operation_id = "getDomRestrictions",
    tag = "documents",
    responses((status = 200, description = "The rules, in order.", body = DomPolicy))
)]
fn get_dom_restrictions() {}

/// This document
#[utoipa::path(
    get,
    path = "/cobrowse/rest/openapi.json",
    operation_id = "getOpenApi",
    tag = "documents",
    responses((status = 200, description = "The OpenAPI 3.1 description of this API.", content_type = "application/json", body = Object))
)]
fn get_openapi() {}

/// Health
///
/// For load balancers and monitors: `200` while the node serves and its storage answers.
#[utoipa::path(
    get,
    path = "/cobrowse/health",
    operation_id = "getHealth",
    tag = "operations",
    responses(
        (status = 200, description = "Serving; storage answers.", body = Health),
        (status = 503, description = "Shutting down (`shutting_down`) or the storage does not answer (`storage_error`).", body = Health)
    )
)]
fn get_health() {}

/// A customer's stylesheet, for the agent's replica
///
/// Fetches a cross-origin stylesheet the agent's browser may not load itself, from an origin in
/// `proxy.allowedExternalDomains` only (none by default), and rewrites it for the replica.
#[utoipa::path(
    get,
    path = "/cobrowse/css-proxy",
    operation_id = "cssProxy",
    tag = "documents",
    params(("url" = String, Query, description = "The stylesheet's absolute http(s) URL.", format = "uri", min_length = 1)),
    responses((
        status = 200,
        description = "The sheet, as UTF-8, URLs made absolute, allowed `@import`s through the proxy, pseudo-class rules followed by their `[data-cobrowse-*]` copies.",
        content_type = "text/css",
        body = String,
        headers(("X-Cobrowse-Cache" = String, description = "`hit`, `miss` or `revalidated`."))
    ))
)]
fn css_proxy() {}

/// The operations, for `#[openapi(paths(…))]`.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create_session,
    lookup_session,
    stop_session,
    get_history,
    get_recording,
    get_recording_frames,
    stream_session_events,
    stream_agent_events,
    create_event_ticket,
    list_live_sessions,
    search_history,
    get_ui_defaults,
    get_dom_restrictions,
    get_openapi,
    get_health,
    css_proxy
))]
pub(super) struct Operations;
