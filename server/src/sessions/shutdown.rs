//! Stopping the server: end every session (alone), or hand every session over to the other
//! nodes (cluster mode).

use super::session::Session;
use super::types::{close, frame};
use crate::app::{App, StoreOp, now_ms};
use crate::queue::SendQueue;
use cobrowse_protocol::Code;
use cobrowse_protocol::{EndReason, Message, SessionEvent, SessionState};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Tells every party the server is going away and closes them (1001). Sessions are recorded as
/// ended (`server_shutdown`): the embedded store keeps no page cache to resume from. Returns the
/// queues, so the caller can abort writers still stuck after the grace period.
pub fn shutdown_all(app: &Arc<App>) -> Vec<Arc<SendQueue>> {
    let sessions: Vec<Arc<Session>> = app.registry.map().values().cloned().collect();
    let mut queues = Vec::new();
    let (bytes, tag) = frame(&Message::Session(SessionEvent::ServerGoingAway));
    for s in sessions {
        let mut i = s.lock();
        i.flush_recording(app);
        for p in i.parties() {
            p.queue.push_control(bytes.clone(), tag);
            p.queue.close(close::GOING_AWAY, "server going away");
            queues.push(p.queue.clone());
        }
        if i.state != SessionState::Ended {
            match i.state {
                SessionState::Idle => app.metrics.sessions_idle.decrement(1.0),
                _ => app.metrics.sessions_active.decrement(1.0),
            }
            app.registry.live.fetch_sub(1, Ordering::SeqCst);
            i.state = SessionState::Ended;
            let now = now_ms();
            app.metrics.ended(
                &EndReason::ServerShutdown,
                s.created_at,
                i.activated_at,
                now,
            );
            i.history.ended_at = Some(now);
            i.history.end_reason = Some(EndReason::ServerShutdown.code().to_owned());
            app.write(StoreOp::End {
                history: i.history.clone(),
                owner: app.config.node_name.clone(),
                done: None,
            });
        }
        i.customer = None;
        i.agents.clear();
        i.controllers.clear();
    }
    queues
}

/// Cluster mode, graceful stop: hands every live session over instead of ending it. For each
/// session the latest history is written, the live record is released (compare-and-set from
/// this node to [`crate::store::RELEASED`], keeping state and write-mode grant), and only then
/// are its parties told `ServerGoingAway` and closed with 1012 (service restart): their
/// reconnects reach another node (the load balancer no longer routes here), which claims the
/// released record at once. The history stays open: the session goes on elsewhere. Returns the
/// queues, so the caller can abort writers still stuck after the grace period.
pub async fn hand_over_all(app: &Arc<App>) -> Vec<Arc<SendQueue>> {
    use futures_util::StreamExt;
    let sessions: Vec<Arc<Session>> = app.registry.map().values().cloned().collect();
    let me = app.config.node_name.clone();
    let released = futures_util::stream::iter(sessions)
        .map(|s| {
            let me = me.clone();
            async move {
                let (rec, history) = {
                    let i = s.lock();
                    if i.state == SessionState::Ended {
                        return None;
                    }
                    (
                        s.live_record(&i, crate::store::RELEASED),
                        i.history.clone(),
                    )
                };
                if let Err(e) = app.store.put_history(history).await {
                    tracing::warn!(token = %s.token, error = %e, "history not written before hand-over");
                }
                match app.store.claim_live(me, rec).await {
                    Ok(true) => tracing::info!(token = %s.token, "session released for another node"),
                    Ok(false) => tracing::info!(token = %s.token, "session no longer owned here"),
                    Err(e) => tracing::warn!(token = %s.token, error = %e,
                        "session not released; another node claims it once this node's heartbeat expires"),
                }
                Some(s)
            }
        })
        .buffer_unordered(16)
        .filter_map(std::future::ready)
        .collect::<Vec<_>>()
        .await;
    let (bytes, tag) = frame(&Message::Session(SessionEvent::ServerGoingAway));
    let mut queues = Vec::new();
    for s in released {
        let mut i = s.lock();
        // The node that claims the session appends its own chunks after these.
        i.flush_recording(app);
        for p in i.parties() {
            p.queue.push_control(bytes.clone(), tag);
            p.queue
                .close(close::SERVICE_RESTART, "node restarting: reconnect");
            queues.push(p.queue.clone());
        }
        if i.state != SessionState::Ended {
            match i.state {
                SessionState::Idle => app.metrics.sessions_idle.decrement(1.0),
                _ => app.metrics.sessions_active.decrement(1.0),
            }
            app.registry.live.fetch_sub(1, Ordering::SeqCst);
            // Over here only: no history or live-record write, the session lives on elsewhere.
            i.state = SessionState::Ended;
        }
        i.customer = None;
        i.agents.clear();
        i.controllers.clear();
    }
    queues
}
