//! REST handlers under `/cobrowse/rest/` (shapes fixed in ARCHITECTURE.md) and `/cobrowse/health`.
//!
//! Routing inside `/cobrowse/rest/` is a lookup in one table (`crate::endpoints`) instead of a
//! warp filter per endpoint: every answer, including "no such endpoint", is then a JSON error with
//! a stable code and the CORS headers the origin deserves, which warp rejections would not give,
//! and the OpenAPI document is checked against the same table.
//!
//! Order of checks, and why: origin (CORS) first, so a refused site learns nothing else; then the
//! per-address rate limit (token and history lookups share one, session creations have their
//! own), before anything else, so guessing costs attempts whether it hits or not and a refused
//! request costs no storage; then the credential (`crate::auth`: the agent's, or for a stop the
//! customer's secret); then the lookup. Wrong tokens get the same 404 whatever their shape. A
//! throttled request gets `429 rate_limited` with `Retry-After`.
//!
//! URLs in answers (`serverUrl`, `wsUrl`, `node.url`) come from configuration only
//! ([`Config::public_url`](crate::config::Config::public_url)): a `Host` header is written by
//! whoever sends the request, and a URL built from it would send agents wherever an attacker
//! pointed them.

use crate::app::App;
use crate::auth::agent::bearer;
use crate::auth::customer;
use crate::endpoints::{self, Endpoint, Found};
use crate::events::stream::{self, Filter};
use crate::events::tickets::{self, Grant};
use crate::origin::{self, OriginCheck};
use crate::recordings::{self, Part};
use crate::reply::{Resp, error, json_response};
use crate::sessions::{self, SessionInfo, is_token_shaped};
use bytes::Bytes;
use cobrowse_protocol::rest::{
    ApiError, CreateSession, CreatedSession, EVENT_TICKET_PARAM, EventTicket, Health, NodeRef,
    SessionHistory, SessionLookup, Stopped, UiDefaults, ws_url,
};
use cobrowse_protocol::{Code, EndReason, SessionState};
use std::net::IpAddr;
use std::sync::Arc;
use warp::http::{HeaderMap, HeaderValue, Method, StatusCode, header};

/// The parts of a request the REST layer uses.
#[derive(Debug)]
pub struct RestRequest {
    /// Method.
    pub method: Method,
    /// Path after `/cobrowse/rest/`.
    pub path: String,
    /// The raw query string (empty when none).
    pub query: String,
    /// Headers.
    pub headers: HeaderMap,
    /// Client address (after `X-Forwarded-For` when the peer is a trusted proxy).
    pub ip: IpAddr,
    /// The request reached us over https (a trusted proxy says so, or `serverUrl` is https):
    /// cookies get `Secure`.
    pub https: bool,
    /// Body (at most [`MAX_BODY`] bytes).
    pub body: Bytes,
}

/// Largest accepted request body.
pub const MAX_BODY: usize = 64 * 1024;

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// A node's public URL as stored or configured (empty: none) with its WebSocket URL.
fn urls(node_url: &str) -> (Option<String>, Option<String>) {
    let url = Some(node_url.to_string()).filter(|u| !u.is_empty());
    let ws = url.as_deref().and_then(ws_url);
    (url, ws)
}

/// This node's configured public URL (empty when none).
fn own_url(app: &App) -> &str {
    app.config.public_url().unwrap_or("")
}

