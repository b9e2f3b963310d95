//! A party joining its session: the `Welcome`, its link (continued or new, `super::resume`),
//! what the role gets next (the missed frames of a resumed link, or the cached page), the agent
//! limit, the agent's seat and whether it takes control, and the events the others are told.

use super::control::{pass_control, revoke_write};
use super::resume::{agent_link, customer_link};
use super::session::{ConnRef, Session};
use super::timers::Slot;
use super::types::{Refusal, close, frame};
use crate::app::{App, StoreOp, now_ms};
use crate::queue::SendQueue;
use cobrowse_protocol::rest::DesktopEventKind;
use cobrowse_protocol::{
    ControllerEventKind, ErrorCode, Hello, Message, Role, SessionEvent, SessionState,
};
use std::sync::Arc;

/// Attaches a connection that sent a valid `Hello` (auth and rate limit already checked).
/// On success `conn.queue` holds `Welcome` and whatever the role gets next, and `conn.link` is
/// the party's link when it speaks sequencing (`super::link`): the one it continues, with the
/// frames it missed queued after `Welcome`, or a new one.
pub fn join(
    app: &Arc<App>,
    session: &Arc<Session>,
    conn: &mut ConnRef,
    hello: &Hello,
) -> Result<(), Refusal> {
    let mut i = session.lock();
    if i.state == SessionState::Ended {
        return Err(Refusal::new(
            ErrorCode::SessionEnded,
            close::POLICY,
            "the session has ended",
        ));
    }
    let control = |q: &SendQueue, m: &Message| {
        let (b, t) = frame(m);
        q.push_control(b, t);
    };
    match conn.role {
        Role::Customer => {
            if let Some(old) = i.customer.take() {
                old.queue.close(
                    close::POLICY,
                    "replaced by a newer connection of the customer",
                );
            }
            let (link, replay) = customer_link(app, &mut i, hello);
            let welcome = i.welcome(
                session,
                Role::Customer,
                app,
                link.as_ref(),
                replay.is_some(),
            );
            conn.link = link.clone();
            i.customer_link = link.clone();
            i.customer = Some(conn.clone());
            i.customer_gen += 1;
            i.timers.cancel(Slot::CustomerLost);
            i.cache.requested = false;
            control(&conn.queue, &welcome);
            if let Some(l) = link {
                conn.queue.set_link(l, conn.id);
            }
            for k in replay.unwrap_or_default() {
                conn.queue.push_numbered(k.frame, k.tag, k.seq);
            }
            if std::mem::replace(&mut i.customer_seen, true) {
                i.announce(app, SessionEvent::CustomerReconnected);
            }
        }
        Role::Agent => {
            let limit = app.config.agent_sessions_limit as usize;
            if let Some(id) = &conn.agent_id {
                let mut agents = app.registry.agents();
                let set = agents.entry(id.clone()).or_default();
                let others = set.iter().filter(|t| **t != session.token).count();
                if limit > 0 && others >= limit {
                    drop(agents);
                    app.metrics.busy_agent.increment(1);
                    if let Some(c) = &i.customer {
                        control(&c.queue, &Message::Session(SessionEvent::AgentBusy));
                    }
                    return Err(Refusal::new(
                        ErrorCode::AgentBusy,
                        close::POLICY,
                        format!("agent is already in {others} session(s) (limit {limit})"),
                    ));
                }
                set.insert(session.token.clone());
            }
            let (link, replay) = agent_link(app, &mut i, conn, hello);
            let link_id = link.as_ref().map(|l| l.id);
            conn.seat = i.control.seat_for(link_id);
            // Write mode held for an agent that is away ends when another agent that may take
            // control joins (an observer cannot act, so it leaves the grant alone).
            if let Some(held) = i.write_held_for {
                if replay.is_some() && link_id == Some(held) {
                    i.write_held_for = None;
                } else if !conn.observe {
                    i.write_held_for = None;
                    revoke_write(app, session, &mut i);
                }
            }
            // Control: kept by a holder that resumes; taken by an agent that does not come to
            // watch when nobody connected holds it (`super::control`).
            if !conn.observe && i.control.holder != Some(conn.seat) && !i.holder_present() {
                pass_control(app, session, &mut i, conn.seat, conn.agent_id.as_deref());
            }
            conn.link = link.clone();
            i.agents.push(conn.clone());
            i.agent_gen += 1;
            i.timers.cancel(Slot::AgentLost);
            // The first agent is the session's agent: known before the activation is told.
            if i.history.agent_id.is_none() && conn.agent_id.is_some() {
                i.history.agent_id = conn.agent_id.clone();
                app.write(StoreOp::History(i.history.clone()));
            }
            let activated = i.state == SessionState::Idle;
            if activated {
                let now = now_ms();
                i.state = SessionState::Active;
                i.timers.cancel(Slot::Inactivity);
                i.activated_at = Some(now);
                i.history.activated_at = Some(now);
                app.metrics.sessions_idle.decrement(1.0);
                app.metrics.sessions_active.increment(1.0);
                app.write(StoreOp::History(i.history.clone()));
                i.to_controllers(session, ControllerEventKind::Activated);
            }
            // Every join (the activation's state, and who is connected, for the supervisor
            // console of any node).
            app.write(StoreOp::Live(
                session.live_record(&i, &app.config.node_name),
            ));
            // Desktops hear the join (`observe` for an agent that only watches), then (the
            // first time) the activation it caused.
            let kind = if i.in_control(conn) {
                DesktopEventKind::Join
            } else {
                DesktopEventKind::Observe
            };
            i.publish(app, session, kind, conn.agent_id.as_deref());
            if activated {
                i.publish(app, session, DesktopEventKind::Activated, None);
            }
            let welcome = i.welcome(session, Role::Agent, app, link.as_ref(), replay.is_some());
            control(&conn.queue, &welcome);
            if let Some(l) = link {
                conn.queue.set_link(l, conn.id);
            }
            let resumed = replay.is_some();
            // A resumed replica is in step up to what it applied: the gap (with its old numbers,
            // so before anything numbered now), not the page.
            for k in replay.unwrap_or_default() {
                conn.queue.push_numbered(k.frame, k.tag, k.seq);
            }
            let agents = i.agents.len() as u32;
            i.announce(
                app,
                SessionEvent::AgentJoined {
                    agent_id: conn.agent_id.clone(),
                    agents,
                },
            );
            i.announce_roster();
            if i.customer.is_none() {
                control(
                    &conn.queue,
                    &Message::Session(SessionEvent::CustomerDisconnected),
                );
            }
            if resumed {
                return Ok(());
            }
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
        Role::Controller => {
            i.controllers.push(conn.clone());
            control(
                &conn.queue,
                &i.welcome(session, Role::Controller, app, None, false),
            );
            control(
                &conn.queue,
                &i.controller_event(session, ControllerEventKind::Join),
            );
            if i.state == SessionState::Active {
                control(
                    &conn.queue,
                    &i.controller_event(session, ControllerEventKind::Activated),
                );
            }
        }
    }
    Ok(())
}
