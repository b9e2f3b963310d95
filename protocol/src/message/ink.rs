//! Annotations: the agent's pen and highlighter strokes, drawn over the customer's page on both
//! sides and faded out after [`Ink::FADE_MS`].
//!
//! A stroke is streamed while it is drawn, one [`Ink`] frame per animation frame with the points
//! gathered since the previous one, so the customer sees the line grow instead of appearing when
//! the agent lets go. Points are in CSS pixels of the customer's **top document** (viewport
//! position plus the window's scroll offset), so a stroke stays on the content it was drawn over
//! when either side scrolls. Each frame carries its first point absolute and the rest as
//! differences to the point before: postcard writes integers as zig-zag varints, so a hand-drawn
//! segment (a few pixels between frames) costs two bytes a point.
//!
//! Ink is only ink: it carries no text, no markup and no page data, and it never reaches the
//! page's DOM (the customer draws it in its own UI layer, which the recorder never captures).
//! Everything is bounded: [`Ink::check`] (run by the decoder, so no receiver ever holds an
//! out-of-bounds frame) caps the points of a frame and the coordinates; the relay caps points per
//! stroke ([`Ink::MAX_STROKE_POINTS`]), strokes per second and frames per second
//! ([`Ink::MAX_STROKES_PER_SECOND`], [`Ink::MAX_FRAMES_PER_SECOND`]).

use serde::{Deserialize, Serialize};

/// What a stroke is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum InkTool {
    /// A thin opaque line, for pointing at something.
    Pen,
    /// A wide translucent band, for marking a passage.
    Highlight,
}

impl InkTool {
    /// The stable name (`pen`, `highlight`): the toolbar button's and the drawn path's
    /// `data-cobrowse-ink` value.
    pub fn code(self) -> &'static str {
        match self {
            InkTool::Pen => "pen",
            InkTool::Highlight => "highlight",
        }
    }
}

/// Agent → customer (and the session's other agents): the next points of one stroke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Ink {
    /// The stroke these points belong to, chosen by the drawing page; frames of one stroke share
    /// it and arrive in order.
    pub stroke: u32,
    /// What it is drawn with (the same in every frame of a stroke; the first frame's wins).
    pub tool: InkTool,
    /// The first point of this frame, absolute, in top-document CSS pixels.
    pub start: (i32, i32),
    /// The following points, each as the difference to the point before it.
    pub deltas: Vec<(i32, i32)>,
    /// The stroke is finished (the agent let go): it starts fading.
    pub done: bool,
}

/// Why an [`Ink`] frame is out of bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InkError {
    /// More than [`Ink::MAX_FRAME_POINTS`] points.
    #[error("more than {} points in one ink frame", Ink::MAX_FRAME_POINTS)]
    TooManyPoints,
    /// A point beyond [`Ink::MAX_COORD`] from the document's origin.
    #[error("an ink point is beyond {} px", Ink::MAX_COORD)]
    OutOfRange,
}

impl Ink {
    /// The most points one frame carries (start included): a minute fraction of a second of
    /// drawing at any pointer rate; a sender with more splits them over frames.
    pub const MAX_FRAME_POINTS: usize = 64;
    /// The most points one stroke may have; the sender ends a stroke there and the relay drops
    /// what goes beyond.
    pub const MAX_STROKE_POINTS: u32 = 1_024;
    /// How far from the document's origin a point may be, in CSS pixels on either axis (no page
    /// is larger; browsers cap layout far below this).
    pub const MAX_COORD: i32 = 1 << 22;
    /// How long a stroke stays after it was finished (or, unfinished, after its last frame), in
    /// milliseconds; it fades out over the last [`Ink::FADE_OUT_MS`] of that.
    pub const FADE_MS: u32 = 4_000;
    /// The fade-out at the end of [`Ink::FADE_MS`].
    pub const FADE_OUT_MS: u32 = 1_000;
    /// New strokes the relay accepts per agent connection and second (burst as large).
    pub const MAX_STROKES_PER_SECOND: u32 = 8;
    /// Ink frames the relay accepts per agent connection and second (one per animation frame of
    /// a 120 Hz screen; burst as large).
    pub const MAX_FRAMES_PER_SECOND: u32 = 120;

