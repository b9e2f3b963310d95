//! Frames in and refusals out: reading protocol frames off the socket (control frames skipped,
//! limits applied), and the `Error` + close a refused connection gets, before or after it has a
//! send queue.

use crate::app::App;
use crate::queue::SendQueue;
use crate::sessions::{Refusal, close, frame};
use bytes::Bytes;
use cobrowse_protocol::{DecodeError, ErrorCode, ErrorFrame, Message};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use warp::ws::Message as WsMessage;

/// What the next read brought.
pub(super) enum Inbound {
    /// A decoded frame and its raw bytes (relayed as received).
    Frame(Message, Bytes),
    /// The peer closed or vanished.
    Closed,
    /// A frame to refuse: send the refusal and close.
    Refuse(Refusal),
}

pub(super) fn decode_refusal(e: &DecodeError) -> Refusal {
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
pub(super) async fn next_frame<St, E>(
    app: &App,
    stream: &mut St,
    seen: &AtomicU64,
    epoch: Instant,
) -> Inbound
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
                if text.contains(crate::net::socket::CONTROL_FLOOD) {
                    return Inbound::Refuse(Refusal::new(
                        ErrorCode::RateLimited,
                        close::POLICY,
                        close::rate_limited_reason(1, crate::net::socket::CONTROL_FLOOD),
                    ));
                }
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

/// Reads (and drops) until the peer's close frame, for at most [`CLOSE_DRAIN`].
pub(super) async fn drain_until_close<St, E>(stream: &mut St)
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
pub(super) async fn refuse_direct<Si>(sink: &mut Si, r: &Refusal)
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
pub(super) fn close_reason(s: &str) -> String {
    if s.len() <= 123 {
        return s.to_string();
    }
    let mut end = 120;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// Queues `Error` + close behind what the connection's queue already holds.
pub(super) fn refuse_queued(queue: &SendQueue, r: &Refusal) {
    let (bytes, tag) = frame(&Message::Error(ErrorFrame {
        code: r.code,
        message: r.message.clone(),
    }));
    queue.push_control(bytes, tag);
    queue.close(r.close, close_reason(&r.message));
}
