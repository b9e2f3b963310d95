//! `[cluster]`: the URLs by which agents and the other nodes reach this node in cluster mode.

use super::error::ConfigError;
use super::values::check_url;
use serde::{Deserialize, Serialize};

/// `cluster.*` as written; both empty by default (derived from the request or the bound address).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawCluster {
    /// `cluster.url`: public URL of the cluster (load balancer).
    pub(crate) url: String,
    /// `cluster.internalUrl`: URL other nodes use to reach this one.
    pub(crate) internal_url: String,
}

impl RawCluster {
    /// Both are base URLs when set.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        check_url("cluster.url", &self.url)?;
        check_url("cluster.internalUrl", &self.internal_url)
    }
}
