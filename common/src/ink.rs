//! The annotation strokes on screen, as the customer client and the agent page both keep them:
//! each stroke's SVG path (top-document CSS pixels) and when it goes. One rule for both sides, so
//! a stroke looks and fades the same on each: it stays `keep_ms` after its last points arrived
//! (the wire's `Ink::FADE_MS`), at most [`Board::MAX_STROKES`] are kept (the oldest goes first).
//!
//! Pure: the pages turn what it says into SVG `<path>` elements.

use std::fmt::Write;

/// One stroke on screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Stroke {
    /// The stroke's key (who drew it and its number, as the page chooses).
    pub key: u64,
    /// Its SVG path data: `M x y L x y …`.
    pub d: String,
    /// When it goes (the pages' clock, milliseconds).
    pub until: f64,
    /// The drawer let go: the stroke is fading.
    pub done: bool,
}

/// What [`Board::add`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// A new stroke; `evicted` is the key of the oldest one, dropped to make room.
    New {
        /// The stroke dropped to stay within [`Board::MAX_STROKES`].
        evicted: Option<u64>,
    },
    /// More points of a stroke already on screen.
    Extended,
    /// Points for a stroke that is already done (a late or repeated frame): ignored.
    Ignored,
}

/// The strokes on screen, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Board {
    strokes: Vec<Stroke>,
}

impl Board {
    /// The most strokes kept at once.
    pub const MAX_STROKES: usize = 64;

    /// Adds `points` to stroke `key` (creating it), received `now`; the stroke then stays until
    /// `now + keep_ms`. `done` marks it finished.
    pub fn add(
        &mut self,
        key: u64,
        points: &[(i32, i32)],
        done: bool,
        now: f64,
        keep_ms: f64,
    ) -> Added {
        let until = now + keep_ms;
        if let Some(s) = self.strokes.iter_mut().find(|s| s.key == key) {
            if s.done {
                return Added::Ignored;
            }
            for (x, y) in points {
                let _ = write!(s.d, " L{x} {y}");
            }
            s.until = until;
            s.done = done;
            return Added::Extended;
        }
        let Some(&(x0, y0)) = points.first() else {
            return Added::Ignored;
        };
        let mut d = format!("M{x0} {y0}");
        // A lone point still draws a dot (round caps on a zero-length segment).
        for (x, y) in points
            .get(1..)
            .filter(|r| !r.is_empty())
            .unwrap_or(&points[..1])
        {
            let _ = write!(d, " L{x} {y}");
        }
        let evicted = if self.strokes.len() >= Self::MAX_STROKES {
            Some(self.strokes.remove(0).key)
        } else {
            None
        };
        self.strokes.push(Stroke {
            key,
            d,
            until,
            done,
        });
        Added::New { evicted }
    }

    /// Stroke `key`, if it is on screen.
    pub fn get(&self, key: u64) -> Option<&Stroke> {
        self.strokes.iter().find(|s| s.key == key)
    }

    /// Removes the strokes whose time is up at `now`; returns their keys.
    pub fn expire(&mut self, now: f64) -> Vec<u64> {
        let mut gone = Vec::new();
        self.strokes.retain(|s| {
            let keep = s.until > now;
            if !keep {
                gone.push(s.key);
            }
            keep
        });
        gone
    }

    /// When the next stroke goes, if any is on screen.
    pub fn next_expiry(&self) -> Option<f64> {
        self.strokes.iter().map(|s| s.until).reduce(f64::min)
    }

    /// Removes every stroke; returns their keys.
    pub fn clear(&mut self) -> Vec<u64> {
        self.strokes.drain(..).map(|s| s.key).collect()
    }

    /// How many strokes are on screen.
    pub fn len(&self) -> usize {
        self.strokes.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.strokes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strokes_grow_finish_and_expire() {
        let mut b = Board::default();
        assert_eq!(
            b.add(1, &[(10, 20), (12, 22)], false, 0.0, 4000.0),
            Added::New { evicted: None }
        );
        assert_eq!(b.add(1, &[(15, 25)], false, 100.0, 4000.0), Added::Extended);
        assert_eq!(b.get(1).map(|s| s.d.as_str()), Some("M10 20 L12 22 L15 25"));
        assert_eq!(b.add(1, &[(16, 25)], true, 200.0, 4000.0), Added::Extended);
        assert_eq!(b.add(1, &[(99, 99)], false, 300.0, 4000.0), Added::Ignored);
        assert_eq!(b.get(1).map(|s| (s.done, s.until)), Some((true, 4200.0)));
        assert_eq!(
            b.add(2, &[(5, 5)], true, 1000.0, 4000.0),
            Added::New { evicted: None }
        );
        assert_eq!(b.get(2).map(|s| s.d.as_str()), Some("M5 5 L5 5"));
        assert_eq!(b.next_expiry(), Some(4200.0));
        assert!(b.expire(4199.0).is_empty());
        assert_eq!(b.expire(4200.0), vec![1]);
        assert_eq!(b.next_expiry(), Some(5000.0));
        assert_eq!(b.expire(6000.0), vec![2]);
        assert!(b.is_empty());
        assert_eq!(b.next_expiry(), None);
        assert_eq!(b.add(3, &[], false, 0.0, 1.0), Added::Ignored);
    }

    #[test]
    fn the_oldest_stroke_makes_room() {
        let mut b = Board::default();
        for k in 0..Board::MAX_STROKES as u64 {
            assert_eq!(
                b.add(k, &[(1, 1)], true, 0.0, 10.0),
                Added::New { evicted: None }
            );
        }
        assert_eq!(
            b.add(100, &[(1, 1)], true, 0.0, 10.0),
            Added::New { evicted: Some(0) }
        );
        assert_eq!(b.len(), Board::MAX_STROKES);
        assert_eq!(b.clear().len(), Board::MAX_STROKES);
    }
}
