//! The Cobrowse relay server: static files, REST API, the WebSocket relay between a customer's
//! page and agents' replicas, session lifecycle, storage and metrics.
//!
//! [`run`] takes a bound listener, a validated [`Config`] and a shutdown future, so the binary
//! and the tests (which bind `127.0.0.1:0`) start it the same way ([`run_with`] also takes the
//! metrics listener already bound). Nothing is process-global: several servers can run in one
//! process.
//!
//! # Layout
//!
//! * [`config`] — options (one module per section), defaults, figment layering (TOML file +
//!   env + flags), validation.
//! * [`origin`] — `allowedOrigins` wildcard patterns and the origin check (REST CORS and WS).
//! * [`auth`] — who may act: agent credentials (token, JWT), customer secrets, the agent token
//!   generated into the data directory when none is configured.
//! * [`policy`] — the DOM restriction policy served to clients.
//! * [`cluster`] — cluster mode: node registry heartbeat, owner routing (WebSocket proxy),
//!   failover claims.
//! * [`capture`] — test-only capture of inbound frames (`COBROWSE_TEST_CAPTURE_FRAMES`).
//! * [`net`] — the network edge: the client's address behind trusted proxies, per-address rate
//!   limits and connection slots, the socket read with a small limit before its `Hello`.
//! * [`app`] — per-server shared state: registry, storage writer, per-address limits, page
//!   cache budget, shutdown.
//! * [`sessions`] — session registry, lifecycle, timers, agent limits, relay rules, page cache.
//!   Split by job: `types`, `cache` (late-joiner page cache), `session` (state + registry),
//!   `lifecycle`, `relay` (who may send what), `shutdown`.
//! * [`queue`] — per-connection bounded send queues (coalescing, overflow → resync).
//! * [`ws`] — one WebSocket connection: upgrade, handshake, read loop, writer, keepalive, close
//!   codes. Split by job: `upgrade` (slots, 101), `handshake` (up to the session), `frames`
//!   (reading, refusing), `writer`.
//! * [`rest`] — REST handlers and health; [`recordings`] — the audit recording answers.
//! * [`supervision`] — the supervisor console's REST endpoints: the cluster's live sessions and
//!   the history search, for the supervisor role only.
//! * [`events`] — the integration API for agent desktops: session events on event streams
//!   (`text/event-stream`) and signed webhooks.
//! * [`endpoints`] — the REST route table the router answers and the OpenAPI document follows.
//! * [`openapi`] — the REST API's OpenAPI 3.1 document (`/cobrowse/rest/openapi.json`), from
//!   the protocol's types.
//! * [`reply`] — the HTTP answer type and the shared JSON error shape (REST, CSS proxy).
//! * [`css_proxy`] — `GET /cobrowse/css-proxy?url=…`: allowed sites' stylesheets fetched
//!   server-side, URLs absolutised, pseudo-class copies added, cached by HTTP rules.
//!   Split by job: `guard` (address/scheme/redirect checks), `fetch` (one fetch, its limits and
//!   failures), `cache` (the RFC 9111 LRU cache).
//! * [`statics`] — static files: MIME, caching, the agent page's CSP.
//! * [`routes`] — the warp filter trees (public; internal metrics).
//! * [`store`] — the storage trait and the embedded redb implementation.
//! * [`metrics`] — Prometheus metrics (per-server recorder).
//! * [`error`] — [`ServerError`].

pub mod app;
pub mod auth;
pub mod capture;
pub mod cluster;
pub mod config;
pub mod css_proxy;
pub mod endpoints;
pub mod error;
pub mod events;
pub mod metrics;
pub mod net;
pub mod openapi;
pub mod origin;
pub mod policy;
pub mod queue;
pub mod recordings;
pub mod reply;
pub mod rest;
pub mod routes;
pub mod sessions;
pub mod statics;
pub mod store;
pub mod supervision;
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

