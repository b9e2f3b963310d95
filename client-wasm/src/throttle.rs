//! Animation-frame coalescing of high-rate events (scroll, pointer moves).
//!
//! Browsers fire scroll and pointer events far more often than a screen refreshes. Each event
//! stores its latest value in a slot keyed by what it is about (the window, an element, the
//! pointer); one `requestAnimationFrame` callback then sends every slot once. Latest value wins;
//! slots keep first-seen order so the agent sees targets in the order they started moving.

/// Latest-value slots flushed once per animation frame.
#[derive(Debug)]
pub struct FrameThrottle<K: PartialEq, V> {
    slots: Vec<(K, V)>,
    frame_requested: bool,
}

impl<K: PartialEq, V> Default for FrameThrottle<K, V> {
    fn default() -> Self {
        FrameThrottle {
            slots: Vec::new(),
            frame_requested: false,
        }
    }
}

impl<K: PartialEq, V> FrameThrottle<K, V> {
    /// An empty throttle.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `value` for `key`, replacing an older value. Returns `true` when the caller must
    /// request an animation frame (none is pending yet).
    pub fn push(&mut self, key: K, value: V) -> bool {
        match self.slots.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.slots.push((key, value)),
        }
        !std::mem::replace(&mut self.frame_requested, true)
    }

    /// Takes every pending value (call from the animation-frame callback).
    pub fn drain(&mut self) -> Vec<(K, V)> {
        self.frame_requested = false;
        std::mem::take(&mut self.slots)
    }

    /// Number of pending slots.
    pub fn pending(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_value_wins_and_one_frame_is_requested() {
        let mut t = FrameThrottle::new();
        assert!(t.push("window", (0, 10)));
        assert!(!t.push("window", (0, 20)));
        assert!(!t.push("div#list", (0, 5)));
        assert!(!t.push("window", (0, 30)));
        assert_eq!(t.drain(), vec![("window", (0, 30)), ("div#list", (0, 5))]);
        assert_eq!(t.pending(), 0);
        assert!(t.push("window", (0, 31)), "a new frame after a drain");
    }

    #[test]
    fn drain_without_events_is_empty() {
        let mut t: FrameThrottle<u8, u8> = FrameThrottle::new();
        assert!(t.drain().is_empty());
    }
}
