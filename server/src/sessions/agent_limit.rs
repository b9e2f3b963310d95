//! `agentSessionsLimit` across a cluster: the sessions an agent identity is in are rows in the
//! shared store (`Store::agent_sessions`), written when the agent joins and removed when its last
//! connection to that session goes, so a second node sees the sessions the first one serves.
//!
//! The registry's own count (`join`) still decides under the session's lock, which closes the
//! race between two joins on one node; this check runs before it, over storage. What counts:
//! every session the identity is connected to as an agent, **observing included** — an observer
//! sees the customer's page exactly as the agent in control does, and the limit bounds how many
//! customers' pages one identity sees at once (it also means a hand-over needs no second check).
//! Rows of sessions that are no longer live (a node died holding them) are not counted, and
//! expire after [`ROW_TTL`].
//!
//! If storage cannot be read the check lets the join through on the node's own count (logged):
//! the limit is accounting, the credential is the access control, and a database outage must not
//! lock agents out of the sessions this node still relays.

use super::session::Session;
use super::types::{Refusal, close, frame};
use crate::app::App;
use cobrowse_protocol::{ErrorCode, Message, Role, SessionEvent};
use std::sync::Arc;
use std::time::Duration;

/// How long an agent-session row lives without being written again (longer than any session
/// an agent sits in; the node's own count holds beyond it).
pub const ROW_TTL: Duration = Duration::from_secs(12 * 3600);

/// Refuses an agent that is at its limit in sessions anywhere in the cluster (the customer is
/// told `AgentBusy`, as for the node's own count).
pub async fn check(
    app: &Arc<App>,
    session: &Arc<Session>,
    role: Role,
    agent_id: Option<&str>,
) -> Result<(), Refusal> {
    let limit = app.config.agent_sessions_limit as usize;
    let Some(id) = agent_id.filter(|_| role == Role::Agent && limit > 0) else {
        return Ok(());
    };
    let others = match live_elsewhere(app, id, &session.token).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(agent_id = id, error = %e, "agent sessions unreadable; the node's own count decides");
            return Ok(());
        }
    };
    if others < limit {
        return Ok(());
    }
    app.metrics.busy_agent.increment(1);
    if let Some(c) = &session.lock().customer {
        let (b, t) = frame(&Message::Session(SessionEvent::AgentBusy));
        c.queue.push_control(b, t);
    }
    Err(Refusal::new(
        ErrorCode::AgentBusy,
        close::POLICY,
        format!("agent is already in {others} session(s) in the cluster (limit {limit})"),
    ))
}

/// Sessions other than `token` that `agent_id` is recorded in and that are still live. For a
/// session this node holds, its own registry is the authority (a row's removal may still be
/// on its way); for the others, the row and the session's live record.
async fn live_elsewhere(
    app: &App,
    agent_id: &str,
    token: &str,
) -> Result<usize, crate::store::StoreError> {
    let mut n = 0;
    for t in app.store.agent_sessions(agent_id.to_string()).await? {
        if t == token {
            continue;
        }
        let counts = if app.registry.get(&t).is_some() {
            app.registry.agent_in(agent_id, &t)
        } else {
            app.store.get_live(t).await?.is_some()
        };
        n += usize::from(counts);
    }
    Ok(n)
}

/// Records that `agent_id` joins `token`: after the check, before the `Welcome`, so a join on
/// another node right after this one counts it (a refused join removes it again).
pub async fn record(app: &App, agent_id: &str, token: &str) {
    let r = app
        .store
        .add_agent_session(agent_id.to_string(), token.to_string(), ROW_TTL)
        .await;
    if let Err(e) = r {
        tracing::warn!(agent_id, token, error = %e, "agent session not recorded");
    }
}

/// Removes the row once no connection of `agent_id` is in `token` on this node any more.
pub async fn forget_if_gone(app: &App, agent_id: &str, token: &str) {
    if app.registry.agent_in(agent_id, token) {
        return;
    }
    let r = app
        .store
        .remove_agent_session(agent_id.to_string(), token.to_string())
        .await;
    if let Err(e) = r {
        tracing::warn!(agent_id, token, error = %e, "agent session row not removed; it expires");
    }
}
