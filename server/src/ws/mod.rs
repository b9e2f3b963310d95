//! One WebSocket connection: handshake, read loop, writer task, keepalive.
//!
//! [`serve`] is generic over any `Sink + Stream` of `warp` WebSocket messages, so the handshake
//! and relay rules can be driven by channels in unit tests; production passes warp's socket.
//!
//! # Close codes
//!
//! 1000 session ended · 1001 server going away / keepalive lost · 1002 malformed frame, text
//! frame, or a first frame that is not `Hello` · 1008 policy: unknown or ended token, origin,
//! auth, rate limit, agent busy, a message the role may not send · 1009 frame too large ·
//! 1011 internal error. A rate-limit close's reason starts `rate_limited; retry-after=<s>;`
//! (`cobrowse_protocol::close::rate_limited_reason`). An `Error` frame with a stable [`ErrorCode`](cobrowse_protocol::ErrorCode) precedes every non-1000
//! close the server initiates, and the close reason repeats its message.
//!
//! # Layout
//!
//! `upgrade` (the HTTP upgrade: connection slots per address, the 101, the socket read with a
//! small limit until its `Hello` is admitted), `handshake` (origin, `Hello`, cluster routing,
//! `Hello` checks), `frames` (reading frames, refusing), `inbound` (what a frame read does: a
//! batch frame by frame, each through its link and the relay table), `link` (a sequenced link's
//! frames in: duplicates, acknowledgements), `writer` (the writer task and keepalive); [`serve`] here joins
//! the admitted party to its session and runs the read loop.

mod frames;
mod handshake;
mod inbound;
mod link;
pub mod upgrade;
mod writer;

#[cfg(test)]
mod tests;

pub use handshake::ConnMeta;

use crate::app::App;
use crate::queue::SendQueue;
use crate::sessions::{self, ConnRef, close, frame};
use cobrowse_protocol::{Message, Role, SessionEvent};
use frames::{Inbound, drain_until_close, next_frame, refuse_direct, refuse_queued};
use futures_util::{Sink, Stream, StreamExt};
use handshake::Admitted;
use std::fmt::Display;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;
use warp::ws::Message as WsMessage;

/// Serves one upgraded socket until it closes.
pub async fn serve<S, E>(app: Arc<App>, socket: S, meta: ConnMeta)
where
    S: Stream<Item = Result<WsMessage, E>> + Sink<WsMessage> + Send + 'static,
    E: Display + Send,
{
    let _guard = app.socket_guard();
    let (sink, stream) = socket.split();
    let epoch = Instant::now();
    let seen = Arc::new(AtomicU64::new(0));
    let Some(Admitted {
        hello,
        session,
        mut sink,
        mut stream,
    }) = handshake::admit(&app, sink, stream, &meta, &seen, epoch).await
    else {
        return;
    };
    let mut conn = ConnRef {
        id: app.registry.next_conn_id(),
        role: hello.role,
        queue: Arc::new(SendQueue::new(
            app.config.send_queue_frames,
            app.config.max_log_bytes,
        )),
        agent_id: hello.agent_id.clone().filter(|_| hello.role == Role::Agent),
        link: None,
        render_reports: Default::default(),
        ink: Default::default(),
        seat: 0,
        observe: hello.observe && hello.role == Role::Agent,
    };
    // The cluster-wide agent limit, then this agent's row, both before the `Welcome`: a join on
    // another node right after this one must already count it.
    let limit = sessions::agent_limit::check(&app, &session, conn.role, conn.agent_id.as_deref());
    let joined = match limit.await {
        Ok(()) => {
            if let Some(id) = &conn.agent_id {
                sessions::agent_limit::record(&app, id, &session.token).await;
            }
            sessions::join(&app, &session, &mut conn, &hello)
        }
        Err(r) => Err(r),
    };
    if let Err(r) = joined {
        tracing::info!(token = %session.token, role = ?conn.role, code = ?r.code, "join refused");
        if let Some(id) = &conn.agent_id {
            sessions::agent_limit::forget_if_gone(&app, id, &session.token).await;
        }
        refuse_direct(&mut sink, &r).await;
        drain_until_close(&mut stream).await;
        return;
    }
    let role_ix = match conn.role {
        Role::Customer => 0,
        Role::Agent => 1,
        Role::Controller => 2,
    };
    if session.adopted {
        let (b, t) = frame(&Message::Session(SessionEvent::OwnerChanged {
            server_url: app
                .cluster
                .node()
                .map(|n| n.public_url.clone())
                .unwrap_or_default(),
        }));
        conn.queue.push_control(b, t);
    }
    app.metrics.connections[role_ix].increment(1.0);
    tracing::info!(
        token = %session.token, conn = conn.id, role = ?conn.role,
        client = %hello.client, agent_id = ?conn.agent_id, "joined"
    );

    let mut writer = tokio::spawn(writer::write_loop(
        app.clone(),
        sink,
        conn.queue.clone(),
        seen.clone(),
        epoch,
    ));
    let mut writer_done = false;
    let mut peer_closed = false;
    loop {
        let inbound = tokio::select! {
            i = next_frame(&app, &mut stream, &seen, epoch) => i,
            _ = &mut writer => { writer_done = true; break; }
        };
        match inbound {
            Inbound::Closed => {
                // The peer closed or vanished: answer its close (if it can still hear) and let
                // the writer finish now rather than after the grace period.
                peer_closed = true;
                conn.queue.close(close::NORMAL, "");
                break;
            }
            Inbound::Refuse(r) => {
                app.metrics.rejected_frames.increment(1);
                tracing::info!(conn = conn.id, code = ?r.code, reason = %r.message, "closing connection");
                refuse_queued(&conn.queue, &r);
                break;
            }
            Inbound::Frame(msg, raw) => {
                if let Err(r) = inbound::apply(&app, &session, &conn, msg, raw, Instant::now()) {
                    app.metrics.rejected_frames.increment(1);
                    tracing::info!(conn = conn.id, code = ?r.code, reason = %r.message, "closing connection");
                    refuse_queued(&conn.queue, &r);
                    break;
                }
            }
        }
    }
    sessions::disconnect(&app, &session, &conn);
    if let Some(id) = &conn.agent_id {
        sessions::agent_limit::forget_if_gone(&app, id, &session.token).await;
    }
    if !writer_done {
        // Let a queued close go out; a vanished peer cannot hold us for long.
        if tokio::time::timeout(app.config.shutdown_grace, &mut writer)
            .await
            .is_err()
        {
            conn.queue.abort();
            let _ = writer.await;
        }
    }
    if !peer_closed {
        // We closed first. Keep reading until the peer's close (or a short deadline): dropping
        // a socket with unread input makes the kernel send a reset, which can destroy our
        // Error and close frames before the peer reads them.
        drain_until_close(&mut stream).await;
    }
    app.metrics.connections[role_ix].decrement(1.0);
    tracing::info!(token = %session.token, conn = conn.id, "connection finished");
}
