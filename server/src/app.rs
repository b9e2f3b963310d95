//! Shared server state: configuration, registry, storage writer, per-address limits, the page
//! cache budget, metrics, and the shutdown flag. One `Arc<App>` per running server; nothing here
//! is global, so tests run many servers in one process.

use crate::config::Config;
use crate::metrics::Metrics;
use crate::net::Throttled;
use crate::net::limits::{RateLimit, Slots};
use crate::sessions::{CacheBudget, Registry};
use crate::store::{HistoryRecord, LiveRecord, RecordingChunk, Store};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::Notify;

/// Milliseconds since the Unix epoch (one definition, in `cobrowse_common::clock`).
pub use cobrowse_common::clock::now_ms;

/// A write for the storage writer task.
#[derive(Debug)]
pub enum StoreOp {
    /// Upsert a history record.
    History(HistoryRecord),
    /// Upsert a live record while its node owns it (a lost conditional write makes the node
    /// stop serving the session: `crate::sessions::relinquish`).
    Live(LiveRecord),
    /// A session ended: its final history record, then its live record removed while `owner`
    /// owns it (`Store::end_live`). `done` hears when that is on disk (or failed), so the end is
    /// acknowledged to the parties only once it cannot be lost.
    End {
        /// The final history record (`ended_at` and `end_reason` set).
        history: HistoryRecord,
        /// The node the live record must belong to.
        owner: String,
        /// Told once the write is done.
        done: Option<tokio::sync::oneshot::Sender<()>>,
    },
    /// Append a recording chunk (kept `recording.retention`).
    Chunk(RecordingChunk),
}

/// Recording chunks that may wait for the writer; beyond it new ones are dropped (and
/// counted), so a database that stalls costs bounded memory: this many chunks of
/// `recording.chunkBytes` at most.
const MAX_PENDING_CHUNKS: usize = 256;

/// The record a write is about: a later write to the same record supersedes it (every write is
/// a whole-record upsert or the end).
/// Chunks are appends, never superseded: each has a key of its own.
fn record_key(op: &StoreOp) -> (u8, String) {
    match op {
        StoreOp::History(r) => (1, r.history_id.clone()),
        StoreOp::Live(r) => (0, r.token.clone()),
        StoreOp::End { history, .. } => (0, history.token.clone()),
        StoreOp::Chunk(c) => (2, c.sort_key()),
    }
}

/// Writes waiting for the storage writer: **at most one per record**. A write to a record that
/// already waits replaces that write in its place, so the queue is bounded by the records this
/// server writes (a live and a history record per session it holds), however slow the storage
/// is and however often a session changes; nothing a later write supersedes is lost, because it
/// would have been overwritten anyway. A burst of navigations costs one history write.
/// Recording chunks are the exception (appends): they are bounded by [`MAX_PENDING_CHUNKS`].
#[derive(Debug, Default)]
struct WriteQueue {
    order: VecDeque<(u8, String)>,
    ops: HashMap<(u8, String), StoreOp>,
    chunks: usize,
    closed: bool,
}

/// What [`WriteQueue::push`] did.
#[derive(Debug, PartialEq, Eq)]
enum Queued {
    Yes,
    /// After [`WriteQueue::close`].
    Closed,
    /// A chunk over [`MAX_PENDING_CHUNKS`].
    Full,
}

impl WriteQueue {
    /// Queues `op`.
    fn push(&mut self, op: StoreOp) -> Queued {
        if self.closed {
            return Queued::Closed;
        }
        let key = record_key(&op);
        match (&op, self.ops.get(&key)) {
            // Nothing after the end: an ended session's live record is gone.
            (StoreOp::Live(_), Some(StoreOp::End { .. })) => return Queued::Yes,
            // The end carries the final history record; a waiting one is superseded.
            (StoreOp::End { history, .. }, _) => {
                self.ops.remove(&(1, history.history_id.clone()));
            }
            (StoreOp::Chunk(_), _) if self.chunks >= MAX_PENDING_CHUNKS => return Queued::Full,
            (StoreOp::Chunk(_), _) => self.chunks += 1,
            _ => {}
        }
        if self.ops.insert(key.clone(), op).is_none() {
            self.order.push_back(key);
        }
        Queued::Yes
    }

