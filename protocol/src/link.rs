//! Links: how a party's stream to and from the relay survives a lost socket.
//!
//! A *link* is one party's conversation with a session (the customer's page, one agent's
//! replica) across its sockets. A client that sends [`crate::Hello::link`] speaks sequencing, and
//! both ends then follow these rules for every frame of the link:
//!
//! * **Numbering.** Every frame whose tag [`is_sequenced_tag`] travels as
//!   `Seq(Sequenced { seq, frame })`, numbered by its sender from 1 upwards, one count per
//!   direction of the link. Handshake, keep-alive and acknowledgement frames (`Hello`,
//!   `Welcome`, `Ping`, `Pong`, `Ack`) and `Error` (which precedes a close) travel plain.
//! * **Applying.** A receiver applies a sequenced frame only when its number is above the last it
//!   applied ([`Inbound::accept`]), so a frame replayed or resent twice is applied once. Numbers
//!   may skip: a sender never resends pointer, click and hover frames ([`is_transient_tag`]),
//!   which a newer one replaces anyway, nor render reports (a metric).
//! * **Acknowledging.** A receiver sends `Ack(n)` now and then (at least with every keep-alive):
//!   it applied everything up to `n`, so the sender drops those from its [`Outbound`] buffer.
//! * **Resuming.** A reconnecting client names its link and the last number it applied
//!   (`Hello::resume_from`); the server replays what it kept after that and answers with the last
//!   number it applied from the client (`LinkWelcome::received`), after which the client resends
//!   its own. When either side no longer holds the whole gap (its buffer is bounded) the link
//!   starts over: a new stream, and the page as a whole (a `Snapshot`) instead of the gap.
//!
//! Everything here is pure state, used by the server and both browser clients alike.

use crate::codec::{DecodeError, Limits, decode_only, encode, encode_seq, split_seq};
use crate::message::{LinkHello, LinkWelcome, Message, tags};
use std::collections::VecDeque;

/// True for the frames a sequenced link numbers (see the module docs).
pub fn is_sequenced_tag(tag: u32) -> bool {
    !matches!(
        tag,
        tags::HELLO
            | tags::WELCOME
            | tags::PING
            | tags::PONG
            | tags::ERROR
            | tags::SEQ
            | tags::ACK
            | tags::BATCH
    )
}

/// True for sequenced frames that are numbered but never kept for resending: a pointer, a click
/// ring or a hover state is stale once the link is back, and the next one replaces it; a render
/// report is only a metric, not worth a resend; ink fades within seconds, so a stroke cut by a
/// reconnect stays cut rather than being redrawn late.
pub fn is_transient_tag(tag: u32) -> bool {
    matches!(
        tag,
        tags::POINTER | tags::CLICK | tags::PSEUDO | tags::RENDER | tags::INK
    )
}

/// The receiving half of a link: the last number applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Inbound {
    applied: u64,
}

impl Inbound {
    /// A receiver that has applied nothing yet.
    pub fn new() -> Inbound {
        Inbound::default()
    }

    /// A receiver that applied everything up to `applied` (a resumed link).
    pub fn at(applied: u64) -> Inbound {
        Inbound { applied }
    }

    /// Whether to apply the frame numbered `seq`: only above the last applied one, which it
    /// becomes. False means a duplicate (a replay or resend of something already applied).
    pub fn accept(&mut self, seq: u64) -> bool {
        if seq <= self.applied {
            return false;
        }
        self.applied = seq;
        true
    }

    /// The last number applied (`Ack`, `Hello::resume_from`, `LinkWelcome::received`).
    pub fn applied(&self) -> u64 {
        self.applied
    }
}

/// One frame an [`Outbound`] keeps until it is acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept<B> {
    /// Its number.
    pub seq: u64,
    /// Its tag.
    pub tag: u32,
    /// The inner frame.
    pub frame: B,
}

/// The sending half of a link: numbers frames and keeps the unacknowledged ones, within bounds,
/// for a resend after a reconnect. `B` is the sender's byte buffer (`Vec<u8>` in the browsers,
/// shared `Bytes` in the relay).
#[derive(Debug, Clone)]
pub struct Outbound<B> {
    last: u64,
    kept: VecDeque<Kept<B>>,
    kept_bytes: usize,
    max_frames: usize,
    max_bytes: usize,
    /// The highest number dropped from the buffer before it was acknowledged: a resume from
    /// below it cannot be served (0: nothing lost).
    lost_through: u64,
    acked: u64,
}

