//! The soak's simulated customers and agents: protocol-level clients that speak links
//! (`cobrowse_protocol::link::Endpoint`, the same rules the browser clients follow), drop their
//! sockets on a schedule, reconnect through nginx with their node cookie after any loss, and
//! check the page-state stream end to end.
//!
//! # What is checked
//!
//! Every customer numbers its page-state frames 1, 2, 3, … inside the frames themselves (the
//! mix's stamp: a mutation batch's stamped text, a scroll's `y`; pointer moves are not page
//! state and are not counted), and every snapshot it sends carries the number of the last frame
//! its page includes (`?state=N` in the document URL). The session's agent applies them in
//! order and counts:
//!
//! * **lost** — a number skipped with no snapshot covering it, or, at the end, numbers the
//!   customer sent that never arrived;
//! * **superseded** — numbers a link start-over replaced with a snapshot (the protocol's rule
//!   when a link cannot resume, e.g. after a session moved to another node): the page state
//!   arrived whole, the individual frames did not;
//! * **duplicates** — a number applied twice on one stream.
//!
//! A session **ends by a fault** when a party hears `Ended` with any reason but the customer's
//! own exit after the soak's stop, is refused by the server with a final error, or cannot get
//! back in before the run's hard end.

use super::connect::{Open, Plan, Sink, Source, hello, open_retrying, send, welcomed};
use super::tally::Tally;
use crate::frames;
use cobrowse_protocol::link::Endpoint;
use cobrowse_protocol::{EndReason, ErrorCode, Message, NodeData, Role, SessionEvent, encode};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, MissedTickBehavior, sleep, sleep_until};
use tokio_tungstenite::tungstenite::Message as Ws;

/// Frames and bytes a client keeps unacknowledged for a resume (the browser clients' order of
/// magnitude).
const RESEND_BOUNDS: (usize, usize) = (2048, 4 << 20);
/// Acknowledge after this many applied frames (the server's and browsers' `ACK_EVERY`).
const ACK_EVERY: u64 = 32;
/// How one party's part of a session ended.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Customer: the last page-state number it produced. Agent: the last one it applied.
    pub last: Option<u64>,
    /// Why the session ended by a fault, if it did.
    pub fault: Option<String>,
    /// The party saw the session end as the soak ends it.
    pub clean: bool,
}

impl Outcome {
    fn fault(last: Option<u64>, why: String) -> Outcome {
        Outcome {
            last,
            fault: Some(why),
            clean: false,
        }
    }
}

/// A page-state number's snapshot: the 300-node page with `?state=N` in its URL.
fn snapshot(n: u64) -> Message {
    let mut msg = frames::snapshot();
    if let Message::Snapshot(s) = &mut msg
        && let Some(NodeData::Document { url }) = s.nodes.first_mut().map(|r| &mut r.data)
    {
        *url = format!("{url}?state={n}");
    }
    msg
}

/// The page-state number a snapshot includes.
fn snapshot_state(msg: &Message) -> Option<u64> {
    let Message::Snapshot(s) = msg else {
        return None;
    };
    match &s.nodes.first()?.data {
        NodeData::Document { url } => url.split_once("?state=")?.1.parse().ok(),
        _ => None,
    }
}

/// The page-state number of a live frame (pointer moves have none).
fn frame_state(msg: &Message) -> Option<u64> {
    match msg {
        Message::Mutations(_) | Message::Scroll(_) => frames::stamp_of(msg),
        _ => None,
    }
}

/// Why a connection's read loop ended.
enum Next {
    /// Reconnect (the socket is gone or was dropped on purpose).
    Reconnect,
    /// The party is done.
    Done(Outcome),
}

