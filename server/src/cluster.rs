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
//! # Graceful stop
//!
//! A node that stops on purpose does not make anyone wait for its heartbeat to expire: it
//! releases its sessions (`claim_live` from itself to [`crate::store::RELEASED`]) before closing
//! their parties with 1012, and a node that meets a released record claims it at once
//! (`crate::sessions::hand_over_all`). A stopping node never claims nor proxies.

use crate::app::{App, now_ms};
use crate::store::{LiveRecord, NodeRecord};
use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use std::fmt::Display;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message as TMessage;
use warp::ws::Message as WsMessage;

/// This node's addresses in the cluster, fixed once the listener is bound.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// Name (cookie value, registry key).
    pub name: String,
    /// URL other nodes use to reach this one.
    pub internal_url: String,
    /// URL clients use (`serverUrl`).
    pub public_url: String,
    /// Heartbeat period; the registry row lives three periods.
    pub heartbeat: Duration,
}

/// Cluster state of a server (set only in cluster mode).
#[derive(Debug, Default)]
pub struct Cluster {
    node: OnceLock<NodeInfo>,
}

impl Cluster {
    /// This node's info when cluster mode is on.
    pub fn node(&self) -> Option<&NodeInfo> {
        self.node.get()
    }
}

fn ws_url_of(base: &str) -> String {
    let rest = base
        .strip_prefix("https://")
        .map(|r| format!("wss://{r}"))
        .or_else(|| base.strip_prefix("http://").map(|r| format!("ws://{r}")))
        .unwrap_or_else(|| base.to_string());
    format!("{}/cobrowse/ws", rest.trim_end_matches('/'))
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
    let public_url = if app.config.server_url.is_empty() {
        internal_url.clone()
    } else {
        app.config.server_url.clone()
    };
    let info = NodeInfo {
        name: app.config.node_name.clone(),
        internal_url,
        public_url,
        heartbeat: c.node_heartbeat,
    };
    let record = |i: &NodeInfo| NodeRecord {
        name: i.name.clone(),
        internal_url: i.internal_url.clone(),
        public_url: i.public_url.clone(),
        heartbeat_at: now_ms(),
    };
    // The first heartbeat is synchronous so a node is routable as soon as it serves.
    app.store
        .heartbeat(record(&info), info.heartbeat * 3)
        .await?;
    let _ = app.cluster.node.set(info.clone());
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
            if let Err(e) = app.store.heartbeat(record(&info), info.heartbeat * 3).await {
                tracing::warn!(error = %e, "node heartbeat failed");
            }
        }
    });
    Ok(())
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
    for _ in 0..3 {
        let rec = match app.store.get_live(token.to_string()).await {
            Ok(Some(r)) => r,
            Ok(None) => return Route::Local,
            Err(e) => {
                tracing::warn!(error = %e, "owner lookup failed");
                return Route::Local;
            }
        };
        if rec.node == me.name {
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
                return Route::Local;
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
/// binary and close frames both ways until either side closes. `Err` when the owner could not
/// be reached (nothing was sent to the client yet, so the caller may claim and serve locally).
pub async fn proxy<Si, St, E>(
    owner_base: &str,
    hello: Bytes,
    mut client_tx: Si,
    mut client_rx: St,
) -> Result<(), (Si, St)>
where
    Si: Sink<WsMessage> + Unpin + Send,
    St: Stream<Item = Result<WsMessage, E>> + Unpin + Send,
    E: Display,
{
    let url = ws_url_of(owner_base);
    let connect = tokio_tungstenite::connect_async(url.as_str());
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
    loop {
        tokio::select! {
            m = client_rx.next() => match m {
                Some(Ok(m)) if m.is_binary() => {
                    if up_tx.send(TMessage::Binary(m.into_bytes())).await.is_err() { break; }
                }
                Some(Ok(m)) if m.is_close() => {
                    let _ = up_tx.send(TMessage::Close(None)).await;
                    break;
                }
                Some(Ok(_)) => {}
                _ => { let _ = up_tx.send(TMessage::Close(None)).await; break; }
            },
            m = up_rx.next() => match m {
                Some(Ok(TMessage::Binary(b))) => {
                    if client_tx.send(WsMessage::binary(b)).await.is_err() { break; }
                }
                Some(Ok(TMessage::Close(frame))) => {
                    let msg = match frame {
                        Some(f) => WsMessage::close_with(u16::from(f.code), f.reason.to_string()),
                        None => WsMessage::close(),
                    };
                    let _ = client_tx.send(msg).await;
                    break;
                }
                Some(Ok(_)) => {}
                _ => {
                    // The owner died mid-session: going away, so the client reconnects (and
                    // this or another node claims the session).
                    let _ = client_tx.send(WsMessage::close_with(1001u16, "owner node lost")).await;
                    break;
                }
            },
        }
    }
    Ok(())
}
