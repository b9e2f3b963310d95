//! The handshake, up to the session: the origin check, the `Hello` (first frame, in time), in
//! cluster mode the route to the session's owner (proxied there, or claimed), and the checks a
//! `Hello` must pass (shutdown, rate limit, the party's credential, token).
//!
//! Credentials are checked before the connection joins anything: an agent's or controller's
//! (`crate::auth::AgentAuth`) before the session is even looked up, the customer's secret against
//! the session it names. A refused `Hello` is answered `Error{Unauthorized}` + 1008 and changes
//! nothing, so an impostor never displaces the connected customer.

use super::frames::{Inbound, drain_until_close, next_frame, refuse_direct};
use crate::app::App;
use crate::origin::OriginCheck;
use crate::sessions::{self, Refusal, Session, close, frame};
use cobrowse_protocol::{ErrorCode, Hello, Message, Role, SessionEvent};
use futures_util::{Sink, SinkExt, Stream};
use std::fmt::Display;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;
use warp::ws::Message as WsMessage;

/// Facts about the HTTP upgrade request.
#[derive(Debug, Clone)]
pub struct ConnMeta {
    /// Client address (for rate limiting).
    pub ip: IpAddr,
    /// Result of the origin check on the upgrade request.
    pub origin: OriginCheck,
    /// Admitting the `Hello` raises the socket's frame limit and frees its pending slot.
    pub admission: crate::net::Admission,
}

/// A socket whose `Hello` was accepted: the party may now join `session`.
pub(super) struct Admitted<Si, St> {
    /// The accepted `Hello`.
    pub(super) hello: Hello,
    /// The session it names, held by this node.
    pub(super) session: Arc<Session>,
    /// The socket's halves, handed back for the session phase.
    pub(super) sink: Si,
    pub(super) stream: St,
}

/// Checks a `Hello`; on success the session and, for an agent with a JWT, its verified
/// identity (which replaces the declared `agent_id`).
fn check_hello(
    app: &Arc<App>,
    hello: &Hello,
    ip: IpAddr,
) -> Result<(Arc<sessions::Session>, Option<String>), Refusal> {
    if app.is_shutting_down() {
        return Err(Refusal::new(
            ErrorCode::Internal,
            close::GOING_AWAY,
            "server going away",
        ));
    }
    if let Err(t) = app.allow_lookup(ip) {
        return Err(Refusal::new(
            ErrorCode::RateLimited,
            close::POLICY,
            close::rate_limited_reason(t.secs(), "too many session lookups from this address"),
        ));
    }
    if hello.role == Role::Customer {
        let session = sessions::find_for_hello(app, hello)?;
        if !session.is_customer(hello.auth.as_deref()) {
            return Err(Refusal::new(
                ErrorCode::Unauthorized,
                close::POLICY,
                "the customer secret of this session is missing or wrong",
            ));
        }
        return Ok((session, None));
    }
    let verified = app
        .agent_auth
        .verify(hello.auth.as_deref())
        .map_err(|why| Refusal::new(ErrorCode::Unauthorized, close::POLICY, why.to_string()))?;
    Ok((sessions::find_for_hello(app, hello)?, verified.subject))
}

