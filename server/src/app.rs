//! Shared server state: configuration, registry, storage writer, rate limiter, metrics, and the
//! shutdown flag. One `Arc<App>` per running server; nothing here is global, so tests run many
//! servers in one process.

use crate::config::Config;
use crate::metrics::Metrics;
use crate::sessions::Registry;
use crate::store::{HistoryRecord, LiveRecord, Store};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::{Notify, mpsc};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A write for the storage writer task.
#[derive(Debug)]
pub enum StoreOp {
    /// Upsert a history record.
    History(HistoryRecord),
    /// Upsert a live record.
    Live(LiveRecord),
    /// Remove a live record.
    RemoveLive(String),
}

/// Drops writes that a later write in the same batch supersedes (all writes are whole-record
/// upserts or removals), so a burst of navigations costs one history write, not one per page.
fn coalesce(batch: Vec<StoreOp>) -> Vec<StoreOp> {
    fn key(op: &StoreOp) -> (bool, &str) {
        match op {
            StoreOp::History(r) => (true, r.history_id.as_str()),
            StoreOp::Live(r) => (false, r.token.as_str()),
            StoreOp::RemoveLive(t) => (false, t.as_str()),
        }
    }
    let mut last: std::collections::HashMap<(bool, &str), usize> = Default::default();
    for (i, op) in batch.iter().enumerate() {
        last.insert(key(op), i);
    }
    let keep: Vec<bool> = batch
        .iter()
        .enumerate()
        .map(|(i, op)| last.get(&key(op)) == Some(&i))
        .collect();
    batch
        .into_iter()
        .zip(keep)
        .filter_map(|(op, k)| k.then_some(op))
        .collect()
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
    pub cluster: crate::cluster::Cluster,
    /// The CSS proxy's client and cache.
    pub css_proxy: crate::css_proxy::CssProxy,
    writes: std::sync::Mutex<Option<mpsc::UnboundedSender<StoreOp>>>,
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    shutting_down: AtomicBool,
    sockets: AtomicUsize,
    sockets_done: Notify,
}

impl App {
    /// Builds the state and starts the storage writer; returns the writer's join handle, which
    /// finishes once [`App::close_writes`] was called and every queued write is done.
    pub fn new(config: Config, store: Arc<dyn Store>) -> (Arc<App>, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<StoreOp>();
        let per_minute = NonZeroU32::new(config.lookups_per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.lookup_burst).unwrap_or(NonZeroU32::MIN);
        let app = Arc::new(App {
            registry: Registry::default(),
            cluster: crate::cluster::Cluster::default(),
            css_proxy: crate::css_proxy::CssProxy::new(
                &config.allowed_external_domains,
                &config.css_proxy,
            ),
            metrics: Metrics::new(),
            store: store.clone(),
            writes: std::sync::Mutex::new(Some(tx)),
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            shutting_down: AtomicBool::new(false),
            sockets: AtomicUsize::new(0),
            sockets_done: Notify::new(),
            config,
        });
        // One writer keeps each session's updates in order without making handlers wait on disk.
        let writer = tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while let Ok(op) = rx.try_recv() {
                    batch.push(op);
                }
                for op in coalesce(batch) {
                    let res = match op {
                        StoreOp::History(r) => store.put_history(r).await,
                        StoreOp::Live(r) => store.update_live(r).await,
                        StoreOp::RemoveLive(t) => store.remove_live(t).await,
                    };
                    if let Err(e) = res {
                        tracing::error!(error = %e, "storage write failed");
                    }
                }
            }
        });
        (app, writer)
    }

    /// Queues a storage write (dropped with a log line after shutdown).
    pub fn write(&self, op: StoreOp) {
        let guard = self.writes.lock().unwrap_or_else(|e| e.into_inner());
        match guard.as_ref() {
            Some(tx) => {
                if tx.send(op).is_err() {
                    tracing::warn!("storage writer gone; write dropped");
                }
            }
            None => tracing::warn!("storage write after shutdown dropped"),
        }
    }

    /// Lets the writer finish once queued writes are done.
    pub fn close_writes(&self) {
        self.writes.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// One token lookup by `ip`; false when throttled.
    pub fn allow_lookup(&self, ip: IpAddr) -> bool {
        let ok = self.limiter.check_key(&ip).is_ok();
        if !ok {
            self.metrics.rate_limited.increment(1);
        }
        // Keep the limiter's memory bounded by forgetting addresses that are back to full quota.
        if self.limiter.len() > 10_000 {
            self.limiter.retain_recent();
        }
        ok
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

/// Decrements the open-socket count on drop.
pub struct SocketGuard(Arc<App>);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        if self.0.sockets.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.sockets_done.notify_waiters();
        }
    }
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

    #[test]
    fn later_whole_record_writes_supersede_earlier_ones() {
        let out = coalesce(vec![
            hist("a", 1),
            hist("b", 1),
            hist("a", 2),
            StoreOp::RemoveLive("t".into()),
        ]);
        let summary: Vec<String> = out
            .iter()
            .map(|op| match op {
                StoreOp::History(h) => format!("{}{}", h.history_id, h.pages.len()),
                StoreOp::Live(l) => format!("live {}", l.token),
                StoreOp::RemoveLive(t) => format!("rm {t}"),
            })
            .collect();
        assert_eq!(summary, ["b1", "a2", "rm t"]);
    }
}
