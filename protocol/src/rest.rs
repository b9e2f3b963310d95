//! The REST API's requests and answers (JSON under `/cobrowse/rest/`), the error body every
//! endpoint shares, and the server URL → WebSocket URL rule.
//!
//! The server writes these types, the customer client and the agent page read them, the tests
//! check them against ARCHITECTURE.md's REST table: one definition, so a renamed field is a
//! compile error everywhere instead of a `null` in one runtime. Field names are camelCase on the
//! wire; times are milliseconds since the Unix epoch.

use crate::codes::{Code, as_code};
use crate::message::SessionState;
use serde::{Deserialize, Serialize};

pub use crate::desktop_events::*;
pub use crate::supervision::{
    DEFAULT_HISTORY_PAGE, HistoryCursor, HistoryPage, LiveSessionList, LiveSessionSummary,
    MAX_HISTORY_PAGE, MAX_HISTORY_RANGE_MS, SUPERVISOR_PATH,
};

/// Path prefix of the REST API.
pub const REST_PREFIX: &str = "/cobrowse/rest";
/// Path of the WebSocket endpoint.
pub const WS_PATH: &str = "/cobrowse/ws";
/// The query pair an agent page adds to its WebSocket URL ([`agent_ws_url`]). Only a hint for the
/// socket's compression terms, given before any frame: agents send small frames, so the server
/// keeps no inflate context for them. Who a socket is, the `Hello` says.
pub const WS_AGENT_HINT: &str = "party=agent";

/// `url` with [`WS_AGENT_HINT`] added to its query.
pub fn agent_ws_url(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{WS_AGENT_HINT}")
}
/// Path of the DOM restriction document ([`crate::policy::DomPolicy`]).
pub const DOM_RESTRICTIONS_PATH: &str = "/cobrowse/rest/dom-restrictions.json";
/// Path of the agent page's UI defaults ([`UiDefaults`]).
pub const UI_DEFAULTS_PATH: &str = "/cobrowse/rest/ui.json";
/// Path of `POST` (create) on live sessions; a session's lookup is `{LIVE_SESSIONS_PATH}/{token}`.
pub const LIVE_SESSIONS_PATH: &str = "/cobrowse/rest/live/sessions";
/// Path of the CSS proxy (`?url=<absolute sheet URL>`); it is not under the REST prefix because it
/// answers CSS, not JSON.
pub const CSS_PROXY_PATH: &str = "/cobrowse/css-proxy";
/// Path prefix of history records: `{HISTORY_PATH}/{historyId}`.
pub const HISTORY_PATH: &str = "/cobrowse/rest/history/sessions";

/// The WebSocket URL of a server: `http(s)://host[:port][/prefix]` → `ws(s)://…/cobrowse/ws`.
///
/// A server URL may carry a path prefix (a node behind a path-routing proxy); the socket lives
/// under it. Anything but an absolute `http`/`https` URL with a host gives `None`: the caller
/// decides what to do instead of connecting to a made-up address.
pub fn ws_url(server_url: &str) -> Option<String> {
    let url = server_url.trim().trim_end_matches('/');
    let (scheme, rest) = url.split_once("://")?;
    let ws_scheme = if scheme.eq_ignore_ascii_case("https") {
        "wss"
    } else if scheme.eq_ignore_ascii_case("http") {
        "ws"
    } else {
        return None;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || rest.contains(['?', '#']) {
        return None;
    }
    Some(format!("{ws_scheme}://{rest}{WS_PATH}"))
}

/// `POST /cobrowse/rest/live/sessions` body (optional; an empty body is the same as `{}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSession {
    /// The customer page's URL, for history.
    #[serde(default)]
    pub url: Option<String>,
}

/// `201` answer of `POST /cobrowse/rest/live/sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedSession {
    /// The 9-digit session number.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9]{9}$"))]
    pub token: String,
    /// The history record's id (UUIDv4).
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub history_id: String,
    /// Always `idle` for a new session.
    #[serde(with = "as_code")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::session_state))]
    pub state: SessionState,
    /// The customer's proof that it is the customer: its `Hello` (`auth`, also on every
    /// reconnect) and its `POST …/stop` (`Authorization: Bearer …`) must present it. High
    /// entropy, unlike the 9-digit number the customer reads out to the agent; the client keeps
    /// it in session storage next to the number and never shows it.
    pub customer_secret: String,
    /// The node serving the session: its configured public URL (`serverUrl`, else `cluster.url`),
    /// never one built from request headers. `null` when none is configured: the client then
    /// keeps using the URL it reached the server at.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub server_url: Option<String>,
    /// Its WebSocket URL ([`ws_url`] of `server_url`; `null` with it).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub ws_url: Option<String>,
    /// Whether agents may ask for write mode on this server.
    pub write_mode_allowed: bool,
    /// Creation time.
    pub created_at: u64,
}

