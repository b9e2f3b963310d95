//! `[limits]`: frame decode limits, queue and page-cache bounds, keepalive, per-address rate
//! limits and connection caps, and the shutdown grace period.

use super::error::{ConfigError, invalid};
use super::values::Dur;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `limits.*` as written. The frame limits default to the protocol's.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawLimits {
    /// `limits.maxFrameBytes`.
    pub(crate) max_frame_bytes: usize,
    /// `limits.maxNodes`.
    pub(crate) max_nodes: usize,
    /// `limits.maxDepth`.
    pub(crate) max_depth: usize,
    /// `limits.maxStringBytes`.
    pub(crate) max_string_bytes: usize,
    /// `limits.maxDecodedBytes`.
    pub(crate) max_decoded_bytes: usize,
    /// `limits.helloMaxBytes`: largest first frame, read before anyone is known.
    pub(crate) hello_max_bytes: usize,
    /// `limits.sendQueueFrames`.
    pub(crate) send_queue_frames: usize,
    /// `limits.minLogBytes`.
    pub(crate) min_log_bytes: usize,
    /// `limits.maxLogBytes`.
    pub(crate) max_log_bytes: usize,
    /// `limits.replayBytes`: what one link keeps for a resume.
    pub(crate) replay_bytes: usize,
    /// `limits.cacheBytes`: all sessions' page caches together.
    pub(crate) cache_bytes: usize,
    /// `limits.maxPages`.
    pub(crate) max_pages: usize,
    /// `limits.maxLiveSessions`.
    pub(crate) max_live_sessions: usize,
    /// `limits.pingInterval`.
    pub(crate) ping_interval: Dur,
    /// `limits.lookupsPerMinute`.
    pub(crate) lookups_per_minute: u32,
    /// `limits.lookupBurst`.
    pub(crate) lookup_burst: u32,
    /// `limits.createsPerMinute`.
    pub(crate) creates_per_minute: u32,
    /// `limits.createBurst`.
    pub(crate) create_burst: u32,
    /// `limits.connectionsPerAddress`.
    pub(crate) connections_per_address: usize,
    /// `limits.pendingConnectionsPerAddress`.
    pub(crate) pending_connections_per_address: usize,
    /// `limits.shutdownGrace`.
    pub(crate) shutdown_grace: Dur,
}

impl Default for RawLimits {
    fn default() -> Self {
        let p = cobrowse_protocol::Limits::default();
        RawLimits {
            max_frame_bytes: p.max_frame_bytes,
            max_nodes: p.max_nodes,
            max_depth: p.max_depth,
            max_string_bytes: p.max_string_bytes,
            max_decoded_bytes: p.max_decoded_bytes,
            // A Hello is a role, a token, a credential (a JWT of a few KiB at most) and names.
            hello_max_bytes: 16 * 1024,
            send_queue_frames: 1024,
            // A session's log is most of what it costs the relay when its page is small (a
            // larger page's snapshot sets the bound instead): 64 KiB keeps that near a snapshot
            // of a typical page, for one fresh snapshot from the customer per 64 KiB of changes.
            min_log_bytes: 64 * 1024,
            max_log_bytes: 64 * 1024 * 1024,
            replay_bytes: 8 * 1024 * 1024,
            cache_bytes: 1024 * 1024 * 1024,
            max_pages: 1000,
            max_live_sessions: 100_000,
            ping_interval: Dur(Duration::from_secs(20)),
            lookups_per_minute: 60,
            lookup_burst: 20,
            creates_per_minute: 30,
            create_burst: 30,
            connections_per_address: 256,
            pending_connections_per_address: 16,
            shutdown_grace: Dur(Duration::from_secs(5)),
        }
    }
}

impl RawLimits {
    /// Bounds that would refuse everything (zero) or could not hold one snapshot are refused.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        for (name, v) in [
            ("limits.maxFrameBytes", self.max_frame_bytes),
            ("limits.maxNodes", self.max_nodes),
            ("limits.maxDepth", self.max_depth),
            ("limits.maxStringBytes", self.max_string_bytes),
            ("limits.maxDecodedBytes", self.max_decoded_bytes),
            ("limits.helloMaxBytes", self.hello_max_bytes),
            ("limits.connectionsPerAddress", self.connections_per_address),
            (
                "limits.pendingConnectionsPerAddress",
                self.pending_connections_per_address,
            ),
            ("limits.sendQueueFrames", self.send_queue_frames),
            ("limits.replayBytes", self.replay_bytes),
            ("limits.maxPages", self.max_pages),
            ("limits.maxLiveSessions", self.max_live_sessions),
        ] {
            if v == 0 {
                return Err(invalid(name, "must be positive"));
            }
        }
        if self.hello_max_bytes > self.max_frame_bytes {
            return Err(invalid(
                "limits.helloMaxBytes",
                "must not exceed limits.maxFrameBytes",
            ));
        }
        if self.pending_connections_per_address > self.connections_per_address {
            return Err(invalid(
                "limits.pendingConnectionsPerAddress",
                "must not exceed limits.connectionsPerAddress",
            ));
        }
        if self.cache_bytes < self.max_log_bytes {
            return Err(invalid(
                "limits.cacheBytes",
                "must be at least limits.maxLogBytes (it must hold one session's cache)",
            ));
        }
        if self.max_log_bytes < self.max_frame_bytes {
            return Err(invalid(
                "limits.maxLogBytes",
                "must be at least limits.maxFrameBytes (the cache must hold one snapshot)",
            ));
        }
        for (name, v) in [
            ("limits.lookupsPerMinute", self.lookups_per_minute),
            ("limits.lookupBurst", self.lookup_burst),
            ("limits.createsPerMinute", self.creates_per_minute),
            ("limits.createBurst", self.create_burst),
        ] {
            if v == 0 {
                return Err(invalid(name, "must be positive"));
            }
        }
        if self.ping_interval.0 < Duration::from_millis(10) {
            return Err(invalid("limits.pingInterval", "at least 10ms"));
        }
        Ok(())
    }

    /// The frame decode limits the protocol enforces.
    pub(crate) fn frame_limits(&self) -> cobrowse_protocol::Limits {
        cobrowse_protocol::Limits {
            max_frame_bytes: self.max_frame_bytes,
            max_nodes: self.max_nodes,
            max_depth: self.max_depth,
            max_string_bytes: self.max_string_bytes,
            max_decoded_bytes: self.max_decoded_bytes,
        }
    }
}
