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
//! 1011 internal error. An `Error` frame with a stable [`ErrorCode`] precedes every non-1000
//! close the server initiates, and the close reason repeats its message.

use crate::app::App;
use crate::origin::OriginCheck;
use crate::queue::{Out, SendQueue};
use crate::sessions::{self, ConnRef, Refusal, close, frame};
use bytes::Bytes;
use cobrowse_protocol::{DecodeError, ErrorCode, ErrorFrame, Hello, Message, Role, SessionEvent};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use std::fmt::Display;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use warp::ws::Message as WsMessage;

/// Facts about the HTTP upgrade request.
#[derive(Debug, Clone)]
pub struct ConnMeta {
    /// Client address (for rate limiting).
    pub ip: IpAddr,
    /// Result of the origin check on the upgrade request.
    pub origin: OriginCheck,
}

enum Inbound {
    Frame(Message, Bytes),
    Closed,
    Refuse(Refusal),
}

fn decode_refusal(e: &DecodeError) -> Refusal {
    match e {
        DecodeError::TooLarge { .. } => {
            Refusal::new(ErrorCode::TooLarge, close::TOO_LARGE, e.to_string())
        }
        DecodeError::UnsupportedVersion(_) => Refusal::new(
            ErrorCode::UnsupportedVersion,
            close::PROTOCOL,
            e.to_string(),
        ),
        DecodeError::Empty | DecodeError::Invalid(_) => {
            Refusal::new(ErrorCode::BadFrame, close::PROTOCOL, e.to_string())
        }
    }
}

