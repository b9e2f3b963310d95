//! `[events]` and `[webhooks]`: the integration API for agent desktops — how event streams are
//! kept alive and bounded, and where session events are POSTed.

use super::error::{ConfigError, invalid};
use super::values::{Dur, List};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `events.*` as written.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawEvents {
    /// `events.keepalive`: period of the comment lines that keep an idle stream open through
    /// proxies that cut silent connections.
    pub(crate) keepalive: Dur,
    /// `events.subscriberBuffer`: events one subscriber may fall behind before it is dropped.
    pub(crate) subscriber_buffer: usize,
}

impl Default for RawEvents {
    fn default() -> Self {
        RawEvents {
            keepalive: Dur(Duration::from_secs(15)),
            subscriber_buffer: 256,
        }
    }
}

/// `webhooks.*` as written.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawWebhooks {
    /// `webhooks.urls`: every session event is POSTed to each of these.
    pub(crate) urls: List,
    /// `webhooks.secret`: the HMAC-SHA256 key of the `Cobrowse-Signature` header.
    pub(crate) secret: String,
    /// `webhooks.allowInsecureHttp`: also allow `http://` URLs (events would cross the network
    /// readable by anyone on the path; meant for receivers on the same host).
    pub(crate) allow_insecure_http: bool,
    /// `webhooks.queueSize`: deliveries waiting or being retried at most; more are dropped.
    pub(crate) queue_size: usize,
    /// `webhooks.maxAttempts`: attempts per delivery before it counts as failed.
    pub(crate) max_attempts: u32,
    /// `webhooks.timeout`: one attempt's limit (connect, send, answer).
    pub(crate) timeout: Dur,
    /// `webhooks.retryBase`: the first retry's delay, doubling up to `retryMax` (with jitter).
    pub(crate) retry_base: Dur,
    /// `webhooks.retryMax`: the longest delay between two attempts.
    pub(crate) retry_max: Dur,
}

impl Default for RawWebhooks {
    fn default() -> Self {
        RawWebhooks {
            urls: List::default(),
            secret: String::new(),
            allow_insecure_http: false,
            queue_size: 1024,
            max_attempts: 8,
            timeout: Dur(Duration::from_secs(10)),
            retry_base: Dur(Duration::from_secs(1)),
            retry_max: Dur(Duration::from_secs(300)),
        }
    }
}

/// Validated `events.*`.
#[derive(Debug, Clone)]
pub struct EventsConfig {
    /// Keep-alive comment period.
    pub keepalive: Duration,
    /// Events a subscriber may fall behind.
    pub subscriber_buffer: usize,
}

/// Validated `webhooks.*` (`urls` empty: webhooks off).
#[derive(Debug, Clone)]
pub struct WebhooksConfig {
    /// Receivers.
    pub urls: Vec<String>,
    /// Signing key.
    pub secret: String,
    /// Deliveries waiting or retrying at most.
    pub queue_size: usize,
    /// Attempts per delivery.
    pub max_attempts: u32,
    /// One attempt's limit.
    pub timeout: Duration,
    /// First retry delay.
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
}

/// Shortest accepted signing secret: receivers verify with it, so guessing it forges events.
const MIN_SECRET: usize = 16;

impl RawEvents {
    pub(crate) fn validate(&self) -> Result<EventsConfig, ConfigError> {
        if self.keepalive.0 < Duration::from_secs(1) {
            return Err(invalid("events.keepalive", "at least 1s"));
        }
        if !(1..=65_536).contains(&self.subscriber_buffer) {
            return Err(invalid("events.subscriberBuffer", "between 1 and 65536"));
        }
        Ok(EventsConfig {
            keepalive: self.keepalive.0,
            subscriber_buffer: self.subscriber_buffer,
        })
    }
}

impl RawWebhooks {
    pub(crate) fn validate(&self) -> Result<WebhooksConfig, ConfigError> {
        for url in &self.urls.0 {
            let https = url.starts_with("https://");
            let http = url.starts_with("http://");
            if !(https || http)
                || url.len() <= "https://".len()
                || url.contains(char::is_whitespace)
            {
                return Err(invalid(
                    "webhooks.urls",
                    format!("`{url}` is not an absolute http(s) URL"),
                ));
            }
            if http && !self.allow_insecure_http {
                return Err(invalid(
                    "webhooks.urls",
                    format!(
                        "`{url}` is plain http: events would be readable on the way; use https, \
                         or set webhooks.allowInsecureHttp = true for a receiver on this host"
                    ),
                ));
            }
        }
        if !self.urls.0.is_empty() && self.secret.len() < MIN_SECRET {
            return Err(invalid(
                "webhooks.secret",
                format!("webhooks need a signing secret of at least {MIN_SECRET} characters"),
            ));
        }
        if self.queue_size == 0 {
            return Err(invalid("webhooks.queueSize", "at least 1"));
        }
        if !(1..=100).contains(&self.max_attempts) {
            return Err(invalid("webhooks.maxAttempts", "between 1 and 100"));
        }
        if self.timeout.0.is_zero() {
            return Err(invalid("webhooks.timeout", "more than zero"));
        }
        if self.retry_base.0.is_zero() || self.retry_max.0 < self.retry_base.0 {
            return Err(invalid(
                "webhooks.retryBase",
                "more than zero and not above webhooks.retryMax",
            ));
        }
        Ok(WebhooksConfig {
            urls: self.urls.0.clone(),
            secret: self.secret.clone(),
            queue_size: self.queue_size,
            max_attempts: self.max_attempts,
            timeout: self.timeout.0,
            retry_base: self.retry_base.0,
            retry_max: self.retry_max.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hooks(urls: &[&str], secret: &str, insecure: bool) -> RawWebhooks {
        RawWebhooks {
            urls: List(urls.iter().map(|u| u.to_string()).collect()),
            secret: secret.into(),
            allow_insecure_http: insecure,
            ..RawWebhooks::default()
        }
    }

    #[test]
    fn webhooks_are_off_by_default_and_secure_when_on() {
        assert!(
            RawWebhooks::default()
                .validate()
                .expect("valid")
                .urls
                .is_empty()
        );
        let secret = "0123456789abcdef";
        assert!(
            hooks(&["https://crm.example/hook"], secret, false)
                .validate()
                .is_ok()
        );
        let plain = hooks(&["http://127.0.0.1:9/hook"], secret, false).validate();
        assert!(
            plain
                .unwrap_err()
                .to_string()
                .contains("webhooks.allowInsecureHttp")
        );
        assert!(
            hooks(&["http://127.0.0.1:9/hook"], secret, true)
                .validate()
                .is_ok()
        );
        let short = hooks(&["https://crm.example/hook"], "short", false).validate();
        assert!(short.unwrap_err().to_string().contains("webhooks.secret"));
        assert!(hooks(&["ftp://x"], secret, true).validate().is_err());
        let mut slow = hooks(&[], "", false);
        slow.retry_base = Dur(Duration::from_secs(10));
        slow.retry_max = Dur(Duration::from_secs(1));
        assert!(slow.validate().is_err());
    }

    #[test]
    fn event_streams_need_a_keepalive_and_a_buffer() {
        assert!(RawEvents::default().validate().is_ok());
        let none = RawEvents {
            subscriber_buffer: 0,
            ..RawEvents::default()
        };
        assert!(none.validate().is_err());
        let fast = RawEvents {
            keepalive: Dur(Duration::from_millis(10)),
            ..RawEvents::default()
        };
        assert!(fast.validate().is_err());
    }
}
