//! `[proxy]`: the CSS proxy's allow lists, outbound proxy, limits, timeouts and cache.

use super::error::{ConfigError, invalid};
use super::values::{Dur, List, check_url};
use crate::origin::OriginList;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `proxy.*` as written.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawProxy {
    /// `proxy.allowedExternalDomains`: origins whose stylesheets the CSS proxy fetches.
    pub(crate) allowed_external_domains: List,
    /// `proxy.allowedThirdPartyDomains`: third-party iframe origins shown to agents.
    pub(crate) allowed_third_party_domains: List,
    /// `proxy.forwardProxy`: outbound proxy URL; empty = direct.
    pub(crate) forward_proxy: String,
    /// `proxy.maxCssBytes`.
    pub(crate) max_css_bytes: usize,
    /// `proxy.connectTimeout`.
    pub(crate) connect_timeout: Dur,
    /// `proxy.timeout`.
    pub(crate) timeout: Dur,
    /// `proxy.cacheBytes`.
    pub(crate) cache_bytes: usize,
}

impl Default for RawProxy {
    fn default() -> Self {
        RawProxy {
            allowed_external_domains: List::default(),
            allowed_third_party_domains: List::default(),
            forward_proxy: String::new(),
            max_css_bytes: 2 * 1024 * 1024,
            connect_timeout: Dur(Duration::from_secs(5)),
            timeout: Dur(Duration::from_secs(15)),
            cache_bytes: 32 * 1024 * 1024,
        }
    }
}

/// CSS proxy settings (`proxy.*` besides the allow lists); see `css_proxy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CssProxyConfig {
    /// Outbound HTTP(S) proxy for the proxy's fetches (`http://host:port`); `None` connects
    /// directly. Environment proxies (`HTTP_PROXY`) are ignored so behaviour is what this says.
    pub forward_proxy: Option<String>,
    /// Largest stylesheet body fetched (before rewriting); larger ones answer 502 `too_large`.
    pub max_css_bytes: usize,
    /// TCP/TLS connect timeout per hop.
    pub connect_timeout: Duration,
    /// Whole fetch (all redirect hops and the body); slower origins answer 504.
    pub timeout: Duration,
    /// Rewritten sheets kept in memory at most (least recently used evicted first).
    pub cache_bytes: usize,
}

/// `proxy.*` validated.
pub(crate) struct Proxy {
    /// Domains the CSS proxy may fetch from.
    pub(crate) allowed_external_domains: Vec<String>,
    /// Third-party iframe origins shown to agents.
    pub(crate) allowed_third_party_domains: Vec<String>,
    /// The rest, for the CSS proxy.
    pub(crate) css: CssProxyConfig,
}

impl RawProxy {
    /// Checks the lists are origin patterns and the limits positive.
    pub(crate) fn validate(self) -> Result<Proxy, ConfigError> {
        for (name, list) in [
            (
                "proxy.allowedExternalDomains",
                &self.allowed_external_domains,
            ),
            (
                "proxy.allowedThirdPartyDomains",
                &self.allowed_third_party_domains,
            ),
        ] {
            OriginList::parse(&list.0).map_err(|m| invalid(name, m))?;
        }
        check_url("proxy.forwardProxy", &self.forward_proxy)?;
        if self.max_css_bytes == 0 {
            return Err(invalid("proxy.maxCssBytes", "must be positive"));
        }
        for (name, d) in [
            ("proxy.connectTimeout", self.connect_timeout),
            ("proxy.timeout", self.timeout),
        ] {
            if d.0.is_zero() {
                return Err(invalid(name, "must be positive"));
            }
        }
        Ok(Proxy {
            allowed_external_domains: self.allowed_external_domains.0,
            allowed_third_party_domains: self.allowed_third_party_domains.0,
            css: CssProxyConfig {
                forward_proxy: Some(self.forward_proxy).filter(|p| !p.is_empty()),
                max_css_bytes: self.max_css_bytes,
                connect_timeout: self.connect_timeout.0,
                timeout: self.timeout.0,
                cache_bytes: self.cache_bytes,
            },
        })
    }
}
