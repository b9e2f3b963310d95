//! Percentiles and the markdown report of a relay run.

use serde_json::json;

/// What one step measured.
#[derive(Debug, Clone)]
pub struct StepResult {
    /// `cobrowse-server` or `baseline`.
    pub target: String,
    /// Pairs asked for.
    pub pairs: usize,
    /// Pairs that connected.
    pub connected: usize,
    /// Seconds spent opening the pairs.
    pub setup_secs: f64,
    /// In-window frames the customers sent, per second.
    pub sent_fps: f64,
    /// In-window frames the agents received (by the end of the grace period), per second.
    pub delivered_fps: f64,
    /// In-window page-state frames not received by the end of the grace period.
    pub lost: u64,
    /// In-window pointer moves not received (the relay coalesces them in a full queue).
    pub coalesced: u64,
    /// Relay latency median, ms (`None` = no frames at all).
    pub p50_ms: Option<f64>,
    /// Relay latency p99, ms (`f64::INFINITY` when lost frames reach that rank).
    pub p99_ms: Option<f64>,
    /// Worst latency, ms.
    pub max_ms: Option<f64>,
    /// Relay process CPU in cores (CPU seconds per second) during the window.
    pub server_cpu: Option<f64>,
    /// The load generator's own CPU in cores during the window (it shares the machine).
    pub loadgen_cpu: Option<f64>,
    /// Relay RSS before any session, bytes.
    pub rss_idle: Option<u64>,
    /// Relay RSS at the end of the window, bytes.
    pub rss_loaded: Option<u64>,
    /// Connection and socket errors, as text.
    pub errors: Vec<String>,
}

impl StepResult {
    /// RSS per session in KiB: (loaded − idle) / pairs.
    pub fn rss_per_session_kib(&self) -> Option<f64> {
        match (self.rss_idle, self.rss_loaded) {
            (Some(i), Some(l)) if self.connected > 0 => {
                Some(l.saturating_sub(i) as f64 / 1024.0 / self.connected as f64)
            }
            _ => None,
        }
    }

    /// True when the step met the latency limit, delivered everything and had no errors.
    pub fn passes(&self, p99_limit_ms: f64) -> bool {
        self.errors.is_empty()
            && self.lost == 0
            && self.connected == self.pairs
            && self.p99_ms.is_some_and(|p| p < p99_limit_ms)
    }

    /// Machine-readable form.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "target": self.target, "pairs": self.pairs, "connected": self.connected,
            "setupSecs": self.setup_secs, "sentFps": self.sent_fps,
            "deliveredFps": self.delivered_fps, "lost": self.lost, "pointersCoalesced": self.coalesced,
            "p50Ms": self.p50_ms.map(finite), "p99Ms": self.p99_ms.map(finite),
            "maxMs": self.max_ms.map(finite), "serverCpu": self.server_cpu,
            "loadgenCpu": self.loadgen_cpu, "rssIdle": self.rss_idle,
            "rssLoaded": self.rss_loaded, "rssPerSessionKiB": self.rss_per_session_kib(),
            "errors": self.errors.iter().take(5).collect::<Vec<_>>(),
        })
    }
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// The `q`-quantile (0..=1, nearest rank) in ms of `sorted` latencies in µs, where `lost` more
/// samples rank above all of them (as infinity). `None` when there is nothing at all.
pub fn percentile_with_lost(sorted: &[u32], lost: u64, q: f64) -> Option<f64> {
    let total = sorted.len() as u64 + lost;
    if total == 0 {
        return None;
    }
    let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).clamp(1, total);
    let idx = (rank - 1) as usize;
    Some(match sorted.get(idx) {
        Some(us) => *us as f64 / 1000.0,
        None => f64::INFINITY,
    })
}

fn ms(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if !v.is_finite() => "lost".into(),
        Some(v) => format!("{v:.2}"),
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |v| format!("{v:.digits$}"))
}

/// Markdown table of all steps.
pub fn steps_table(steps: &[StepResult]) -> String {
    let mut s = String::from(
        "| relay | pairs | sent frames/s | delivered frames/s | lost page-state frames | pointers coalesced | p50 ms | p99 ms | max ms | relay CPU (cores) | loadgen CPU (cores) | relay RSS MiB | RSS/session KiB | errors |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in steps {
        s.push_str(&format!(
            "| {} | {} | {:.0} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.target,
            r.pairs,
            r.sent_fps,
            r.delivered_fps,
            r.lost,
            r.coalesced,
            ms(r.p50_ms),
            ms(r.p99_ms),
            ms(r.max_ms),
            opt(r.server_cpu, 2),
            opt(r.loadgen_cpu, 2),
            opt(r.rss_loaded.map(|b| b as f64 / 1048576.0), 1),
            opt(r.rss_per_session_kib(), 1),
            r.errors.len(),
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank_in_ms() {
        let v: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile_with_lost(&v, 0, 0.5), Some(50.0));
        assert_eq!(percentile_with_lost(&v, 0, 0.99), Some(99.0));
        assert_eq!(percentile_with_lost(&v, 0, 1.0), Some(100.0));
        assert_eq!(percentile_with_lost(&[], 0, 0.5), None);
    }

    #[test]
    fn lost_frames_rank_above_every_measured_latency() {
        let v: Vec<u32> = (1..=98).map(|i| i * 1000).collect();
        assert_eq!(percentile_with_lost(&v, 2, 0.98), Some(98.0));
        assert_eq!(percentile_with_lost(&v, 2, 0.99), Some(f64::INFINITY));
        assert_eq!(percentile_with_lost(&[], 3, 0.5), Some(f64::INFINITY));
    }

    #[test]
    fn a_step_with_lost_frames_does_not_pass() {
        let mut r = StepResult {
            target: "x".into(),
            pairs: 1,
            connected: 1,
            setup_secs: 0.0,
            sent_fps: 1.0,
            delivered_fps: 1.0,
            lost: 0,
            coalesced: 5,
            p50_ms: Some(1.0),
            p99_ms: Some(2.0),
            max_ms: Some(3.0),
            server_cpu: None,
            loadgen_cpu: None,
            rss_idle: Some(1024),
            rss_loaded: Some(3 * 1024),
            errors: vec![],
        };
        assert!(r.passes(50.0));
        assert_eq!(r.rss_per_session_kib(), Some(2.0));
        r.lost = 1;
        assert!(!r.passes(50.0));
        assert!(steps_table(&[r]).contains("| x | 1 |"));
    }
}
