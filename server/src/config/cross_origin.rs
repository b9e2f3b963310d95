//! `[crossOrigin]`: which web origins may use the REST API and the WebSocket.

use super::error::{ConfigError, invalid};
use super::values::List;
use crate::origin::OriginList;
use serde::{Deserialize, Serialize};

/// `crossOrigin.*` as written.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawCrossOrigin {
    /// `crossOrigin.allowedOrigins`: origin patterns.
    pub(crate) allowed_origins: List,
    /// `crossOrigin.trustForwardedFor` (kept for compatibility): the socket peer is a trusted
    /// proxy whatever its address, so the client is the right-most `X-Forwarded-For` hop
    /// (`network.trustedProxies` says which proxies, and is what new setups use).
    pub(crate) trust_forwarded_for: bool,
}

impl Default for RawCrossOrigin {
    fn default() -> Self {
        RawCrossOrigin {
            allowed_origins: List(vec!["*".into()]),
            trust_forwarded_for: false,
        }
    }
}

impl RawCrossOrigin {
    /// The parsed origin patterns.
    pub(crate) fn validate(&self) -> Result<OriginList, ConfigError> {
        OriginList::parse(&self.allowed_origins.0)
            .map_err(|m| invalid("crossOrigin.allowedOrigins", m))
    }
}