impl<B: AsRef<[u8]> + Clone> Outbound<B> {
    /// An empty sender that keeps at most `max_frames` frames and `max_bytes` bytes.
    pub fn new(max_frames: usize, max_bytes: usize) -> Outbound<B> {
        Outbound {
            last: 0,
            kept: VecDeque::new(),
            kept_bytes: 0,
            max_frames,
            max_bytes,
            lost_through: 0,
            acked: 0,
        }
    }

    /// Numbers the next frame and keeps it (unless transient). Returns its number and the
    /// frames the bounds pushed out unacknowledged, oldest first: the caller must not pretend
    /// those will arrive (a resume from before them now needs a full resync).
    pub fn number(&mut self, tag: u32, frame: &B) -> (u64, Vec<Kept<B>>) {
        self.last += 1;
        let seq = self.last;
        let mut evicted = Vec::new();
        if is_transient_tag(tag) {
            return (seq, evicted);
        }
        self.kept_bytes += frame.as_ref().len();
        self.kept.push_back(Kept {
            seq,
            tag,
            frame: frame.clone(),
        });
        while self.kept.len() > self.max_frames || self.kept_bytes > self.max_bytes {
            let Some(old) = self.kept.pop_front() else {
                break;
            };
            self.kept_bytes -= old.frame.as_ref().len();
            self.lost_through = old.seq;
            evicted.push(old);
        }
        (seq, evicted)
    }

    /// The peer applied everything up to `through`: forget it. A number above the last one sent
    /// is a broken peer's and is ignored.
    pub fn ack(&mut self, through: u64) {
        if through > self.last || through <= self.acked {
            return;
        }
        self.acked = through;
        while self.kept.front().is_some_and(|k| k.seq <= through) {
            if let Some(k) = self.kept.pop_front() {
                self.kept_bytes -= k.frame.as_ref().len();
            }
        }
    }

    /// What to resend to a peer that applied everything up to `applied`, in order; `None` when
    /// part of that gap was dropped (the link must start over) or `applied` is beyond what was
    /// ever sent (not this link's numbers).
    pub fn after(&self, applied: u64) -> Option<Vec<Kept<B>>> {
        if applied > self.last || applied < self.lost_through {
            return None;
        }
        Some(
            self.kept
                .iter()
                .filter(|k| k.seq > applied)
                .cloned()
                .collect(),
        )
    }

    /// The unacknowledged frames kept now, oldest first.
    pub fn unacked(&self) -> impl Iterator<Item = &Kept<B>> {
        self.kept.iter()
    }

    /// Drops every kept frame after `applied` and returns them (a page that is gone settles its
    /// link: what it applied is known, the rest will never be).
    pub fn take_after(&mut self, applied: u64) -> Vec<Kept<B>> {
        let mut out = Vec::new();
        while self.kept.back().is_some_and(|k| k.seq > applied) {
            if let Some(k) = self.kept.pop_back() {
                self.kept_bytes -= k.frame.as_ref().len();
                out.push(k);
            }
        }
        out.reverse();
        out
    }

    /// The last number given out.
    pub fn last(&self) -> u64 {
        self.last
    }

    /// The last number the peer acknowledged.
    pub fn acked(&self) -> u64 {
        self.acked
    }

    /// Bytes kept now.
    pub fn kept_bytes(&self) -> usize {
        self.kept_bytes
    }
}

/// What a client's [`Endpoint`] makes of a `Welcome`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Welcomed {
    /// The server speaks no sequencing (it sent no `Welcome.link`): frames travel plain and
    /// nothing is resumed, as with servers before links.
    Plain,
    /// The link continues. `resend` are the client's own frames the server did not apply, as
    /// complete `Seq` frames, to send now in order; `gap_lost` says some were pushed out of the
    /// client's buffer before that, so the page must be sent whole (a customer's `Snapshot`).
    Resumed {
        /// Frames to send again, in order.
        resend: Vec<Vec<u8>>,
        /// Part of the gap is gone from the client's buffer.
        gap_lost: bool,
    },
    /// A new stream from 1 both ways; `unsent` are the client's frames the old link never got
    /// acknowledged (the client decides what that means: a customer sends its page anyway, an
    /// agent tells its user which actions may not have arrived).
    Fresh {
        /// The old link's unacknowledged frames, oldest first.
        unsent: Vec<Kept<Vec<u8>>>,
    },
}

