//! How much ink one agent connection may have relayed. Each frame is bounded by the decoder
//! (`Ink::check`: points per frame, coordinates); this gate bounds the stream: at most
//! `Ink::MAX_STROKE_POINTS` points per stroke, `Ink::MAX_STROKES_PER_SECOND` new strokes and
//! `Ink::MAX_FRAMES_PER_SECOND` frames a second (token buckets, bursts as large as a second's
//! allowance). The agent page keeps within all three by itself, so a frame over them comes from a
//! page that does not: it is dropped (not relayed), and the connection stays.

use cobrowse_protocol::Ink;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Why a frame was not relayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InkDrop {
    /// The stroke already has `Ink::MAX_STROKE_POINTS` points.
    StrokeFull,
    /// More new strokes than `Ink::MAX_STROKES_PER_SECOND` allows.
    TooManyStrokes,
    /// More frames than `Ink::MAX_FRAMES_PER_SECOND` allows.
    TooManyFrames,
}

impl InkDrop {
    /// For logs.
    pub fn as_str(self) -> &'static str {
        match self {
            InkDrop::StrokeFull => "stroke over its point limit",
            InkDrop::TooManyStrokes => "too many strokes a second",
            InkDrop::TooManyFrames => "too many ink frames a second",
        }
    }
}

/// A token bucket holding up to `rate` tokens, refilled at `rate` per second.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    rate: f64,
    at: Option<Instant>,
}

impl Bucket {
    fn new(rate: u32) -> Bucket {
        Bucket {
            tokens: f64::from(rate),
            rate: f64::from(rate),
            at: None,
        }
    }

    fn refill(&mut self, now: Instant) {
        if let Some(at) = self.at {
            let secs = now.saturating_duration_since(at).as_secs_f64();
            self.tokens = (self.tokens + secs * self.rate).min(self.rate);
        }
        self.at = Some(now);
    }

    fn has(&self) -> bool {
        self.tokens >= 1.0
    }

    fn take(&mut self) {
        self.tokens -= 1.0;
    }
}

#[derive(Debug)]
struct Gate {
    frames: Bucket,
    strokes: Bucket,
    /// The stroke being drawn and the points relayed for it.
    current: Option<(u32, u32)>,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            frames: Bucket::new(Ink::MAX_FRAMES_PER_SECOND),
            strokes: Bucket::new(Ink::MAX_STROKES_PER_SECOND),
            current: None,
        }
    }
}

/// One agent connection's ink allowance (shared by the connection's clones).
#[derive(Debug, Clone, Default)]
pub struct InkGate(Arc<Mutex<Gate>>);

impl InkGate {
    /// Whether `ink`, received `at`, may be relayed; it is counted when it may.
    pub fn admit(&self, ink: &Ink, at: Instant) -> Result<(), InkDrop> {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        g.frames.refill(at);
        g.strokes.refill(at);
        if !g.frames.has() {
            return Err(InkDrop::TooManyFrames);
        }
        let n = u32::try_from(ink.len()).unwrap_or(u32::MAX);
        let (new, spent) = match g.current {
            Some((id, spent)) if id == ink.stroke => (false, spent),
            _ => (true, 0),
        };
        if new && !g.strokes.has() {
            return Err(InkDrop::TooManyStrokes);
        }
        if spent.saturating_add(n) > Ink::MAX_STROKE_POINTS {
            return Err(InkDrop::StrokeFull);
        }
        if new {
            g.strokes.take();
        }
        g.frames.take();
        g.current = Some((ink.stroke, spent + n));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cobrowse_protocol::InkTool;
    use std::time::Duration;

    fn ink(stroke: u32, points: usize) -> Ink {
        let pts: Vec<(i32, i32)> = (0..points as i32).map(|i| (i, i)).collect();
        Ink::from_points(stroke, InkTool::Pen, &pts, false).expect("has points")
    }

    #[test]
    fn a_stroke_gets_its_points_and_no_more() {
        let g = InkGate::default();
        let t = Instant::now();
        let per = Ink::MAX_FRAME_POINTS;
        let frames = Ink::MAX_STROKE_POINTS as usize / per;
        for i in 0..frames {
            // One frame every 10 ms: well within the frame rate.
            let at = t + Duration::from_millis(10 * i as u64);
            assert_eq!(g.admit(&ink(1, per), at), Ok(()), "frame {i}");
        }
        let at = t + Duration::from_secs(5);
        assert_eq!(g.admit(&ink(1, 1), at), Err(InkDrop::StrokeFull));
        // A new stroke starts afresh.
        assert_eq!(g.admit(&ink(2, per), at), Ok(()));
    }

    #[test]
    fn strokes_and_frames_are_rate_limited_and_refill() {
        let g = InkGate::default();
        let t = Instant::now();
        for s in 0..Ink::MAX_STROKES_PER_SECOND {
            assert_eq!(g.admit(&ink(s, 2), t), Ok(()), "stroke {s}");
        }
        assert_eq!(g.admit(&ink(100, 2), t), Err(InkDrop::TooManyStrokes));
        // The stroke being drawn may go on.
        let last = Ink::MAX_STROKES_PER_SECOND - 1;
        assert_eq!(g.admit(&ink(last, 2), t), Ok(()));
        // A second later there is room again.
        let later = t + Duration::from_secs(1);
        assert_eq!(g.admit(&ink(100, 2), later), Ok(()));

        let g = InkGate::default();
        for _ in 0..Ink::MAX_FRAMES_PER_SECOND {
            assert_eq!(g.clone().admit(&ink(1, 1), t), Ok(()));
        }
        assert_eq!(g.admit(&ink(1, 1), t), Err(InkDrop::TooManyFrames));
        let soon = t + Duration::from_millis(100);
        assert_eq!(g.admit(&ink(1, 1), soon), Ok(()));
    }
}
