//! Per-address limits: request rates (governor's GCRA, keyed by [`limit_key`]) and the number of
//! WebSocket connections one address may hold, split into *pending* (no `Hello` admitted yet:
//! cheap for anyone to open, so few) and *open* (all of them).
//!
//! Every refusal says when to come back ([`Throttled::retry_after`]): REST answers it as
//! `Retry-After`, the WebSocket in its close reason (`cobrowse_protocol::close`).

use super::client_addr::limit_key;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A refused request: try again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// How long until the request would be allowed.
    pub retry_after: Duration,
}

impl Throttled {
    /// Whole seconds to wait, rounded up, at least 1 (`Retry-After` has no fractions, and "0"
    /// would invite an immediate retry that fails again).
    pub fn secs(&self) -> u64 {
        self.retry_after.as_secs_f64().ceil().max(1.0) as u64
    }
}

/// Addresses a limiter remembers before it forgets those back at full quota.
const REMEMBERED: usize = 10_000;

/// One rate limit per client address (IPv6 per /64).
pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit")
            .field("addresses", &self.limiter.len())
            .finish()
    }
}

impl RateLimit {
    /// `per_minute` requests a minute with bursts of `burst` (both at least 1).
    pub fn new(per_minute: u32, burst: u32) -> RateLimit {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        RateLimit {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one request from `ip`.
    pub fn check(&self, ip: IpAddr) -> Result<(), Throttled> {
        let result = self
            .limiter
            .check_key(&limit_key(ip))
            .map_err(|not_until| Throttled {
                retry_after: not_until.wait_time_from(self.clock.now()),
            });
        // Memory stays bounded: addresses back at full quota are forgotten.
        if self.limiter.len() > REMEMBERED {
            self.limiter.retain_recent();
        }
        result
    }
}

/// Why a connection was refused a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotRefused {
    /// The address already has `limits.pendingConnectionsPerAddress` sockets without a `Hello`.
    Pending,
    /// The address already has `limits.connectionsPerAddress` sockets.
    Open,
}

#[derive(Debug, Default, Clone, Copy)]
struct Count {
    open: usize,
    pending: usize,
}

/// WebSocket connections per client address.
#[derive(Debug)]
pub struct Slots {
    counts: Mutex<HashMap<IpAddr, Count>>,
    max_open: usize,
    max_pending: usize,
}

impl Slots {
    /// At most `max_open` sockets per address, of which at most `max_pending` without an
    /// admitted `Hello`.
    pub fn new(max_open: usize, max_pending: usize) -> Arc<Slots> {
        Arc::new(Slots {
            counts: Mutex::new(HashMap::new()),
            max_open,
            max_pending,
        })
    }

    fn counts(&self) -> MutexGuard<'_, HashMap<IpAddr, Count>> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A pending slot for a new socket from `ip`, released when the [`Slot`] drops.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, SlotRefused> {
        let key = limit_key(ip);
        let mut counts = self.counts();
        let c = counts.entry(key).or_default();
        if c.open >= self.max_open {
            return Err(SlotRefused::Open);
        }
        if c.pending >= self.max_pending {
            return Err(SlotRefused::Pending);
        }
        c.open += 1;
        c.pending += 1;
        Ok(Slot {
            slots: self.clone(),
            key,
            pending: AtomicBool::new(true),
        })
    }

    /// (open, pending) sockets of `ip`'s key.
    pub fn held(&self, ip: IpAddr) -> (usize, usize) {
        let c = self
            .counts()
            .get(&limit_key(ip))
            .copied()
            .unwrap_or_default();
        (c.open, c.pending)
    }
}

/// One socket's place in [`Slots`].
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    key: IpAddr,
    pending: AtomicBool,
}

impl Slot {
    /// The socket's `Hello` was admitted: it no longer counts as pending.
    fn admitted(&self) {
        if self.pending.swap(false, Ordering::SeqCst) {
            let mut counts = self.slots.counts();
            if let Some(c) = counts.get_mut(&self.key) {
                c.pending = c.pending.saturating_sub(1);
            }
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let pending = self.pending.load(Ordering::SeqCst);
        let mut counts = self.slots.counts();
        if let Some(c) = counts.get_mut(&self.key) {
            c.open = c.open.saturating_sub(1);
            if pending {
                c.pending = c.pending.saturating_sub(1);
            }
            if c.open == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// Whether a socket's `Hello` was admitted, shared by the handshake (which admits) and the
/// socket (which raises its frame limit then, see `net::socket`). Holds the socket's
/// connection slot until the last clone drops.
#[derive(Debug, Clone)]
pub struct Admission(Arc<AdmissionInner>);

#[derive(Debug)]
struct AdmissionInner {
    admitted: AtomicBool,
    slot: Option<Slot>,
}

impl Admission {
    /// For a socket holding `slot`.
    pub fn new(slot: Slot) -> Admission {
        Admission(Arc::new(AdmissionInner {
            admitted: AtomicBool::new(false),
            slot: Some(slot),
        }))
    }

    /// For a socket that holds no slot (in-memory sockets in tests).
    pub fn detached() -> Admission {
        Admission(Arc::new(AdmissionInner {
            admitted: AtomicBool::new(false),
            slot: None,
        }))
    }

    /// The `Hello` was admitted (or is proxied to the node that decides): full frame limits,
    /// and the slot is no longer pending.
    pub fn admit(&self) {
        self.0.admitted.store(true, Ordering::SeqCst);
        if let Some(slot) = &self.0.slot {
            slot.admitted();
        }
    }

    /// True once [`Admission::admit`] was called.
    pub fn is_admitted(&self) -> bool {
        self.0.admitted.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn bursts_then_throttles_with_a_retry_hint() {
        let limit = RateLimit::new(60, 3);
        for _ in 0..3 {
            assert!(limit.check(ip("192.0.2.1")).is_ok());
        }
        let t = limit
            .check(ip("192.0.2.1"))
            .expect_err("fourth in a burst of three");
        assert!(t.retry_after <= Duration::from_secs(1), "{t:?}");
        assert_eq!(t.secs(), 1);
        // Another address has its own quota; the same /64 shares one.
        assert!(limit.check(ip("192.0.2.2")).is_ok());
        for _ in 0..3 {
            assert!(limit.check(ip("2001:db8::1")).is_ok());
        }
        assert!(limit.check(ip("2001:db8::ffff:2")).is_err());
        assert!(limit.check(ip("2001:db8:0:1::1")).is_ok());
    }

    #[test]
    fn slots_cap_pending_and_open_sockets_and_come_back_when_dropped() {
        let slots = Slots::new(3, 2);
        let a = slots.acquire(ip("192.0.2.1")).expect("first");
        let b = slots.acquire(ip("192.0.2.1")).expect("second");
        assert_eq!(
            slots.acquire(ip("192.0.2.1")).expect_err("two pending"),
            SlotRefused::Pending
        );
        let admitted = Admission::new(a);
        admitted.admit();
        admitted.admit(); // twice is once
        assert_eq!(slots.held(ip("192.0.2.1")), (2, 1));
        let c = slots.acquire(ip("192.0.2.1")).expect("one pending again");
        assert_eq!(
            slots.acquire(ip("192.0.2.1")).expect_err("three open"),
            SlotRefused::Open
        );
        drop((b, c));
        assert_eq!(slots.held(ip("192.0.2.1")), (1, 0));
        drop(admitted);
        assert_eq!(slots.held(ip("192.0.2.1")), (0, 0));
        assert!(slots.counts().is_empty(), "forgotten when empty");
    }
}
