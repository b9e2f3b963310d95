//! Cluster mode (storage `cassandra`): node registry, owner lookup, WebSocket proxying to the
//! owner and failover by compare-and-set claim.
//!
//! # Routing choice: proxy, not redirect
//!
//! A WebSocket that reaches a node which does not own its session is **proxied** to the owner:
//! browsers' `WebSocket` does not follow HTTP redirects on the upgrade, and the token is only
//! known after the first frame (`Hello`), when a redirect is no longer possible. So a cookie-less
//! client (or a load balancer without stickiness) still works, at the cost of one extra hop;
//! cookie-aware clients avoid the hop because every node sets `gcbSessionServer=<owner>` on
//! session creation and agent lookup, and REST answers carry the owner's `serverUrl`/`wsUrl`.
//! REST lookups need no proxy: any node answers them from the shared store.
//!
//! # Failover
//!
//! A node heartbeats its registry row every `storage.cassandra.nodeHeartbeat`; the row expires
//! after three periods. When a party's `Hello` names a session whose owner's row has expired, or
//! whose owner refuses the proxied connection, the node claims the session with a lightweight
//! transaction (`UPDATE … IF node = <old owner>`): exactly one claimer wins, the others proxy to
//! it. The winner adopts the session (same token, same history record), tells every party that
//! joins it `SessionEvent::OwnerChanged`, and the customer's reconnect sends a fresh snapshot,
//! which reaches the agents. The old owner, should it come back, cannot write the record any more
//! (`update_live` is conditional on ownership) and closes only sessions still recorded as its own.
//! A write-mode grant travels with the live record (`LiveRecord::write_mode`) and survives.
//!
//! # Fencing
//!
//! Two nodes must never serve one session. Every live-record update and delete is conditional on
//! the writer still owning the record; a node whose conditional update fails (another node
//! claimed the session) gives the session up at once: its parties are closed with 1012 and
//! reconnect to the owner (`crate::sessions::relinquish`). A node whose heartbeat has not
//! succeeded for two periods gives up **every** session the same way, before its registry row
//! (three periods) can expire and another node claim them, and answers every `Hello` for a
//! session it does not hold with 1012 until a heartbeat succeeds again: it cannot tell who owns
//! what (split brain, e.g. cut off from the database while its clients still reach it). A
//! session whose record still names this node once it is back is taken up again when a party
//! reconnects. A node that crashed and starts again releases the sessions still recorded as its
//! own for failover (`crate::sessions::recover`).
//!
//! # Keep-alive on the extra hop
//!
//! The proxying node is a WebSocket peer on both sides, so it keeps both alive itself: a ping to
//! the owner and to the client every `limits.pingInterval`, and a side that sent nothing (not
//! even a pong) for two intervals is lost. A lost owner closes the client with 1001 (it
//! reconnects and resumes); a lost client closes the owner's socket (the owner then waits for the
//! party like after any drop). The owner pings the proxying node like any client, so a link
//! black-holed between the two nodes is noticed on both within two to three intervals.
//!
//! # Graceful stop
//!
//! A node that stops on purpose does not make anyone wait for its heartbeat to expire: it
//! releases its sessions (`claim_live` from itself to [`crate::store::RELEASED`]) before closing
//! their parties with 1012, and a node that meets a released record claims it at once
//! (`crate::sessions::hand_over_all`). A stopping node never claims nor proxies.
//!
//! # The client's address
//!
//! A proxied socket carries its client's address to the owner, signed with the proxying node's
//! key (`forwarded`), so rate limits and connection slots count the client, not the node.

use crate::app::{App, now_ms};
use crate::store::{LiveRecord, NodeRecord};
use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use std::fmt::Display;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as TMessage;
use warp::ws::Message as WsMessage;

pub mod forwarded;
pub mod state;
pub use state::{Cluster, NodeInfo, NodeKey};

/// The client's address of a request: the one a node of this cluster forwards with a socket it
/// proxies (when its signature holds), else the socket peer or what trusted proxies say
/// (`crate::net::client_addr`).
pub async fn client_addr(
    app: &App,
    headers: &warp::http::HeaderMap,
    remote: Option<std::net::SocketAddr>,
) -> std::net::IpAddr {
    if let Some(ip) = forwarded::verified_client(app, headers).await {
        return ip;
    }
    crate::net::client_addr::from_headers(&app.config.trusted_proxies, headers, remote)
}

