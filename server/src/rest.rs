//! REST handlers under `/cobrowse/rest/` (shapes fixed in ARCHITECTURE.md) and `/cobrowse/health`.
//!
//! Routing inside `/cobrowse/rest/` is one `match` on method and path segments instead of a warp
//! filter per endpoint: every answer, including "no such endpoint", is then a JSON error with a
//! stable code and the CORS headers the origin deserves, which warp rejections would not give.
//!
//! Order of checks, and why: origin (CORS) first, so a refused site learns nothing else; then the
//! rate limit for token lookups, before the lookup, so guessing costs attempts whether it hits or
//! not; then agent auth; then the lookup. Wrong tokens get the same 404 whatever their shape.

use crate::app::App;
use crate::origin::{self, OriginCheck};
use crate::sessions::{self, SessionInfo, is_token_shaped, state_name};
use bytes::Bytes;
use cobrowse_protocol::{EndReason, SessionState};
use serde_json::{Value, json};
use std::net::IpAddr;
use std::sync::Arc;
use warp::http::{HeaderMap, HeaderValue, Method, StatusCode, header};

/// HTTP response type of all handlers.
pub type Resp = warp::reply::Response;

/// The parts of a request the REST layer uses.
#[derive(Debug)]
pub struct RestRequest {
    /// Method.
    pub method: Method,
    /// Path after `/cobrowse/rest/`.
    pub path: String,
    /// Headers.
    pub headers: HeaderMap,
    /// Client address (after `X-Forwarded-For` when trusted).
    pub ip: IpAddr,
    /// Body (at most [`MAX_BODY`] bytes).
    pub body: Bytes,
}

/// Largest accepted request body.
pub const MAX_BODY: usize = 64 * 1024;

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// The client's address: the socket peer, or the first `X-Forwarded-For` hop when the operator
/// says a trusted proxy sets it.
pub fn client_ip(app: &App, headers: &HeaderMap, remote: Option<std::net::SocketAddr>) -> IpAddr {
    if app.config.trust_forwarded_for
        && let Some(ip) = header_str(headers, "x-forwarded-for")
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return ip;
    }
    remote
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

/// This node's public URL: `serverUrl` when configured, else from the request.
pub fn node_url(app: &App, headers: &HeaderMap) -> String {
    if !app.config.server_url.is_empty() {
        return app.config.server_url.clone();
    }
    let scheme = header_str(headers, "x-forwarded-proto")
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    let host = header_str(headers, "host").unwrap_or("localhost");
    format!("{scheme}://{host}")
}

fn ws_url(server_url: &str) -> String {
    let rest = server_url
        .strip_prefix("https://")
        .map(|r| format!("wss://{r}"))
        .or_else(|| {
            server_url
                .strip_prefix("http://")
                .map(|r| format!("ws://{r}"))
        })
        .unwrap_or_else(|| server_url.to_string());
    // A serverUrl may carry a path prefix (behind a proxy); the WS lives under it.
    format!("{}/cobrowse/ws", rest.trim_end_matches('/'))
}

