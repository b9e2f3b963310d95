//! `GET /cobrowse/ws`: the WebSocket upgrade, done here rather than by warp's `ws()` filter so
//! the socket can be read with a small limit until its `Hello` is admitted (`crate::net::socket`;
//! warp's socket fixes its limits at the upgrade and hides the stream that could change them).
//!
//! Before upgrading, the client's address gets a connection slot (`crate::net::limits::Slots`): an
//! address over `limits.pendingConnectionsPerAddress` sockets without a `Hello`, or over
//! `limits.connectionsPerAddress` sockets in all, is answered `429 rate_limited` with
//! `Retry-After` and never upgraded, which costs the server no socket state at all.

use super::ConnMeta;
use crate::app::App;
use crate::net::deflate;
use crate::net::limits::{Admission, SlotRefused};
use crate::net::socket::{Socket, SocketLimits};
use crate::origin;
use crate::reply::{self, Resp};
use cobrowse_protocol::rest::{self, ApiError};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use warp::http::{HeaderMap, HeaderValue, StatusCode, header};
use warp::{Filter, Rejection};

/// The `Sec-WebSocket-Key` of a WebSocket upgrade request (RFC 6455 §4.2.1), if it is one.
fn websocket_key(headers: &HeaderMap) -> Option<&HeaderValue> {
    let get = |n: header::HeaderName| headers.get(n).and_then(|v| v.to_str().ok());
    let connection_upgrade = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
    let upgrade_websocket =
        get(header::UPGRADE).is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    let version_13 = get(header::SEC_WEBSOCKET_VERSION) == Some("13");
    (connection_upgrade && upgrade_websocket && version_13)
        .then(|| headers.get(header::SEC_WEBSOCKET_KEY))
        .flatten()
}

fn too_many(app: &App, ip: IpAddr, refused: SlotRefused) -> Resp {
    app.metrics.rate_limited.increment(1);
    let (message, retry) = match refused {
        SlotRefused::Pending => (
            "too many connections without a Hello from this address; try again later",
            app.config.hello_timeout.as_secs().max(1),
        ),
        SlotRefused::Open => (
            "too many connections from this address; try again later",
            60,
        ),
    };
    tracing::info!(%ip, ?refused, "websocket refused: connection slots of this address in use");
    let mut r = reply::error(ApiError::RateLimited, message);
    if let Ok(v) = HeaderValue::from_str(&retry.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// The `/cobrowse/ws` route. Requests that are not WebSocket upgrades are passed on (they end
/// as the static files' 404).
pub fn route(app: Arc<App>) -> impl Filter<Extract = (Resp,), Error = Rejection> + Clone {
    let with_app = warp::any().map(move || app.clone());
    warp::path!("cobrowse" / "ws")
        .and(warp::get())
        .and(warp::header::headers_cloned())
        .and(warp::addr::remote())
        .and(warp::ext::optional::<OnUpgrade>())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(with_app)
        .and_then(
            |headers: HeaderMap,
             remote: Option<SocketAddr>,
             on_upgrade: Option<OnUpgrade>,
             query: String,
             app: Arc<App>| async move {
                let Some(key) = websocket_key(&headers) else {
                    return Err(warp::reject::not_found());
                };
                let accept = derive_accept_key(key.as_bytes());
                let ip = crate::cluster::client_addr(&app, &headers, remote).await;
                let small_frames = query.split('&').any(|p| p == rest::WS_AGENT_HINT);
                Ok::<_, Rejection>(upgrade(app, &headers, ip, on_upgrade, accept, small_frames))
            },
        )
}

fn upgrade(
    app: Arc<App>,
    headers: &HeaderMap,
    ip: IpAddr,
    on_upgrade: Option<OnUpgrade>,
    accept: String,
    small_frames: bool,
) -> Resp {
    let slot = match app.slots.acquire(ip) {
        Ok(slot) => slot,
        Err(refused) => return too_many(&app, ip, refused),
    };
    let Some(on_upgrade) = on_upgrade else {
        return reply::error(ApiError::BadRequest, "this connection cannot be upgraded");
    };
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let admission = Admission::new(slot);
    let meta = ConnMeta {
        ip,
        origin: origin::check(&app.config.allowed_origins, get("origin"), get("host")),
        admission: admission.clone(),
    };
    let limits = SocketLimits {
        hello_bytes: app.config.hello_max_bytes,
        // Slightly above the decode limit so that an oversized frame reaches the decoder
        // (which names what is too large); far larger ones stop at the socket layer.
        frame_bytes: app.config.limits.max_frame_bytes.saturating_add(64 * 1024),
    };
    let agreed = app
        .config
        .websocket_compression
        .then(|| {
            deflate::negotiate(
                headers
                    .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
                    .iter()
                    .filter_map(|v| v.to_str().ok()),
                small_frames,
            )
        })
        .flatten();
    app.metrics.upgrades[usize::from(agreed.is_some())].increment(1);
    let answer = agreed
        .as_ref()
        .and_then(|a| HeaderValue::from_str(a.header()).ok());
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let socket = Socket::new(TokioIo::new(upgraded), admission, limits, agreed);
                super::serve(app, socket, meta).await;
            }
            Err(e) => tracing::debug!(error = %e, "websocket upgrade failed"),
        }
    });
    let mut r = Resp::new(Default::default());
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    if let Some(v) = answer {
        h.insert(header::SEC_WEBSOCKET_EXTENSIONS, v);
    }
    r
}
