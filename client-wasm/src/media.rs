//! When a `<video>`/`<audio>` state is worth sending: play/pause, mute and rate changes always,
//! the playback time only when it left where steady playback would have taken it (a seek).
//! `web::media` samples the elements and asks [`changed`].

use cobrowse_protocol::MediaState;

/// How far the time may drift from the predicted one before it is reported again, in ms.
pub const DRIFT_MS: f64 = 1000.0;

/// True when `now` differs from `prev` (sent `elapsed_ms` ago) beyond steady playback.
pub fn changed(prev: &MediaState, now: &MediaState, elapsed_ms: f64) -> bool {
    if prev.paused != now.paused || prev.muted != now.muted || prev.rate_centi != now.rate_centi {
        return true;
    }
    let advance = if prev.paused {
        0.0
    } else {
        elapsed_ms * f64::from(prev.rate_centi) / 100.0
    };
    let expected = prev.time_ms as f64 + advance;
    (expected - now.time_ms as f64).abs() > DRIFT_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(time_ms: u64, paused: bool) -> MediaState {
        MediaState {
            node: 1,
            time_ms,
            paused,
            muted: false,
            rate_centi: 100,
        }
    }

    #[test]
    fn steady_playback_is_not_reported_but_seeks_and_pauses_are() {
        // Playing: 500 ms later the time advanced ~500 ms: predictable, not reported.
        assert!(!changed(&st(1000, false), &st(1480, false), 500.0));
        // A seek back while playing.
        assert!(changed(&st(5000, false), &st(1000, false), 500.0));
        // Paused and still: nothing; paused and moved: a seek.
        assert!(!changed(&st(2000, true), &st(2000, true), 3000.0));
        assert!(changed(&st(2000, true), &st(3500, true), 500.0));
        // Play/pause, mute and rate changes always are.
        assert!(changed(&st(2000, false), &st(2000, true), 0.0));
        let mut muted = st(2000, true);
        muted.muted = true;
        assert!(changed(&st(2000, true), &muted, 0.0));
        let mut fast = st(2000, true);
        fast.rate_centi = 200;
        assert!(changed(&st(2000, true), &fast, 0.0));
        // At double rate, 1 s of playing is 2 s of media time.
        let mut prev = st(0, false);
        prev.rate_centi = 200;
        let mut now = st(2000, false);
        now.rate_centi = 200;
        assert!(!changed(&prev, &now, 1000.0));
    }
}