fn with_cors(mut r: Resp, origin: &OriginCheck) -> Resp {
    if let OriginCheck::Allowed(o) = origin
        && let Ok(v) = HeaderValue::from_str(o)
    {
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    r
}

fn set_cookie(r: Resp, app: &App, req: &RestRequest) -> Resp {
    set_cookie_for(r, &app.config.node_name, req)
}

fn set_cookie_for(mut r: Resp, node: &str, req: &RestRequest) -> Resp {
    // Cookie stickiness for load balancers (the reference product's cookie name). Only the
    // balancer reads it: no script needs it (HttpOnly), and it never goes in clear text once the
    // site is served over https (Secure).
    let secure = if req.https { "; Secure" } else { "" };
    let value = format!("gcbSessionServer={node}; Path=/; HttpOnly; SameSite=Lax{secure}");
    if let Ok(v) = HeaderValue::from_str(&value) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// The 401 to answer when the request carries no valid agent credential
/// (`Authorization: Bearer …`); `None` when it does.
pub(crate) fn agent_refusal(app: &App, req: &RestRequest) -> Option<Resp> {
    let why = app.agent_auth.verify_headers(&req.headers).err()?;
    tracing::info!(ip = %req.ip, path = %req.path, %why, "REST credential refused");
    Some(error(
        ApiError::Unauthorized,
        &format!("{why} (Authorization: Bearer …)"),
    ))
}

fn unknown() -> Resp {
    error(ApiError::UnknownSession, "no live session has this token")
}

pub(crate) fn rate_limited(t: crate::net::Throttled, what: &str) -> Resp {
    let secs = t.secs();
    let mut r = error(
        ApiError::RateLimited,
        &format!("too many {what} from this address; try again in {secs} s"),
    );
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn lookup_answer(app: &App, info: &SessionInfo) -> SessionLookup {
    let (url, ws) = urls(own_url(app));
    SessionLookup {
        token: info.token.clone(),
        history_id: info.history_id.clone(),
        state: info.state,
        agents: Some(info.agents),
        created_at: info.created_at,
        activated_at: info.activated_at,
        write_mode_allowed: app.config.write_mode_allowed,
        server_url: url.clone(),
        ws_url: ws,
        node: NodeRef {
            name: app.config.node_name.clone(),
            url,
        },
        allowed_external_domains: app.config.allowed_external_domains.clone(),
        allowed_third_party_domains: app.config.allowed_third_party_domains.clone(),
    }
}

/// Handles one request under `/cobrowse/rest/`.
pub async fn handle(app: Arc<App>, req: RestRequest) -> Resp {
    let origin = origin::check(
        &app.config.allowed_origins,
        header_str(&req.headers, "origin"),
        header_str(&req.headers, "host"),
    );
    if let OriginCheck::Refused(o) = &origin {
        tracing::info!(origin = %o, path = %req.path, "REST origin refused");
        return error(
            ApiError::OriginRefused,
            "this origin is not allowed to use the co-browse server",
        );
    }
    let resp = route(&app, &req, &origin).await;
    with_cors(resp, &origin)
}

async fn route(app: &Arc<App>, req: &RestRequest, origin: &OriginCheck) -> Resp {
    let found = endpoints::find(req.method.as_str(), &req.path);
    if req.method == Method::OPTIONS {
        // CORS preflight, on the API's own paths only.
        let allow = match &found {
            Found::WrongMethod { allow } => allow.join(", "),
            _ => return error(ApiError::NotFound, "no such endpoint"),
        };
        let mut r = Resp::new(Default::default());
        *r.status_mut() = StatusCode::NO_CONTENT;
        let h = r.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&format!("{allow}, OPTIONS")) {
            h.insert(header::ALLOW, v);
        }
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, authorization"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        return r;
    }
    let (endpoint, param) = match found {
        Found::Endpoint { endpoint, param } => (endpoint, param.unwrap_or("")),
        Found::WrongMethod { allow } => {
            // RFC 9110: a 405 says which methods the resource does answer.
            let mut r = error(
                ApiError::MethodNotAllowed,
                "method not allowed on this resource",
            );
            if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                r.headers_mut().insert(header::ALLOW, v);
            }
            return r;
        }
        Found::Nothing => return error(ApiError::NotFound, "no such endpoint"),
    };
    match endpoint {
        Endpoint::CreateSession => create(app, req, origin).await,
        Endpoint::LookupSession => get(app, req, param).await,
        Endpoint::StopSession => stop(app, req, param).await,
        Endpoint::History => history(app, req, param).await,
        Endpoint::Recording => recordings::answer(app, req, param, Part::Info).await,
        Endpoint::RecordingFrames => recordings::answer(app, req, param, Part::Frames).await,
        Endpoint::SessionEvents => session_events(app, req, param).await,
        Endpoint::AgentEvents => agent_events(app, req, param),
        Endpoint::EventTicket => event_ticket(app, req),
        Endpoint::SupervisorSessions => crate::supervision::live_sessions(app, req).await,
        Endpoint::SupervisorHistory => crate::supervision::history(app, req).await,
        Endpoint::UiDefaults => json_response(
            StatusCode::OK,
            &UiDefaults {
                locale: app.config.ui_locale.clone(),
                theme: app.config.ui_theme.clone(),
                desktop_origins: app.config.desktop_origins.clone(),
            },
        ),
        Endpoint::DomRestrictions => json_response(StatusCode::OK, &app.config.dom_policy),
        Endpoint::OpenApi => crate::openapi::response(),
    }
}

async fn create(app: &Arc<App>, req: &RestRequest, origin: &OriginCheck) -> Resp {
    if let Err(t) = app.allow_create(req.ip) {
        return rate_limited(t, "session creations");
    }
    let body = match create_options(&req.body) {
        Ok(b) => b,
        Err(e) => {
            return error(
                ApiError::BadRequest,
                &format!("body must be a JSON object like {{\"url\": \"…\"}}: {e}"),
            );
        }
    };
    let url_value = body.url.filter(|u| u.len() <= 4096);
    let origin_name = match origin {
        OriginCheck::Allowed(o) => Some(o.clone()),
        _ => None,
    };
    let (node, ws) = urls(own_url(app));
    let secret = customer::new_secret();
    let key = customer::digest(&secret);
    match sessions::create(app, origin_name, url_value, own_url(app).to_string(), key).await {
        Ok(s) => {
            let r = json_response(
                StatusCode::CREATED,
                &CreatedSession {
                    token: s.token.clone(),
                    history_id: s.history_id.clone(),
                    state: SessionState::Idle,
                    customer_secret: secret,
                    server_url: node,
                    ws_url: ws,
                    write_mode_allowed: app.config.write_mode_allowed,
                    created_at: s.created_at,
                },
            );
            set_cookie(r, app, req)
        }
        Err(sessions::CreateError::Full) => error(
            ApiError::ServerFull,
            "this server holds as many live sessions as it may; try again later",
        ),
        Err(sessions::CreateError::ShuttingDown) => {
            error(ApiError::ShuttingDown, "the server is shutting down")
        }
        Err(e) => {
            tracing::error!(error = %e, "session create failed");
            error(
                ApiError::StorageUnavailable,
                "the session could not be stored",
            )
        }
    }
}

/// The options of a session creation. No body, `null` and `{}` all mean none; anything else
/// must be a JSON object (serde alone would also fill the struct from an array like `["…"]`).
fn create_options(body: &[u8]) -> Result<CreateSession, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(CreateSession::default());
    }
    match serde_json::from_slice(body).map_err(|e| e.to_string())? {
        serde_json::Value::Null => Ok(CreateSession::default()),
        v @ serde_json::Value::Object(_) => serde_json::from_value(v).map_err(|e| e.to_string()),
        _ => Err("not an object".into()),
    }
}

