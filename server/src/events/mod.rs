//! The integration API for agent desktops: session events as JSON
//! (`cobrowse_protocol::rest::DesktopEvent`) on event streams
//! (`text/event-stream`) and webhooks.
//!
//! The session layer calls [`Events::publish`] while it holds the session's lock, so publishing
//! never waits: a [`tokio::sync::broadcast`] channel (a bounded ring shared by every
//! subscriber; one that falls further behind than `events.subscriberBuffer` is dropped, see
//! [`stream`]) and, per webhook URL, a spawned delivery that holds a slot of the bounded queue
//! (`webhooks.queueSize`; no slot: the delivery is dropped and counted).
//!
//! Events are published by the node that holds the session. In a cluster, a session's stream
//! is opened on its owner node (the lookup names it), an agent's stream sees the sessions of
//! the node it is opened on, and webhooks fire from every owner node (configure them on all).
//!
//! # Layout
//!
//! * this file — the hub: publish, subscribe, which agents an event concerns.
//! * [`stream`] — one subscriber's `text/event-stream` answer: filter, first `state` event,
//!   keep-alive comments, drop when too slow.
//! * [`tickets`] — short-lived single-use tickets that open a stream for `EventSource`, which
//!   cannot send `Authorization`.
//! * [`webhook`] — delivery: POST, retries with backoff and jitter, metrics.
//! * [`signature`] — the `Cobrowse-Signature` header (HMAC-SHA256).

pub mod signature;
pub mod stream;
pub mod tickets;
pub mod webhook;

use crate::config::Config;
use crate::metrics::Metrics;
use cobrowse_protocol::rest::DesktopEvent;
use std::sync::Arc;
use tokio::sync::broadcast;

/// One published event with the agent identities it concerns (for agent streams; not sent).
#[derive(Debug, Clone)]
pub struct Published {
    /// The event as sent.
    pub event: DesktopEvent,
    /// Agents in the session when it happened, plus the session's first agent and the agent the
    /// event is about.
    pub agents: Vec<String>,
}

impl Published {
    /// True when the event concerns `agent`.
    pub fn concerns(&self, agent: &str) -> bool {
        self.agents.iter().any(|a| a == agent)
    }
}

/// The hub: one per server.
pub struct Events {
    tx: broadcast::Sender<Arc<Published>>,
    webhooks: Option<webhook::Webhooks>,
    /// Stream tickets handed out and not yet used.
    pub tickets: tickets::Tickets,
}

impl Events {
    /// The hub for `config` (webhooks on when `webhooks.urls` is not empty).
    pub fn new(config: &Config) -> Events {
        let (tx, _) = broadcast::channel(config.events.subscriber_buffer);
        let webhooks = (!config.webhooks.urls.is_empty())
            .then(|| webhook::Webhooks::new(&config.webhooks))
            .flatten();
        Events {
            tx,
            webhooks,
            tickets: tickets::Tickets::default(),
        }
    }

    /// Sends `published` to every subscriber and webhook; never waits.
    pub fn publish(&self, metrics: &Metrics, published: Published) {
        if let Some(w) = &self.webhooks {
            w.enqueue(metrics, &published.event);
        }
        // No subscriber is not an error: the event simply has no reader.
        let _ = self.tx.send(Arc::new(published));
    }

    /// A new subscription: every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.tx.subscribe()
    }
}
