//! `[recording]`: audit recordings — off by default; which sites' sessions are recorded, how long
//! recordings are kept and how they are cut into chunks.

use super::error::{ConfigError, invalid};
use super::values::{Dur, List};
use crate::origin::OriginList;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Cassandra's largest TTL (20 years): a longer retention could not be stored.
const MAX_RETENTION: Duration = Duration::from_secs(630_720_000);

/// `recording.*` as written.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawRecording {
    /// `recording.enabled`: record sessions at all.
    pub(crate) enabled: bool,
    /// `recording.origins`: origin patterns of the customer sites whose sessions are recorded;
    /// empty = every site (every allowed origin).
    pub(crate) origins: List,
    /// `recording.retention`: how long a recording is kept.
    pub(crate) retention: Dur,
    /// `recording.chunkBytes`: a chunk is stored once it holds this many bytes.
    pub(crate) chunk_bytes: usize,
    /// `recording.chunkInterval`: … or once its first frame is this old.
    pub(crate) chunk_interval: Dur,
}

impl Default for RawRecording {
    fn default() -> Self {
        RawRecording {
            enabled: false,
            origins: List::default(),
            retention: Dur(Duration::from_secs(30 * 86_400)),
            chunk_bytes: 64 * 1024,
            chunk_interval: Dur(Duration::from_secs(10)),
        }
    }
}

/// Validated `recording.*`.
#[derive(Debug, Clone)]
pub struct RecordingConfig {
    /// Whether any session is recorded.
    pub enabled: bool,
    /// Sites recorded (`None`: all of them).
    pub origins: Option<OriginList>,
    /// Retention of a chunk from when it is stored.
    pub retention: Duration,
    /// Bytes that seal a chunk.
    pub chunk_bytes: usize,
    /// Age that seals a chunk.
    pub chunk_interval: Duration,
}

impl RecordingConfig {
    /// Whether a session created from `origin` (its page's `Origin` header) is recorded. A
    /// session without an origin (not created by a browser page) is recorded only when every
    /// site is.
    pub fn records(&self, origin: Option<&str>) -> bool {
        if !self.enabled {
            return false;
        }
        match (&self.origins, origin) {
            (None, _) => true,
            (Some(list), Some(o)) => list.allows(o),
            (Some(_), None) => false,
        }
    }
}

impl RawRecording {
    pub(crate) fn validate(&self) -> Result<RecordingConfig, ConfigError> {
        let origins = if self.origins.0.is_empty() {
            None
        } else {
            Some(OriginList::parse(&self.origins.0).map_err(|m| invalid("recording.origins", m))?)
        };
        let retention = self.retention.0;
        if retention < Duration::from_secs(60) || retention > MAX_RETENTION {
            return Err(invalid(
                "recording.retention",
                "must be between 1m and 20 years (recordings always expire)",
            ));
        }
        if !(1024..=4 * 1024 * 1024).contains(&self.chunk_bytes) {
            return Err(invalid(
                "recording.chunkBytes",
                "must be between 1024 and 4194304",
            ));
        }
        let interval = self.chunk_interval.0;
        if interval.is_zero() || interval > Duration::from_secs(3600) {
            return Err(invalid(
                "recording.chunkInterval",
                "must be more than 0s and at most 1h",
            ));
        }
        Ok(RecordingConfig {
            enabled: self.enabled,
            origins,
            retention,
            chunk_bytes: self.chunk_bytes,
            chunk_interval: interval,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(enabled: bool, origins: &[&str]) -> RecordingConfig {
        RawRecording {
            enabled,
            origins: List(origins.iter().map(|s| s.to_string()).collect()),
            ..RawRecording::default()
        }
        .validate()
        .expect("valid")
    }

    #[test]
    fn off_by_default_and_per_site_when_listed() {
        let off = RawRecording::default().validate().expect("default");
        assert!(!off.records(Some("https://shop.example")));
        let all = config(true, &[]);
        assert!(all.records(Some("https://shop.example")));
        assert!(all.records(None));
        let some = config(true, &["https://*.bank.example"]);
        assert!(some.records(Some("https://www.bank.example")));
        assert!(!some.records(Some("https://shop.example")));
        assert!(!some.records(None));
        assert!(!config(false, &["https://shop.example"]).records(Some("https://shop.example")));
    }

    #[test]
    fn bad_values_name_their_option() {
        let bad = |raw: RawRecording, option: &str| {
            let e = raw.validate().expect_err("invalid").to_string();
            assert!(e.contains(option), "{e}");
        };
        bad(
            RawRecording {
                retention: Dur(Duration::ZERO),
                ..RawRecording::default()
            },
            "recording.retention",
        );
        bad(
            RawRecording {
                chunk_bytes: 10,
                ..RawRecording::default()
            },
            "recording.chunkBytes",
        );
        bad(
            RawRecording {
                chunk_interval: Dur(Duration::ZERO),
                ..RawRecording::default()
            },
            "recording.chunkInterval",
        );
        bad(
            RawRecording {
                origins: List(vec!["not an origin".into()]),
                ..RawRecording::default()
            },
            "recording.origins",
        );
    }
}
