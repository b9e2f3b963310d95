//! `[network]`: which proxies in front of the server are believed about the client's address,
//! and whether WebSockets may be compressed.

use super::error::{ConfigError, invalid};
use super::values::List;
use crate::net::TrustedProxies;
use serde::{Deserialize, Serialize};

/// `network.*` as written.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawNetwork {
    /// `network.trustedProxies`: CIDR networks or addresses of reverse proxies / load balancers.
    pub(crate) trusted_proxies: List,
    /// `network.websocketCompression`: answer a client's permessage-deflate offer (`net::deflate`).
    pub(crate) websocket_compression: bool,
}

impl Default for RawNetwork {
    fn default() -> Self {
        RawNetwork {
            trusted_proxies: List::default(),
            websocket_compression: true,
        }
    }
}

impl RawNetwork {
    /// The trusted proxies; `trust_forwarded_for` is `crossOrigin.trustForwardedFor` (the socket
    /// peer is a trusted proxy whatever its address).
    pub(crate) fn validate(
        &self,
        trust_forwarded_for: bool,
    ) -> Result<TrustedProxies, ConfigError> {
        TrustedProxies::parse(&self.trusted_proxies.0, trust_forwarded_for)
            .map_err(|m| invalid("network.trustedProxies", m))
    }
}