/// Reads the next protocol frame, skipping WebSocket control frames.
async fn next_frame<St, E>(app: &App, stream: &mut St, seen: &AtomicU64, epoch: Instant) -> Inbound
where
    St: Stream<Item = Result<WsMessage, E>> + Unpin,
    E: Display,
{
    loop {
        let Some(item) = stream.next().await else {
            return Inbound::Closed;
        };
        seen.store(epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        let msg = match item {
            Ok(m) => m,
            Err(e) => {
                let text = e.to_string();
                // tungstenite reports an over-limit message as a capacity error ("Message too
                // long" / "Space limit exceeded"); the socket can still carry our close frame.
                if text.contains("too long") || text.contains("limit exceeded") {
                    return Inbound::Refuse(Refusal::new(
                        ErrorCode::TooLarge,
                        close::TOO_LARGE,
                        format!("frame too large: {text}"),
                    ));
                }
                tracing::debug!(error = %text, "websocket read error");
                return Inbound::Closed;
            }
        };
        if msg.is_close() {
            return Inbound::Closed;
        }
        if msg.is_ping() || msg.is_pong() {
            continue;
        }
        if msg.is_text() {
            return Inbound::Refuse(Refusal::new(
                ErrorCode::BadFrame,
                close::PROTOCOL,
                "text frames are not part of the protocol; send binary frames",
            ));
        }
        let bytes = msg.into_bytes();
        crate::capture::record(&bytes);
        return match cobrowse_protocol::decode_with(&bytes, &app.config.limits) {
            Ok(m) => Inbound::Frame(m, bytes),
            Err(e) => Inbound::Refuse(decode_refusal(&e)),
        };
    }
}

/// How long a socket we closed may take to confirm with its own close frame.
const CLOSE_DRAIN: Duration = Duration::from_secs(2);

async fn drain_until_close<St, E>(stream: &mut St)
where
    St: Stream<Item = Result<WsMessage, E>> + Unpin,
{
    let _ = tokio::time::timeout(CLOSE_DRAIN, async {
        while let Some(Ok(m)) = stream.next().await {
            if m.is_close() {
                break;
            }
        }
    })
    .await;
}

/// Sends `Error` + close directly (before a queue exists).
async fn refuse_direct<Si>(sink: &mut Si, r: &Refusal)
where
    Si: Sink<WsMessage> + Unpin,
{
    let (bytes, _) = frame(&Message::Error(ErrorFrame {
        code: r.code,
        message: r.message.clone(),
    }));
    let _ = sink.send(WsMessage::binary(bytes)).await;
    let _ = sink
        .send(WsMessage::close_with(r.close, close_reason(&r.message)))
        .await;
}

/// Close reasons are limited to 123 bytes by the WebSocket spec.
fn close_reason(s: &str) -> String {
    if s.len() <= 123 {
        return s.to_string();
    }
    let mut end = 120;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

fn refuse_queued(queue: &SendQueue, r: &Refusal) {
    let (bytes, tag) = frame(&Message::Error(ErrorFrame {
        code: r.code,
        message: r.message.clone(),
    }));
    queue.push_control(bytes, tag);
    queue.close(r.close, close_reason(&r.message));
}

/// Constant-time string comparison for the auth token.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn check_hello(
    app: &Arc<App>,
    hello: &Hello,
    ip: IpAddr,
) -> Result<Arc<sessions::Session>, Refusal> {
    if app.is_shutting_down() {
        return Err(Refusal::new(
            ErrorCode::Internal,
            close::GOING_AWAY,
            "server going away",
        ));
    }
    if !app.allow_lookup(ip) {
        return Err(Refusal::new(
            ErrorCode::RateLimited,
            close::POLICY,
            "too many session lookups from this address; try again later",
        ));
    }
    if hello.role != Role::Customer
        && let Some(expected) = &app.config.agent_token
        && !hello
            .auth
            .as_deref()
            .is_some_and(|a| same_secret(a, expected))
    {
        return Err(Refusal::new(
            ErrorCode::Unauthorized,
            close::POLICY,
            "agents and controllers must present the agent auth token",
        ));
    }
    sessions::find_for_hello(app, hello)
}

/// Serves one upgraded socket until it closes.
pub async fn serve<S, E>(app: Arc<App>, socket: S, meta: ConnMeta)
where
    S: Stream<Item = Result<WsMessage, E>> + Sink<WsMessage> + Send + 'static,
    E: Display + Send,
{
    let _guard = app.socket_guard();
    let (mut sink, mut stream) = socket.split();
    let epoch = Instant::now();
    let seen = Arc::new(AtomicU64::new(0));

    if let OriginCheck::Refused(origin) = &meta.origin {
        let r = Refusal::new(
            ErrorCode::OriginRefused,
            close::POLICY,
            format!("origin {origin} is not allowed"),
        );
        tracing::info!(%origin, ip = %meta.ip, "websocket origin refused");
        refuse_direct(&mut sink, &r).await;
        drain_until_close(&mut stream).await;
        return;
    }

    let first = tokio::time::timeout(
        app.config.hello_timeout,
        next_frame(&app, &mut stream, &seen, epoch),
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
            return;
        }
        Ok(Inbound::Closed) => return,
        Ok(Inbound::Refuse(r)) => {
            app.metrics.rejected_frames.increment(1);
            refuse_direct(&mut sink, &r).await;
            drain_until_close(&mut stream).await;
            return;
        }
        Ok(Inbound::Frame(Message::Hello(h), raw)) => (h, raw),
        Ok(Inbound::Frame(other, _)) => {
            app.metrics.rejected_frames.increment(1);
            let r = Refusal::new(
                ErrorCode::ProtocolViolation,
                close::PROTOCOL,
                format!(
                    "the first frame must be Hello, got {}",
                    sessions::kind_name(&other)
                ),
            );
            refuse_direct(&mut sink, &r).await;
            drain_until_close(&mut stream).await;
            return;
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
            match crate::cluster::route(&app, &hello.token, unreachable.as_deref()).await {
                crate::cluster::Route::Local => break,
                crate::cluster::Route::Proxy { owner, url } => {
                    match crate::cluster::proxy(&url, hello_raw.clone(), sink, stream).await {
                        Ok(()) => return,
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
    let session = match check_hello(&app, &hello, meta.ip) {
        Ok(s) => s,
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
            return;
        }
    };
    let conn = ConnRef {
        id: app.registry.next_conn_id(),
        role: hello.role,
        queue: Arc::new(SendQueue::new(
            app.config.send_queue_frames,
            app.config.max_log_bytes,
        )),
        agent_id: hello.agent_id.clone().filter(|_| hello.role == Role::Agent),
    };
    if let Err(r) = sessions::join(&app, &session, &conn) {
        tracing::info!(token = %session.token, role = ?conn.role, code = ?r.code, "join refused");
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

    let mut writer = tokio::spawn(write_loop(
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
                let received = Instant::now();
                tracing::debug!(conn = conn.id, role = ?conn.role, tag = msg.tag(), len = raw.len(), "frame in");
                let result = if matches!(msg, Message::Hello(_)) {
                    Err(Refusal::new(
                        ErrorCode::ProtocolViolation,
                        close::POLICY,
                        "Hello may only be the first frame",
                    ))
                } else {
                    sessions::handle(&app, &session, &conn, msg, raw, received)
                };
                if let Err(r) = result {
                    app.metrics.rejected_frames.increment(1);
                    tracing::info!(conn = conn.id, code = ?r.code, reason = %r.message, "closing connection");
                    refuse_queued(&conn.queue, &r);
                    break;
                }
            }
        }
    }
    sessions::disconnect(&app, &session, &conn);
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

/// Sends one message unless the queue is aborted or the peer has not taken it within `stall`.
async fn send_one<Si>(
    sink: &mut Si,
    msg: WsMessage,
    queue: &SendQueue,
    stall: Duration,
    flush: bool,
) -> bool
where
    Si: Sink<WsMessage> + Unpin,
{
    let op = async {
        if flush {
            sink.send(msg).await
        } else {
            sink.feed(msg).await
        }
    };
    tokio::select! {
        r = tokio::time::timeout(stall, op) => matches!(r, Ok(Ok(()))),
        _ = queue.aborted() => false,
    }
}

/// Drains the queue into the socket; pings on `limits.pingInterval` and gives up on a peer that
/// stayed silent for two intervals or does not take a frame within two intervals (min 10 s).
async fn write_loop<Si>(
    app: Arc<App>,
    mut sink: Si,
    queue: Arc<SendQueue>,
    seen: Arc<AtomicU64>,
    epoch: Instant,
) where
    Si: Sink<WsMessage> + Unpin,
{
    let interval = app.config.ping_interval;
    let stall = (interval * 2).max(Duration::from_secs(10));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    loop {
        let batch = tokio::select! {
            b = queue.next_batch() => b,
            _ = ticker.tick() => {
                let silent_ms = (epoch.elapsed().as_millis() as u64)
                    .saturating_sub(seen.load(Ordering::Relaxed));
                if silent_ms > 2 * interval.as_millis() as u64 {
                    tracing::info!(silent_ms, "keepalive lost; dropping connection");
                    let close = WsMessage::close_with(close::GOING_AWAY, "keepalive timeout");
                    send_one(&mut sink, close, &queue, stall, true).await;
                    queue.abort();
                    return;
                }
                if !send_one(&mut sink, WsMessage::ping(Vec::new()), &queue, stall, true).await {
                    queue.abort();
                    return;
                }
                continue;
            }
        };
        let Some(batch) = batch else { return };
        for out in batch {
            match out {
                Out::Frame {
                    bytes, received, ..
                } => {
                    if !send_one(&mut sink, WsMessage::binary(bytes), &queue, stall, false).await {
                        tracing::info!("peer does not take frames; dropping connection");
                        queue.abort();
                        return;
                    }
                    app.metrics
                        .relay_latency
                        .record(received.elapsed().as_secs_f64());
                }
                Out::Close { code, reason } => {
                    send_one(
                        &mut sink,
                        WsMessage::close_with(code, reason),
                        &queue,
                        stall,
                        true,
                    )
                    .await;
                    let _ = tokio::time::timeout(stall, sink.close()).await;
                    queue.abort();
                    return;
                }
            }
        }
        let flushed = tokio::select! {
            r = tokio::time::timeout(stall, sink.flush()) => matches!(r, Ok(Ok(()))),
            _ = queue.aborted() => false,
        };
        if !flushed {
            queue.abort();
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::OriginCheck;
    use cobrowse_protocol::{Role, SessionState, decode, encode};
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use tokio::sync::mpsc;

    /// An in-memory "socket": what the test sends arrives as inbound messages, and what the
    /// server sends lands in `out`. Shows why `serve` is generic over `Sink + Stream`.
    struct ChannelSocket {
        inbound: mpsc::UnboundedReceiver<WsMessage>,
        out: mpsc::UnboundedSender<WsMessage>,
    }

    impl Stream for ChannelSocket {
        type Item = Result<WsMessage, std::convert::Infallible>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            self.inbound.poll_recv(cx).map(|m| m.map(Ok))
        }
    }

    impl Sink<WsMessage> for ChannelSocket {
        type Error = std::convert::Infallible;
        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
        fn start_send(self: Pin<&mut Self>, item: WsMessage) -> Result<(), Self::Error> {
            // A closed receiver means the test is done with this socket.
            let _ = self.out.send(item);
            Ok(())
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
    }

    async fn recv(rx: &mut mpsc::UnboundedReceiver<WsMessage>) -> WsMessage {
        tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
            .await
            .expect("server answered in time")
            .expect("server still connected")
    }

    #[tokio::test]
    async fn handshake_and_bad_frame_over_channels() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = crate::Config {
            storage: crate::config::StorageConfig::Embedded {
                data_dir: dir.path().to_path_buf(),
            },
            ..crate::Config::default()
        };
        let store = crate::open_store(&config).await.expect("store");
        let (app, _writer) = App::new(config, store);
        let session = sessions::create(&app, None, None, "http://t".into())
            .await
            .expect("session");

        let (to_server, inbound) = mpsc::unbounded_channel();
        let (out, mut from_server) = mpsc::unbounded_channel();
        let meta = ConnMeta {
            ip: IpAddr::from([127, 0, 0, 1]),
            origin: OriginCheck::Absent,
        };
        let task = tokio::spawn(serve(app.clone(), ChannelSocket { inbound, out }, meta));
        let hello = Message::Hello(Hello {
            role: Role::Customer,
            token: session.token.clone(),
            auth: None,
            agent_id: None,
            resume_from: None,
            client: "unit".into(),
        });
        to_server
            .send(WsMessage::binary(encode(&hello)))
            .expect("send");
        match decode(recv(&mut from_server).await.as_bytes()) {
            Ok(Message::Welcome(w)) => assert_eq!(w.state, SessionState::Idle),
            other => panic!("expected Welcome, got {other:?}"),
        }
        to_server
            .send(WsMessage::binary(vec![1u8, 4, 0xff]))
            .expect("send");
        match decode(recv(&mut from_server).await.as_bytes()) {
            Ok(Message::Error(e)) => assert_eq!(e.code, ErrorCode::BadFrame),
            other => panic!("expected Error, got {other:?}"),
        }
        let close = recv(&mut from_server).await;
        assert_eq!(
            close.close_frame().map(|(code, _)| code),
            Some(close::PROTOCOL)
        );
        tokio::time::timeout(std::time::Duration::from_secs(5), task)
            .await
            .expect("serve returned")
            .expect("no panic");
    }

    #[test]
    fn close_reasons_fit_the_frame() {
        let long = "é".repeat(200);
        let r = close_reason(&long);
        assert!(r.len() <= 123);
        assert!(r.ends_with("..."));
        assert_eq!(close_reason("short"), "short");
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abcdefghijklmnop", "abcdefghijklmnop"));
        assert!(!same_secret("abcdefghijklmnop", "abcdefghijklmnoq"));
        assert!(!same_secret("abc", "abcd"));
    }
}
