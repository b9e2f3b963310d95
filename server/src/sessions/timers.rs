//! The pending timers of one session, one slot per kind, so a timer whose condition can no longer
//! hold is cancelled instead of sleeping out its time.
//!
//! Every timer still re-checks its condition when it fires (a generation number or the state), so
//! cancelling is never needed for correctness. It is needed for cost: a customer that reconnects
//! every minute under the default 10-minute `maxInterval` would otherwise leave ten sleeping tasks
//! per session behind it, and a server with thousands of sessions would carry tens of thousands.

use tokio::task::AbortHandle;

/// Which timer a slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    /// No agent joined within `inactivityDuration`.
    Inactivity,
    /// The customer did not come back within `maxInterval`.
    CustomerLost,
    /// No agent came back within `maxInterval`.
    AgentLost,
    /// An ended session is forgotten after `endedRetention`.
    Forget,
}

impl Slot {
    const ALL: [Slot; 4] = [
        Slot::Inactivity,
        Slot::CustomerLost,
        Slot::AgentLost,
        Slot::Forget,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// At most one pending timer per [`Slot`]; a new one replaces (aborts) the previous.
#[derive(Debug, Default)]
pub(super) struct TimerSlots {
    slots: [Option<AbortHandle>; 4],
}

impl TimerSlots {
    /// Keeps `handle` as the pending timer of `slot`, aborting the one it replaces.
    pub(super) fn set(&mut self, slot: Slot, handle: AbortHandle) {
        if let Some(old) = self.slots[slot.index()].replace(handle) {
            old.abort();
        }
    }

    /// Aborts the pending timer of `slot`, if any: its condition can no longer hold.
    pub(super) fn cancel(&mut self, slot: Slot) {
        if let Some(old) = self.slots[slot.index()].take() {
            old.abort();
        }
    }

    /// Aborts every pending timer but `keep`'s (an ended session keeps only its `Forget`).
    pub(super) fn cancel_all_but(&mut self, keep: Slot) {
        for slot in Slot::ALL {
            if slot != keep {
                self.cancel(slot);
            }
        }
    }

    /// How many timers are pending (finished ones count until replaced; for tests).
    #[cfg(test)]
    pub(super) fn pending(&self) -> usize {
        self.slots
            .iter()
            .flatten()
            .filter(|h| !h.is_finished())
            .count()
    }
}

impl Drop for TimerSlots {
    /// A forgotten session takes its timers with it.
    fn drop(&mut self) {
        for h in self.slots.iter().flatten() {
            h.abort();
        }
    }
}
