//! The customer's upload budget: how many bytes of page state leave the browser, so that a
//! runaway animation or a script rewriting the DOM in a loop cannot saturate a mobile uplink, the
//! relay or the agent.
//!
//! # What is counted
//!
//! A [`TokenBucket`] of bytes (`uploadBudget.burstBytes` full, refilled at
//! `uploadBudget.bytesPerSecond`, [`crate::config::UploadBudget`]) pays for the frames a fresh
//! snapshot replaces: the `Snapshot` itself and the deltas after it — DOM changes (`Mutations`),
//! form state (`Form`), CSSOM (`Sheet`), `<canvas>` pixels, media state, the selection and the
//! paint topics ([`counted`]). Not counted, and never held: pointer, click, hover/focus, scroll
//! and viewport frames (tiny, and at most one per animation frame already: `throttle`), the
//! page's address (`Navigation`), and the session's own frames (modes, refusals, keep-alives,
//! acknowledgements, leaving).
//!
//! # Holding, and the one resync snapshot
//!
//! A delta the bucket cannot pay for is not sent, and neither is any delta after it: the budget
//! *holds*. Capture goes on (the mirror keeps up with the page), but what it produces is
//! dropped. Once the bucket holds enough for a snapshot as large as the last one sent (at most a
//! full bucket: [`UploadBudget::resync_in_ms`]) the client sends ONE fresh snapshot, which
//! replaces everything the agent holds, and deltas flow again. A storm that outlasts the burst
//! thus reaches the agent as a snapshot every *snapshot size / rate* seconds instead of a
//! backlog, and the resync after the page calms down leaves the agent with the page's final
//! state. (A quiet period instead of the refill would leave the agent on a stale page for as
//! long as the storm lasts.)
//!
//! The snapshot a new link needs (after a `Welcome` that does not resume) is not paid for
//! ([`UploadBudget::link_snapshot`]): the agent cannot see anything without it, and charging it
//! would leave a page whose snapshot is near or over the burst with no budget for its first
//! changes (a 2 MB page would wait 80 s before the agent saw one). Every other snapshot is paid
//! for. One the server asks for (`RequestSnapshot`: its page log outgrew the last snapshot, or an
//! agent needs the page) goes at once when the bucket can pay for a snapshot, else the resync
//! answers it ([`UploadBudget::snapshot_requested`]); the resync may overdraw the bucket, and
//! deltas then wait until the debt is repaid. Every other send needs the bucket non-negative
//! before it, so over any stretch of *t* seconds without a new link the counted frames add up to
//! at most `burstBytes + bytesPerSecond × t` plus what the last snapshot overdrew.
//!
//! # Why a bucket of our own
//!
//! `governor` (the server's rate limiter) and `ratelimit` are well kept and can run on wasm32 with
//! a clock of our own, but both count cells that are granted or refused whole: a charge above
//! the burst is refused outright (`InsufficientCapacity`) and nothing can overdraw, while this
//! budget must pay for a snapshot the link needs whatever its size and then hold deltas until the
//! debt is repaid. Both are also built for threads (atomics) the page does not have, and would
//! add to the customer's wasm what is a dozen lines of arithmetic here.
//!
//! Time is passed in (`now_ms`: milliseconds on any monotonic clock, the page's
//! `performance.now()` in the browser), so this module is pure and tests drive the clock.

use crate::config;
use cobrowse_protocol::tags;

/// True for the frames the budget pays for (see the module docs): a snapshot and the deltas it
/// replaces.
pub fn counted(tag: u32) -> bool {
    tag == tags::SNAPSHOT || held(tag)
}

/// True for the deltas the budget holds while it is spent: the page state a fresh snapshot
/// carries again.
pub fn held(tag: u32) -> bool {
    matches!(
        tag,
        tags::MUTATIONS
            | tags::FORM
            | tags::SHEET
            | tags::MEDIA
            | tags::CANVAS
            | tags::SELECTION
            | tags::PAINT
    )
}

/// A token bucket of bytes that may go into debt: full at `burst`, refilled at `rate` bytes per
/// millisecond, never above `burst`.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenBucket {
    burst: f64,
    rate: f64,
    tokens: f64,
    at: f64,
}

impl TokenBucket {
    /// A full bucket of `burst` bytes refilled at `per_second` bytes a second, as of `now_ms`.
    pub fn new(burst: u32, per_second: u32, now_ms: f64) -> TokenBucket {
        TokenBucket {
            burst: f64::from(burst),
            rate: f64::from(per_second) / 1000.0,
            tokens: f64::from(burst),
            at: now_ms,
        }
    }

    /// The bytes available at `now_ms` (negative while in debt).
    pub fn tokens(&mut self, now_ms: f64) -> f64 {
        // A clock that went back (it should not) refills nothing rather than draining.
        if now_ms > self.at {
            self.tokens = (self.tokens + (now_ms - self.at) * self.rate).min(self.burst);
            self.at = now_ms;
        }
        self.tokens
    }