async fn get(app: &Arc<App>, req: &RestRequest, token: &str) -> Resp {
    if let Err(t) = app.allow_lookup(req.ip) {
        return rate_limited(t, "session lookups");
    }
    if let Some(refused) = agent_refusal(app, req) {
        return refused;
    }
    if !is_token_shaped(token) {
        return unknown();
    }
    if app.registry.get(token).is_none()
        && let crate::cluster::Route::Proxy { .. } = crate::cluster::route(app, token, None).await
    {
        // Another live node owns it: answer from the shared store with the owner's URL and a
        // cookie naming the owner, so the agent's socket goes straight there.
        return match app.store.get_live(token.to_string()).await {
            Ok(Some(rec)) => {
                let (url, ws) = urls(&rec.node_url);
                let body = SessionLookup {
                    token: rec.token,
                    history_id: rec.history_id,
                    // A state this version does not know is still a live session.
                    state: SessionState::from_code(&rec.state).unwrap_or(SessionState::Active),
                    agents: None,
                    created_at: rec.created_at,
                    activated_at: rec.activated_at,
                    write_mode_allowed: app.config.write_mode_allowed,
                    server_url: url.clone(),
                    ws_url: ws,
                    node: NodeRef {
                        name: rec.node.clone(),
                        url,
                    },
                    allowed_external_domains: app.config.allowed_external_domains.clone(),
                    allowed_third_party_domains: app.config.allowed_third_party_domains.clone(),
                };
                set_cookie_for(json_response(StatusCode::OK, &body), &rec.node, req)
            }
            _ => unknown(),
        };
    }
    match app.registry.get(token) {
        Some(s) => set_cookie(
            json_response(StatusCode::OK, &lookup_answer(app, &s.info())),
            app,
            req,
        ),
        None => unknown(),
    }
}

