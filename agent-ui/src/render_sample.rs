//! What goes into the agent page's next render report and when it is due: latencies of painted
//! frames, a uniform sample of at most `RenderReport::MAX_SAMPLES` of them (reservoir sampling),
//! sent at most once per `RenderReport::INTERVAL_MS`. Pure, so the rules are tested natively;
//! `web::render` measures and sends.

use cobrowse_protocol::RenderReport;

/// The samples waiting for the next report.
#[derive(Debug, Default)]
pub struct RenderSample {
    samples: Vec<u32>,
    /// Latencies offered since the last report (sampled or not).
    seen: u64,
    /// When the last report went (`performance.now()` milliseconds).
    last_sent: Option<f64>,
}

/// What to do about the next report.
#[derive(Debug, PartialEq)]
pub enum Due {
    /// Nothing to report.
    Nothing,
    /// Send this report now.
    Send(RenderReport),
    /// A report is waiting; ask again in this many milliseconds.
    Wait(u32),
}

impl RenderSample {
    /// Offers one frame's latency (milliseconds). `random` is uniform in `[0, 1)`; it decides
    /// which sample a newer latency replaces once the report is full.
    pub fn add(&mut self, latency_ms: f64, random: f64) {
        let us = (latency_ms * 1000.0).clamp(0.0, f64::from(RenderReport::MAX_LATENCY_US)) as u32;
        self.seen += 1;
        if self.samples.len() < RenderReport::MAX_SAMPLES {
            self.samples.push(us);
            return;
        }
        // Keep each of the `seen` latencies with the same chance, MAX_SAMPLES / seen.
        let slot = (random.clamp(0.0, 1.0) * self.seen as f64) as usize;
        if let Some(s) = self.samples.get_mut(slot) {
            *s = us;
        }
    }

    /// Whether a report is due at `now` (milliseconds, the clock of [`RenderSample::add`]'s
    /// callers); a report returned is taken out.
    pub fn poll(&mut self, now: f64) -> Due {
        if self.samples.is_empty() {
            return Due::Nothing;
        }
        let interval = f64::from(RenderReport::INTERVAL_MS);
        if let Some(last) = self.last_sent
            && now - last < interval
        {
            return Due::Wait((last + interval - now).ceil().max(1.0) as u32);
        }
        self.last_sent = Some(now);
        self.seen = 0;
        Due::Send(RenderReport {
            samples_us: std::mem::take(&mut self.samples),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_report_goes_at_once_then_at_most_one_per_interval() {
        let mut s = RenderSample::default();
        assert_eq!(s.poll(0.0), Due::Nothing);
        s.add(12.5, 0.0);
        assert_eq!(
            s.poll(100.0),
            Due::Send(RenderReport {
                samples_us: vec![12_500]
            })
        );
        assert_eq!(s.poll(150.0), Due::Nothing);
        s.add(3.0, 0.0);
        assert_eq!(s.poll(400.0), Due::Wait(700));
        let Due::Send(r) = s.poll(1100.0) else {
            panic!("due after the interval");
        };
        assert_eq!(r.samples_us, [3_000]);
        assert_eq!(r.check(), Ok(()));
    }

    #[test]
    fn a_busy_second_is_sampled_within_the_bounds() {
        let mut s = RenderSample::default();
        for i in 0..1000 {
            s.add(f64::from(i), f64::from(i % 7) / 7.0);
        }
        s.add(1e12, 0.0); // a stalled tab: clamped, not refused
        let Due::Send(r) = s.poll(0.0) else {
            panic!("due");
        };
        assert_eq!(r.samples_us.len(), RenderReport::MAX_SAMPLES);
        assert_eq!(r.check(), Ok(()));
        // Later latencies made it in (not just the first sixteen).
        assert!(r.samples_us.iter().any(|&us| us >= 100_000), "{r:?}");
    }
}