    /// Takes `bytes` if they are there; false (nothing taken) otherwise.
    pub fn try_take(&mut self, bytes: usize, now_ms: f64) -> bool {
        let ok = self.tokens(now_ms) >= bytes as f64;
        if ok {
            self.tokens -= bytes as f64;
        }
        ok
    }

    /// Takes `bytes` whatever is there (the bucket may go into debt).
    pub fn take(&mut self, bytes: usize, now_ms: f64) {
        self.tokens(now_ms);
        self.tokens -= bytes as f64;
    }

    /// Milliseconds from `now_ms` until the bucket holds `bytes` (capped at a full bucket, which
    /// is the most it ever holds); 0 when it does now.
    pub fn wait_ms(&mut self, bytes: usize, now_ms: f64) -> f64 {
        let want = (bytes as f64).min(self.burst);
        let have = self.tokens(now_ms);
        if have >= want || self.rate <= 0.0 {
            return 0.0;
        }
        (want - have) / self.rate
    }

    /// The bucket's size.
    pub fn burst(&self) -> f64 {
        self.burst
    }
}

/// What [`UploadBudget::admit`] makes of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Send it.
    Send,
    /// Do not send it; the budget was holding already.
    Drop,
    /// Do not send it; the budget holds from now on: arrange the resync
    /// ([`UploadBudget::resync_in_ms`]).
    Hold,
}

/// The budget of one client's uploads; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadBudget {
    /// `None`: `uploadBudget.unlimited`.
    bucket: Option<TokenBucket>,
    holding: bool,
    /// The size of the last snapshot sent: what a resync is expected to cost.
    last_snapshot: Option<usize>,
    /// The next snapshot is a new link's: sent without paying ([`UploadBudget::link_snapshot`]).
    free_snapshot: bool,
}

impl UploadBudget {
    /// A budget with a full bucket as of `now_ms` (or none at all when the site turned it off).
    pub fn new(config: &config::UploadBudget, now_ms: f64) -> UploadBudget {
        UploadBudget {
            bucket: (!config.unlimited)
                .then(|| TokenBucket::new(config.burst_bytes, config.bytes_per_second, now_ms)),
            holding: false,
            last_snapshot: None,
            free_snapshot: false,
        }
    }

    /// The next snapshot is the one a new link needs: it is sent without being paid for.
    pub fn link_snapshot(&mut self) {
        self.free_snapshot = true;
    }

    /// True while deltas are held: a frame of `tag` is dropped without being encoded.
    pub fn holds(&self, tag: u32) -> bool {
        self.holding && held(tag)
    }

    /// True while the budget holds deltas until a resync.
    pub fn holding(&self) -> bool {
        self.holding
    }

    /// Decides on a frame of `tag` that encodes to `bytes`, and pays for it when it is sent. A
    /// snapshot is always sent (and ends holding: it replaces whatever was held).
    pub fn admit(&mut self, tag: u32, bytes: usize, now_ms: f64) -> Admit {
        let Some(bucket) = &mut self.bucket else {
            return Admit::Send;
        };
        if tag == tags::SNAPSHOT {
            if !std::mem::take(&mut self.free_snapshot) {
                bucket.take(bytes, now_ms);
            }
            self.holding = false;
            self.last_snapshot = Some(bytes);
            return Admit::Send;
        }
        if !held(tag) {
            return Admit::Send;
        }
        if self.holding {
            return Admit::Drop;
        }
        if bucket.try_take(bytes, now_ms) {
            return Admit::Send;
        }
        self.holding = true;
        Admit::Hold
    }

    /// The server asked for a snapshot: true to send one now (the bucket can pay for a snapshot
    /// as large as the last); false when the resync will answer instead (the budget holds from
    /// now on, if it did not already).
    pub fn snapshot_requested(&mut self, now_ms: f64) -> bool {
        let want = self.snapshot_estimate();
        let Some(bucket) = &mut self.bucket else {
            return true;
        };
        if !self.holding && bucket.wait_ms(want, now_ms) == 0.0 {
            return true;
        }
        self.holding = true;
        false
    }

    /// While holding: milliseconds from `now_ms` until the resync snapshot is due (0: now),
    /// when the bucket holds a snapshot as large as the last one sent, or is full. `None` when
    /// not holding.
    pub fn resync_in_ms(&mut self, now_ms: f64) -> Option<f64> {
        if !self.holding {
            return None;
        }
        let want = self.snapshot_estimate();
        self.bucket.as_mut().map(|b| b.wait_ms(want, now_ms))
    }

    /// What the next snapshot is expected to cost: the last one's size, or a full bucket before
    /// any.
    fn snapshot_estimate(&self) -> usize {
        let full = self.bucket.as_ref().map_or(0.0, TokenBucket::burst) as usize;
        self.last_snapshot.unwrap_or(full)
    }
}

#[cfg(test)]
mod tests;
