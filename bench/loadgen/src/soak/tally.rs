//! The soak's counters, shared by every simulated party and read once at the end.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::time::Instant;

/// Notes kept about what went wrong (the first few; the counters have the totals).
const NOTES: usize = 20;

/// What the parties counted.
#[derive(Debug, Default)]
pub struct Tally {
    /// Page-state frames customers produced.
    pub sent: AtomicU64,
    /// Page-state frames agents applied.
    pub received: AtomicU64,
    /// Page-state numbers skipped without a snapshot covering them.
    pub lost: AtomicU64,
    /// Page-state numbers replaced by a snapshot after a link started over.
    pub superseded: AtomicU64,
    /// Page-state numbers applied twice on one stream.
    pub duplicates: AtomicU64,
    /// Sockets dropped on purpose (then reconnected).
    pub planned_reconnects: AtomicU64,
    /// Sockets lost otherwise (the restart, the network) and reconnected.
    pub forced_reconnects: AtomicU64,
    /// Reconnects whose link resumed (replay of the gap).
    pub resumed: AtomicU64,
    /// Reconnects whose link started over (the page sent whole).
    pub fresh: AtomicU64,
    /// `RequestSnapshot`s customers answered (the page cache's bound at work).
    pub snapshots_requested: AtomicU64,
    /// Sessions whose agent heard `OwnerChanged` (the session moved node).
    pub owner_changes: AtomicU64,
    notes: Mutex<Vec<String>>,
    restart_at: Mutex<Option<Instant>>,
    handovers: Mutex<Vec<f64>>,
    outages: Mutex<Vec<f64>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Tally {
    /// Adds to a counter.
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    /// Reads a counter.
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    /// Keeps a note of something that went wrong (the first few only).
    pub fn note(&self, what: String) {
        let mut n = lock(&self.notes);
        if n.len() < NOTES {
            n.push(what);
        }
    }

    /// The notes kept.
    pub fn notes(&self) -> Vec<String> {
        lock(&self.notes).clone()
    }

    /// Marks the rolling restart's SIGTERM.
    pub fn set_restart_at(&self, t: Instant) {
        *lock(&self.restart_at) = Some(t);
    }

    /// When the rolling restart's SIGTERM was sent.
    pub fn restart_at(&self) -> Option<Instant> {
        *lock(&self.restart_at)
    }

    /// Seconds from the restart's SIGTERM until a moved session's page flowed again.
    pub fn push_handover(&self, secs: f64) {
        lock(&self.handovers).push(secs);
    }

    /// Seconds an agent's page stood still after any other socket loss.
    pub fn push_outage(&self, secs: f64) {
        lock(&self.outages).push(secs);
    }

    /// The hand-over times recorded.
    pub fn handovers(&self) -> Vec<f64> {
        lock(&self.handovers).clone()
    }

    /// The outage times recorded.
    pub fn outages(&self) -> Vec<f64> {
        lock(&self.outages).clone()
    }
}