async fn stop(app: &Arc<App>, req: &RestRequest, token: &str) -> Resp {
    // The customer ends its own session with its secret (the same power as its `Leave`); agents
    // and controllers with their credential. Knowing the number is not enough: it was read out
    // over the phone.
    if let Err(t) = app.allow_lookup(req.ip) {
        return rate_limited(t, "session lookups");
    }
    if !is_token_shaped(token) {
        return unknown();
    }
    let agent = app.agent_auth.verify_headers(&req.headers);
    match app.registry.get(token) {
        Some(s) if agent.is_err() && !s.is_customer(bearer(&req.headers)) => {
            tracing::info!(ip = %req.ip, token, "stop refused: neither an agent nor the customer");
            error(
                ApiError::Unauthorized,
                "ending a session needs the customer secret or an agent credential \
                 (Authorization: Bearer …)",
            )
        }
        Some(s) => {
            // Answered once the end is on disk (and the parties were told).
            if let Some(ended) = sessions::end(app, &s, EndReason::ApiStop) {
                let _ = ended.await;
            }
            json_response(
                StatusCode::OK,
                &Stopped {
                    state: SessionState::Ended,
                },
            )
        }
        None => unknown(),
    }
}

async fn history(app: &Arc<App>, req: &RestRequest, id: &str) -> Resp {
    if let Err(t) = app.allow_lookup(req.ip) {
        return rate_limited(t, "session lookups");
    }
    if let Some(refused) = agent_refusal(app, req) {
        return refused;
    }
    let not_found = || error(ApiError::UnknownHistory, "no session history has this id");
    if uuid::Uuid::parse_str(id).is_err() {
        return not_found();
    }
    if let Some(rec) = app.registry.history(id) {
        return json_response(StatusCode::OK, &SessionHistory::from(rec));
    }
    match app.store.get_history(id.to_string()).await {
        Ok(Some(rec)) => json_response(StatusCode::OK, &SessionHistory::from(rec)),
        Ok(None) => not_found(),
        Err(e) => {
            tracing::error!(error = %e, "history read failed");
            error(ApiError::StorageUnavailable, "history could not be read")
        }
    }
}

/// Who may open an event stream: `Authorization: Bearer` with the agent credential, or
/// `?ticket=` from `POST live/event-tickets` (used up here). `Err`: the 401 to answer (boxed:
/// an answer is large next to a grant).
fn stream_grant(app: &App, req: &RestRequest) -> Result<Grant, Box<Resp>> {
    let ticket = reqwest::Url::parse(&format!("http://q.invalid/?{}", req.query))
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == EVENT_TICKET_PARAM)
                .map(|(_, v)| v.into_owned())
        });
    if let Some(ticket) = ticket {
        return app.events.tickets.redeem(&ticket).ok_or_else(|| {
            tracing::info!(ip = %req.ip, path = %req.path, "event ticket refused");
            Box::new(error(
                ApiError::Unauthorized,
                "the ticket is unknown, used or expired (POST live/event-tickets gives a new one)",
            ))
        });
    }
    match app.agent_auth.verify_headers(&req.headers) {
        Ok(v) => Ok(Grant { subject: v.subject }),
        Err(_) => Err(Box::new(agent_refusal(app, req).unwrap_or_else(|| {
            error(ApiError::Unauthorized, "an agent credential is required")
        }))),
    }
}

