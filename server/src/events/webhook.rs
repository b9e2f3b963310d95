//! Webhook delivery: every event is POSTed to every `webhooks.urls` entry as JSON, signed
//! ([`super::signature`]), with the headers `Cobrowse-Event` (its type) and `Cobrowse-Delivery`
//! (an id that stays the same across retries, so a receiver can drop duplicates).
//!
//! A 2xx answer delivers it. Anything else — another status, a timeout, no connection — is
//! retried after `retryBase` doubling up to `retryMax`, scaled by a random factor in
//! `[0.5, 1)` (`cobrowse_common::backoff`, the clients' reconnect rule), until `maxAttempts`.
//! Redirects are not followed: a signed event goes only where the operator said.
//!
//! Bounded: a delivery holds one of `queueSize` slots from enqueue until it is delivered or
//! given up; with none free the event is dropped for that URL (logged, counted). Enqueueing
//! never waits, so a slow or dead receiver never holds the relay.

use super::signature;
use crate::config::WebhooksConfig;
use crate::metrics::Metrics;
use cobrowse_common::backoff::Backoff;
use cobrowse_protocol::Code;
use cobrowse_protocol::rest::{
    DesktopEvent, WEBHOOK_DELIVERY_HEADER, WEBHOOK_EVENT_HEADER, WEBHOOK_SIGNATURE_HEADER,
};
use metrics::Counter;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The counters a delivery reports to, indexed as `Metrics::webhooks`.
#[derive(Clone)]
struct Outcomes {
    delivered: Counter,
    failed: Counter,
    retried: Counter,
}

/// The configured receivers and the delivery queue's slots.
pub struct Webhooks {
    config: Arc<WebhooksConfig>,
    client: reqwest::Client,
    slots: Arc<Semaphore>,
}

impl Webhooks {
    /// `None` when the HTTP client cannot be built (logged; webhooks are then off).
    pub fn new(config: &WebhooksConfig) -> Option<Webhooks> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cobrowse-server/", env!("CARGO_PKG_VERSION")))
            .build();
        match client {
            Ok(client) => Some(Webhooks {
                config: Arc::new(config.clone()),
                client,
                slots: Arc::new(Semaphore::new(config.queue_size)),
            }),
            Err(e) => {
                tracing::error!(error = %e, "webhooks are off: the HTTP client could not be built");
                None
            }
        }
    }

    /// Starts delivering `event` to every URL; never waits.
    pub fn enqueue(&self, metrics: &Metrics, event: &DesktopEvent) {
        // The types are plain data: serialising cannot fail.
        let body = bytes::Bytes::from(serde_json::to_vec(event).unwrap_or_default());
        let outcomes = Outcomes {
            delivered: metrics.webhooks[0].clone(),
            failed: metrics.webhooks[1].clone(),
            retried: metrics.webhooks[3].clone(),
        };
        for url in &self.config.urls {
            let Ok(slot) = self.slots.clone().try_acquire_owned() else {
                metrics.webhooks[2].increment(1);
                tracing::warn!(
                    url = %url,
                    event = event.kind.code(),
                    token = %event.token,
                    queue = self.config.queue_size,
                    "webhook dropped: the delivery queue is full (receiver down or slow?)"
                );
                continue;
            };
            let job = Delivery {
                client: self.client.clone(),
                config: self.config.clone(),
                url: url.clone(),
                kind: event.kind.code(),
                id: uuid::Uuid::new_v4().to_string(),
                body: body.clone(),
            };
            let outcomes = outcomes.clone();
            tokio::spawn(async move {
                job.run(&outcomes).await;
                drop(slot);
            });
        }
    }
}

/// One event for one URL, until delivered or given up.
struct Delivery {
    client: reqwest::Client,
    config: Arc<WebhooksConfig>,
    url: String,
    kind: &'static str,
    id: String,
    body: bytes::Bytes,
}

impl Delivery {
    async fn run(&self, outcomes: &Outcomes) {
        let ms = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
        let mut backoff = Backoff::new(ms(self.config.retry_base), ms(self.config.retry_max));
        for attempt in 1..=self.config.max_attempts {
            let why = match self.attempt().await {
                Ok(()) => {
                    outcomes.delivered.increment(1);
                    tracing::debug!(url = %self.url, id = %self.id, attempt, "webhook delivered");
                    return;
                }
                Err(why) => why,
            };
            if attempt == self.config.max_attempts {
                outcomes.failed.increment(1);
                tracing::warn!(
                    url = %self.url, id = %self.id, event = self.kind, attempts = attempt, %why,
                    "webhook failed: every attempt was refused or went unanswered"
                );
                return;
            }
            outcomes.retried.increment(1);
            let delay = backoff.next_delay(rand::random::<f64>());
            tracing::info!(url = %self.url, id = %self.id, attempt, %why, delay_ms = delay, "webhook retried");
            tokio::time::sleep(Duration::from_millis(u64::from(delay))).await;
        }
    }

    async fn attempt(&self) -> Result<(), String> {
        let secs = cobrowse_common::clock::now_ms() / 1000;
        let answer = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                WEBHOOK_SIGNATURE_HEADER,
                signature::header(&self.config.secret, secs, &self.body),
            )
            .header(WEBHOOK_EVENT_HEADER, self.kind)
            .header(WEBHOOK_DELIVERY_HEADER, &self.id)
            .body(self.body.clone())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(format!("status {}", answer.status().as_u16()))
        }
    }
}
