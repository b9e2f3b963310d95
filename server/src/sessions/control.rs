//! Several agents in one session: seats, who holds control, the roster every party is sent, and
//! handing control over (`cobrowse_protocol::control` states the rules for the wire).
//!
//! # Invariants
//!
//! * Every agent connection has a seat (from 1, never reused in the session). An agent that
//!   resumes its link keeps its seat, and so does one whose `Hello` names a link of its own the
//!   session still knows but cannot continue (a reloaded page of the same tab, a gap no longer
//!   kept, a socket replaced while half-open): the same agent, not another one taking over. A
//!   new tab gets a new seat.
//! * [`ControlState::holder`] names at most one seat. Only the connection in that seat passes
//!   the relay's agent-to-customer checks (`relay`); an agent in any other seat observes.
//! * The holder's seat may be away (its socket dropped, its link kept for a resume): control
//!   waits for it, and nobody acts meanwhile. An agent that joins without `observe` while the
//!   holder is not connected takes control; a `Request` while the holder is not connected is
//!   granted at once. So a holder that reloads its page gets control back, and a session whose
//!   holder vanished is not stuck.
//! * Control only passes to a connected agent, and whenever it passes from one seat to another write
//!   mode ends (`Mode(Revoked { by: Agent })` to everyone): the customer's consent was for the
//!   agent who asked, so the new holder asks again.
//! * Who may give control: the agent holding it, nobody else (an observer's `Give` is refused
//!   with `NotInControl`); the server itself only when nobody connected holds it.

use super::session::{ConnRef, Inner, Session};
use super::types::frame;
use crate::app::App;
use cobrowse_protocol::rest::DesktopEventKind;
use cobrowse_protocol::{
    ActionRefused, ControlChange, Message, Mode, ModeChange, Party, Present, RefusalReason, Roster,
};
use std::collections::HashMap;
use std::sync::Arc;

/// The session's seats and who holds control.
#[derive(Debug, Default)]
pub(super) struct ControlState {
    /// The last seat handed out.
    last_seat: u32,
    /// The seat holding control (maybe away).
    pub(super) holder: Option<u32>,
    /// Link id → the seat of the agent on that link, so a resumed or restarted link keeps its seat.
    link_seats: HashMap<u64, u32>,
}

impl ControlState {
    /// The seat for an agent joining on `link`: the link's own when it has one (a resumed link, or
    /// one that took over an old link's seat), else the next free seat.
    pub(super) fn seat_for(&mut self, link: Option<u64>) -> u32 {
        if let Some(seat) = link.and_then(|l| self.link_seats.get(&l)) {
            return *seat;
        }
        self.last_seat += 1;
        if let Some(l) = link {
            self.link_seats.insert(l, self.last_seat);
        }
        self.last_seat
    }

    /// Gives `new`, the link an agent starts over with, the seat of its old link `old` (same
    /// agent, same tab: a page that could not resume, or a socket replaced while half-open).
    pub(super) fn continue_seat(&mut self, old: u64, new: u64) {
        if let Some(seat) = self.link_seats.remove(&old) {
            self.link_seats.insert(new, seat);
        }
    }

    /// Forgets the seat of a link that will not be resumed.
    pub(super) fn forget_link(&mut self, link: u64) {
        self.link_seats.remove(&link);
    }

    /// The seat of a kept link (for frames recorded for an agent that is away).
    fn seat_of_link(&self, link: u64) -> Option<u32> {
        self.link_seats.get(&link).copied()
    }
}

impl Inner {
    /// True when `conn` is the agent holding control.
    pub(super) fn in_control(&self, conn: &ConnRef) -> bool {
        self.control.holder == Some(conn.seat)
    }

    /// True when the agent holding control is connected now.
    pub(super) fn holder_present(&self) -> bool {
        self.control
            .holder
            .is_some_and(|h| self.agents.iter().any(|a| a.seat == h))
    }

    /// The roster as `you` (an agent's seat, `None` for the others) receives it.
    fn roster(&self, you: Option<u32>) -> Message {
        let mut agents: Vec<Present> = self
            .agents
            .iter()
            .map(|a| Present {
                seat: a.seat,
                agent_id: a.agent_id.clone(),
                control: self.control.holder == Some(a.seat),
            })
            .collect();
        agents.sort_by_key(|p| p.seat);
        agents.dedup_by_key(|p| p.seat);
        Message::Roster(Roster { agents, you })
    }

