//! The late-joiner page cache: the latest `Snapshot` and the page-state frames since, and when
//! to ask the customer for a fresh snapshot so it stays bounded.
//!
//! The session keeps the latest `Snapshot` frame and every page-state frame since (raw bytes, as
//! received). A joining agent gets them right after `Welcome`; a slow agent whose queue overflows
//! gets its queue replaced by them. When the log outgrows `max(snapshot, limits.minLogBytes)` the
//! customer is sent `RequestSnapshot` once; the next snapshot resets the log. If snapshot + log
//! exceed `limits.maxLogBytes`, the cache is dropped and a snapshot requested, so memory stays
//! bounded and joiners wait for the fresh snapshot rather than get a partial page.
//!
//! # The server-wide budget
//!
//! All sessions' caches together hold at most `limits.cacheBytes` ([`CacheBudget`]): each cache
//! reserves what it keeps and gives it back when it lets go. A frame that does not fit drops
//! that session's cache and the session goes on **without one**: frames are still relayed live to
//! every agent, nothing is asked of the customer (which would only send another snapshot that
//! does not fit), and an agent that joins or falls behind gets a fresh snapshot requested from
//! the customer instead of the cache. The next snapshot that fits starts a cache again. Other
//! sessions' caches are never touched, so no one can evict them.

use bytes::Bytes;
use cobrowse_protocol::tags;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes all page caches of a server may hold together (`limits.cacheBytes`).
#[derive(Debug)]
pub struct CacheBudget {
    used: AtomicUsize,
    limit: usize,
}

impl CacheBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Arc<CacheBudget> {
        Arc::new(CacheBudget {
            used: AtomicUsize::new(0),
            limit,
        })
    }

    /// Bytes held now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::SeqCst)
    }

    fn reserve(&self, n: usize) -> bool {
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_add(n).filter(|total| *total <= self.limit)
            })
            .is_ok()
    }

    fn release(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::SeqCst);
    }
}

/// A copy of `frame` in an allocation of its own. A frame as received is a slice of the socket's
/// read buffer (tungstenite splits payloads off it without copying), so keeping it would keep the
/// whole buffer it came in, pointer moves and all, for as long as the cache holds it: memory
/// would grow with everything the customer sent since the last snapshot, not with what the cache
/// counts.
fn own(frame: &Bytes) -> Bytes {
    Bytes::copy_from_slice(frame)
}

/// What [`Cache::add`] asks of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Added {
    /// Nothing.
    Kept,
    /// Send the customer `RequestSnapshot`.
    RequestSnapshot,
    /// The server-wide budget is spent: this session's cache was dropped (count it).
    OverBudget,
}

/// Raw frames as received (see the module docs for the bounds).
#[derive(Debug)]
pub(super) struct Cache {
    snapshot: Option<Bytes>,
    log: Vec<(Bytes, u32)>,
    log_bytes: usize,
    /// A `RequestSnapshot` went to the customer and no snapshot came yet.
    pub(super) requested: bool,
    /// The last snapshot did not fit the server-wide budget: no cache until one does.
    over_budget: bool,
    budget: Arc<CacheBudget>,
    /// Bytes reserved from `budget` (snapshot + log).
    held: usize,
}

impl Cache {
    /// An empty cache charging `budget`.
    pub(super) fn new(budget: Arc<CacheBudget>) -> Cache {
        Cache {
            snapshot: None,
            log: Vec::new(),
            log_bytes: 0,
            requested: false,
            over_budget: false,
            budget,
            held: 0,
        }
    }

    /// Drops what the cache holds and gives its bytes back.
    pub(super) fn clear(&mut self) {
        self.snapshot = None;
        self.log.clear();
        self.log_bytes = 0;
        self.budget.release(std::mem::take(&mut self.held));
    }

    /// Records a page-state frame; says whether to request a fresh snapshot now.
    pub(super) fn add(
        &mut self,
        bytes: &Bytes,
        tag: u32,
        min_log: usize,
        max_total: usize,
    ) -> Added {
        if tag == tags::SNAPSHOT {
            self.clear();
            self.requested = false;
            if !self.budget.reserve(bytes.len()) {
                self.over_budget = true;
                return Added::OverBudget;
            }
            self.over_budget = false;
            self.held = bytes.len();
            self.snapshot = Some(own(bytes));
            return Added::Kept;
        }
        if self.over_budget {
            return Added::Kept;
        }
        let Some(snap) = &self.snapshot else {
            // A client sends its page as `Navigation` then `Snapshot`: asking for a base on the
            // navigation would have it send the whole page twice. A lone navigation (a resumed
            // link on a node without the cache) is followed by a delta that asks.
            if tag == tags::NAVIGATION {
                return Added::Kept;
            }
            // Deltas without a base are useless to a joiner; ask for a base instead.
            return if std::mem::replace(&mut self.requested, true) {
                Added::Kept
            } else {
                Added::RequestSnapshot
            };
        };
        let snap_len = snap.len();
        if snap_len + self.log_bytes + bytes.len() > max_total {
            self.clear();
            return if std::mem::replace(&mut self.requested, true) {
                Added::Kept
            } else {
                Added::RequestSnapshot
            };
        }
        if !self.budget.reserve(bytes.len()) {
            self.clear();
            self.over_budget = true;
            return Added::OverBudget;
        }
        self.held += bytes.len();
        self.log.push((own(bytes), tag));
        self.log_bytes += bytes.len();
        if self.log_bytes > snap_len.max(min_log) && !self.requested {
            self.requested = true;
            return Added::RequestSnapshot;
        }
        Added::Kept
    }

    /// The cached page, snapshot first; empty while there is no snapshot.
    pub(super) fn frames(&self) -> Vec<(Bytes, u32)> {
        match &self.snapshot {
            Some(s) => std::iter::once((s.clone(), tags::SNAPSHOT))
                .chain(self.log.iter().cloned())
                .collect(),
            None => Vec::new(),
        }
    }
}

impl Drop for Cache {
    fn drop(&mut self) {
        self.clear();
    }
}
