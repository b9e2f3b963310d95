//! What an agent's page tells the server about its own rendering, for the server's metrics only:
//! how long page changes took to reach the agent's screen.

use serde::{Deserialize, Serialize};

/// Agent → server: render latencies since the previous report. Sent at most once per
/// [`RenderReport::INTERVAL_MS`], so a busy page costs one small frame a second, not one per
/// paint. The server records the samples in a histogram and uses them for nothing else: they
/// are the agent's word, bounded ([`RenderReport::check`]) but not trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct RenderReport {
    /// For each sampled animation frame that showed page changes: microseconds from receiving
    /// the earliest frame of those changes to just after that frame was painted. At most
    /// [`RenderReport::MAX_SAMPLES`], a uniform sample when more frames were painted.
    pub samples_us: Vec<u32>,
}

impl RenderReport {
    /// The most samples one report may carry.
    pub const MAX_SAMPLES: usize = 16;
    /// The largest latency a sample may state (a minute: anything slower is a stalled tab, not
    /// a render).
    pub const MAX_LATENCY_US: u32 = 60_000_000;
    /// An agent sends at most one report this often (milliseconds).
    pub const INTERVAL_MS: u32 = 1_000;

    /// Whether the report is within bounds: at least one and at most
    /// [`RenderReport::MAX_SAMPLES`] samples, none over [`RenderReport::MAX_LATENCY_US`].
    /// `Err` says what is wrong.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.samples_us.is_empty() {
            return Err("no samples");
        }
        if self.samples_us.len() > Self::MAX_SAMPLES {
            return Err("too many samples");
        }
        if self.samples_us.iter().any(|&us| us > Self::MAX_LATENCY_US) {
            return Err("a sample is over the latency bound");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::RenderReport;

    #[test]
    fn reports_out_of_bounds_are_named() {
        let r = |samples_us: Vec<u32>| RenderReport { samples_us }.check();
        assert_eq!(r(vec![1, RenderReport::MAX_LATENCY_US]), Ok(()));
        assert_eq!(r(vec![5; RenderReport::MAX_SAMPLES]), Ok(()));
        assert_eq!(r(vec![]), Err("no samples"));
        assert_eq!(
            r(vec![5; RenderReport::MAX_SAMPLES + 1]),
            Err("too many samples")
        );
        assert_eq!(
            r(vec![3, RenderReport::MAX_LATENCY_US + 1]),
            Err("a sample is over the latency bound")
        );
    }
}