    /// Everything waiting, oldest record first.
    fn take(&mut self) -> Vec<StoreOp> {
        let order = std::mem::take(&mut self.order);
        self.chunks = 0;
        order
            .into_iter()
            .filter_map(|k| self.ops.remove(&k))
            .collect()
    }

    fn len(&self) -> usize {
        self.ops.len()
    }

    fn close(&mut self) {
        self.closed = true;
    }
}

/// Everything a request handler or socket needs.
pub struct App {
    /// Validated configuration.
    pub config: Config,
    /// Metric handles.
    pub metrics: Metrics,
    /// Storage backend (reads go straight to it; writes through [`App::write`]).
    pub store: Arc<dyn Store>,
    /// Live sessions.
    pub registry: Registry,
    /// Cluster mode state (node addresses); empty with the embedded store.
    pub cluster: crate::cluster::state::Cluster,
    /// The CSS proxy's client and cache.
    pub css_proxy: crate::css_proxy::CssProxy,
    /// Verifies agents' and controllers' credentials (`auth.*`).
    pub agent_auth: crate::auth::AgentAuth,
    /// WebSocket connections per client address.
    pub slots: Arc<Slots>,
    /// What all sessions' page caches may hold together (`limits.cacheBytes`).
    pub page_caches: Arc<CacheBudget>,
    /// Session events for agent desktops: event streams and webhooks.
    pub events: crate::events::Events,
    me: std::sync::Weak<App>,
    writes: Arc<std::sync::Mutex<WriteQueue>>,
    writes_ready: Arc<Notify>,
    lookups: RateLimit,
    creations: RateLimit,
    shutting_down: AtomicBool,
    sockets: AtomicUsize,
    sockets_done: Notify,
}

impl App {
    /// Builds the state and starts the storage writer; returns the writer's join handle, which
    /// finishes once [`App::close_writes`] was called and every queued write is done.
    pub fn new(config: Config, store: Arc<dyn Store>) -> (Arc<App>, tokio::task::JoinHandle<()>) {
        let writes_ready = Arc::new(Notify::new());
        let writes = Arc::new(std::sync::Mutex::new(WriteQueue::default()));
        let app = Arc::new_cyclic(|me: &std::sync::Weak<App>| App {
            me: me.clone(),
            registry: Registry::default(),
            cluster: crate::cluster::state::Cluster::default(),
            css_proxy: crate::css_proxy::CssProxy::new(
                &config.allowed_external_domains,
                &config.css_proxy,
            ),
            agent_auth: crate::auth::AgentAuth::new(&config.auth),
            metrics: Metrics::new(),
            store: store.clone(),
            slots: Slots::new(
                config.connections_per_address,
                config.pending_connections_per_address,
            ),
            page_caches: CacheBudget::new(config.cache_bytes),
            events: crate::events::Events::new(&config),
            writes: writes.clone(),
            writes_ready: writes_ready.clone(),
            lookups: RateLimit::new(config.lookups_per_minute, config.lookup_burst),
            creations: RateLimit::new(config.creates_per_minute, config.create_burst),
            shutting_down: AtomicBool::new(false),
            sockets: AtomicUsize::new(0),
            sockets_done: Notify::new(),
            config,
        });
        // One writer keeps each session's updates in order without making handlers wait on disk.
        // It ends once the queue is closed (shutdown, or the `App` dropped) and drained.
        let pending = app.metrics.pending_writes.clone();
        let me = app.me.clone();
        let owner = app.config.node_name.clone();
        let retention = app.config.recording.retention;
        let writer = tokio::spawn(async move {
            loop {
                let (batch, closed) = {
                    let mut q = writes.lock().unwrap_or_else(|e| e.into_inner());
                    (q.take(), q.closed)
                };
                pending.set(0.0);
                if batch.is_empty() {
                    if closed {
                        return;
                    }
                    writes_ready.notified().await;
                    continue;
                }
                for op in batch {
                    let res = match op {
                        StoreOp::History(r) => store.put_history(r).await,
                        StoreOp::Chunk(c) => store.put_chunk(c, retention).await,
                        StoreOp::Live(r) => {
                            let token = r.token.clone();
                            let mine = r.node == owner;
                            match store.update_live(r).await {
                                Ok(false) if mine => {
                                    // Fenced: another node owns it now (or it is gone).
                                    if let Some(app) = me.upgrade() {
                                        crate::sessions::relinquish(&app, &token);
                                    }
                                    Ok(())
                                }
                                r => r.map(drop),
                            }
                        }
                        StoreOp::End {
                            history,
                            owner,
                            done,
                        } => {
                            let res = store.end_live(history, owner).await.map(drop);
                            if let Some(done) = done {
                                let _ = done.send(());
                            }
                            res
                        }
                    };
                    if let Err(e) = res {
                        tracing::error!(error = %e, "storage write failed");
                    }
                }
            }
        });
        (app, writer)
    }

