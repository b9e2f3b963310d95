//! The writer task: drains a connection's send queue into its socket, pings on
//! `limits.pingInterval`, and drops a peer that stays silent or stops taking frames.

use crate::app::App;
use crate::queue::{Out, SendQueue};
use crate::sessions::close;
use futures_util::{Sink, SinkExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use warp::ws::Message as WsMessage;

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
pub(super) async fn write_loop<Si>(
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
                    bytes,
                    received,
                    seq,
                    ..
                } => {
                    let msg = match seq {
                        Some(seq) => WsMessage::binary(cobrowse_protocol::encode_seq(seq, &bytes)),
                        None => WsMessage::binary(bytes),
                    };
                    if !send_one(&mut sink, msg, &queue, stall, false).await {
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
