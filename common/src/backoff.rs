//! Reconnect delays: exponential backoff with jitter, the same for the customer's client and the
//! agent page.
//!
//! After a dropped connection a client retries after `base · 2^attempt` (capped), scaled by a
//! random factor in `[0.5, 1.0)` so that many clients dropped by one server restart do not all
//! come back in the same millisecond. The random number is passed in, so tests are exact.

/// Backoff state for one connection.
#[derive(Debug, Clone)]
pub struct Backoff {
    base_ms: u32,
    max_ms: u32,
    attempt: u32,
}

impl Default for Backoff {
    /// 0.5 s doubling to 15 s: a page shows "reconnecting…" for at most 15 s after the server is
    /// back, and thousands of clients still spread over half of that.
    fn default() -> Self {
        Backoff::new(500, 15_000)
    }
}

impl Backoff {
    /// Delays start at `base_ms` and never exceed `max_ms`.
    pub fn new(base_ms: u32, max_ms: u32) -> Self {
        Backoff {
            base_ms,
            max_ms: max_ms.max(base_ms),
            attempt: 0,
        }
    }

    /// The delay before the next attempt; `random` is uniform in `[0, 1)`.
    pub fn next_delay(&mut self, random: f64) -> u32 {
        let exp = self
            .base_ms
            .saturating_mul(1u32.checked_shl(self.attempt).unwrap_or(u32::MAX));
        let cap = exp.min(self.max_ms);
        self.attempt = self.attempt.saturating_add(1).min(31);
        let factor = 0.5 + 0.5 * random.clamp(0.0, 1.0);
        (f64::from(cap) * factor) as u32
    }

    /// Attempts made since the last success.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Call after a successful connection.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_up_to_the_cap() {
        let mut b = Backoff::new(100, 1_000);
        let delays: Vec<u32> = (0..6).map(|_| b.next_delay(0.999_999)).collect();
        assert_eq!(delays, vec![99, 199, 399, 799, 999, 999]);
        assert_eq!(b.attempts(), 6);
        b.reset();
        assert_eq!(b.next_delay(0.0), 50, "jitter halves at most");
    }

    #[test]
    fn never_overflows() {
        let mut b = Backoff::new(u32::MAX, u32::MAX);
        for _ in 0..100 {
            assert!(b.next_delay(0.5) > 0);
        }
    }
}