    fn write_queue(&self) -> std::sync::MutexGuard<'_, WriteQueue> {
        self.writes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a storage write (dropped with a log line after shutdown). Never blocks: see
    /// `WriteQueue` for why the queue stays bounded.
    pub fn write(&self, op: StoreOp) {
        let mut q = self.write_queue();
        match q.push(op) {
            Queued::Yes => {
                self.metrics.pending_writes.set(q.len() as f64);
                self.writes_ready.notify_one();
            }
            Queued::Closed => tracing::warn!("storage write after shutdown dropped"),
            Queued::Full => {
                self.metrics.recording_chunks_dropped.increment(1);
                tracing::warn!("storage is behind; a recording chunk was dropped");
            }
        }
    }

    /// Lets the writer finish once queued writes are done.
    pub fn close_writes(&self) {
        self.write_queue().close();
        self.writes_ready.notify_one();
    }

    /// One token lookup (REST get/stop, WebSocket `Hello`, history) by `ip`.
    pub fn allow_lookup(&self, ip: IpAddr) -> Result<(), Throttled> {
        self.lookups.check(ip).inspect_err(|_| {
            self.metrics.rate_limited.increment(1);
        })
    }

    /// One session creation by `ip`.
    pub fn allow_create(&self, ip: IpAddr) -> Result<(), Throttled> {
        self.creations.check(ip).inspect_err(|_| {
            self.metrics.rate_limited.increment(1);
        })
    }

    /// True once shutdown began.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Marks shutdown; returns false if it had already begun.
    pub fn begin_shutdown(&self) -> bool {
        !self.shutting_down.swap(true, Ordering::SeqCst)
    }

    /// Counts an open socket until the guard drops.
    pub fn socket_guard(self: &Arc<Self>) -> SocketGuard {
        self.sockets.fetch_add(1, Ordering::SeqCst);
        SocketGuard(self.clone())
    }

    /// Waits until every socket has finished.
    pub async fn sockets_closed(&self) {
        loop {
            let n = self.sockets_done.notified();
            if self.sockets.load(Ordering::SeqCst) == 0 {
                return;
            }
            n.await;
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        // The writer finishes what is queued, then ends.
        self.close_writes();
    }
}

/// Decrements the open-socket count on drop.
pub struct SocketGuard(Arc<App>);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        if self.0.sockets.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.sockets_done.notify_waiters();
        }
    }
}