/// Turns cluster mode on: records the node's addresses and starts the heartbeat task (which
/// stops when the app is dropped or shutting down).
pub async fn start(
    app: &Arc<App>,
    local: std::net::SocketAddr,
) -> Result<(), crate::store::StoreError> {
    let crate::config::StorageConfig::Cassandra(c) = &app.config.storage else {
        return Ok(());
    };
    let host = if local.ip().is_unspecified() {
        std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), local.port())
    } else {
        local
    };
    let internal_url = if app.config.internal_url.is_empty() {
        format!("http://{host}")
    } else {
        app.config.internal_url.clone()
    };
    // Configured only (`serverUrl`, else `cluster.url`): handed to clients, so never guessed.
    // Empty: clients keep the URL they came through (the load balancer), which proxies.
    let public_url = app.config.public_url().unwrap_or_default().to_string();
    let info = NodeInfo {
        name: app.config.node_name.clone(),
        internal_url,
        public_url,
        heartbeat: c.node_heartbeat,
        // A new key each start: a restarted node publishes it with its first heartbeat.
        key: NodeKey::generate(),
    };
    let record = |i: &NodeInfo| NodeRecord {
        name: i.name.clone(),
        internal_url: i.internal_url.clone(),
        public_url: i.public_url.clone(),
        heartbeat_at: now_ms(),
        proxy_key: i.key.to_hex(),
    };
    // The first heartbeat is synchronous so a node is routable as soon as it serves.
    let first_sent = now_ms();
    app.store
        .heartbeat(record(&info), info.heartbeat * 3)
        .await?;
    app.cluster.set_node(info.clone());
    refresh_peers(app).await;
    let last_ok = Arc::new(std::sync::atomic::AtomicU64::new(first_sent));
    spawn_watchdog(app, info.heartbeat, last_ok.clone());
    let weak = Arc::downgrade(app);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(info.heartbeat);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(app) = weak.upgrade() else { return };
            if app.is_shutting_down() {
                return;
            }
            // Bounded: a black-holed database must not hold the heartbeat (and the fence).
            // The row's expiry counts from when the database applied the write, which is after
            // this send; counting the fence from the send keeps it before the expiry however
            // late the answer comes.
            let sent = now_ms();
            let beat = app.store.heartbeat(record(&info), info.heartbeat * 3);
            match tokio::time::timeout(info.heartbeat, beat).await {
                Ok(Ok(())) => {
                    last_ok.fetch_max(sent, std::sync::atomic::Ordering::SeqCst);
                    if app.cluster.set_fenced(false) {
                        tracing::warn!("node heartbeat succeeds again: serving sessions again");
                    }
                    let _ = tokio::time::timeout(info.heartbeat, refresh_peers(&app)).await;
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "node heartbeat failed"),
                Err(_) => tracing::warn!("node heartbeat timed out"),
            }
        }
    });
    Ok(())
}

/// Fences the node once its last successful heartbeat is two periods old: its registry row
/// expires after three, and then another node may claim its sessions. Checked four times a
/// period, independently of the heartbeat call, which may hang.
fn spawn_watchdog(app: &Arc<App>, heartbeat: Duration, last_ok: Arc<std::sync::atomic::AtomicU64>) {
    let weak = Arc::downgrade(app);
    let limit = (heartbeat * 2).as_millis() as u64;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval((heartbeat / 4).max(Duration::from_millis(10)));
        loop {
            tick.tick().await;
            let Some(app) = weak.upgrade() else { return };
            if app.is_shutting_down() {
                return;
            }
            let since = now_ms().saturating_sub(last_ok.load(std::sync::atomic::Ordering::SeqCst));
            if since >= limit && app.cluster.set_fenced(true) {
                let n = crate::sessions::relinquish_all(&app);
                tracing::warn!(
                    since_ms = since,
                    sessions = n,
                    "no successful heartbeat for two periods: fenced off, sessions given up"
                );
            }
        }
    });
}

/// Runs a send, giving up after `limit` (the other end may be gone without a reset).
async fn bounded<F: std::future::Future>(limit: Duration, send: F) {
    let _ = tokio::time::timeout(limit, send).await;
}

/// Re-reads the public URLs of the registered nodes, which the agent page's CSP allows it to
/// connect to (a failed read keeps the last list).
async fn refresh_peers(app: &App) {
    match app.store.list_nodes().await {
        Ok(nodes) => {
            let mut urls: Vec<String> = nodes
                .into_iter()
                .map(|n| n.public_url)
                .filter(|u| !u.is_empty())
                .collect();
            urls.sort();
            urls.dedup();
            app.cluster.set_peer_urls(urls);
        }
        Err(e) => tracing::warn!(error = %e, "node registry unreadable"),
    }
}

