//! Who connects and how a session goes: the handshake (`Hello`/`Welcome`), session state and
//! lifecycle events, write-mode negotiation, controller notices and error frames.

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
    /// The party's credential. A customer presents the secret `POST …/sessions` returned
    /// (`CreatedSession::customer_secret`); agents and controllers the agent token or a JWT
    /// signed by their agent desktop. Without the right one the server refuses the `Hello`.
    pub auth: Option<String>,
    /// Agent identity (for `agentSessionsLimit` and history), declared by the agent desktop; a
    /// JWT's `sub` takes its place when the agent authenticates with one.
    pub agent_id: Option<String>,
    /// The last server sequence number ([`crate::Sequenced`]) this client applied on the link
    /// named by `link`: what the server replays after, or, on a new page, which of the old
    /// page's frames it applied. `None` before any.
    pub resume_from: Option<u64>,
    /// Client software and version, for logs.
    pub client: String,
    /// The client speaks sequencing ([`crate::link`]) and this is the link it continues.
    /// Appended to the payload: a `Hello` without it (an older client) decodes with `None`, and
    /// that client gets plain frames, no replay.
    pub link: Option<LinkHello>,
    /// An agent that joins to watch (a supervisor, a second agent): it never takes control by
    /// joining (`crate::control`). Appended after `link`: a `Hello` without it decodes `false`.
    pub observe: bool,
}

/// What a client that speaks sequencing says about its link in [`Hello::link`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct LinkHello {
    /// The link id from the last [`LinkWelcome`] this client (or this tab's previous page) got;
    /// `0` for none.
    pub id: u64,
    /// True when the client still holds what it applied on that link (the same page, the same
    /// replica), so the server replays what it missed and the client resends what the server
    /// missed. False on a new page: the server only settles what the old page applied
    /// (`resume_from`; write-mode actions after it are refused to the agent, never lost
    /// silently) and both sides start a new stream.
    pub replay: bool,
}

/// The server's side of the link, in [`Welcome::link`] (only for a client that sent
/// [`Hello::link`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct LinkWelcome {
    /// The link's id, to present in the next `Hello` of this client.
    pub id: u64,
    /// True: the link continues. The server replays its frames after `Hello::resume_from`
    /// (next on this socket, with their old numbers) and the client resends its own after
    /// `received`. False: a new stream numbered from 1 in both directions; the customer sends a
    /// `Snapshot`, the agent gets the page from the server's cache.
    pub resumed: bool,
    /// The last client sequence number the server applied on this link (0 on a new one).
    pub received: u64,
    /// The client sends `Ping` this often (milliseconds) and gives the socket up when nothing
    /// at all arrived for twice as long: a half-open link (no reset, no close) is noticed.
    pub keepalive_ms: u32,
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
    /// The link, for a client that sent [`Hello::link`]. Appended to the payload: an older
    /// server's `Welcome` decodes with `None`, and the client then neither numbers nor resumes.
    pub link: Option<LinkWelcome>,
    /// True: the server takes [`crate::Message::Batch`] frames from this client. Appended after
    /// `link`: an older server's `Welcome` decodes with `false`, and the client sends every
    /// frame alone.
    pub batch: bool,
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
    /// Missing or wrong credential (agent token or JWT; the customer secret for a customer).
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
    /// Session start (creation), ms since the Unix epoch.
    pub started_at_ms: u64,
    /// When the first agent joined, ms since the Unix epoch; `None` while idle. Appended after
    /// the first revision: frames of older servers decode with `None` (`codec`), and older
    /// controllers ignore it.
    pub activated_at_ms: Option<u64>,
    /// The agent identity the session's first agent joined with (a JWT's `sub`, else its
    /// declared id); appended with `activated_at_ms`.
    pub agent_id: Option<String>,
}