/// Builds a JSON response.
pub fn json_response(status: StatusCode, body: &Value) -> Resp {
    let mut r = Resp::new(Bytes::from(body.to_string()).into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `{"error":{"code","message"}}`.
pub fn error(status: StatusCode, code: &str, message: &str) -> Resp {
    json_response(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
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

fn set_cookie(r: Resp, app: &App) -> Resp {
    set_cookie_for(r, &app.config.node_name)
}

fn set_cookie_for(mut r: Resp, node: &str) -> Resp {
    // Cookie stickiness for load balancers (the reference product's cookie name).
    let value = format!("gcbSessionServer={node}; Path=/; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&value) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

fn authorized(app: &App, headers: &HeaderMap) -> bool {
    let Some(expected) = &app.config.agent_token else {
        return true;
    };
    header_str(headers, "authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| {
            let (a, b) = (t.trim().as_bytes(), expected.as_bytes());
            a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
        })
}

fn unknown() -> Resp {
    error(
        StatusCode::NOT_FOUND,
        "unknown_session",
        "no live session has this token",
    )
}

fn rate_limited() -> Resp {
    let mut r = error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "too many session lookups from this address; try again later",
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    r
}

fn info_json(app: &App, info: &SessionInfo, url: &str) -> Value {
    json!({
        "token": info.token,
        "historyId": info.history_id,
        "state": state_name(info.state),
        "agents": info.agents,
        "createdAt": info.created_at,
        "activatedAt": info.activated_at,
        "writeModeAllowed": app.config.write_mode_allowed,
        "serverUrl": url,
        "wsUrl": ws_url(url),
        "node": {"name": app.config.node_name, "url": url},
        "allowedExternalDomains": app.config.allowed_external_domains,
        "allowedThirdPartyDomains": app.config.allowed_third_party_domains,
    })
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
            StatusCode::FORBIDDEN,
            "origin_refused",
            "this origin is not allowed to use the co-browse server",
        );
    }
    let resp = route(&app, &req, &origin).await;
    with_cors(resp, &origin)
}

async fn route(app: &Arc<App>, req: &RestRequest, origin: &OriginCheck) -> Resp {
    let segs: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    if req.method == Method::OPTIONS {
        let mut r = Resp::new(Default::default());
        *r.status_mut() = StatusCode::NO_CONTENT;
        let h = r.headers_mut();
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
    match (req.method.clone(), segs.as_slice()) {
        (Method::POST, ["live", "sessions"]) => create(app, req, origin).await,
        (Method::GET, ["live", "sessions", token]) => get(app, req, token).await,
        (Method::POST, ["live", "sessions", token, "stop"]) => stop(app, req, token),
        (Method::GET, ["history", "sessions", id]) => history(app, req, id).await,
        (Method::GET | Method::HEAD, ["ui.json"]) => json_response(
            StatusCode::OK,
            &json!({
                "locale": app.config.ui_locale,
                "theme": app.config.ui_theme,
            }),
        ),
        (Method::GET | Method::HEAD, ["dom-restrictions.json"]) => {
            let value = serde_json::to_value(&app.config.dom_policy).unwrap_or(Value::Null);
            json_response(StatusCode::OK, &value)
        }
        (_, ["live", "sessions"])
        | (_, ["live", "sessions", _])
        | (_, ["live", "sessions", _, "stop"])
        | (_, ["history", "sessions", _])
        | (_, ["dom-restrictions.json"])
        | (_, ["ui.json"]) => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed on this resource",
        ),
        _ => error(StatusCode::NOT_FOUND, "not_found", "no such endpoint"),
    }
}

async fn create(app: &Arc<App>, req: &RestRequest, origin: &OriginCheck) -> Resp {
    #[derive(serde::Deserialize)]
    struct Body {
        url: Option<String>,
    }
    let body: Body = if req.body.iter().all(u8::is_ascii_whitespace) {
        Body { url: None }
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(b) => b,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    &format!("body must be JSON like {{\"url\": \"…\"}}: {e}"),
                );
            }
        }
    };
    let url_value = body.url.filter(|u| u.len() <= 4096);
    let origin_name = match origin {
        OriginCheck::Allowed(o) => Some(o.clone()),
        _ => None,
    };
    let node = node_url(app, &req.headers);
    match sessions::create(app, origin_name, url_value, node.clone()).await {
        Ok(s) => {
            let r = json_response(
                StatusCode::CREATED,
                &json!({
                    "token": s.token,
                    "historyId": s.history_id,
                    "state": "idle",
                    "serverUrl": node,
                    "wsUrl": ws_url(&node),
                    "writeModeAllowed": app.config.write_mode_allowed,
                    "createdAt": s.created_at,
                }),
            );
            set_cookie(r, app)
        }
        Err(sessions::CreateError::Full) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_full",
            "this server holds as many live sessions as it may; try again later",
        ),
        Err(sessions::CreateError::ShuttingDown) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is shutting down",
        ),
        Err(e) => {
            tracing::error!(error = %e, "session create failed");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "the session could not be stored",
            )
        }
    }
}