/// The node that owns a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NodeRef {
    /// Node name (the sticky cookie's value).
    pub name: String,
    /// Its configured public URL; `null` when none is configured (see
    /// [`CreatedSession::server_url`]).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub url: Option<String>,
}

/// `200` answer of `GET /cobrowse/rest/live/sessions/{token}` (the agent's lookup).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionLookup {
    /// The 9-digit session number.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9]{9}$"))]
    pub token: String,
    /// The history record's id.
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub history_id: String,
    /// Idle, active or ended.
    #[serde(with = "as_code")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::session_state))]
    pub state: SessionState,
    /// Agents connected now; `null` when a node that does not own the session answers (only the
    /// owner knows the live count).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub agents: Option<u32>,
    /// Creation time.
    pub created_at: u64,
    /// When the first agent joined.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub activated_at: Option<u64>,
    /// Whether agents may ask for write mode.
    pub write_mode_allowed: bool,
    /// The owner's configured public URL; `null` when none is configured: the agent page then
    /// connects next to itself (see [`CreatedSession::server_url`]).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub server_url: Option<String>,
    /// The owner's WebSocket URL (`null` with `server_url`).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub ws_url: Option<String>,
    /// The owner.
    pub node: NodeRef,
    /// Origin patterns whose stylesheets the agent loads through the CSS proxy (absent from a
    /// node of an older version during a rolling upgrade: then none).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub allowed_external_domains: Vec<String>,
    /// Origin patterns of third-party frames the replica may load by URL (absent: none).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub allowed_third_party_domains: Vec<String>,
}

/// `200` answer of `POST /cobrowse/rest/live/sessions/{token}/stop`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stopped {
    /// Always `ended`.
    #[serde(with = "as_code")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::session_state))]
    pub state: SessionState,
}

/// A page the customer visited during a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PageVisit {
    /// Full URL.
    pub url: String,
    /// Title.
    pub title: String,
    /// When.
    pub at: u64,
}

/// `200` answer of `GET /cobrowse/rest/history/sessions/{historyId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionHistory {
    /// The record's id.
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub history_id: String,
    /// The session number it had (numbers are reused after a session ends).
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9]{9}$"))]
    pub token: String,
    /// Creation time.
    pub created_at: u64,
    /// When the first agent joined.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub activated_at: Option<u64>,
    /// When it ended.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub ended_at: Option<u64>,
    /// The [`crate::EndReason`] code (`customer_exit`, `inactivity_timeout`, …). Kept as text so
    /// records written by another version still read.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub end_reason: Option<String>,
    /// The customer page's origin.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub origin: Option<String>,
    /// Pages visited, in order.
    pub pages: Vec<PageVisit>,
    /// The (first) agent's id.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub agent_id: Option<String>,
}

/// `200` answer of `GET /cobrowse/rest/ui.json`: the agent page's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UiDefaults {
    /// Language tag (`ui.locale`), or `null` for the browser's.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub locale: Option<String>,
    /// `auto`, `light`, `dark` or `high-contrast` (`ui.theme`), or `null`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub theme: Option<String>,
    /// The agent desktops' origins (`static.agentDesktopOrigins`, exact origins only): the agent
    /// page posts its [`DesktopEvent`]s to its embedding window only when that window has one
    /// of these origins (`postMessage` with each as the target origin, never `*`).
    #[serde(default)]
    pub desktop_origins: Vec<String>,
}

