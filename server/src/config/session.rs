//! `[session]`: session timers, write mode and the per-agent session limit.

use super::error::{ConfigError, invalid};
use super::values::Dur;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `session.*` as written.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawSession {
    /// `session.inactivityDuration`: an idle session ends if no agent joined within it.
    pub(crate) inactivity_duration: Dur,
    /// `session.maxInterval`: a party that lost its connection must return within it.
    pub(crate) max_interval: Dur,
    /// `session.writeModeAllowed`.
    pub(crate) write_mode_allowed: bool,
    /// `session.agentSessionsLimit`: simultaneous sessions per agent id, 0 = no limit.
    pub(crate) agent_sessions_limit: u32,
    /// `session.helloTimeout`: a new socket must send `Hello` within it.
    pub(crate) hello_timeout: Dur,
    /// `session.endedRetention`: an ended session's token still answers "ended" for it.
    pub(crate) ended_retention: Dur,
}

impl Default for RawSession {
    fn default() -> Self {
        RawSession {
            inactivity_duration: Dur(Duration::from_secs(600)),
            max_interval: Dur(Duration::from_secs(600)),
            write_mode_allowed: true,
            agent_sessions_limit: 1,
            hello_timeout: Dur(Duration::from_secs(10)),
            ended_retention: Dur(Duration::from_secs(600)),
        }
    }
}

impl RawSession {
    /// The timers that would fire at once are refused (zero would end every session at once).
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        for (name, d) in [
            ("session.inactivityDuration", self.inactivity_duration),
            ("session.maxInterval", self.max_interval),
            ("session.helloTimeout", self.hello_timeout),
        ] {
            if d.0.is_zero() {
                return Err(invalid(name, "must be positive"));
            }
        }
        Ok(())
    }
}
