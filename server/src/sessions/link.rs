//! The relay's side of a link (`cobrowse_protocol::link`): one party's numbered stream to and
//! from a session, which outlives that party's sockets.
//!
//! Frames are numbered when they are pushed for the party (its [`SendQueue`] numbers them, or
//! [`Link::record`] while no socket is attached), not when they are written: a frame queued on a
//! socket that dies is still kept, and replayed with its number on the next one. What the
//! queue then drops (an older pointer replaced by a newer one, page state replaced by a resync)
//! leaves a gap in the numbers, which receivers allow.
//!
//! # Bounds
//!
//! A link keeps at most `limits.sendQueueFrames` frames and `limits.replayBytes` bytes it has
//! not seen acknowledged (pointers, clicks and hover states are never kept). What the bounds
//! push out cannot be replayed: a resume from before it starts the link over (a full page
//! instead of the gap), and a write-mode action pushed out is refused to the agents
//! ([`Link::take_lost_actions`]), never dropped silently.
//!
//! [`SendQueue`]: crate::queue::SendQueue

use bytes::Bytes;
use cobrowse_protocol::link::{Inbound, Kept, Outbound, is_sequenced_tag};
use cobrowse_protocol::{LinkWelcome, Role, tags};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Frames applied from the party between two `Ack`s the relay sends on its own (it also
/// acknowledges with every `Pong`).
pub const ACK_EVERY: u64 = 32;

/// One party's link.
#[derive(Debug)]
pub struct Link {
    /// Random, presented by the party's next `Hello` to continue this link.
    pub id: u64,
    /// The party's role.
    pub role: Role,
    /// The agent's identity (agents only): a link resumes only for the same one.
    pub agent_id: Option<String>,
    /// The connection the link is attached to now: frames from an older socket of the party
    /// (one the server has not seen die yet) are not applied, so they cannot take numbers the
    /// party resends on its new socket.
    attached: AtomicU64,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    out: Outbound<Bytes>,
    inbound: Inbound,
    /// The last number the relay acknowledged to the party.
    acked_to_party: u64,
    /// Write-mode actions the bounds pushed out before the party applied them.
    lost_actions: Vec<Bytes>,
}

impl Link {
    /// A new link (a fresh stream in both directions) with the server's bounds.
    pub fn new(role: Role, agent_id: Option<String>, max_frames: usize, max_bytes: usize) -> Link {
        let mut id = 0;
        while id == 0 {
            id = rand::random::<u64>();
        }
        Link {
            id,
            role,
            agent_id,
            attached: AtomicU64::new(0),
            state: Mutex::new(State {
                out: Outbound::new(max_frames, max_bytes),
                inbound: Inbound::new(),
                acked_to_party: 0,
                lost_actions: Vec::new(),
            }),
        }
    }

    /// Attaches the link to connection `conn` (the party's newest socket).
    pub fn attach(&self, conn: u64) {
        self.attached.store(conn, Ordering::SeqCst);
    }

    /// True when `conn` is the connection the link is attached to.
    pub fn is_attached(&self, conn: u64) -> bool {
        self.attached.load(Ordering::SeqCst) == conn
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a counter and a deque, consistent after every call.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Numbers a frame for the party and keeps it for a resume; `None` for frames that travel
    /// plain (handshake, keep-alive, errors).
    pub fn number(&self, tag: u32, frame: &Bytes) -> Option<u64> {
        if !is_sequenced_tag(tag) {
            return None;
        }
        let mut s = self.lock();
        let (seq, lost) = s.out.number(tag, frame);
        for k in lost {
            if k.tag == tags::ACTION {
                s.lost_actions.push(k.frame);
            }
        }
        Some(seq)
    }

    /// [`Link::number`] for a party that has no socket now: the frame waits in the buffer.
    pub fn record(&self, tag: u32, frame: &Bytes) {
        self.number(tag, frame);
    }

    /// Write-mode actions pushed out of the buffer unapplied since the last call.
    pub fn take_lost_actions(&self) -> Vec<Bytes> {
        std::mem::take(&mut self.lock().lost_actions)
    }

    /// The party applied everything up to `through`.
    pub fn ack(&self, through: u64) {
        self.lock().out.ack(through);
    }

    /// Whether to apply the party's frame numbered `seq` (false: a duplicate).
    pub fn accept(&self, seq: u64) -> bool {
        self.lock().inbound.accept(seq)
    }

    /// An `Ack` to send now, if the party's frames applied since the last one reached
    /// `at_least` (0: any new one).
    pub fn ack_due(&self, at_least: u64) -> Option<u64> {
        let mut s = self.lock();
        let applied = s.inbound.applied();
        if applied > s.acked_to_party && applied - s.acked_to_party >= at_least.max(1) {
            s.acked_to_party = applied;
            Some(applied)
        } else {
            None
        }
    }

    /// What to replay to a party that applied everything up to `applied`; `None` when the gap
    /// is no longer all here.
    pub fn replay_after(&self, applied: u64) -> Option<Vec<Kept<Bytes>>> {
        self.lock().out.after(applied)
    }

    /// Settles the link of a page that is gone: the frames after `applied` (all unacknowledged
    /// ones when the page could not say) will never be applied.
    pub fn settle(&self, applied: Option<u64>) -> Vec<Kept<Bytes>> {
        let mut s = self.lock();
        let applied = applied.unwrap_or_else(|| s.out.acked());
        let mut out = s.out.take_after(applied);
        out.extend(
            std::mem::take(&mut s.lost_actions)
                .into_iter()
                .map(|frame| Kept {
                    seq: 0,
                    tag: tags::ACTION,
                    frame,
                }),
        );
        out
    }

    /// The `Welcome.link` for this link.
    pub fn welcome(&self, resumed: bool, keepalive: Duration) -> LinkWelcome {
        LinkWelcome {
            id: self.id,
            resumed,
            received: self.lock().inbound.applied(),
            keepalive_ms: u32::try_from(keepalive.as_millis()).unwrap_or(u32::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(n: u8) -> Bytes {
        Bytes::from(vec![n; 8])
    }

    #[test]
    fn plain_frames_are_not_numbered_and_acks_are_sent_when_due() {
        let l = Link::new(Role::Customer, None, 8, 1 << 20);
        assert_eq!(l.number(tags::WELCOME, &f(0)), None);
        assert_eq!(l.number(tags::ACTION, &f(1)), Some(1));
        assert_eq!(l.number(tags::POINTER, &f(2)), Some(2));
        assert!(l.accept(1) && l.accept(2) && !l.accept(2));
        assert_eq!(l.ack_due(3), None);
        assert_eq!(l.ack_due(0), Some(2));
        assert_eq!(l.ack_due(0), None, "nothing new since");
        assert_ne!(Link::new(Role::Agent, None, 1, 1).id, 0);
    }

    #[test]
    fn actions_the_bounds_push_out_are_reported_and_a_gone_page_settles_the_rest() {
        let l = Link::new(Role::Customer, None, 2, 1 << 20);
        for n in 1..=3 {
            l.number(tags::ACTION, &f(n));
        }
        assert_eq!(l.take_lost_actions(), vec![f(1)]);
        assert!(l.replay_after(0).is_none(), "1 is gone");
        assert_eq!(l.replay_after(1).map(|v| v.len()), Some(2));
        l.number(tags::ACTION, &f(4));
        let never: Vec<u64> = l.settle(Some(3)).iter().map(|k| k.seq).collect();
        // 4 came after what the page applied; 2 was pushed out by 4.
        assert_eq!(never, [4, 0]);
    }
}