/// A browser client's side of its link: the `Hello` fields, numbering and keeping what it
/// sends, unwrapping and de-duplicating what it receives, and when to acknowledge. Both the
/// customer client and the agent page use it, so they follow the same rules.
#[derive(Debug, Clone)]
pub struct Endpoint {
    id: u64,
    out: Outbound<Vec<u8>>,
    inbound: Inbound,
    acked: u64,
    /// The current `Welcome` carried a link.
    on: bool,
    keepalive_ms: Option<u32>,
    bounds: (usize, usize),
}

impl Endpoint {
    /// A client with no link yet that keeps at most `max_frames` / `max_bytes` of its own frames
    /// unacknowledged.
    pub fn new(max_frames: usize, max_bytes: usize) -> Endpoint {
        Endpoint {
            id: 0,
            out: Outbound::new(max_frames, max_bytes),
            inbound: Inbound::new(),
            acked: 0,
            on: false,
            keepalive_ms: None,
            bounds: (max_frames, max_bytes),
        }
    }

    /// A client on a new page of the same session, which knows the old page's link and what it
    /// applied there (kept in session storage): its `Hello` settles the old link.
    pub fn after_page(id: u64, applied: u64, max_frames: usize, max_bytes: usize) -> Endpoint {
        Endpoint {
            id,
            inbound: Inbound::at(applied),
            ..Endpoint::new(max_frames, max_bytes)
        }
    }

    /// `Hello.resume_from` and `Hello.link`: `replay` when this client still holds what it
    /// applied (the same page or replica); false on a new page.
    pub fn hello(&self, replay: bool) -> (Option<u64>, LinkHello) {
        let applied = self.inbound.applied();
        (
            (applied > 0).then_some(applied),
            LinkHello {
                id: self.id,
                replay: replay && self.id != 0,
            },
        )
    }

    /// Takes the server's answer (`Welcome.link`).
    pub fn welcome(&mut self, link: Option<LinkWelcome>) -> Welcomed {
        let Some(w) = link else {
            self.on = false;
            self.keepalive_ms = None;
            return Welcomed::Plain;
        };
        self.on = true;
        self.keepalive_ms = Some(w.keepalive_ms);
        self.acked = 0;
        if w.resumed && w.id == self.id {
            self.out.ack(w.received);
            return match self.out.after(w.received) {
                Some(kept) => Welcomed::Resumed {
                    resend: kept.iter().map(|k| encode_seq(k.seq, &k.frame)).collect(),
                    gap_lost: false,
                },
                None => Welcomed::Resumed {
                    resend: Vec::new(),
                    gap_lost: true,
                },
            };
        }
        let unsent = self.out.take_after(self.out.acked());
        self.id = w.id;
        self.out = Outbound::new(self.bounds.0, self.bounds.1);
        self.inbound = Inbound::new();
        Welcomed::Fresh { unsent }
    }

    /// The bytes to send for `msg`: numbered and kept (a `Seq` frame) when the link is on and
    /// the message is sequenced, else the plain frame. Call it also while no socket is open: a
    /// linked client keeps what it could not send, for the resume.
    pub fn encode(&mut self, msg: &Message) -> Vec<u8> {
        self.encode_frame(msg.tag(), encode(msg))
    }

    /// [`Endpoint::encode`] of a message already encoded as `frame` (its tag `tag`), for a
    /// sender that weighs the plain frame before it decides to send it (the customer's upload
    /// budget): a frame is numbered, and kept for a resend, only once it is really sent.
    pub fn encode_frame(&mut self, tag: u32, frame: Vec<u8>) -> Vec<u8> {
        if !self.on || !is_sequenced_tag(tag) {
            return frame;
        }
        let (seq, _) = self.out.number(tag, &frame);
        encode_seq(seq, &frame)
    }

    /// True when a frame encoded now is kept for a resume (the link is on), so a client may
    /// encode while it has no socket instead of dropping the frame.
    pub fn keeps(&self) -> bool {
        self.on
    }

    /// One frame from the server: `Ok(Some(message))` to handle (a sequenced frame's inner
    /// message the first time, or a plain one), `Ok(None)` for nothing to do (a duplicate, an
    /// `Ack`).
    pub fn receive(&mut self, frame: &[u8]) -> Result<Option<Message>, DecodeError> {
        self.receive_only::<{ tags::ALL }>(frame)
    }

