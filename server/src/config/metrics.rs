//! `[metrics]`: where Prometheus metrics are served — never on the public listener.

use super::error::{ConfigError, invalid};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// `metrics.*` as written.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawMetrics {
    /// `metrics.listen`: `address:port` of the internal metrics listener; empty = off.
    pub(crate) listen: String,
}

impl RawMetrics {
    /// The metrics listener's address, if metrics are on.
    pub(crate) fn validate(&self) -> Result<Option<SocketAddr>, ConfigError> {
        let listen = self.listen.trim();
        if listen.is_empty() {
            return Ok(None);
        }
        listen.parse().map(Some).map_err(|_| {
            invalid(
                "metrics.listen",
                format!("`{listen}` is not an address:port (e.g. `127.0.0.1:9700`)"),
            )
        })
    }
}