/// One customer: produces the mix at `plan.rate` until `plan.stop`, leaves at `plan.leave`.
pub async fn customer(
    plan: Arc<Plan>,
    tally: Arc<Tally>,
    slot: usize,
    token: String,
    secret: String,
    cookie: String,
) -> Outcome {
    let mut ep = Endpoint::new(RESEND_BOUNDS.0, RESEND_BOUNDS.1);
    let (mut n, mut seq) = (0u64, 0u64);
    let period = Duration::from_secs_f64(1.0 / plan.rate.max(0.001));
    let phase = period.mul_f64((slot % 97) as f64 / 97.0);
    let mut tick = tokio::time::interval_at(plan.start + phase, period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut next_drop = plan.first_drop(2 * slot);
    let mut left = false;
    let mut connects = 0u32;
    loop {
        let h = hello(&ep, Role::Customer, &token, &secret, None);
        let (ws, w) = match open_retrying(&plan, &cookie, &h).await {
            Ok(x) => x,
            // The session ended while the Leave was in flight: it is over, as asked.
            Err(Open::Refused(ErrorCode::SessionEnded | ErrorCode::UnknownSession, _)) if left => {
                return Outcome {
                    last: Some(n),
                    fault: None,
                    clean: true,
                };
            }
            Err(Open::Refused(code, m)) => {
                return Outcome::fault(Some(n), format!("customer refused: {code:?} {m}"));
            }
            Err(Open::Retry(why)) => return Outcome::fault(Some(n), format!("customer: {why}")),
        };
        let (resend, whole) = match welcomed(&mut ep, &w, &tally, connects > 0) {
            Ok(x) => x,
            Err(e) => return Outcome::fault(Some(n), e),
        };
        connects += 1;
        let (mut sink, mut source) = ws.split();
        let mut ok = true;
        for f in resend {
            ok &= send(&mut sink, f).await;
        }
        if whole {
            ok &= send(&mut sink, ep.encode(&snapshot(n))).await;
        }
        if !ok {
            Tally::add(&tally.forced_reconnects, 1);
            continue;
        }
        let keepalive = Duration::from_millis(ep.keepalive_ms().unwrap_or(25_000).max(1000) as u64);
        let mut ping = tokio::time::interval_at(Instant::now() + keepalive, keepalive);
        // Timers live across the loop (not one new timer per frame): thousands of parties.
        let drop_at = next_drop
            .filter(|d| *d < plan.stop)
            .unwrap_or(plan.hard_end);
        let drop_timer = sleep_until(drop_at);
        let leave_timer = sleep_until(plan.leave);
        let silence = sleep(keepalive * 2);
        tokio::pin!(drop_timer, leave_timer, silence);
        let next = loop {
            tokio::select! {
                _ = tick.tick(), if Instant::now() < plan.stop => {
                    seq += 1;
                    if !frames::is_pointer(seq) {
                        n += 1;
                        Tally::add(&tally.sent, 1);
                    }
                    if !send(&mut sink, ep.encode(&frames::message(seq, n))).await {
                        Tally::add(&tally.forced_reconnects, 1);
                        break Next::Reconnect;
                    }
                }
                _ = &mut leave_timer, if !left => {
                    left = true;
                    if !send(&mut sink, ep.encode(&Message::Leave)).await {
                        break Next::Reconnect;
                    }
                }
                _ = &mut drop_timer => {
                    if drop_at >= plan.hard_end {
                        break Next::Done(Outcome::fault(Some(n), "customer: no end before the hard end".into()));
                    }
                    next_drop = plan.reconnect_every.map(|e| drop_at + e);
                    Tally::add(&tally.planned_reconnects, 1);
                    break Next::Reconnect;
                }
                _ = ping.tick() => {
                    let mut ok = send(&mut sink, encode(&Message::Ping(0))).await;
                    if let Some(a) = ep.ack(0) {
                        ok &= send(&mut sink, encode(&a)).await;
                    }
                    if !ok {
                        Tally::add(&tally.forced_reconnects, 1);
                        break Next::Reconnect;
                    }
                }
                _ = &mut silence => {
                    // Nothing at all (not even a pong) for two keep-alive periods: half-open.
                    Tally::add(&tally.forced_reconnects, 1);
                    break Next::Reconnect;
                }
                item = source.next() => {
                    silence.as_mut().reset(Instant::now() + keepalive * 2);
                    match customer_frame(item, &mut ep, &mut sink, n, left, &tally).await {
                        Some(next) => break next,
                        None => continue,
                    }
                }
            }
        };
        match next {
            Next::Reconnect => continue,
            Next::Done(mut o) => {
                o.last = Some(n);
                return o;
            }
        }
    }
}

/// Handles one customer read; `Some` ends the connection.
async fn customer_frame(
    item: Option<Result<Ws, tokio_tungstenite::tungstenite::Error>>,
    ep: &mut Endpoint,
    sink: &mut Sink,
    n: u64,
    left: bool,
    tally: &Tally,
) -> Option<Next> {
    let bytes = match item {
        Some(Ok(Ws::Binary(b))) => b,
        Some(Ok(_)) => return None,
        Some(Err(_)) | None => {
            if !left {
                Tally::add(&tally.forced_reconnects, 1);
            }
            return Some(Next::Reconnect);
        }
    };
    let msg = match ep.receive(&bytes) {
        Ok(m) => m,
        Err(e) => {
            return Some(Next::Done(Outcome::fault(
                None,
                format!("customer decode: {e}"),
            )));
        }
    };
    match msg {
        Some(Message::RequestSnapshot) => {
            Tally::add(&tally.snapshots_requested, 1);
            if !send(sink, ep.encode(&snapshot(n))).await {
                return Some(Next::Reconnect);
            }
        }
        Some(Message::Session(SessionEvent::Ended(r))) => {
            return Some(Next::Done(if left && r == EndReason::CustomerExit {
                Outcome {
                    last: None,
                    fault: None,
                    clean: true,
                }
            } else {
                Outcome::fault(None, format!("customer told the session ended: {r:?}"))
            }));
        }
        _ => {}
    }
    if let Some(a) = ep.ack(ACK_EVERY)
        && !send(sink, encode(&a)).await
    {
        return Some(Next::Reconnect);
    }
    None
}

/// The agent's view of the page-state stream.
#[derive(Debug, Default)]
struct Check {
    last: Option<u64>,
    /// When the socket went.
    down: Option<Instant>,
    /// The session moved node (`OwnerChanged`) and its page has not flowed since.
    handover_pending: bool,
    moved: bool,
}

impl Check {
    fn snapshot(&mut self, m: u64, tally: &Tally) {
        if let Some(l) = self.last
            && m > l
        {
            Tally::add(&tally.superseded, m - l);
        }
        // A snapshot below what was applied is a rebuild from the cache: the stream restarts.
        self.last = Some(m);
    }

    fn frame(&mut self, k: u64, tally: &Tally) {
        match self.last {
            Some(l) if k == l + 1 => Tally::add(&tally.received, 1),
            Some(l) if k > l + 1 => {
                Tally::add(&tally.received, 1);
                Tally::add(&tally.lost, k - l - 1);
                tally.note(format!("gap: {} frames before {k}", k - l - 1));
            }
            Some(_) => {
                Tally::add(&tally.duplicates, 1);
                return;
            }
            None => {
                Tally::add(&tally.received, 1);
                Tally::add(&tally.lost, k - 1);
                tally.note(format!("frame {k} before any snapshot"));
            }
        }
        self.last = Some(k);
    }

    /// The page flows again: a moved session's first frame measures the restart's hand-over
    /// (from the SIGTERM), any other return after a drop the outage (from the drop).
    fn restored(&mut self, tally: &Tally) {
        let now = Instant::now();
        if self.handover_pending {
            self.handover_pending = false;
            self.down = None;
            if let Some(r) = tally.restart_at() {
                tally.push_handover((now - r).as_secs_f64());
            }
        } else if let Some(t) = self.down.take() {
            tally.push_outage((now - t).as_secs_f64());
        }
    }
}

/// One agent: watches the session, checks the stream, until the customer's exit ends it.
pub async fn agent(
    plan: Arc<Plan>,
    tally: Arc<Tally>,
    slot: usize,
    token: String,
    cookie: String,
) -> Outcome {
    let mut ep = Endpoint::new(RESEND_BOUNDS.0, RESEND_BOUNDS.1);
    let mut check = Check::default();
    let mut next_drop = plan.first_drop(2 * slot + 1);
    let agent_id = format!("soak-agent-{slot}");
    let mut connects = 0u32;
    loop {
        let h = hello(
            &ep,
            Role::Agent,
            &token,
            crate::target::AGENT_TOKEN,
            Some(agent_id.clone()),
        );
        let (ws, w) = match open_retrying(&plan, &cookie, &h).await {
            Ok(x) => x,
            Err(Open::Refused(ErrorCode::SessionEnded | ErrorCode::UnknownSession, _))
                if Instant::now() >= plan.leave =>
            {
                return Outcome {
                    last: check.last,
                    fault: None,
                    clean: true,
                };
            }
            Err(Open::Refused(code, m)) => {
                return Outcome::fault(check.last, format!("agent refused: {code:?} {m}"));
            }
            Err(Open::Retry(why)) => return Outcome::fault(check.last, format!("agent: {why}")),
        };
        let (resend, _) = match welcomed(&mut ep, &w, &tally, connects > 0) {
            Ok(x) => x,
            Err(e) => return Outcome::fault(check.last, e),
        };
        connects += 1;
        let (mut sink, mut source): (Sink, Source) = ws.split();
        let mut ok = true;
        for f in resend {
            ok &= send(&mut sink, f).await;
        }
        if !ok {
            Tally::add(&tally.forced_reconnects, 1);
            continue;
        }
        let keepalive = Duration::from_millis(ep.keepalive_ms().unwrap_or(25_000).max(1000) as u64);
        let mut ping = tokio::time::interval_at(Instant::now() + keepalive, keepalive);
        let drop_at = next_drop
            .filter(|d| *d < plan.stop)
            .unwrap_or(plan.hard_end);
        let drop_timer = sleep_until(drop_at);
        let silence = sleep(keepalive * 2);
        tokio::pin!(drop_timer, silence);
        let next = loop {
            tokio::select! {
                _ = &mut drop_timer => {
                    if drop_at >= plan.hard_end {
                        break Next::Done(Outcome { last: check.last, fault: None, clean: false });
                    }
                    next_drop = plan.reconnect_every.map(|e| drop_at + e);
                    Tally::add(&tally.planned_reconnects, 1);
                    check.down = Some(Instant::now());
                    break Next::Reconnect;
                }
                _ = ping.tick() => {
                    let mut ok = send(&mut sink, encode(&Message::Ping(0))).await;
                    if let Some(a) = ep.ack(0) {
                        ok &= send(&mut sink, encode(&a)).await;
                    }
                    if !ok {
                        Tally::add(&tally.forced_reconnects, 1);
                        check.down = Some(Instant::now());
                        break Next::Reconnect;
                    }
                }
                _ = &mut silence => {
                    Tally::add(&tally.forced_reconnects, 1);
                    check.down = Some(Instant::now());
                    break Next::Reconnect;
                }
                item = source.next() => {
                    silence.as_mut().reset(Instant::now() + keepalive * 2);
                    let bytes = match item {
                        Some(Ok(Ws::Binary(b))) => b,
                        Some(Ok(_)) => continue,
                        Some(Err(_)) | None => {
                            Tally::add(&tally.forced_reconnects, 1);
                            check.down = Some(Instant::now());
                            break Next::Reconnect;
                        }
                    };
                    let msg = match ep.receive(&bytes) {
                        Ok(Some(m)) => m,
                        Ok(None) => continue,
                        Err(e) => break Next::Done(Outcome::fault(check.last, format!("agent decode: {e}"))),
                    };
                    if let Some(m) = snapshot_state(&msg) {
                        check.snapshot(m, &tally);
                        check.restored(&tally);
                    } else if let Some(k) = frame_state(&msg) {
                        check.frame(k, &tally);
                        check.restored(&tally);
                    }
                    match msg {
                        Message::Session(SessionEvent::Ended(r)) => {
                            break Next::Done(if r == EndReason::CustomerExit && Instant::now() >= plan.leave {
                                Outcome { last: check.last, fault: None, clean: true }
                            } else {
                                Outcome::fault(check.last, format!("agent told the session ended: {r:?}"))
                            });
                        }
                        // Every join after a move hears it again: count the session once.
                        Message::Session(SessionEvent::OwnerChanged { .. }) if !check.moved => {
                            check.moved = true;
                            check.handover_pending = true;
                            Tally::add(&tally.owner_changes, 1);
                        }
                        _ => {}
                    }
                    if let Some(a) = ep.ack(ACK_EVERY)
                        && !send(&mut sink, encode(&a)).await
                    {
                        Tally::add(&tally.forced_reconnects, 1);
                        check.down = Some(Instant::now());
                        break Next::Reconnect;
                    }
                }
            }
        };
        match next {
            Next::Reconnect => continue,
            Next::Done(o) => return o,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cobrowse_protocol::decode;

    #[test]
    fn snapshots_carry_their_state_number_and_live_frames_theirs() {
        let s = decode(&encode(&snapshot(41))).expect("a valid snapshot");
        assert_eq!(snapshot_state(&s), Some(41));
        for seq in 1..=10u64 {
            let m = decode(&encode(&frames::message(seq, 7))).expect("valid");
            assert_eq!(
                frame_state(&m),
                (!frames::is_pointer(seq)).then_some(7),
                "{m:?}"
            );
        }
    }

    #[test]
    fn gaps_count_as_lost_unless_a_snapshot_covers_them() {
        let tally = Tally::default();
        let mut c = Check::default();
        c.snapshot(0, &tally);
        c.frame(1, &tally);
        c.frame(2, &tally);
        c.frame(5, &tally); // 3 and 4 never arrived
        c.frame(5, &tally); // applied twice
        c.snapshot(9, &tally); // 6..=9 replaced by a snapshot
        c.frame(10, &tally);
        c.snapshot(3, &tally); // a rebuild from the cache
        c.frame(4, &tally);
        let f = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(f(&tally.lost), 2);
        assert_eq!(f(&tally.superseded), 4);
        assert_eq!(f(&tally.duplicates), 1);
        assert_eq!(f(&tally.received), 5);
    }
}
