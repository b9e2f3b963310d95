//! A session's life: create (or adopt after a failover), parties leaving (joining is `join`), the
//! timers that end it, the end itself, and the checks a `Hello` passes first.

use super::cache::Cache;
use super::control::revoke_write;
use super::recorder::Recorder;
use super::resume::DETACHED_AGENT_LINKS;
use super::session::{ConnRef, Inner, Session};
use super::timers::{Slot, TimerSlots};
use super::types::{Refusal, close, frame, is_token_shaped, new_token};
use crate::app::{App, StoreOp, now_ms};
use crate::store::{HistoryRecord, LiveRecord, PageVisit};
use cobrowse_protocol::Code;
use cobrowse_protocol::rest::DesktopEventKind;
use cobrowse_protocol::{
    ControllerEventKind, EndReason, ErrorCode, Hello, Message, Mode, Role, SessionEvent,
    SessionState,
};
use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Timer kinds; each fires once and re-checks its condition under the lock. A newer timer of the
/// same kind replaces (cancels) the pending one.
#[derive(Debug, Clone, Copy)]
enum Timer {
    Inactivity,
    CustomerLost(u64),
    AgentLost(u64),
    Forget,
}

impl Timer {
    fn slot(self) -> Slot {
        match self {
            Timer::Inactivity => Slot::Inactivity,
            Timer::CustomerLost(_) => Slot::CustomerLost,
            Timer::AgentLost(_) => Slot::AgentLost,
            Timer::Forget => Slot::Forget,
        }
    }
}

/// Why a session could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// Storage failed.
    #[error("storage: {0}")]
    Store(#[from] crate::store::StoreError),
    /// No free token found (the token space is practically never this full).
    #[error("no free session token")]
    NoToken,
    /// The server is shutting down.
    #[error("server is shutting down")]
    ShuttingDown,
    /// `limits.maxLiveSessions` reached.
    #[error("too many live sessions")]
    Full,
}

/// Creates a session: token, history id, storage records, inactivity timer. `node_url` is the
/// configured public URL (empty: none); `customer_key` the digest of the customer secret.
pub async fn create(
    app: &Arc<App>,
    origin: Option<String>,
    url: Option<String>,
    node_url: String,
    customer_key: String,
) -> Result<Arc<Session>, CreateError> {
    if app.is_shutting_down() {
        return Err(CreateError::ShuttingDown);
    }
    if app.registry.live_count() >= app.config.max_live_sessions {
        app.metrics.busy_server.increment(1);
        return Err(CreateError::Full);
    }
    let now = now_ms();
    for _ in 0..32 {
        let token = new_token();
        let history_id = uuid::Uuid::new_v4().to_string();
        let pages = url
            .iter()
            .map(|u| PageVisit {
                url: u.clone(),
                title: String::new(),
                at: now,
            })
            .collect();
        let history = HistoryRecord {
            history_id: history_id.clone(),
            token: token.clone(),
            created_at: now,
            activated_at: None,
            ended_at: None,
            end_reason: None,
            origin: origin.clone(),
            pages,
            agent_id: None,
        };
        let session = Arc::new(Session {
            token: token.clone(),
            history_id: history_id.clone(),
            created_at: now,
            adopted: false,
            customer_key: customer_key.clone(),
            inner: Mutex::new(Inner {
                state: SessionState::Idle,
                mode: Mode::Pointer,
                mode_requested: false,
                activated_at: None,
                customer: None,
                customer_seen: false,
                agents: Vec::new(),
                controllers: Vec::new(),
                cache: Cache::new(app.page_caches.clone()),
                history: history.clone(),
                node_url: node_url.clone(),
                customer_gen: 0,
                agent_gen: 0,
                customer_link: None,
                detached_agents: Vec::new(),
                write_held_for: None,
                timers: TimerSlots::default(),
                recorder: Recorder::for_session(app, &history_id, origin.as_deref())
                    .map(RefCell::new),
                control: Default::default(),
            }),
        });
        {
            let mut map = app.registry.map();
            if map.contains_key(&token) {
                continue;
            }
            map.insert(token.clone(), session.clone());
        }
        app.registry
            .by_history
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(session.history_id.clone(), token.clone());
        let live = session.live_record(&session.lock(), &app.config.node_name);
        let stored = async {
            let inserted = app.store.insert_live(live).await?;
            if inserted {
                app.store.put_history(history).await?;
            }
            Ok::<bool, crate::store::StoreError>(inserted)
        }
        .await;
        match stored {
            Ok(true) => {}
            Ok(false) => {
                // Taken elsewhere in the cluster; try another token.
                app.registry.map().remove(&token);
                app.registry
                    .by_history
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&session.history_id);
                continue;
            }
            Err(e) => {
                app.registry.map().remove(&token);
                app.registry
                    .by_history
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&session.history_id);
                return Err(e.into());
            }
        }
        app.metrics.sessions_created.increment(1);
        app.metrics.sessions_idle.increment(1.0);
        app.registry.live.fetch_add(1, Ordering::SeqCst);
        spawn_timer(
            app,
            &session,
            app.config.inactivity_duration,
            Timer::Inactivity,
        );
        // The customer must connect (and stay) within maxInterval like any party.
        spawn_timer(
            app,
            &session,
            app.config.max_interval,
            Timer::CustomerLost(0),
        );
        tracing::info!(token = %session.token, history_id = %session.history_id, "session created");
        return Ok(session);
    }
    Err(CreateError::NoToken)
}