/// Runs the handshake. `None` when the socket is done: refused (and told so), closed by the
/// peer, or proxied to the owner node until it closed.
pub(super) async fn admit<Si, St, E>(
    app: &Arc<App>,
    mut sink: Si,
    mut stream: St,
    meta: &ConnMeta,
    seen: &AtomicU64,
    epoch: Instant,
) -> Option<Admitted<Si, St>>
where
    Si: Sink<WsMessage> + Unpin + Send,
    St: Stream<Item = Result<WsMessage, E>> + Unpin + Send,
    E: Display,
{
    if let OriginCheck::Refused(origin) = &meta.origin {
        let r = Refusal::new(
            ErrorCode::OriginRefused,
            close::POLICY,
            format!("origin {origin} is not allowed"),
        );
        tracing::info!(%origin, ip = %meta.ip, "websocket origin refused");
        refuse_direct(&mut sink, &r).await;
        drain_until_close(&mut stream).await;
        return None;
    }

    let first = tokio::time::timeout(
        app.config.hello_timeout,
        next_frame(app, &mut stream, seen, epoch),
    )
    .await;
    let (hello, hello_raw) = match first {
        Err(_) => {
            let r = Refusal::new(
                ErrorCode::ProtocolViolation,
                close::POLICY,
                "no Hello in time",
            );
            refuse_direct(&mut sink, &r).await;
            drain_until_close(&mut stream).await;
            return None;
        }
        Ok(Inbound::Closed) => return None,
        Ok(Inbound::Refuse(r)) => {
            app.metrics.rejected_frames.increment(1);
            refuse_direct(&mut sink, &r).await;
            drain_until_close(&mut stream).await;
            return None;
        }
        Ok(Inbound::Frame(Message::Hello(h), raw)) => (h, raw),
        Ok(Inbound::Frame(other, _)) => {
            app.metrics.rejected_frames.increment(1);
            let r = Refusal::new(
                ErrorCode::ProtocolViolation,
                close::PROTOCOL,
                format!("the first frame must be Hello, got {}", other.kind_name()),
            );
            refuse_direct(&mut sink, &r).await;
            drain_until_close(&mut stream).await;
            return None;
        }
    };
    // Cluster mode: a session this node does not hold is proxied to its owner, or claimed when
    // the owner is lost (see `crate::cluster`).
    // A node that is stopping neither proxies nor claims: `check_hello` sends the party away.
    if app.cluster.node().is_some()
        && !app.is_shutting_down()
        && sessions::is_token_shaped(&hello.token)
        && app.registry.get(&hello.token).is_none()
    {
        let mut unreachable: Option<String> = None;
        for _ in 0..2 {
            match crate::cluster::route(app, &hello.token, unreachable.as_deref()).await {
                crate::cluster::Route::Local => break,
                crate::cluster::Route::Unavailable => {
                    // Retry later (here or elsewhere); the session is not known to be gone.
                    let (b, _) = frame(&Message::Session(SessionEvent::ServerGoingAway));
                    let _ = sink.send(WsMessage::binary(b)).await;
                    let _ = sink
                        .send(WsMessage::close_with(
                            close::SERVICE_RESTART,
                            "session owner unknown for now: reconnect",
                        ))
                        .await;
                    drain_until_close(&mut stream).await;
                    return None;
                }
                crate::cluster::Route::Proxy { owner, url } => {
                    // The owner decides on this Hello; frames it lets through may be large.
                    meta.admission.admit();
                    let proxied =
                        crate::cluster::proxy(app, &url, meta.ip, hello_raw.clone(), sink, stream);
                    match proxied.await {
                        Ok(()) => return None,
                        Err((si, st)) => {
                            sink = si;
                            stream = st;
                            unreachable = Some(owner);
                        }
                    }
                }
            }
        }
    }
    let mut hello = hello;
    let session = match check_hello(app, &hello, meta.ip) {
        Ok((s, subject)) => {
            if subject.is_some() {
                hello.agent_id = subject;
            }
            s
        }
        Err(r) => {
            tracing::info!(ip = %meta.ip, role = ?hello.role, code = ?r.code, "hello refused");
            if r.close == close::GOING_AWAY {
                let (b, _) = frame(&Message::Session(SessionEvent::ServerGoingAway));
                let _ = sink.send(WsMessage::binary(b)).await;
                let _ = sink.send(WsMessage::close_with(r.close, r.message)).await;
                drain_until_close(&mut stream).await;
            } else {
                refuse_direct(&mut sink, &r).await;
                drain_until_close(&mut stream).await;
            }
            return None;
        }
    };
    meta.admission.admit();
    Some(Admitted {
        hello,
        session,
        sink,
        stream,
    })
}