/// Where a party for a session this node does not hold should go.
#[derive(Debug)]
pub enum Route {
    /// Serve it here (adopted, or unknown: the normal checks answer).
    Local,
    /// Proxy to the owner: its name and internal base URL.
    Proxy {
        /// Owner node name.
        owner: String,
        /// Owner's internal base URL.
        url: String,
    },
    /// Nobody can tell who owns it now (this node is fenced off, or the store did not answer):
    /// the party is sent away to retry (1012), never told the session is unknown.
    Unavailable,
}

async fn owner_alive(app: &App, owner: &str) -> Option<NodeRecord> {
    match app.store.list_nodes().await {
        Ok(nodes) => nodes.into_iter().find(|n| n.name == owner),
        Err(e) => {
            tracing::warn!(error = %e, "node registry unreadable");
            None
        }
    }
}

/// Decides where a `Hello` for `token` goes when the session is not in the local registry.
/// `owner_unreachable` says a proxy attempt to `owner` just failed.
pub async fn route(app: &Arc<App>, token: &str, owner_unreachable: Option<&str>) -> Route {
    let Some(me) = app.cluster.node() else {
        return Route::Local;
    };
    if app.cluster.is_fenced() {
        return Route::Unavailable;
    }
    for _ in 0..3 {
        let rec = match app.store.get_live(token.to_string()).await {
            Ok(Some(r)) => r,
            Ok(None) => return Route::Local,
            Err(e) => {
                tracing::warn!(error = %e, "owner lookup failed");
                return Route::Unavailable;
            }
        };
        if rec.node == me.name {
            // Recorded as this node's but not held here: given up while fenced, and nobody
            // claimed it meanwhile. Taken up again (the claim proves the record is still ours).
            if !app.is_shutting_down()
                && app.registry.get(token).is_none()
                && let Ok(true) = app.store.claim_live(me.name.clone(), rec.clone()).await
            {
                adopt(app, rec).await;
            }
            return Route::Local;
        }
        if owner_unreachable != Some(rec.node.as_str())
            && let Some(owner) = owner_alive(app, &rec.node).await
        {
            return Route::Proxy {
                owner: owner.name,
                url: owner.internal_url,
            };
        }
        // The owner is gone (or released the session on a graceful stop): claim it; exactly one
        // claimer wins. A node that is stopping itself never claims.
        if app.is_shutting_down() {
            return Route::Local;
        }
        let old = rec.node.clone();
        let mut claimed = rec.clone();
        claimed.node = me.name.clone();
        claimed.node_url = me.public_url.clone();
        match app.store.claim_live(old.clone(), claimed.clone()).await {
            Ok(true) => {
                tracing::info!(token, from = %old, "claimed session from a lost node");
                adopt(app, claimed).await;
                return Route::Local;
            }
            Ok(false) => continue, // someone else won; look again
            Err(e) => {
                tracing::warn!(error = %e, "claim failed");
                return Route::Unavailable;
            }
        }
    }
    Route::Local
}

async fn adopt(app: &Arc<App>, rec: LiveRecord) {
    let history = match app.store.get_history(rec.history_id.clone()).await {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "history unreadable while adopting");
            None
        }
    };
    crate::sessions::adopt(app, rec, history);
}