/// `POST live/event-tickets`: a ticket for `EventSource`, which cannot send `Authorization`.
fn event_ticket(app: &Arc<App>, req: &RestRequest) -> Resp {
    if let Err(t) = app.allow_lookup(req.ip) {
        return rate_limited(t, "session lookups");
    }
    let verified = match app.agent_auth.verify_headers(&req.headers) {
        Ok(v) => v,
        Err(_) => {
            return agent_refusal(app, req).unwrap_or_else(|| {
                error(ApiError::Unauthorized, "an agent credential is required")
            });
        }
    };
    match app.events.tickets.issue(Grant {
        subject: verified.subject,
    }) {
        Some(ticket) => json_response(
            StatusCode::OK,
            &EventTicket {
                ticket,
                expires_at: crate::app::now_ms() + tickets::TTL.as_millis() as u64,
            },
        ),
        None => error(
            ApiError::ServerFull,
            "too many unused event tickets on this server; try again later",
        ),
    }
}

/// `GET live/sessions/{token}/events`: the session's events from its current state on.
async fn session_events(app: &Arc<App>, req: &RestRequest, token: &str) -> Resp {
    if let Err(t) = app.allow_lookup(req.ip) {
        return rate_limited(t, "session lookups");
    }
    if let Err(refused) = stream_grant(app, req) {
        return *refused;
    }
    if !is_token_shaped(token) {
        return unknown();
    }
    // Subscribe first, then read the state: nothing falls between them.
    let rx = app.events.subscribe();
    match app.registry.get(token) {
        Some(s) => stream::response(
            app,
            rx,
            Filter::Session(token.to_string()),
            Some(s.desktop_state()),
        ),
        None => {
            if let crate::cluster::Route::Proxy { .. } =
                crate::cluster::route(app, token, None).await
            {
                // Events are published by the owner; this node would never see one.
                return error(
                    ApiError::UnknownSession,
                    "another node holds this session: open its event stream there (the \
                     lookup's node.url, or through the balancer with the lookup's cookie)",
                );
            }
            unknown()
        }
    }
}

/// `GET live/agents/{agentId}/events`: the events of every session of one agent on this node.
/// A JWT speaks for its `sub` only; the shared agent token for every agent.
fn agent_events(app: &Arc<App>, req: &RestRequest, raw_agent: &str) -> Resp {
    if let Err(t) = app.allow_lookup(req.ip) {
        return rate_limited(t, "session lookups");
    }
    let grant = match stream_grant(app, req) {
        Ok(g) => g,
        Err(refused) => return *refused,
    };
    let agent = match percent_decode(raw_agent) {
        Some(a) if !a.is_empty() && a.len() <= 256 => a,
        _ => {
            return error(
                ApiError::BadRequest,
                "agentId must be 1 to 256 bytes of percent-encoded UTF-8",
            );
        }
    };
    if let Some(sub) = &grant.subject
        && *sub != agent
    {
        return error(
            ApiError::Forbidden,
            "this credential speaks for another agent (its JWT's sub)",
        );
    }
    stream::response(app, app.events.subscribe(), Filter::Agent(agent), None)
}

/// A path segment's percent-decoding (`None`: not UTF-8 or a broken escape).
fn percent_decode(segment: &str) -> Option<String> {
    let b = segment.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `GET /cobrowse/health`: 200 when serving and storage answers, else 503.
pub async fn health(app: Arc<App>) -> Resp {
    let node = app.config.node_name.clone();
    if app.is_shutting_down() {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &Health {
                status: "shutting_down".into(),
                node,
                live_sessions: None,
                storage: None,
                error: None,
            },
        );
    }
    match app.store.ping().await {
        Ok(()) => json_response(
            StatusCode::OK,
            &Health {
                status: "ok".into(),
                node,
                live_sessions: Some(app.registry.live_count()),
                storage: Some("ok".into()),
                error: None,
            },
        ),
        Err(e) => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &Health {
                status: "storage_error".into(),
                node,
                live_sessions: None,
                storage: None,
                error: Some(e.to_string()),
            },
        ),
    }
}
