//! The Cobrowse relay server: static files, REST API, the WebSocket relay between a customer's
//! page and agents' replicas, session lifecycle, storage and metrics.
//!
//! [`run`] takes a bound listener, a validated [`Config`] and a shutdown future, so the binary
//! and the tests (which bind `127.0.0.1:0`) start it the same way. Nothing is process-global:
//! several servers can run in one process.
//!
//! # Layout
//!
//! * [`config`] — options, defaults, TOML + env + CLI layering, validation.
//! * [`origin`] — `allowedOrigins` wildcard patterns and the origin check (REST CORS and WS).
//! * [`policy`] — the DOM restriction policy served to clients.
//! * [`cluster`] — cluster mode: node registry heartbeat, owner routing (WebSocket proxy),
//!   failover claims.
//! * [`capture`] — test-only capture of inbound frames (`COBROWSE_TEST_CAPTURE_FRAMES`).
//! * [`app`] — per-server shared state: registry, storage writer, rate limiter, shutdown.
//! * [`sessions`] — session registry, lifecycle, timers, agent limits, relay rules, page cache.
//! * [`queue`] — per-connection bounded send queues (coalescing, overflow → resync).
//! * [`ws`] — one WebSocket connection: handshake, read loop, writer, keepalive, close codes.
//! * [`rest`] — REST handlers and health.
//! * [`css_proxy`] — `GET /cobrowse/css-proxy?url=…`: allowed sites' stylesheets fetched
//!   server-side, URLs absolutised, pseudo-class copies added, cached by HTTP rules.
//! * [`statics`] — static files: MIME, caching, the agent page's CSP.
//! * [`routes`] — the warp filter tree.
//! * [`store`] — the storage trait and the embedded redb implementation.
//! * [`metrics`] — Prometheus metrics (per-server recorder).
//! * [`error`] — [`ServerError`].

pub mod app;
pub mod capture;
pub mod cluster;
pub mod config;
pub mod css_proxy;
pub mod error;
pub mod metrics;
pub mod origin;
pub mod policy;
pub mod queue;
pub mod rest;
pub mod routes;
pub mod sessions;
pub mod statics;
pub mod store;
pub mod ws;

pub use config::Config;
pub use error::ServerError;

use std::future::Future;
use std::sync::Arc;
use store::{Store, StoreError};

/// Waits up to `limits.shutdownGrace` for sockets to close after their parties were told to
/// go; then aborts the writers still stuck and waits once more.
async fn drain(app: &app::App, queues: Vec<std::sync::Arc<queue::SendQueue>>) {
    let grace = app.config.shutdown_grace;
    if tokio::time::timeout(grace, app.sockets_closed())
        .await
        .is_err()
    {
        tracing::warn!("some sockets did not close within the shutdown grace period");
        for q in queues {
            q.abort();
        }
        let _ = tokio::time::timeout(grace, app.sockets_closed()).await;
    }
}

/// Opens the configured storage backend (for Cassandra: connects, creates the schema when
/// absent and prepares the statements).
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StoreError> {
    match &config.storage {
        config::StorageConfig::Embedded { data_dir } => {
            Ok(Arc::new(store::embedded::EmbeddedStore::open(data_dir)?))
        }
        config::StorageConfig::Cassandra(c) => {
            Ok(Arc::new(store::cassandra::CassandraStore::open(c).await?))
        }
    }
}

/// Serves on `listener` until `shutdown` completes, then tells every connected party the server
/// is going away (`Session(ServerGoingAway)`, close 1001; in cluster mode the sessions are handed
/// over to other nodes first and the close is 1012, see [`sessions::hand_over_all`]), waits up
/// to `limits.shutdownGrace` for sockets to close, and flushes storage writes.
pub async fn run(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let store = open_store(&config).await?;
    let local = listener.local_addr()?;
    let (app, writer) = app::App::new(config, store);
    cluster::start(&app, local).await?;
    let stale = sessions::close_stale(&app).await?;
    if stale > 0 {
        tracing::info!(stale, "closed sessions left live by a previous run");
    }
    let shutdown_app = app.clone();
    let (handed_over_tx, handed_over_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        if !shutdown_app.begin_shutdown() {
            return;
        }
        if shutdown_app.cluster.node().is_some() {
            // In a cluster, sessions are handed over to other nodes. The listener closes at
            // once (this future completing stops accepting), so the load balancer sends every
            // reconnect to another node; the hand-over runs on, and `run` waits for it.
            let app = shutdown_app.clone();
            tokio::spawn(async move {
                let queues = sessions::hand_over_all(&app).await;
                drain(&app, queues).await;
                let _ = handed_over_tx.send(());
            });
            return;
        }
        // Alone, sessions end.
        let queues = sessions::shutdown_all(&shutdown_app);
        drain(&shutdown_app, queues).await;
    };
    warp::serve(routes::routes(app.clone()))
        .incoming(listener)
        .graceful(signal)
        .run()
        .await;
    if app.cluster.node().is_some() {
        let _ = handed_over_rx.await;
    }
    tracing::info!("http server stopped; flushing storage");
    app.close_writes();
    if writer.await.is_err() {
        tracing::error!("storage writer task failed");
    }
    tracing::info!("server stopped");
    Ok(())
}