/// Takes over a live session whose owner node was lost (the caller already won the ownership
/// claim in storage): same token, same history record. The page cache starts empty; the
/// customer's reconnect brings a fresh snapshot (it sends one after every `Welcome`). A write-mode
/// grant recorded with the session is kept (while `session.writeModeAllowed` holds here): the
/// parties' `Welcome` says `write`, and the customer's client, the authority on its own consent,
/// re-confirms it or takes it back. `None` when the token is already held here.
pub fn adopt(
    app: &Arc<App>,
    rec: LiveRecord,
    history: Option<HistoryRecord>,
) -> Option<Arc<Session>> {
    let state = if rec.state == "active" {
        SessionState::Active
    } else {
        SessionState::Idle
    };
    let history = history.unwrap_or_else(|| HistoryRecord {
        history_id: rec.history_id.clone(),
        token: rec.token.clone(),
        created_at: rec.created_at,
        activated_at: rec.activated_at,
        ended_at: None,
        end_reason: None,
        origin: None,
        pages: Vec::new(),
        agent_id: None,
    });
    let session = Arc::new(Session {
        token: rec.token.clone(),
        history_id: rec.history_id.clone(),
        created_at: rec.created_at,
        adopted: true,
        customer_key: rec.customer_key.clone(),
        inner: Mutex::new(Inner {
            state,
            mode: if rec.write_mode && app.config.write_mode_allowed {
                Mode::Write
            } else {
                Mode::Pointer
            },
            mode_requested: false,
            activated_at: rec.activated_at,
            customer: None,
            customer_seen: true,
            agents: Vec::new(),
            controllers: Vec::new(),
            cache: Cache::new(app.page_caches.clone()),
            node_url: rec.node_url.clone(),
            customer_gen: 0,
            agent_gen: 0,
            customer_link: None,
            detached_agents: Vec::new(),
            write_held_for: None,
            timers: TimerSlots::default(),
            recorder: Recorder::for_session(app, &rec.history_id, history.origin.as_deref())
                .map(RefCell::new),
            history,
            control: Default::default(),
        }),
    });
    {
        let mut map = app.registry.map();
        if map.contains_key(&rec.token) {
            return None;
        }
        map.insert(rec.token.clone(), session.clone());
    }
    app.registry
        .by_history
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(session.history_id.clone(), rec.token.clone());
    app.registry.live.fetch_add(1, Ordering::SeqCst);
    match state {
        SessionState::Idle => {
            app.metrics.sessions_idle.increment(1.0);
            spawn_timer(
                app,
                &session,
                app.config.inactivity_duration,
                Timer::Inactivity,
            );
        }
        _ => {
            app.metrics.sessions_active.increment(1.0);
            // The agents must come back within maxInterval too, like after any drop.
            spawn_timer(app, &session, app.config.max_interval, Timer::AgentLost(0));
        }
    }
    spawn_timer(
        app,
        &session,
        app.config.max_interval,
        Timer::CustomerLost(0),
    );
    tracing::info!(token = %session.token, history_id = %session.history_id, "session adopted");
    Some(session)
}

