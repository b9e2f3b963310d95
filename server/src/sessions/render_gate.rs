//! How often one agent connection's render reports are taken: the agent page sends at most one
//! per `RenderReport::INTERVAL_MS`; the relay takes at most one per half that (timer and network
//! jitter stay in), so a hostile agent cannot flood the histogram either.

use cobrowse_protocol::RenderReport;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The shortest gap between two render reports the relay records.
pub const MIN_GAP: Duration = Duration::from_millis(RenderReport::INTERVAL_MS as u64 / 2);

/// When this connection's last render report was taken (shared by the connection's clones).
#[derive(Debug, Clone, Default)]
pub struct RenderGate(Arc<Mutex<Option<Instant>>>);

impl RenderGate {
    /// True (and remembered) when a report received `at` comes at least `MIN_GAP` (half the
    /// report interval) after the last one taken.
    pub fn admit(&self, at: Instant) -> bool {
        let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|l| at.saturating_duration_since(l) < MIN_GAP) {
            return false;
        }
        *last = Some(at);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_report_per_gap_is_taken() {
        let g = RenderGate::default();
        let t = Instant::now();
        assert!(g.admit(t));
        assert!(!g.admit(t + MIN_GAP / 2));
        assert!(!g.clone().admit(t + MIN_GAP - Duration::from_millis(1)));
        assert!(g.admit(t + MIN_GAP));
        assert!(!g.admit(t + MIN_GAP));
    }
}