    /// Sends every party the roster (agents with their own seat), and keeps it for parties that
    /// are away.
    pub(super) fn announce_roster(&self) {
        let (plain, tag) = frame(&self.roster(None));
        if let Some(c) = &self.customer {
            c.queue.push_control(plain.clone(), tag);
        }
        for c in &self.controllers {
            c.queue.push_control(plain.clone(), tag);
        }
        for a in &self.agents {
            let (b, t) = frame(&self.roster(Some(a.seat)));
            a.queue.push_control(b, t);
        }
        for l in &self.detached_agents {
            let (b, t) = frame(&self.roster(self.control.seat_of_link(l.id)));
            l.record(t, &b);
        }
        self.record_for_away(&plain, tag, false);
    }

    /// Refuses `conn`'s attempt to act: it observes.
    pub(super) fn refuse_observer(&self, conn: &ConnRef, node: Option<u32>) {
        let (b, t) = frame(&Message::Refused(ActionRefused {
            node,
            reason: RefusalReason::NotInControl,
        }));
        conn.queue.push_control(b, t);
    }
}

/// Moves control to `seat` (a connected agent). Passing it from another seat ends write mode
/// (everyone is told) and any pending write-mode request, and desktops get a `control` event;
/// true in that case. The caller announces the roster.
pub(super) fn pass_control(
    app: &Arc<App>,
    session: &Arc<Session>,
    i: &mut Inner,
    seat: u32,
    agent_id: Option<&str>,
) -> bool {
    if i.control.holder == Some(seat) {
        return false;
    }
    let first = i.control.holder.is_none();
    i.control.holder = Some(seat);
    i.mode_requested = false;
    i.write_held_for = None;
    // Control moving from one agent to another ends the customer's grant: the new holder asks
    // again. The first holder of this node's session leaves it alone: nobody held control before
    // it here, so a grant is one a node that adopted the session took over with the live record
    // (the customer's client re-confirms it or takes it back), or one the away holder's resume
    // would have kept — `join` already ended that grant if another agent came instead.
    if !first && i.mode == Mode::Write {
        revoke_write(app, session, i);
        let (b, t) = frame(&Message::Mode(ModeChange::Revoked { by: Party::Agent }));
        for a in &i.agents {
            a.queue.push_control(b.clone(), t);
        }
    }
    if first {
        return false;
    }
    i.publish(app, session, DesktopEventKind::Control, agent_id);
    true
}

/// An agent's `Control` frame.
pub(super) fn handle(
    app: &Arc<App>,
    session: &Arc<Session>,
    i: &mut Inner,
    conn: &ConnRef,
    change: ControlChange,
) {
    match change {
        ControlChange::Request => {
            if i.in_control(conn) {
                return;
            }
            if !i.holder_present() {
                tracing::info!(token = %session.token, seat = conn.seat, "control taken: nobody connected held it");
                if pass_control(app, session, i, conn.seat, conn.agent_id.as_deref()) {
                    app.metrics.control_handovers.increment(1);
                }
                i.announce_roster();
                return;
            }
            let (b, t) = frame(&Message::Control(ControlChange::Requested {
                seat: conn.seat,
            }));
            for a in i.agents.iter().filter(|a| i.in_control(a)) {
                a.queue.push_control(b.clone(), t);
            }
        }
        ControlChange::Give { seat } => {
            if !i.in_control(conn) {
                i.refuse_observer(conn, None);
                return;
            }
            let Some(to) = i.agents.iter().find(|a| a.seat == seat) else {
                tracing::debug!(token = %session.token, seat, "control given to a seat nobody is in; ignored");
                return;
            };
            let agent_id = to.agent_id.clone();
            tracing::info!(token = %session.token, from = conn.seat, to = seat, "control handed over");
            if pass_control(app, session, i, seat, agent_id.as_deref()) {
                app.metrics.control_handovers.increment(1);
            }
            i.announce_roster();
        }
        // Only the server sends `Requested`; the relay refuses it from agents before this.
        ControlChange::Requested { .. } => {}
    }
}

/// Back to pointer mode because the agent that held write mode is gone (or control passed);
/// the customer is told (now, or when it is back).
pub(super) fn revoke_write(app: &Arc<App>, session: &Arc<Session>, i: &mut Inner) {
    if i.mode != Mode::Write {
        return;
    }
    i.mode = Mode::Pointer;
    session.store_mode(app, i);
    let (b, t) = frame(&Message::Mode(ModeChange::Revoked { by: Party::Agent }));
    i.to_customer(&b, t);
}