/// Tells the operator how agents get in: the agent page URL with the generated token (in the
/// fragment), or loudly that anyone may watch.
fn announce_access(
    config: &Config,
    local: std::net::SocketAddr,
    token_file: Option<&std::path::Path>,
) {
    if config.auth.allow_anonymous_agents {
        tracing::warn!(
            "auth.allowAnonymousAgents = true: ANYONE who knows or guesses a session number can \
             watch and control that customer's page. Configure auth.agentToken or auth.jwt.* \
             for production."
        );
    }
    if let (Some(file), Some(token)) = (token_file, &config.auth.agent_token) {
        let base = auth::generated::local_base(config, local);
        tracing::info!(
            file = %file.display(),
            "agent page (the token in its #fragment is the agent credential; keep it private): {}",
            auth::generated::agent_page_url(&base, token)
        );
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

/// Turns Nagle's algorithm off for every socket `listener` accepts (Linux copies TCP_NODELAY
/// from the listening socket to accepted ones; warp offers no hook on accepted streams). With it
/// on, a small frame written while the previous one is unacknowledged waits for that ACK, which
/// a receiver may delay by tens of milliseconds: a relay's every delta is such a frame. A failure
/// only costs latency, so it is logged, not fatal.
fn no_delay(listener: &tokio::net::TcpListener) {
    if let Err(e) = socket2::SockRef::from(listener).set_tcp_nodelay(true) {
        tracing::warn!(error = %e, "could not set TCP_NODELAY on the listener; frames may wait for ACKs");
    }
}

/// Serves on `listener` until `shutdown` completes, then tells every connected party the server
/// is going away (`Session(ServerGoingAway)`, close 1001; in cluster mode the sessions are handed
/// over to other nodes first and the close is 1012, see [`sessions::hand_over_all`]), waits up
/// to `limits.shutdownGrace` for sockets to close, and flushes storage writes. Metrics are served
/// on `metrics.listen` when it is set (bound here).
pub async fn run(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let metrics = match config.metrics_listen {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
        None => None,
    };
    run_with(listener, metrics, config, shutdown).await
}

/// [`run`] with the internal metrics listener bound by the caller (`None`: no metrics), so tests
/// can bind port 0 and know where it is.
pub async fn run_with(
    listener: tokio::net::TcpListener,
    metrics: Option<tokio::net::TcpListener>,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let mut config = config;
    no_delay(&listener);
    if let Some(m) = &metrics {
        no_delay(m);
    }
    let token_file = auth::generated::resolve(&mut config)?;
    let store = open_store(&config).await?;
    let local = listener.local_addr()?;
    announce_access(&config, local, token_file.as_deref());
    let (app, writer) = app::App::new(config, store);
    cluster::start(&app, local).await?;
    let recovered = sessions::recover(&app).await?;
    if recovered != sessions::Recovered::default() {
        tracing::info!(
            adopted = recovered.adopted,
            released = recovered.released,
            finished = recovered.finished,
            "sessions left live by a previous run: re-adopted, released for another node, or already ended"
        );
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
    let metrics_server = metrics.map(|l| {
        if let Ok(addr) = l.local_addr() {
            tracing::info!(%addr, "metrics served on the internal listener");
        }
        tokio::spawn(
            warp::serve(routes::metrics_routes(app.clone()))
                .incoming(l)
                .run(),
        )
    });
    warp::serve(routes::routes(app.clone()))
        .incoming(listener)
        .graceful(signal)
        .run()
        .await;
    if let Some(m) = metrics_server {
        m.abort();
    }
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

#[cfg(test)]
mod tests {
    /// The relay's latency depends on this: a connection the listener accepts must not run
    /// Nagle's algorithm (the setting is inherited from the listening socket, not set per socket).
    #[tokio::test]
    async fn accepted_sockets_have_no_delay() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _plain_client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (plain, _) = listener.accept().await.unwrap();
        assert!(!plain.nodelay().unwrap(), "the default this guards against");
        super::no_delay(&listener);
        let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        assert!(accepted.nodelay().unwrap());
    }
}
