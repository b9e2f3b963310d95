//! The customer's session without the browser: the record kept across reloads and how it is made
//! from the REST answer, the phases a session goes through and what moves them, and the errors
//! the page sees. `web::client` drives it over the real REST calls, WebSocket and UI.
//!
//! The contracts it reads are the protocol's, not copies: the REST types and the server URL →
//! WebSocket URL rule ([`cobrowse_protocol::rest`]), whether a close is final
//! ([`cobrowse_protocol::close`]) and the snake_case codes of the events (`Code::code`).

use crate::config::Texts;
use cobrowse_protocol::close::retry_after_close;
use cobrowse_protocol::rest::{CreatedSession, ErrorBody, ws_url};
use cobrowse_protocol::{Code, EndReason, ErrorCode, SessionState};
use serde::{Deserialize, Serialize};

/// Key of the session kept in `sessionStorage` across reloads and navigation.
pub const STORAGE_KEY: &str = "cobrowse:session";

/// Errors of the client, as the page sees them (`error` events and rejected promises carry
/// `{ code, message }`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// No server URL was configured or found by the loader.
    #[error("no server URL configured")]
    NoServerUrl,
    /// The browser could not reach the server.
    #[error("network error: {0}")]
    Network(String),
    /// The server answered with an error.
    #[error("server error {status}: {message}")]
    Http {
        /// HTTP status.
        status: u16,
        /// The server's error code (`cobrowse_protocol::rest::ApiError`'s code; text, so codes
        /// newer than this client pass through).
        code: String,
        /// Its message.
        message: String,
    },
    /// The server's answer was not what the REST contract says.
    #[error("unexpected answer from server: {0}")]
    BadResponse(String),
    /// A session is being started already.
    #[error("a session is already starting")]
    Busy,
    /// `stop()` was called while starting.
    #[error("cancelled")]
    Cancelled,
    /// The server refused the connection.
    #[error("{0}")]
    Refused(String),
    /// The server sent an error frame.
    #[error("{message}")]
    Server {
        /// The protocol's `ErrorCode` as its code ([`Code::code`]).
        code: &'static str,
        /// The server's message.
        message: String,
    },
    /// The page's environment lacks something we need.
    #[error("browser environment: {0}")]
    Environment(String),
}

impl ClientError {
    /// Stable snake_case code (the page's `error.code`).
    pub fn code(&self) -> String {
        match self {
            ClientError::NoServerUrl => "no_server_url".into(),
            ClientError::Network(_) => "network".into(),
            ClientError::Http { code, .. } => code.clone(),
            ClientError::BadResponse(_) => "bad_response".into(),
            ClientError::Busy => "busy".into(),
            ClientError::Cancelled => "cancelled".into(),
            ClientError::Refused(_) => "refused".into(),
            ClientError::Server { code, .. } => (*code).into(),
            ClientError::Environment(_) => "environment".into(),
        }
    }

    /// The error for a non-2xx REST answer with status `status` and, when it parsed, the
    /// server's error body.
    pub fn http(status: u16, body: Option<ErrorBody>) -> ClientError {
        let (code, message) = body
            .map(|b| (b.error.code, b.error.message))
            .unwrap_or_else(|| ("http_error".into(), format!("status {status}")));
        ClientError::Http {
            status,
            code,
            message,
        }
    }
}

/// What survives a reload: enough to reconnect to the same session, as the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredSession {
    /// 9-digit token.
    pub token: String,
    /// History id.
    pub history_id: String,
    /// WebSocket URL.
    pub ws_url: String,
    /// The customer secret every `Hello` presents (`CreatedSession::customer_secret`). Kept in
    /// session storage with the rest, so it lives as long as the tab and never leaves this site's
    /// origin; a record without it (written by an older client) cannot resume.
    pub customer_secret: String,
    /// The link of the last page of this session and the last server frame it applied, so the
    /// next page's `Hello` tells the server which of the agent's actions it performed (absent
    /// before the first linked `Welcome`, and in records of older clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<StoredLink>,
}

/// [`StoredSession::link`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLink {
    /// The link id (`Welcome.link.id`).
    pub id: u64,
    /// The last server frame the page applied.
    pub applied: u64,
}

