//! The relay table: who may send what, and where each frame goes. A frame a role may not send
//! closes its connection (1008); everything else is relayed, answered or recorded here.

use super::cache::Added;
use super::lifecycle::{end, leave};
use super::session::{ConnRef, Inner, Session};
use super::types::{Refusal, close, frame};
use crate::app::{App, StoreOp, now_ms};
use crate::queue::Push;
use crate::store::PageVisit;
use bytes::Bytes;
use cobrowse_protocol::recording::Source;
use cobrowse_protocol::{
    ActionRefused, ControlChange, EndReason, ErrorCode, Message, Mode, ModeChange, Party,
    RefusalReason, Role, SessionState, tags,
};
use std::sync::Arc;
use std::time::Instant;

fn violation(role: Role, what: &str) -> Refusal {
    Refusal::new(
        ErrorCode::ProtocolViolation,
        close::POLICY,
        format!("{what} is not allowed for role {role:?}"),
    )
}

/// Handles one decoded inbound frame. `Err` means: send the refusal and close this connection.
pub fn handle(
    app: &Arc<App>,
    session: &Arc<Session>,
    conn: &ConnRef,
    msg: Message,
    raw: Bytes,
    received: Instant,
) -> Result<(), Refusal> {
    use crate::metrics::{Direction, WriteOutcome};
    let tag = msg.tag();
    let mut i = session.lock();
    if i.state == SessionState::Ended {
        return Ok(()); // Close is already queued; late frames are moot.
    }
    // Only the current customer connection speaks for the customer.
    if conn.role == Role::Customer && i.customer.as_ref().is_none_or(|c| c.id != conn.id) {
        return Ok(());
    }
    // Pointer, click and pseudo-state frames must speak for the sender's own party.
    if let Some(party) = msg.party() {
        let own = match conn.role {
            Role::Customer => Some(Party::Customer),
            Role::Agent => Some(Party::Agent),
            Role::Controller => None,
        };
        if own.is_some_and(|own| own != party) {
            return Err(violation(conn.role, "a frame of another party"));
        }
    }
    let reply = |m: &Message| {
        let (b, t) = frame(m);
        conn.queue.push_control(b, t);
    };
    match (conn.role, msg) {
        (_, Message::Ping(v)) => reply(&Message::Pong(v)),
        (_, Message::Pong(_)) => {}
        (Role::Customer, Message::Leave) => {
            drop(i);
            end(app, session, EndReason::CustomerExit);
        }
        (Role::Agent, Message::Leave) => {
            // The agent holding control ends the session; an observer leaves it alone.
            let ends = i.in_control(conn);
            drop(i);
            if ends {
                end(app, session, EndReason::AgentExit);
            } else {
                leave(app, session, conn);
            }
        }
        (Role::Controller, Message::Leave) => {
            drop(i);
            end(app, session, EndReason::ControllerStop);
        }
        (Role::Customer, m) if m.is_page_state() => {
            if let Message::Navigation(nav) = &m
                && i.history.pages.len() < app.config.max_pages
            {
                // Bounded: history is for people reading it, not a copy of hostile input.
                i.history.pages.push(PageVisit {
                    url: truncate(&nav.url, 2048),
                    title: truncate(&nav.title, 256),
                    at: now_ms(),
                });
                app.write(StoreOp::History(i.history.clone()));
                // The current page, for the supervisor console of any node.
                app.write(StoreOp::Live(
                    session.live_record(&i, &app.config.node_name),
                ));
            }
            match i.cache.add(
                &raw,
                tag,
                app.config.min_log_bytes,
                app.config.max_log_bytes,
            ) {
                Added::Kept => {}
                Added::RequestSnapshot => i.request_snapshot(),
                Added::OverBudget => {
                    app.metrics.caches_over_budget.increment(1);
                    tracing::warn!(
                        token = %session.token,
                        budget = app.config.cache_bytes,
                        "page cache budget spent; this session relays without a cache"
                    );
                }
            }
            app.metrics.relayed(Direction::CustomerToAgent, raw.len());
            i.record(app, Source::Customer, &raw);
            i.relay_to_agents(app, &raw, tag, received);
        }
        (
            Role::Customer,
            m @ (Message::Pointer(_)
            | Message::Click(_)
            | Message::Pseudo(_)
            | Message::Refused(_)
            | Message::Unknown { .. }),
        ) => {
            app.metrics.relayed(Direction::CustomerToAgent, raw.len());
            // A tag this version does not know is relayed but not recorded: its replay would
            // mean nothing, and what it holds cannot be vouched for.
            if !matches!(m, Message::Unknown { .. }) {
                i.record(app, Source::Customer, &raw);
            }
            i.relay_to_agents(app, &raw, tag, received);
        }
        (Role::Customer, Message::Mode(change)) => {
            match change {
                ModeChange::Granted => {
                    if !i.mode_requested || !app.config.write_mode_allowed {
                        // A grant nobody asked for is ignored rather than trusted.
                        tracing::debug!(token = %session.token, "unrequested grant ignored");
                        return Ok(());
                    }
                    i.mode_requested = false;
                    i.mode = Mode::Write;
                    session.store_mode(app, &i);
                    app.metrics.write_mode(WriteOutcome::Granted);
                }
                ModeChange::Denied => {
                    if std::mem::replace(&mut i.mode_requested, false) {
                        app.metrics.write_mode(WriteOutcome::Denied);
                    }
                }
                ModeChange::Revoked { .. } => {
                    i.mode_requested = false;
                    if std::mem::replace(&mut i.mode, Mode::Pointer) == Mode::Write {
                        session.store_mode(app, &i);
                    }
                }
                ModeChange::Request => return Err(violation(Role::Customer, "Mode(Request)")),
            }
            app.metrics.relayed(Direction::CustomerToAgent, raw.len());
            i.record(app, Source::Customer, &raw);
            i.relay_to_agents(app, &raw, tag, received);
        }
        (
            Role::Agent,
            m @ (Message::Pointer(_)
            | Message::Click(_)
            | Message::Pseudo(_)
            | Message::Unknown { .. }),
        ) => {
            if !i.in_control(conn) {
                return Ok(()); // An observer watches silently: its pointer is its own.
            }
            app.metrics.relayed(Direction::AgentToCustomer, raw.len());
            if !matches!(m, Message::Unknown { .. }) {
                i.record(app, Source::Agent, &raw);
            }
            i.relay_to_customer(&raw, tag, received);
        }
        (Role::Agent, Message::Mode(ModeChange::Request | ModeChange::Revoked { .. }))
            if !i.in_control(conn) =>
        {
            i.refuse_observer(conn, None);
        }
        (Role::Agent, Message::Mode(ModeChange::Request)) => {
            if !app.config.write_mode_allowed {
                app.metrics.write_mode(WriteOutcome::Disabled);
                reply(&Message::Refused(ActionRefused {
                    node: None,
                    reason: RefusalReason::WriteModeDisabled,
                }));
                return Ok(());
            }
            i.mode_requested = true;
            app.metrics.relayed(Direction::AgentToCustomer, raw.len());
            i.record(app, Source::Agent, &raw);
            i.relay_to_customer(&raw, tag, received);
        }
        (Role::Agent, Message::Mode(ModeChange::Revoked { .. })) => {
            i.mode_requested = false;
            if std::mem::replace(&mut i.mode, Mode::Pointer) == Mode::Write {
                session.store_mode(app, &i);
            }
            app.metrics.relayed(Direction::AgentToCustomer, raw.len());
            i.record(app, Source::Agent, &raw);
            i.relay_to_customer(&raw, tag, received);
            for a in i.agents.iter().filter(|a| a.id != conn.id) {
                a.queue.push_control(raw.clone(), tag);
            }
        }
        (Role::Agent, Message::Action(action)) => {
            if !i.in_control(conn) {
                i.refuse_observer(conn, action.target());
                return Ok(());
            }
            if i.mode != Mode::Write {
                let reason = if app.config.write_mode_allowed {
                    RefusalReason::NotInWriteMode
                } else {
                    RefusalReason::WriteModeDisabled
                };
                reply(&Message::Refused(ActionRefused {
                    node: action.target(),
                    reason,
                }));
                return Ok(());
            }
            app.metrics.relayed(Direction::AgentToCustomer, raw.len());
            i.record(app, Source::Agent, &raw);
            i.relay_to_customer(&raw, tag, received);
        }
        (Role::Agent, Message::Ink(ink)) => {
            // Bounded per frame by the decoder; per stroke and second here. Over the allowance
            // the frame is dropped: ink is transient, and the page keeps within it by itself.
            if let Err(why) = conn.ink.admit(&ink, received) {
                tracing::debug!(conn = conn.id, why = why.as_str(), "ink dropped");
                return Ok(());
            }
            app.metrics.relayed(Direction::AgentToCustomer, raw.len());
            i.relay_to_customer(&raw, tag, received);
            // Other agents watching see it too. An agent whose queue is full misses the frame;
            // its next page frame overflows too and resyncs it (`relay_to_agents`).
            for a in i.agents.iter().filter(|a| a.id != conn.id) {
                let _ = a.queue.push(raw.clone(), tag, received);
            }
        }
        (Role::Agent, Message::Render(report)) => {
            // Metrics only: a report out of bounds or too soon is dropped, the agent stays.
            drop(i);
            if let Err(why) = report.check() {
                tracing::info!(conn = conn.id, why, "render report out of bounds; dropped");
            } else if !conn.render_reports.admit(received) {
                tracing::debug!(
                    conn = conn.id,
                    "render report sooner than the interval; dropped"
                );
            } else {
                app.metrics.rendered(&report);
            }
        }
        (Role::Agent, Message::RequestSnapshot) => {
            // The renderer lost track; give it the cached page again (or ask the customer).
            let frames = i.cache.frames();
            if frames.is_empty() {
                if !i.cache.requested && i.customer.is_some() {
                    i.cache.requested = true;
                    i.request_snapshot();
                }
            } else {
                conn.queue.resync(frames);
            }
        }
        (Role::Agent, Message::Control(ControlChange::Requested { .. })) => {
            return Err(violation(Role::Agent, "Control(Requested)"));
        }
        (Role::Agent, Message::Control(change)) => {
            super::control::handle(app, session, &mut i, conn, change);
        }
        (Role::Controller, Message::Unknown { .. }) => {}
        (role, m) => return Err(violation(role, &m.kind_name())),
    }
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

impl Inner {
    /// Relays a customer frame to every agent (and keeps it for agents that are away);
    /// overflowing agents are resynced from the cache.
    fn relay_to_agents(&mut self, app: &App, bytes: &Bytes, tag: u32, received: Instant) {
        for l in &self.detached_agents {
            l.record(tag, bytes);
        }
        let mut need_snapshot = false;
        for a in &self.agents {
            if a.queue.push(bytes.clone(), tag, received) == Push::Overflow {
                app.metrics.resyncs.increment(1);
                tracing::info!(
                    conn = a.id,
                    "agent send queue overflow; resyncing from cache"
                );
                let frames = self.cache.frames();
                if frames.is_empty() {
                    need_snapshot = true;
                }
                a.queue.resync(frames);
            }
        }
        if need_snapshot && !self.cache.requested {
            self.cache.requested = true;
            self.request_snapshot();
        }
    }

    /// Forwards an agent frame to the customer. A customer that cannot keep up with agent
    /// traffic (pointers coalesce, so this means a stuck socket) is disconnected; it reconnects
    /// and resumes. A customer that is away gets the frame kept on its link (write-mode actions
    /// are then performed once it is back, or refused if it never is); a customer without a
    /// link cannot get it later, so an action is refused to the agents at once.
    fn relay_to_customer(&self, bytes: &Bytes, tag: u32, received: Instant) {
        match (&self.customer, &self.customer_link) {
            (Some(c), _) => {
                if c.queue.push(bytes.clone(), tag, received) == Push::Overflow {
                    tracing::warn!(conn = c.id, "customer send queue overflow; closing it");
                    c.queue.close(close::POLICY, "send queue overflow");
                }
            }
            (None, Some(l)) => l.record(tag, bytes),
            (None, None) if tag == tags::ACTION => self.refuse_undelivered([bytes.clone()]),
            (None, None) => {}
        }
        if let Some(l) = &self.customer_link {
            let lost = l.take_lost_actions();
            if !lost.is_empty() {
                self.refuse_undelivered(lost);
            }
        }
    }
}