/// `GET /cobrowse/health` answer (`200` when serving and storage answers, else `503`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok`, `shutting_down` or `storage_error`.
    pub status: String,
    /// This node's name.
    pub node: String,
    /// Live sessions on this node (when `ok`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_sessions: Option<usize>,
    /// `ok` (when `ok`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    /// What failed (when `storage_error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Every REST error code, with the HTTP status it is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiError {
    /// Malformed request body or query.
    BadRequest,
    /// The credential is missing or wrong: the agent's (token or JWT), or for a session's stop
    /// the customer secret.
    Unauthorized,
    /// The page's origin may not use this server.
    OriginRefused,
    /// The credential is valid but may not do this: it speaks for someone else (an agent JWT
    /// for another agent's event stream), or it lacks the supervisor role (the console's
    /// endpoints).
    Forbidden,
    /// No such endpoint.
    NotFound,
    /// The endpoint exists; the method does not.
    MethodNotAllowed,
    /// No live session has this number.
    UnknownSession,
    /// No history record has this id.
    UnknownHistory,
    /// Too many requests from this address.
    RateLimited,
    /// The node holds as many sessions as it may.
    ServerFull,
    /// The node is stopping.
    ShuttingDown,
    /// The store did not answer.
    StorageUnavailable,
    /// CSS proxy: the `url` parameter is not an absolute http(s) URL.
    BadUrl,
    /// CSS proxy: the sheet's origin is not in `proxy.allowedExternalDomains`.
    DomainRefused,
    /// CSS proxy: not http or https.
    UnsupportedScheme,
    /// CSS proxy: the origin redirected somewhere not allowed.
    RedirectRefused,
    /// CSS proxy: the address is private, loopback or otherwise refused.
    AddressRefused,
    /// CSS proxy: the answer is not a stylesheet.
    NotCss,
    /// CSS proxy: the sheet is over the size limit.
    TooLarge,
    /// CSS proxy: the origin answered an error status.
    OriginStatus,
    /// CSS proxy: the origin could not be reached.
    OriginUnreachable,
    /// CSS proxy: the origin did not answer in time.
    OriginTimeout,
    /// CSS proxy: the origin redirected more often than the proxy follows.
    TooManyRedirects,
    /// CSS proxy: the proxy's HTTP client could not be set up (configuration).
    ProxyUnavailable,
    /// The request body is over the size limit.
    BodyTooLarge,
}

impl ApiError {
    /// Every code, in declaration order.
    pub const ALL: &'static [ApiError] = &[
        ApiError::BadRequest,
        ApiError::Unauthorized,
        ApiError::OriginRefused,
        ApiError::Forbidden,
        ApiError::NotFound,
        ApiError::MethodNotAllowed,
        ApiError::UnknownSession,
        ApiError::UnknownHistory,
        ApiError::RateLimited,
        ApiError::ServerFull,
        ApiError::ShuttingDown,
        ApiError::StorageUnavailable,
        ApiError::BadUrl,
        ApiError::DomainRefused,
        ApiError::UnsupportedScheme,
        ApiError::RedirectRefused,
        ApiError::AddressRefused,
        ApiError::NotCss,
        ApiError::TooLarge,
        ApiError::OriginStatus,
        ApiError::OriginUnreachable,
        ApiError::OriginTimeout,
        ApiError::TooManyRedirects,
        ApiError::ProxyUnavailable,
        ApiError::BodyTooLarge,
    ];

    /// The HTTP status the error is answered with.
    pub fn status(self) -> u16 {
        match self {
            ApiError::BadRequest | ApiError::BadUrl => 400,
            ApiError::Unauthorized => 401,
            ApiError::OriginRefused
            | ApiError::Forbidden
            | ApiError::DomainRefused
            | ApiError::UnsupportedScheme
            | ApiError::RedirectRefused
            | ApiError::AddressRefused => 403,
            ApiError::NotFound | ApiError::UnknownSession | ApiError::UnknownHistory => 404,
            ApiError::MethodNotAllowed => 405,
            ApiError::BodyTooLarge => 413,
            ApiError::RateLimited => 429,
            ApiError::NotCss
            | ApiError::TooLarge
            | ApiError::OriginStatus
            | ApiError::OriginUnreachable
            | ApiError::TooManyRedirects
            | ApiError::ProxyUnavailable => 502,
            ApiError::ServerFull | ApiError::ShuttingDown | ApiError::StorageUnavailable => 503,
            ApiError::OriginTimeout => 504,
        }
    }
}