fn spawn_timer(app: &Arc<App>, session: &Arc<Session>, after: Duration, timer: Timer) {
    // Timers hold weak references: a pending timer must not keep a stopped server's state (and
    // its open database) alive.
    let app_ref = Arc::downgrade(app);
    let session_ref = Arc::downgrade(session);
    let task = tokio::spawn(async move {
        tokio::time::sleep(after).await;
        let (Some(app), Some(session)) = (app_ref.upgrade(), session_ref.upgrade()) else {
            return;
        };
        if app.is_shutting_down() {
            return;
        }
        let reason = {
            let i = session.lock();
            match timer {
                Timer::Inactivity if i.state == SessionState::Idle => {
                    Some(EndReason::InactivityTimeout)
                }
                Timer::CustomerLost(g)
                    if i.customer_gen == g
                        && i.customer.is_none()
                        && i.state != SessionState::Ended =>
                {
                    Some(EndReason::ConnectionLost)
                }
                Timer::AgentLost(g)
                    if i.agent_gen == g
                        && i.agents.is_empty()
                        && i.state == SessionState::Active =>
                {
                    Some(EndReason::ConnectionLost)
                }
                Timer::Forget => {
                    drop(i);
                    let mut map = app.registry.map();
                    if map
                        .get(&session.token)
                        .is_some_and(|s| Arc::ptr_eq(s, &session))
                    {
                        map.remove(&session.token);
                    }
                    drop(map);
                    app.registry
                        .by_history
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&session.history_id);
                    None
                }
                _ => None,
            }
        };
        if let Some(reason) = reason {
            tracing::info!(token = %session.token, ?reason, "session timer fired");
            end(&app, &session, reason);
        }
    });
    session.lock().timers.set(timer.slot(), task.abort_handle());
}

/// Ends a session: records the end (history, live record gone), and once that is on disk
/// notifies every party and closes their sockets (1000). Nobody hears "ended" of an end a crash
/// could still lose; joins are refused from the start (the state is `Ended` at once). The
/// handle finishes once the parties were told (`None`: the session had already ended), so a
/// caller that acknowledges the end itself (REST stop) can wait for it.
pub fn end(
    app: &Arc<App>,
    session: &Arc<Session>,
    reason: EndReason,
) -> Option<tokio::task::JoinHandle<()>> {
    let mut i = session.lock();
    if i.state == SessionState::Ended {
        return None;
    }
    let was = i.state;
    i.state = SessionState::Ended;
    match was {
        SessionState::Idle => app.metrics.sessions_idle.decrement(1.0),
        SessionState::Active => app.metrics.sessions_active.decrement(1.0),
        SessionState::Ended => {}
    }
    app.registry.live.fetch_sub(1, Ordering::SeqCst);
    let now = now_ms();
    app.metrics
        .ended(&reason, session.created_at, i.activated_at, now);
    if i.activated_at.is_none() {
        app.metrics.sessions_never_joined.increment(1);
    }
    i.history.ended_at = Some(now);
    i.history.end_reason = Some(reason.code().to_owned());
    let (done, written) = tokio::sync::oneshot::channel();
    app.write(StoreOp::End {
        history: i.history.clone(),
        owner: app.config.node_name.clone(),
        done: Some(done),
    });
    drop(i);
    let (app, session) = (app.clone(), session.clone());
    Some(tokio::spawn(async move {
        // Storage that hangs must not keep the parties for ever: the end is logged either way.
        if tokio::time::timeout(END_WRITE_WAIT, written).await.is_err() {
            tracing::warn!(token = %session.token, "end not confirmed by storage in time");
        }
        close_ended(&app, &session, reason);
    }))
}

/// How long the parties of an ended session wait for the end to be on disk.
const END_WRITE_WAIT: Duration = Duration::from_secs(10);

/// The rest of [`end`], once its record is written: events, sockets, agent slots, and the timer
/// that forgets the session.
fn close_ended(app: &Arc<App>, session: &Arc<Session>, reason: EndReason) {
    let mut i = session.lock();
    i.to_controllers(session, ControllerEventKind::Deactivated);
    i.publish(app, session, DesktopEventKind::Ended, None);
    i.announce(app, SessionEvent::Ended(reason.clone()));
    i.flush_recording(app);
    for p in i.parties() {
        p.queue.close(close::NORMAL, "session ended");
    }
    for a in &i.agents {
        if let Some(id) = &a.agent_id {
            app.registry.release_agent(id, &session.token);
        }
    }
    i.customer = None;
    i.agents.clear();
    i.controllers.clear();
    i.cache.clear();
    i.customer_link = None;
    i.detached_agents.clear();
    i.customer_gen += 1;
    i.agent_gen += 1;
    i.timers.cancel_all_but(Slot::Forget);
    drop(i);
    tracing::info!(token = %session.token, ?reason, "session ended");
    spawn_timer(app, session, app.config.ended_retention, Timer::Forget);
}