impl StoredSession {
    /// The record to keep for a session the server created (its `201` answer) when the client
    /// was given `server_base`: the answer's `serverUrl` names the node to connect to; `null`
    /// (the server has no configured public URL) means the server the client already talks to.
    pub fn created(
        answer: CreatedSession,
        server_base: &str,
    ) -> Result<StoredSession, ClientError> {
        let server_url = answer.server_url.as_deref().unwrap_or(server_base);
        Ok(StoredSession {
            ws_url: socket_url(server_url)?,
            token: answer.token,
            history_id: answer.history_id,
            customer_secret: answer.customer_secret,
            link: None,
        })
    }
}

/// The WebSocket URL of the node at `server_url` (the answer's `serverUrl`, or the node a
/// session moved to): the protocol's [`ws_url`] rule, which is also how the server derives the
/// `wsUrl` it sends. A server URL that is not an absolute http(s) URL is an error the page can
/// read, not a socket URL that could never open and would be retried for ever.
pub fn socket_url(server_url: &str) -> Result<String, ClientError> {
    ws_url(server_url).ok_or_else(|| {
        ClientError::BadResponse(format!(
            "server URL `{server_url}` is not an absolute http(s) URL, so it has no WebSocket URL"
        ))
    })
}

/// Where the client is in a session's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No session.
    Idle,
    /// Creating the session.
    Starting,
    /// Session exists, no agent yet.
    Waiting,
    /// An agent is connected.
    Active,
    /// The session is over.
    Ended,
}

impl Phase {
    /// The session state the page sees: no agent yet is `Idle` (starting and waiting included).
    pub fn state(self) -> SessionState {
        match self {
            Phase::Idle | Phase::Starting | Phase::Waiting => SessionState::Idle,
            Phase::Active => SessionState::Active,
            Phase::Ended => SessionState::Ended,
        }
    }

    /// The public state's code (`idle|active|ended`), as `state()` and the `state` event give it.
    pub fn public(self) -> &'static str {
        self.state().code()
    }

    /// True when no session is being started or run (`Idle`, `Ended`): nothing to connect,
    /// reconnect or stop.
    pub fn at_rest(self) -> bool {
        matches!(self, Phase::Idle | Phase::Ended)
    }

    /// The phase after the server's `Welcome` with session `state` and `agents` connected.
    pub fn welcomed(state: SessionState, agents: u32) -> Phase {
        if state == SessionState::Active || agents > 0 {
            Phase::Active
        } else {
            Phase::Waiting
        }
    }

    /// What `start()` does in this phase.
    pub fn on_start(self) -> OnStart {
        match self {
            Phase::Waiting | Phase::Active => OnStart::Running,
            Phase::Starting => OnStart::Busy,
            Phase::Idle | Phase::Ended => OnStart::Create,
        }
    }

    /// What `stop()` does in this phase.
    pub fn on_stop(self) -> OnStop {
        match self {
            Phase::Idle | Phase::Ended => OnStop::Nothing,
            Phase::Starting => OnStop::Cancel,
            Phase::Waiting | Phase::Active => OnStop::End,
        }
    }

    /// What a closed socket (close `code`, after an `Error` frame with `error` if one came)
    /// means in this phase; `welcomed_once`: the server accepted this session at least once.
    /// Whether to retry is the protocol's rule ([`retry_after_close`]: a policy close is final
    /// only before the first `Welcome`, unless it was rate limiting), shared with the agent page.
    pub fn on_close(self, code: u16, welcomed_once: bool, error: Option<ErrorCode>) -> OnClose {
        if self.at_rest() {
            OnClose::Ignore
        } else if retry_after_close(code, welcomed_once, error) {
            OnClose::Reconnect
        } else {
            OnClose::Refused
        }
    }

    /// The UI's `data-state` (`idle|starting|waiting|active|ended`).
    pub fn ui(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Starting => "starting",
            Phase::Waiting => "waiting",
            Phase::Active => "active",
            Phase::Ended => "ended",
        }
    }
}