/// An `App` with the default configuration on an embedded store in `dir`, for unit tests that
/// drive sessions and sockets without a server.
#[cfg(test)]
pub(crate) async fn test_app(dir: &std::path::Path) -> (Arc<App>, tokio::task::JoinHandle<()>) {
    let config = crate::Config {
        storage: crate::config::StorageConfig::Embedded {
            data_dir: dir.to_path_buf(),
        },
        ..crate::Config::default()
    };
    let store = crate::open_store(&config).await.expect("store");
    App::new(config, store)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(id: &str, pages: usize) -> StoreOp {
        StoreOp::History(HistoryRecord {
            history_id: id.into(),
            token: "123456789".into(),
            created_at: 0,
            activated_at: None,
            ended_at: None,
            end_reason: None,
            origin: None,
            pages: (0..pages)
                .map(|i| crate::store::PageVisit {
                    url: format!("u{i}"),
                    title: String::new(),
                    at: 0,
                })
                .collect(),
            agent_id: None,
        })
    }

    fn live(token: &str) -> StoreOp {
        StoreOp::Live(LiveRecord {
            token: token.into(),
            history_id: "a".into(),
            node: "n".into(),
            node_url: String::new(),
            state: "idle".into(),
            created_at: 0,
            activated_at: None,
            write_mode: false,
            customer_key: String::new(),
            agents: Vec::new(),
            agent_count: 0,
            page_url: String::new(),
        })
    }

    fn end(id: &str) -> StoreOp {
        let StoreOp::History(history) = hist(id, 1) else {
            unreachable!()
        };
        StoreOp::End {
            history,
            owner: "n".into(),
            done: None,
        }
    }

    #[test]
    fn the_end_supersedes_waiting_writes_of_its_session_and_nothing_follows_it() {
        let mut q = WriteQueue::default();
        for op in [hist("a", 2), live("123456789"), end("a"), live("123456789")] {
            assert_eq!(q.push(op), Queued::Yes);
        }
        let ops = q.take();
        assert_eq!(ops.len(), 1, "{ops:?}");
        assert!(matches!(&ops[0], StoreOp::End { history, .. } if history.history_id == "a"));
    }

    #[test]
    fn one_write_waits_per_record_and_later_ones_replace_it_in_place() {
        let mut q = WriteQueue::default();
        for op in [
            hist("a", 1),
            hist("b", 1),
            hist("a", 2),
            live("t"),
            hist("a", 3),
            live("t"),
        ] {
            assert_eq!(q.push(op), Queued::Yes);
        }
        assert_eq!(q.len(), 3, "bounded by records, not by writes");
        let summary: Vec<String> = q
            .take()
            .iter()
            .map(|op| match op {
                StoreOp::History(h) => format!("{}{}", h.history_id, h.pages.len()),
                StoreOp::Live(l) => format!("live {}", l.token),
                StoreOp::End { history, .. } => format!("end {}", history.history_id),
                StoreOp::Chunk(c) => format!("chunk {}", c.seq),
            })
            .collect();
        assert_eq!(summary, ["a3", "b1", "live t"]);
        assert_eq!(q.len(), 0);
        q.close();
        assert_eq!(q.push(hist("c", 1)), Queued::Closed);
    }

    #[test]
    fn chunks_are_all_kept_in_order_up_to_a_bound() {
        let chunk = |seq: u32| {
            StoreOp::Chunk(RecordingChunk {
                history_id: "a".into(),
                started_at: 10,
                node: "n".into(),
                seq,
                ended_at: 10,
                frames: 1,
                data: vec![0; 4],
            })
        };
        let mut q = WriteQueue::default();
        for seq in 0..MAX_PENDING_CHUNKS as u32 {
            assert_eq!(q.push(chunk(seq)), Queued::Yes);
        }
        assert_eq!(q.push(chunk(9999)), Queued::Full, "bounded");
        assert_eq!(q.push(hist("a", 1)), Queued::Yes, "records still queue");
        let ops = q.take();
        assert_eq!(ops.len(), MAX_PENDING_CHUNKS + 1);
        assert!(matches!(&ops[1], StoreOp::Chunk(c) if c.seq == 1));
        assert_eq!(q.push(chunk(9999)), Queued::Yes, "room again once taken");
    }
}
