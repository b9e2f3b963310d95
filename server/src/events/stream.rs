//! One subscriber's event stream: `text/event-stream`, one `data:` line of
//! `cobrowse_protocol::rest::DesktopEvent` JSON per event (no `event:` name, so
//! `EventSource.onmessage` gets them all; the JSON's `type` tells them apart).
//!
//! * A session's stream starts with a `state` event (the session as it is), then follows it; it
//!   ends after `ended`. The subscription is taken before the state is read, so nothing falls
//!   between them (an event may arrive twice, never not at all).
//! * An agent's stream carries the events of every session that concerns the agent.
//! * Idle streams get a `: keep-alive` comment every `events.keepalive`, so proxies do not cut
//!   them.
//! * A subscriber more than `events.subscriberBuffer` events behind is dropped: it gets an
//!   `event: dropped` with the reason, and the stream ends (reconnect and read the state again).
//!   The broadcast ring is shared and bounded, so a slow reader costs no memory and never
//!   holds the publisher.

use super::Published;
use crate::app::App;
use crate::reply::Resp;
use cobrowse_protocol::SessionState;
use cobrowse_protocol::rest::{DesktopEvent, DesktopEventKind};
use futures_util::stream::{self, StreamExt};
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use warp::Reply;
use warp::sse::Event;

/// Which events a stream carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// One session's (by token).
    Session(String),
    /// Every session that concerns this agent identity.
    Agent(String),
}

impl Filter {
    fn wants(&self, p: &Published) -> bool {
        match self {
            Filter::Session(token) => p.event.token == *token,
            Filter::Agent(agent) => p.concerns(agent),
        }
    }
}

/// Counts the subscriber while its stream lives.
struct Subscribed(Arc<App>);

impl Subscribed {
    fn new(app: Arc<App>) -> Subscribed {
        app.metrics.event_subscribers.increment(1.0);
        Subscribed(app)
    }
}

impl Drop for Subscribed {
    fn drop(&mut self) {
        self.0.metrics.event_subscribers.decrement(1.0);
    }
}

struct State {
    rx: Receiver<Arc<Published>>,
    filter: Filter,
    done: bool,
    dropped: metrics::Counter,
    _counted: Option<Subscribed>,
}

fn data(event: &DesktopEvent) -> Event {
    // Plain data: serialising cannot fail.
    Event::default().data(serde_json::to_string(event).unwrap_or_default())
}

/// The events `rx` brings that `filter` wants, until a session's `ended`, the hub closing, or
/// the subscriber lagging (then one `dropped` event, counted on `dropped`).
fn follow(
    rx: Receiver<Arc<Published>>,
    filter: Filter,
    done: bool,
    dropped: metrics::Counter,
    counted: Option<Subscribed>,
) -> impl futures_util::Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let state = State {
        rx,
        filter,
        done,
        dropped,
        _counted: counted,
    };
    stream::unfold(state, |mut s| async move {
        loop {
            if s.done {
                return None;
            }
            match s.rx.recv().await {
                Ok(p) if s.filter.wants(&p) => {
                    s.done = p.event.kind == DesktopEventKind::Ended
                        && matches!(s.filter, Filter::Session(_));
                    return Some((Ok(data(&p.event)), s));
                }
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => {
                    s.dropped.increment(1);
                    tracing::info!(filter = ?s.filter, missed = n, "event subscriber dropped: too slow");
                    s.done = true;
                    let e = Event::default().event("dropped").data(format!(
                        "subscriber too slow: {n} events behind (events.subscriberBuffer); \
                         reconnect to continue"
                    ));
                    return Some((Ok(e), s));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

/// The streaming answer. `first`: the session's state for a session stream (taken after
/// `rx` subscribed).
pub fn response(
    app: &Arc<App>,
    rx: Receiver<Arc<Published>>,
    filter: Filter,
    first: Option<DesktopEvent>,
) -> Resp {
    let ended = first
        .as_ref()
        .is_some_and(|e| e.state == SessionState::Ended);
    let head = stream::iter(first.map(|e| Ok::<_, Infallible>(data(&e))));
    let tail = follow(
        rx,
        filter,
        ended,
        app.metrics.event_subscribers_dropped.clone(),
        Some(Subscribed::new(app.clone())),
    );
    let keepalive = warp::sse::keep_alive()
        .interval(app.config.events.keepalive)
        .text("keep-alive");
    let mut r = warp::sse::reply(keepalive.stream(head.chain(tail))).into_response();
    let h = r.headers_mut();
    h.insert(
        warp::http::header::CACHE_CONTROL,
        warp::http::HeaderValue::from_static("no-store"),
    );
    // nginx and similar buffer answers by default; an event must not wait in a buffer.
    h.insert(
        "x-accel-buffering",
        warp::http::HeaderValue::from_static("no"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use cobrowse_protocol::Mode;
    use tokio::sync::broadcast;

    fn published(token: &str, kind: DesktopEventKind, agents: &[&str]) -> Arc<Published> {
        Arc::new(Published {
            event: DesktopEvent {
                kind,
                token: token.into(),
                history_id: "h".into(),
                state: SessionState::Active,
                created_at: 1,
                activated_at: Some(2),
                agent_id: None,
                agents: 1,
                mode: Mode::Pointer,
                end_reason: None,
                at: 3,
            },
            agents: agents.iter().map(|a| a.to_string()).collect(),
        })
    }

    async fn all(s: impl futures_util::Stream<Item = Result<Event, Infallible>>) -> Vec<String> {
        s.map(|e| e.map(|e| e.to_string()).unwrap_or_default())
            .collect()
            .await
    }

    #[tokio::test]
    async fn a_session_stream_keeps_its_session_and_ends_after_ended() {
        let (tx, rx) = broadcast::channel(16);
        tx.send(published("111111111", DesktopEventKind::Join, &["a"]))
            .unwrap();
        tx.send(published("222222222", DesktopEventKind::Join, &["b"]))
            .unwrap();
        tx.send(published("111111111", DesktopEventKind::Ended, &["a"]))
            .unwrap();
        tx.send(published("111111111", DesktopEventKind::Mode, &["a"]))
            .unwrap();
        let got = all(follow(
            rx,
            Filter::Session("111111111".into()),
            false,
            metrics::Counter::noop(),
            None,
        ))
        .await;
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got[0].starts_with("data:{\"type\":\"join\",\"token\":\"111111111\""),
            "{got:?}"
        );
        assert!(got[1].contains("\"type\":\"ended\""), "{got:?}");
    }

    #[tokio::test]
    async fn an_agent_stream_keeps_what_concerns_the_agent() {
        let (tx, rx) = broadcast::channel(16);
        tx.send(published("111111111", DesktopEventKind::Join, &["a"]))
            .unwrap();
        tx.send(published("222222222", DesktopEventKind::Join, &["b", "c"]))
            .unwrap();
        drop(tx);
        let got = all(follow(
            rx,
            Filter::Agent("b".into()),
            false,
            metrics::Counter::noop(),
            None,
        ))
        .await;
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].contains("222222222"));
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_is_dropped_with_the_reason() {
        let (tx, rx) = broadcast::channel(2);
        for _ in 0..5 {
            tx.send(published("111111111", DesktopEventKind::Mode, &[]))
                .unwrap();
        }
        let got = all(follow(
            rx,
            Filter::Session("111111111".into()),
            false,
            metrics::Counter::noop(),
            None,
        ))
        .await;
        assert_eq!(got.len(), 1, "nothing after the drop: {got:?}");
        assert!(
            got[0].starts_with("event:dropped\ndata:subscriber too slow: 3 events behind"),
            "{got:?}"
        );
    }
}