/// A connection went away without `Leave` (or was replaced).
pub fn disconnect(app: &Arc<App>, session: &Arc<Session>, conn: &ConnRef) {
    depart(app, session, conn, true);
}

/// An observing agent sent `Leave`: it alone leaves (told `Ended(AgentExit)`, then closed), its
/// link and seat are forgotten, and the session goes on for the others.
pub(super) fn leave(app: &Arc<App>, session: &Arc<Session>, conn: &ConnRef) {
    let (b, t) = frame(&Message::Session(SessionEvent::Ended(EndReason::AgentExit)));
    conn.queue.push_control(b, t);
    conn.queue.close(close::NORMAL, "left the session");
    if let Some(l) = &conn.link {
        session.lock().control.forget_link(l.id);
    }
    depart(app, session, conn, false);
}

/// An agent, customer or controller connection goes; `keep_link`: an agent's link is kept for
/// a resume.
fn depart(app: &Arc<App>, session: &Arc<Session>, conn: &ConnRef, keep_link: bool) {
    let mut i = session.lock();
    if i.state == SessionState::Ended {
        return;
    }
    match conn.role {
        Role::Customer => {
            if i.customer.as_ref().is_some_and(|c| c.id == conn.id) {
                i.customer = None;
                i.customer_gen += 1;
                let g = i.customer_gen;
                i.announce(app, SessionEvent::CustomerDisconnected);
                drop(i);
                spawn_timer(
                    app,
                    session,
                    app.config.max_interval,
                    Timer::CustomerLost(g),
                );
            }
        }
        Role::Agent => {
            let before = i.agents.len();
            i.agents.retain(|a| a.id != conn.id);
            if i.agents.len() == before {
                return;
            }
            if let Some(l) = conn.link.as_ref().filter(|_| keep_link) {
                // Kept for a resume; frames for this agent wait there meanwhile.
                i.detached_agents.push(l.clone());
                if i.detached_agents.len() > DETACHED_AGENT_LINKS {
                    i.detached_agents.remove(0);
                }
            }
            if let Some(id) = &conn.agent_id
                && !i.agents.iter().any(|a| a.agent_id.as_ref() == Some(id))
            {
                app.registry.release_agent(id, &session.token);
            }
            let agents = i.agents.len() as u32;
            // Who is connected, for the supervisor console of any node.
            app.write(StoreOp::Live(
                session.live_record(&i, &app.config.node_name),
            ));
            i.announce(
                app,
                SessionEvent::AgentLeft {
                    agent_id: conn.agent_id.clone(),
                    agents,
                },
            );
            i.announce_roster();
            if agents == 0 {
                i.publish(
                    app,
                    session,
                    DesktopEventKind::Deactivated,
                    conn.agent_id.as_deref(),
                );
                i.mode_requested = false;
                if i.mode == Mode::Write {
                    match conn.link.as_ref().filter(|_| keep_link) {
                        // The agent may resume its link: the customer's grant waits for it
                        // (nobody can act meanwhile); anyone else joining ends it.
                        Some(l) => i.write_held_for = Some(l.id),
                        None => revoke_write(app, session, &mut i),
                    }
                }
                i.agent_gen += 1;
                let g = i.agent_gen;
                drop(i);
                spawn_timer(app, session, app.config.max_interval, Timer::AgentLost(g));
            }
        }
        Role::Controller => i.controllers.retain(|c| c.id != conn.id),
    }
}

/// Validates a `Hello` against the registry for `role` (token shape, existence, state).
pub fn find_for_hello(app: &Arc<App>, hello: &Hello) -> Result<Arc<Session>, Refusal> {
    let unknown = || {
        Refusal::new(
            ErrorCode::UnknownSession,
            close::POLICY,
            "no live session has this token",
        )
    };
    if !is_token_shaped(&hello.token) {
        return Err(unknown());
    }
    let session = app.registry.get(&hello.token).ok_or_else(unknown)?;
    if session.lock().state == SessionState::Ended {
        return Err(Refusal::new(
            ErrorCode::SessionEnded,
            close::POLICY,
            "the session has ended",
        ));
    }
    Ok(session)
}