async fn get(app: &Arc<App>, req: &RestRequest, token: &str) -> Resp {
    if !app.allow_lookup(req.ip) {
        return rate_limited();
    }
    if !authorized(app, &req.headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "an agent auth token is required (Authorization: Bearer …)",
        );
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
                let body = json!({
                    "token": rec.token,
                    "historyId": rec.history_id,
                    "state": rec.state,
                    "agents": Value::Null,
                    "createdAt": rec.created_at,
                    "activatedAt": rec.activated_at,
                    "writeModeAllowed": app.config.write_mode_allowed,
                    "serverUrl": rec.node_url,
                    "wsUrl": ws_url(&rec.node_url),
                    "node": {"name": rec.node, "url": rec.node_url},
                    "allowedExternalDomains": app.config.allowed_external_domains,
                    "allowedThirdPartyDomains": app.config.allowed_third_party_domains,
                });
                set_cookie_for(json_response(StatusCode::OK, &body), &rec.node)
            }
            _ => unknown(),
        };
    }
    match app.registry.get(token) {
        Some(s) => {
            let url = node_url(app, &req.headers);
            set_cookie(
                json_response(StatusCode::OK, &info_json(app, &s.info(), &url)),
                app,
            )
        }
        None => unknown(),
    }
}

fn stop(app: &Arc<App>, req: &RestRequest, token: &str) -> Resp {
    // No agent auth here: knowing the live token is what lets the customer end its own session
    // (the same power as its `Leave`), and the rate limit makes tokens unguessable.
    if !app.allow_lookup(req.ip) {
        return rate_limited();
    }
    if !is_token_shaped(token) {
        return unknown();
    }
    match app.registry.get(token) {
        Some(s) => {
            if s.info().state != SessionState::Ended {
                sessions::end(app, &s, EndReason::ApiStop);
            }
            json_response(StatusCode::OK, &json!({"state": "ended"}))
        }
        None => unknown(),
    }
}

async fn history(app: &Arc<App>, req: &RestRequest, id: &str) -> Resp {
    if !authorized(app, &req.headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "an agent auth token is required (Authorization: Bearer …)",
        );
    }
    let not_found = || {
        error(
            StatusCode::NOT_FOUND,
            "unknown_history",
            "no session history has this id",
        )
    };
    if uuid::Uuid::parse_str(id).is_err() {
        return not_found();
    }
    if let Some(rec) = app.registry.history(id) {
        return json_response(
            StatusCode::OK,
            &serde_json::to_value(&rec).unwrap_or(Value::Null),
        );
    }
    match app.store.get_history(id.to_string()).await {
        Ok(Some(rec)) => json_response(
            StatusCode::OK,
            &serde_json::to_value(&rec).unwrap_or(Value::Null),
        ),
        Ok(None) => not_found(),
        Err(e) => {
            tracing::error!(error = %e, "history read failed");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "history could not be read",
            )
        }
    }
}

/// `GET /cobrowse/health`: 200 when serving and storage answers, else 503.
pub async fn health(app: Arc<App>) -> Resp {
    if app.is_shutting_down() {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"status": "shutting_down", "node": app.config.node_name}),
        );
    }
    match app.store.ping().await {
        Ok(()) => json_response(
            StatusCode::OK,
            &json!({
                "status": "ok",
                "node": app.config.node_name,
                "liveSessions": app.registry.live_count(),
                "storage": "ok",
            }),
        ),
        Err(e) => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"status": "storage_error", "node": app.config.node_name, "error": e.to_string()}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ws_urls_follow_the_scheme() {
        assert_eq!(ws_url("http://h:8700"), "ws://h:8700/cobrowse/ws");
        assert_eq!(ws_url("https://cb.example"), "wss://cb.example/cobrowse/ws");
        assert_eq!(
            ws_url("https://lb.example/node1/"),
            "wss://lb.example/node1/cobrowse/ws"
        );
    }
}