    /// The frame for `points` (absolute, in order) of stroke `stroke`; `None` for no points.
    /// Callers keep `points` within [`Ink::MAX_FRAME_POINTS`].
    pub fn from_points(
        stroke: u32,
        tool: InkTool,
        points: &[(i32, i32)],
        done: bool,
    ) -> Option<Ink> {
        let (&start, rest) = points.split_first()?;
        let mut prev = start;
        let deltas = rest
            .iter()
            .map(|&p| {
                let d = (p.0.wrapping_sub(prev.0), p.1.wrapping_sub(prev.1));
                prev = p;
                d
            })
            .collect();
        Some(Ink {
            stroke,
            tool,
            start,
            deltas,
            done,
        })
    }

    /// The frame's points, absolute, in order (the start, then each delta added up).
    pub fn points(&self) -> Vec<(i32, i32)> {
        let mut out = Vec::with_capacity(self.deltas.len() + 1);
        let mut p = self.start;
        out.push(p);
        for d in &self.deltas {
            p = (p.0.saturating_add(d.0), p.1.saturating_add(d.1));
            out.push(p);
        }
        out
    }

    /// How many points the frame carries.
    pub fn len(&self) -> usize {
        self.deltas.len() + 1
    }

    /// Always false: a frame carries at least its start point (for clippy's `len` rule).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether the frame is within bounds: at most [`Ink::MAX_FRAME_POINTS`] points, each within
    /// [`Ink::MAX_COORD`] of the origin. The decoder runs it on every ink frame.
    pub fn check(&self) -> Result<(), InkError> {
        if self.len() > Self::MAX_FRAME_POINTS {
            return Err(InkError::TooManyPoints);
        }
        let mut p = (i64::from(self.start.0), i64::from(self.start.1));
        let within = |p: (i64, i64)| {
            let m = i64::from(Self::MAX_COORD);
            (-m..=m).contains(&p.0) && (-m..=m).contains(&p.1)
        };
        if !within(p) {
            return Err(InkError::OutOfRange);
        }
        for d in &self.deltas {
            p = (p.0 + i64::from(d.0), p.1 + i64::from(d.1));
            if !within(p) {
                return Err(InkError::OutOfRange);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_round_trip_through_deltas() {
        let pts = [(10, 20), (12, 21), (12, 21), (5, -3), (-40, 7)];
        let ink = Ink::from_points(7, InkTool::Pen, &pts, false).expect("has points");
        assert_eq!(ink.start, (10, 20));
        assert_eq!(ink.deltas, vec![(2, 1), (0, 0), (-7, -24), (-45, 10)]);
        assert_eq!(ink.points(), pts.to_vec());
        assert_eq!(ink.len(), 5);
        assert_eq!(ink.check(), Ok(()));
        assert!(Ink::from_points(7, InkTool::Pen, &[], true).is_none());
    }

    #[test]
    fn out_of_bounds_frames_are_named() {
        let many: Vec<(i32, i32)> = (0..=Ink::MAX_FRAME_POINTS as i32).map(|i| (i, i)).collect();
        let ink = Ink::from_points(1, InkTool::Highlight, &many, false).expect("has points");
        assert_eq!(ink.check(), Err(InkError::TooManyPoints));
        let ink = Ink::from_points(1, InkTool::Pen, &many[..Ink::MAX_FRAME_POINTS], false)
            .expect("has points");
        assert_eq!(ink.check(), Ok(()));
        let far = Ink::from_points(1, InkTool::Pen, &[(Ink::MAX_COORD + 1, 0)], true);
        assert_eq!(far.map(|i| i.check()), Some(Err(InkError::OutOfRange)));
        // The deltas may not walk a point out of range either, however they add up.
        let walk = Ink {
            stroke: 1,
            tool: InkTool::Pen,
            start: (0, 0),
            deltas: vec![(i32::MAX, 0), (i32::MAX, 0)],
            done: false,
        };
        assert_eq!(walk.check(), Err(InkError::OutOfRange));
    }

    #[test]
    fn a_drawn_segment_costs_about_two_bytes_a_point() {
        let pts: Vec<(i32, i32)> = (0..32).map(|i| (400 + i * 3, 300 - i * 2)).collect();
        let ink = Ink::from_points(9, InkTool::Pen, &pts, false).expect("has points");
        let bytes = crate::encode(&crate::Message::Ink(ink));
        assert!(bytes.len() <= 2 * 32 + 12, "{} bytes", bytes.len());
    }
}