impl Code for ApiError {
    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest => "bad_request",
            ApiError::Unauthorized => "unauthorized",
            ApiError::OriginRefused => "origin_refused",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::UnknownSession => "unknown_session",
            ApiError::UnknownHistory => "unknown_history",
            ApiError::RateLimited => "rate_limited",
            ApiError::ServerFull => "server_full",
            ApiError::ShuttingDown => "shutting_down",
            ApiError::StorageUnavailable => "storage_unavailable",
            ApiError::BadUrl => "bad_url",
            ApiError::DomainRefused => "domain_refused",
            ApiError::UnsupportedScheme => "unsupported_scheme",
            ApiError::RedirectRefused => "redirect_refused",
            ApiError::AddressRefused => "address_refused",
            ApiError::NotCss => "not_css",
            ApiError::TooLarge => "too_large",
            ApiError::OriginStatus => "origin_status",
            ApiError::OriginUnreachable => "origin_unreachable",
            ApiError::OriginTimeout => "origin_timeout",
            ApiError::TooManyRedirects => "too_many_redirects",
            ApiError::ProxyUnavailable => "proxy_unavailable",
            ApiError::BodyTooLarge => "body_too_large",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        ApiError::ALL.iter().copied().find(|e| e.code() == code)
    }
}

/// The body of every REST error: `{"error":{"code":"…","message":"…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and explanation of a REST error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// An [`ApiError`] code. Text, so a client reads codes newer than itself.
    pub code: String,
    /// For people.
    pub message: String,
}

impl ErrorBody {
    /// The body for `error` with a message.
    pub fn new(error: ApiError, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: error.code().to_owned(),
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn agent_socket_urls_carry_the_hint_in_their_query() {
        assert_eq!(
            agent_ws_url("wss://cb.example/cobrowse/ws"),
            "wss://cb.example/cobrowse/ws?party=agent"
        );
        assert_eq!(
            agent_ws_url("wss://lb.example/node1/cobrowse/ws?x=1"),
            "wss://lb.example/node1/cobrowse/ws?x=1&party=agent"
        );
    }
    use super::*;
    use crate::message::Mode;
    use std::collections::HashSet;

    #[test]
    fn ws_urls_follow_the_scheme_and_keep_a_path_prefix() {
        assert_eq!(
            ws_url("http://h:8700").as_deref(),
            Some("ws://h:8700/cobrowse/ws")
        );
        assert_eq!(
            ws_url("https://cb.example/").as_deref(),
            Some("wss://cb.example/cobrowse/ws")
        );
        assert_eq!(
            ws_url(" https://lb.example/node1/ ").as_deref(),
            Some("wss://lb.example/node1/cobrowse/ws")
        );
        assert_eq!(
            ws_url("HTTPS://cb.example").as_deref(),
            Some("wss://cb.example/cobrowse/ws")
        );
    }

    #[test]
    fn anything_but_an_absolute_http_url_has_no_ws_url() {
        for bad in [
            "",
            "cb.example",
            "ftp://cb.example",
            "ws://cb.example",
            "http://",
            "https:///path",
            "javascript:alert(1)",
            "http://h/?x=1",
            "http://h/#f",
        ] {
            assert_eq!(ws_url(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn api_error_codes_are_unique_and_round_trip() {
        let mut seen = HashSet::new();
        for e in ApiError::ALL {
            assert!(seen.insert(e.code()), "{} twice", e.code());
            assert_eq!(ApiError::from_code(e.code()), Some(*e));
            assert!((400..600).contains(&e.status()));
        }
        // `ALL` is hand-written: the exhaustive `code()` match names every variant, so its length
        // must equal the number of arms there.
        assert_eq!(ApiError::ALL.len(), 25);
    }

    #[test]
    fn desktop_event_kinds_round_trip_and_events_read_back() {
        for k in DesktopEventKind::ALL {
            assert_eq!(DesktopEventKind::from_code(k.code()), Some(*k));
        }
        assert_eq!(DesktopEventKind::ALL.len(), 8);
        let json = r#"{"type":"activated","token":"123456789","historyId":"h","state":"active",
            "createdAt":1,"activatedAt":2,"agentId":"a","agents":1,"mode":"write",
            "endReason":null,"at":3}"#;
        let e: DesktopEvent = serde_json::from_str(json).expect("reads");
        assert_eq!(
            (e.kind, e.mode, e.activated_at),
            (DesktopEventKind::Activated, Mode::Write, Some(2))
        );
        let back = serde_json::to_value(&e).expect("writes");
        assert_eq!(back["type"], "activated");
        assert!(
            serde_json::from_str::<DesktopEvent>(&json.replace("activated\"", "nope\"")).is_err()
        );
    }
}
