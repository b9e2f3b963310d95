//! Giving sessions up without ending them: when this node no longer owns a session (a
//! conditional live-record write lost to another node) or can no longer prove it does (its
//! heartbeat failed, so another node may claim its sessions), it stops serving them and sends
//! their parties to the owner.

use super::session::Session;
use super::types::{close, frame};
use cobrowse_protocol::{Message, SessionEvent, SessionState};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::app::App;

/// Stops serving `token` here: its parties hear `ServerGoingAway` and are closed with 1012
/// (service restart), so they reconnect and reach the owner (proxied or claimed); the session
/// leaves the registry at once so that reconnect is routed, not refused. Nothing is written:
/// the history and the live record belong to the owner now.
pub fn relinquish(app: &Arc<App>, token: &str) {
    let session = {
        let mut map = app.registry.map();
        match map.get(token) {
            Some(s) if s.lock().state != SessionState::Ended => map.remove(token),
            _ => None,
        }
    };
    if let Some(s) = session {
        drop_here(app, &s);
        tracing::warn!(token, "session given up: this node no longer owns it");
    }
}

/// Stops serving every session here (see [`relinquish`]); returns how many there were.
pub fn relinquish_all(app: &Arc<App>) -> usize {
    let tokens: Vec<String> = app.registry.map().keys().cloned().collect();
    let before = app.registry.live.load(Ordering::SeqCst);
    for t in tokens {
        relinquish(app, &t);
    }
    before.saturating_sub(app.registry.live.load(Ordering::SeqCst))
}

fn drop_here(app: &Arc<App>, s: &Arc<Session>) {
    app.registry
        .by_history
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&s.history_id);
    let (bytes, tag) = frame(&Message::Session(SessionEvent::ServerGoingAway));
    let mut i = s.lock();
    i.flush_recording(app);
    for p in i.parties() {
        p.queue.push_control(bytes.clone(), tag);
        p.queue.close(
            close::SERVICE_RESTART,
            "session moved to another node: reconnect",
        );
    }
    for a in &i.agents {
        if let Some(id) = &a.agent_id {
            app.registry.release_agent(id, &s.token);
        }
    }
    match i.state {
        SessionState::Idle => app.metrics.sessions_idle.decrement(1.0),
        SessionState::Active => app.metrics.sessions_active.decrement(1.0),
        SessionState::Ended => return,
    }
    app.registry.live.fetch_sub(1, Ordering::SeqCst);
    // Over here only: timers see `Ended` and do nothing; no record is written.
    i.state = SessionState::Ended;
    i.customer = None;
    i.agents.clear();
    i.controllers.clear();
    i.cache.clear();
    i.customer_link = None;
    i.detached_agents.clear();
}