    /// [`Endpoint::receive`] for a party that is sent only the tags in `A` (see
    /// [`decode_only`]): the customer's client, whose build then holds no page-state decoder.
    pub fn receive_only<const A: tags::TagSet>(
        &mut self,
        frame: &[u8],
    ) -> Result<Option<Message>, DecodeError> {
        let limits = Limits::default();
        if let Some((seq, inner)) = split_seq(frame)? {
            if !self.inbound.accept(seq) {
                return Ok(None);
            }
            return decode_only::<A>(inner, &limits).map(Some);
        }
        match decode_only::<A>(frame, &limits)? {
            Message::Ack(n) => {
                self.out.ack(n);
                Ok(None)
            }
            other => Ok(Some(other)),
        }
    }

    /// An `Ack` to send now: when at least `every` frames (0: any) were applied since the last.
    pub fn ack(&mut self, every: u64) -> Option<Message> {
        let applied = self.inbound.applied();
        if !self.on || applied <= self.acked || applied - self.acked < every.max(1) {
            return None;
        }
        self.acked = applied;
        Some(Message::Ack(applied))
    }

    /// The keep-alive period the server asked for (`None` without a link).
    pub fn keepalive_ms(&self) -> Option<u32> {
        self.keepalive_ms
    }

    /// The link id (0: none yet).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The last server frame applied.
    pub fn applied(&self) -> u64 {
        self.inbound.applied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(n: u8) -> Vec<u8> {
        vec![n; 4]
    }

    #[test]
    fn receivers_apply_each_number_once_and_allow_gaps() {
        let mut r = Inbound::new();
        assert!(r.accept(1));
        assert!(!r.accept(1), "a resend of 1");
        assert!(r.accept(3), "2 was a pointer the sender did not resend");
        assert!(!r.accept(2), "older than what was applied");
        assert_eq!(r.applied(), 3);
        assert_eq!(Inbound::at(7).applied(), 7);
    }

    #[test]
    fn handshake_and_keepalive_frames_are_not_numbered_pointers_are_not_kept() {
        for tag in [
            tags::HELLO,
            tags::WELCOME,
            tags::PING,
            tags::PONG,
            tags::ERROR,
            tags::SEQ,
            tags::ACK,
        ] {
            assert!(!is_sequenced_tag(tag), "{tag}");
        }
        for tag in [
            tags::MUTATIONS,
            tags::ACTION,
            tags::SESSION,
            tags::LEAVE,
            99,
        ] {
            assert!(is_sequenced_tag(tag), "{tag}");
        }
        let mut o = Outbound::new(10, 1 << 20);
        assert_eq!(o.number(tags::POINTER, &f(1)).0, 1);
        assert_eq!(o.number(tags::MUTATIONS, &f(2)).0, 2);
        assert_eq!(o.number(tags::RENDER, &f(3)).0, 3);
        let kept: Vec<u64> = o.unacked().map(|k| k.seq).collect();
        assert_eq!(kept, [2]);
    }

    #[test]
    fn acks_free_the_buffer_and_resends_start_after_what_was_applied() {
        let mut o = Outbound::new(10, 1 << 20);
        for n in 1..=5 {
            o.number(tags::MUTATIONS, &f(n));
        }
        o.ack(2);
        assert_eq!(o.kept_bytes(), 12);
        let again: Vec<u64> = o.after(3).expect("kept").iter().map(|k| k.seq).collect();
        assert_eq!(again, [4, 5]);
        assert_eq!(o.after(5).expect("nothing missing"), []);
        assert!(o.after(6).is_none(), "not this link's numbers");
        o.ack(99);
        assert_eq!(o.acked(), 2, "an ack beyond what was sent is ignored");
    }

    #[test]
    fn a_gap_the_bounds_pushed_out_cannot_be_resumed() {
        let mut o = Outbound::new(3, 1 << 20);
        let mut evicted = Vec::new();
        for n in 1..=5 {
            evicted.extend(o.number(tags::ACTION, &f(n)).1);
        }
        assert_eq!(evicted.iter().map(|k| k.seq).collect::<Vec<_>>(), [1, 2]);
        assert!(o.after(1).is_none(), "2 is gone");
        assert_eq!(o.after(2).map(|v| v.len()), Some(3));
        // The byte bound too.
        let mut o = Outbound::new(100, 10);
        o.number(tags::FORM, &f(1));
        o.number(tags::FORM, &f(2));
        let (_, out) = o.number(tags::FORM, &f(3));
        assert_eq!(out.len(), 1);
        assert_eq!(o.kept_bytes(), 8);
    }

    fn welcome(id: u64, resumed: bool, received: u64) -> Option<LinkWelcome> {
        Some(LinkWelcome {
            id,
            resumed,
            received,
            keepalive_ms: 1000,
        })
    }

    fn nav(n: u8) -> Message {
        Message::Scroll(crate::ScrollPosition {
            target: crate::ScrollTarget::Window,
            x: i32::from(n),
            y: 0,
        })
    }

    #[test]
    fn an_endpoint_numbers_keeps_resends_and_drops_duplicates() {
        let mut e = Endpoint::new(16, 1 << 20);
        assert_eq!(
            e.hello(true),
            (
                None,
                LinkHello {
                    id: 0,
                    replay: false
                }
            )
        );
        assert_eq!(
            e.encode(&nav(0)),
            encode(&nav(0)),
            "plain before a linked Welcome"
        );
        assert_eq!(
            e.welcome(welcome(9, false, 0)),
            Welcomed::Fresh { unsent: vec![] }
        );
        assert_eq!(e.keepalive_ms(), Some(1000));
        for n in 1..=3 {
            assert_eq!(
                split_seq(&e.encode(&nav(n))).ok().flatten().map(|s| s.0),
                Some(u64::from(n))
            );
        }
        assert_eq!(
            e.encode(&Message::Ping(1)),
            encode(&Message::Ping(1)),
            "never numbered"
        );
        // From the server: frame 1, a duplicate, an Ack.
        let one = encode_seq(1, &encode(&Message::RequestSnapshot));
        assert_eq!(e.receive(&one), Ok(Some(Message::RequestSnapshot)));
        assert_eq!(e.receive(&one), Ok(None));
        assert_eq!(e.receive(&encode(&Message::Ack(1))), Ok(None));
        assert_eq!(e.ack(0), Some(Message::Ack(1)));
        assert_eq!(e.ack(0), None);
        // The socket drops; the server applied 1, the client applied 1.
        assert_eq!(
            e.hello(true),
            (
                Some(1),
                LinkHello {
                    id: 9,
                    replay: true
                }
            )
        );
        let Welcomed::Resumed { resend, gap_lost } = e.welcome(welcome(9, true, 1)) else {
            panic!("not resumed");
        };
        assert!(!gap_lost);
        let again: Vec<u64> = resend
            .iter()
            .filter_map(|f| split_seq(f).ok().flatten().map(|s| s.0))
            .collect();
        assert_eq!(again, [2, 3]);
        // A link that starts over hands back what was never acknowledged.
        let Welcomed::Fresh { unsent } = e.welcome(welcome(10, false, 0)) else {
            panic!("not fresh");
        };
        assert_eq!(unsent.len(), 2);
        assert_eq!((e.id(), e.applied()), (10, 0));
        assert_eq!(e.welcome(None), Welcomed::Plain);
        assert!(!e.keeps());
    }

    #[test]
    fn a_new_page_names_the_old_link_without_replay_and_an_overflowed_client_says_so() {
        let e = Endpoint::after_page(9, 41, 4, 1 << 20);
        assert_eq!(
            e.hello(true),
            (
                Some(41),
                LinkHello {
                    id: 9,
                    replay: true
                }
            )
        );
        assert!(!e.hello(false).1.replay);
        let mut e = Endpoint::new(2, 1 << 20);
        e.welcome(welcome(3, false, 0));
        for n in 1..=4 {
            e.encode(&nav(n));
        }
        assert_eq!(
            e.welcome(welcome(3, true, 1)),
            Welcomed::Resumed {
                resend: vec![],
                gap_lost: true
            },
            "2 was pushed out of the client's buffer"
        );
    }

    #[test]
    fn a_page_that_is_gone_settles_what_it_never_applied() {
        let mut o = Outbound::new(10, 1 << 20);
        for n in 1..=4 {
            o.number(tags::ACTION, &f(n));
        }
        let never: Vec<u64> = o.take_after(2).iter().map(|k| k.seq).collect();
        assert_eq!(never, [3, 4]);
        assert_eq!(o.unacked().count(), 2);
    }
}
