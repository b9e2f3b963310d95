//! Wall-clock time in milliseconds since the Unix epoch, defined once for every native crate.
//!
//! Records (history, live sessions, node heartbeats) carry epoch milliseconds. In the browser
//! `SystemTime` is unavailable and pages use `Date.now()`, so this is native only.

/// The system clock's milliseconds since the Unix epoch (0 if the clock is before 1970).
#[cfg(not(target_arch = "wasm32"))]
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_is_after_2020_and_does_not_go_back() {
        let a = now_ms();
        assert!(a > 1_577_836_800_000);
        assert!(now_ms() >= a);
    }
}
