//! A party joining its session: the `Welcome`, its link (continued or new, `super::resume`),
//! what the role gets next (the missed frames of a resumed link, or the cached page), the agent
//! limit and the events the others are told.

use super::resume::{agent_link, customer_link};
use super::session::{ConnRef, Inner, Session};
use super::types::{Refusal, close, frame};
use crate::app::{App, StoreOp, now_ms};
use crate::queue::SendQueue;
use cobrowse_protocol::rest::DesktopEventKind;
use cobrowse_protocol::{
    ControllerEventKind, ErrorCode, Hello, Message, Mode, ModeChange, Party, Role, SessionEvent,
    SessionState,
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
            if let Some(held) = i.write_held_for.take()
                && (replay.is_none() || link.as_ref().map(|l| l.id) != Some(held))
            {
                revoke_write(app, session, &mut i);
            }
            conn.link = link.clone();
            i.agents.push(conn.clone());
            i.agent_gen += 1;
            // The first agent is the session's agent: known before the activation is told.
            if i.history.agent_id.is_none() && conn.agent_id.is_some() {
                i.history.agent_id = conn.agent_id.clone();
                app.write(StoreOp::History(i.history.clone()));
            }
            let activated = i.state == SessionState::Idle;
            if activated {
                let now = now_ms();
                i.state = SessionState::Active;
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
            // Desktops hear the join, then (the first time) the activation it caused.
            i.publish(
                app,
                session,
                DesktopEventKind::Join,
                conn.agent_id.as_deref(),
            );
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

/// Back to pointer mode because the agent that held write mode is gone; the customer is told
/// (now, or when it is back).
pub(super) fn revoke_write(app: &Arc<App>, session: &Arc<Session>, i: &mut Inner) {
    if i.mode != Mode::Write {
        return;
    }
    i.mode = Mode::Pointer;
    session.store_mode(app, i);
    let (b, t) = frame(&Message::Mode(ModeChange::Revoked { by: Party::Agent }));
    i.to_customer(&b, t);
}