/// What `start()` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnStart {
    /// A session runs already: resolve with its token.
    Running,
    /// A session is being created: reject with [`ClientError::Busy`].
    Busy,
    /// Create a session.
    Create,
}

/// What `stop()` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnStop {
    /// Nothing runs.
    Nothing,
    /// Forget the session being created (its answer is dropped) and show the button again.
    Cancel,
    /// End the session; the agent is told.
    End,
}

/// What a closed socket means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnClose {
    /// The session is over or was never started.
    Ignore,
    /// The server refused the session: it ends locally.
    Refused,
    /// Try again after a backoff delay.
    Reconnect,
}

/// True when a server error frame with `code` means the session is gone for good.
pub fn ends_session(code: ErrorCode) -> bool {
    matches!(code, ErrorCode::UnknownSession | ErrorCode::SessionEnded)
}

/// What the UI says about why the session ended.
pub fn reason_text(texts: &Texts, r: &EndReason) -> String {
    match r {
        EndReason::CustomerExit => texts.reason_customer.clone(),
        EndReason::AgentExit => texts.reason_agent.clone(),
        EndReason::ControllerStop | EndReason::ApiStop => texts.reason_stopped.clone(),
        EndReason::InactivityTimeout => texts.reason_timeout.clone(),
        EndReason::ConnectionLost => texts.reason_connection.clone(),
        EndReason::ServerShutdown => texts.reason_server.clone(),
        EndReason::Other(s) => s.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cobrowse_protocol::Mode;

    fn json<T: serde::de::DeserializeOwned>(s: &str) -> T {
        serde_json::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn socket_urls_follow_the_scheme_and_keep_a_path_prefix() {
        assert_eq!(
            socket_url("https://cb.example.com/"),
            Ok("wss://cb.example.com/cobrowse/ws".into())
        );
        assert_eq!(
            socket_url("http://localhost:8700"),
            Ok("ws://localhost:8700/cobrowse/ws".into())
        );
        assert_eq!(
            socket_url("https://lb.example/node1"),
            Ok("wss://lb.example/node1/cobrowse/ws".into())
        );
    }

    #[test]
    fn a_server_url_that_is_not_http_is_a_clear_error() {
        for bad in ["", "cb.example.com", "ftp://cb.example.com", "ws://h/"] {
            let e = socket_url(bad).expect_err(bad);
            assert_eq!(e.code(), "bad_response", "{bad:?}");
            assert!(e.to_string().contains(&format!("`{bad}`")), "{e}");
        }
    }

    #[test]
    fn error_codes_are_stable() {
        assert_eq!(ClientError::NoServerUrl.code(), "no_server_url");
        let e = ClientError::Http {
            status: 429,
            code: "rate_limited".into(),
            message: "slow down".into(),
        };
        assert_eq!(e.code(), "rate_limited");
        let e = ClientError::Server {
            code: ErrorCode::OriginRefused.code(),
            message: "origin not allowed".into(),
        };
        assert_eq!(e.code(), "origin_refused");
        assert_eq!(Phase::Waiting.public(), "idle");
    }

    /// The codes the page's `ended`, `mode` and `state` events carry are documented (ARCHITECTURE.md,
    /// js-shim's `index.d.ts`): taking them from the protocol must not rename any.
    #[test]
    fn the_codes_the_page_sees_are_the_documented_ones() {
        let mut reasons: Vec<_> = EndReason::KNOWN.iter().map(Code::code).collect();
        reasons.push(EndReason::Other("why".into()).code());
        assert_eq!(
            reasons,
            [
                "customer_exit",
                "agent_exit",
                "controller_stop",
                "api_stop",
                "inactivity_timeout",
                "connection_lost",
                "server_shutdown",
                "other"
            ]
        );
        let modes: Vec<_> = Mode::ALL.iter().map(Code::code).collect();
        assert_eq!(modes, ["pointer", "write"]);
        assert_eq!(ErrorCode::UnknownSession.code(), "unknown_session");
        assert_eq!(ErrorCode::RateLimited.code(), "rate_limited");
    }

    const ALL: [Phase; 5] = [
        Phase::Idle,
        Phase::Starting,
        Phase::Waiting,
        Phase::Active,
        Phase::Ended,
    ];

    #[test]
    fn the_page_sees_three_states_the_ui_five() {
        let public: Vec<_> = ALL.iter().map(|p| p.public()).collect();
        assert_eq!(public, ["idle", "idle", "idle", "active", "ended"]);
        let ui: Vec<_> = ALL.iter().map(|p| p.ui()).collect();
        assert_eq!(ui, ["idle", "starting", "waiting", "active", "ended"]);
        let at_rest: Vec<_> = ALL.into_iter().filter(|p| p.at_rest()).collect();
        assert_eq!(at_rest, [Phase::Idle, Phase::Ended]);
    }

    #[test]
    fn a_welcome_is_active_once_an_agent_is_there() {
        assert_eq!(Phase::welcomed(SessionState::Idle, 0), Phase::Waiting);
        assert_eq!(Phase::welcomed(SessionState::Idle, 1), Phase::Active);
        assert_eq!(Phase::welcomed(SessionState::Active, 0), Phase::Active);
    }

    #[test]
    fn start_and_stop_depend_on_the_phase() {
        let start: Vec<_> = ALL.iter().map(|p| p.on_start()).collect();
        assert_eq!(
            start,
            [
                OnStart::Create,
                OnStart::Busy,
                OnStart::Running,
                OnStart::Running,
                OnStart::Create
            ]
        );
        let stop: Vec<_> = ALL.iter().map(|p| p.on_stop()).collect();
        assert_eq!(
            stop,
            [
                OnStop::Nothing,
                OnStop::Cancel,
                OnStop::End,
                OnStop::End,
                OnStop::Nothing
            ]
        );
    }

    #[test]
    fn a_policy_close_before_any_welcome_ends_the_session_anything_else_reconnects() {
        use cobrowse_protocol::close::{GOING_AWAY, POLICY, SERVICE_RESTART};
        assert_eq!(POLICY, 1008);
        assert_eq!(
            Phase::Waiting.on_close(POLICY, false, None),
            OnClose::Refused
        );
        let unauthorized = Some(ErrorCode::Unauthorized);
        assert_eq!(
            Phase::Waiting.on_close(POLICY, false, unauthorized),
            OnClose::Refused
        );
        assert_eq!(
            Phase::Waiting.on_close(POLICY, true, None),
            OnClose::Reconnect
        );
        assert_eq!(
            Phase::Active.on_close(1006, false, None),
            OnClose::Reconnect
        );
        assert_eq!(
            Phase::Active.on_close(SERVICE_RESTART, false, None),
            OnClose::Reconnect
        );
        assert_eq!(
            Phase::Starting.on_close(GOING_AWAY, true, None),
            OnClose::Reconnect
        );
        assert_eq!(Phase::Ended.on_close(POLICY, false, None), OnClose::Ignore);
        assert_eq!(Phase::Idle.on_close(1006, true, None), OnClose::Ignore);
        // Rate limiting refuses for now, not for good.
        assert_eq!(
            Phase::Waiting.on_close(POLICY, false, Some(ErrorCode::RateLimited)),
            OnClose::Reconnect
        );
    }

    #[test]
    fn only_a_lost_session_ends_it_on_an_error_frame() {
        assert!(ends_session(ErrorCode::UnknownSession));
        assert!(ends_session(ErrorCode::SessionEnded));
        assert!(!ends_session(ErrorCode::RateLimited));
        assert!(!ends_session(ErrorCode::Internal));
    }

    #[test]
    fn the_stored_session_keeps_its_camel_case_shape() {
        // Pages reloaded across a client update must still read what the old one stored.
        let s = StoredSession {
            token: "123456789".into(),
            history_id: "h1".into(),
            ws_url: "wss://cb.example.com/cobrowse/ws".into(),
            customer_secret: "c0ffee".into(),
            link: None,
        };
        let text = serde_json::to_string(&s).unwrap_or_default();
        assert_eq!(
            text,
            r#"{"token":"123456789","historyId":"h1","wsUrl":"wss://cb.example.com/cobrowse/ws","customerSecret":"c0ffee"}"#
        );
        assert_eq!(json::<StoredSession>(&text), s);
        // With the last page's link (what the next page settles).
        let linked = StoredSession {
            link: Some(StoredLink { id: 7, applied: 41 }),
            ..s.clone()
        };
        let text = serde_json::to_string(&linked).unwrap_or_default();
        assert!(
            text.ends_with(r#","link":{"id":7,"applied":41}}"#),
            "{text}"
        );
        assert_eq!(json::<StoredSession>(&text), linked);
        // A record an older client stored has no secret: it cannot resume (the server would
        // refuse its `Hello`), so it does not read as a session.
        let old =
            r#"{"token":"123456789","historyId":"h1","wsUrl":"wss://cb.example.com/cobrowse/ws"}"#;
        assert!(serde_json::from_str::<StoredSession>(old).is_err());
    }

    /// The `201` answer exactly as the server writes it (server/src/rest.rs `create`).
    fn answer(server_url: &str, ws_url: &str) -> String {
        format!(
            r#"{{"token":"123456789","historyId":"h1","state":"idle","customerSecret":"5ec2e7","serverUrl":"{server_url}","wsUrl":"{ws_url}","writeModeAllowed":true,"createdAt":1700000000000}}"#
        )
    }

    const BASE: &str = "https://site-given.example";

    #[test]
    fn a_created_session_connects_to_the_node_the_server_names() {
        let created: CreatedSession =
            json(&answer("http://node3:8700", "ws://node3:8700/cobrowse/ws"));
        let s = StoredSession::created(created, BASE).expect("stored");
        assert_eq!(
            (s.token.as_str(), s.history_id.as_str(), s.ws_url.as_str()),
            ("123456789", "h1", "ws://node3:8700/cobrowse/ws")
        );
        assert_eq!(s.customer_secret, "5ec2e7");
        // Fields a newer server adds are ignored.
        let newer = answer("https://cb.example.com", "wss://cb.example.com/cobrowse/ws")
            .replace('}', r#","extra":true}"#);
        let s = StoredSession::created(json(&newer), BASE).expect("stored");
        assert_eq!(s.ws_url, "wss://cb.example.com/cobrowse/ws");
    }

    #[test]
    fn without_a_configured_server_url_the_client_keeps_its_own() {
        let text = answer("x", "x").replace(r#""x""#, "null");
        let s = StoredSession::created(json(&text), BASE).expect("stored");
        assert_eq!(s.ws_url, "wss://site-given.example/cobrowse/ws");
    }

    #[test]
    fn a_created_session_on_a_server_url_that_is_not_http_fails_to_start() {
        // A server configured without a scheme names `cb.example.com/cobrowse/ws` as its socket.
        let created: CreatedSession = json(&answer("cb.example.com", "cb.example.com/cobrowse/ws"));
        let e = StoredSession::created(created, BASE).expect_err("no socket URL");
        assert_eq!(e.code(), "bad_response");
        // An answer missing a field of the REST contract is refused as a whole.
        let partial = r#"{"token":"1","historyId":"h","serverUrl":"http://h"}"#;
        assert!(serde_json::from_str::<CreatedSession>(partial).is_err());
    }

    #[test]
    fn http_errors_carry_the_servers_code_or_a_generic_one() {
        let body: ErrorBody = json(r#"{"error":{"code":"origin_refused","message":"no"}}"#);
        let e = ClientError::http(403, Some(body));
        assert_eq!(e.code(), "origin_refused");
        assert_eq!(e.to_string(), "server error 403: no");
        let e = ClientError::http(502, None);
        assert_eq!(e.code(), "http_error");
        assert_eq!(e.to_string(), "server error 502: status 502");
    }

    #[test]
    fn end_reasons_have_texts() {
        let texts = Texts::for_locale("en");
        assert_eq!(
            reason_text(&texts, &EndReason::ApiStop),
            reason_text(&texts, &EndReason::ControllerStop)
        );
        assert_eq!(reason_text(&texts, &EndReason::Other("x".into())), "x");
        assert!(!reason_text(&texts, &EndReason::AgentExit).is_empty());
    }
}