/// Relays a client socket to the owner node: sends `hello` (the raw first frame) and pumps
/// binary and close frames both ways until either side closes. The upgrade carries `client`,
/// signed with this node's key (`forwarded`). `Err` when the owner could not be reached
/// (nothing was sent to the client yet, so the caller may claim and serve locally).
pub async fn proxy<Si, St, E>(
    app: &App,
    owner_base: &str,
    client: std::net::IpAddr,
    hello: Bytes,
    mut client_tx: Si,
    mut client_rx: St,
) -> Result<(), (Si, St)>
where
    Si: Sink<WsMessage> + Unpin + Send,
    St: Stream<Item = Result<WsMessage, E>> + Unpin + Send,
    E: Display,
{
    let Some(url) = cobrowse_protocol::rest::ws_url(owner_base) else {
        tracing::warn!(owner = %owner_base, "owner's internal URL is not http(s); serving locally");
        return Err((client_tx, client_rx));
    };
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let Ok(mut request) = url.as_str().into_client_request() else {
        tracing::warn!(%url, "owner's WebSocket URL is not a valid request; serving locally");
        return Err((client_tx, client_rx));
    };
    if let Some(me) = app.cluster.node() {
        for (name, value) in forwarded::headers(&me.name, &me.key, client) {
            if let Ok(v) = value.parse() {
                request.headers_mut().insert(name, v);
            }
        }
    }
    // Lean buffers like every socket; the size limit stays tungstenite's 64 MiB: the owner already
    // held its clients to its own limits, which need not equal this node's.
    let config = crate::net::socket::lean_config(64 << 20);
    // `true`: TCP_NODELAY, so a small frame is not held behind an unacknowledged one.
    let connect = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    let upstream = match tokio::time::timeout(Duration::from_secs(3), connect).await {
        Ok(Ok((ws, _))) => ws,
        Ok(Err(e)) => {
            tracing::info!(%url, error = %e, "owner unreachable");
            return Err((client_tx, client_rx));
        }
        Err(_) => {
            tracing::info!(%url, "owner did not answer within 3 s");
            return Err((client_tx, client_rx));
        }
    };
    let (mut up_tx, mut up_rx) = upstream.split();
    if up_tx.send(TMessage::Binary(hello)).await.is_err() {
        return Err((client_tx, client_rx));
    }
    tracing::debug!(%url, "proxying websocket to owner");
    // Each hop keeps itself alive (see the module docs): pings both ways every interval, and a
    // side silent for two intervals is lost. Sends are bounded too: a black-holed side fills its
    // socket buffer and would block the other direction for ever.
    let interval = app.config.ping_interval;
    let lost_after = interval * 2;
    let stall = lost_after.max(Duration::from_secs(1));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    let (mut client_seen, mut owner_seen) = (Instant::now(), Instant::now());
    let give_up = |why: &'static str| WsMessage::close_with(1001u16, why);
    loop {
        tokio::select! {
            m = client_rx.next() => {
                client_seen = Instant::now();
                match m {
                    Some(Ok(m)) if m.is_binary() => {
                        let sent = tokio::time::timeout(stall, up_tx.send(TMessage::Binary(m.into_bytes()))).await;
                        if !matches!(sent, Ok(Ok(()))) {
                            bounded(stall, client_tx.send(give_up("owner node lost"))).await;
                            break;
                        }
                    }
                    Some(Ok(m)) if m.is_close() => {
                        bounded(stall, up_tx.send(TMessage::Close(None))).await;
                        break;
                    }
                    Some(Ok(_)) => {}
                    _ => { bounded(stall, up_tx.send(TMessage::Close(None))).await; break; }
                }
            },
            m = up_rx.next() => {
                owner_seen = Instant::now();
                match m {
                    Some(Ok(TMessage::Binary(b))) => {
                        let sent = tokio::time::timeout(stall, client_tx.send(WsMessage::binary(b))).await;
                        if !matches!(sent, Ok(Ok(()))) {
                            bounded(stall, up_tx.send(TMessage::Close(None))).await;
                            break;
                        }
                    }
                    Some(Ok(TMessage::Close(frame))) => {
                        let msg = match frame {
                            Some(f) => WsMessage::close_with(u16::from(f.code), f.reason.to_string()),
                            None => WsMessage::close(),
                        };
                        bounded(stall, client_tx.send(msg)).await;
                        break;
                    }
                    Some(Ok(_)) => {}
                    _ => {
                        // The owner died mid-session: going away, so the client reconnects (and
                        // this or another node claims the session).
                        bounded(stall, client_tx.send(give_up("owner node lost"))).await;
                        break;
                    }
                }
            },
            _ = ticker.tick() => {
                if owner_seen.elapsed() > lost_after {
                    tracing::info!(%url, "owner node silent for two ping intervals; closing the proxied socket");
                    bounded(stall, client_tx.send(give_up("owner node lost (keepalive)"))).await;
                    bounded(stall, up_tx.send(TMessage::Close(None))).await;
                    break;
                }
                if client_seen.elapsed() > lost_after {
                    tracing::info!(%url, "client silent for two ping intervals; closing the proxied socket");
                    bounded(stall, up_tx.send(TMessage::Close(None))).await;
                    bounded(stall, client_tx.send(give_up("keepalive timeout"))).await;
                    break;
                }
                let up = tokio::time::timeout(stall, up_tx.send(TMessage::Ping(Bytes::new()))).await;
                let down = tokio::time::timeout(stall, client_tx.send(WsMessage::ping(Vec::new()))).await;
                if !matches!(up, Ok(Ok(()))) || !matches!(down, Ok(Ok(()))) {
                    bounded(stall, client_tx.send(give_up("owner node lost"))).await;
                    break;
                }
            }
        }
    }
    Ok(())
}
