//! `[static]`: the static root served under `/cobrowse/`, its caching and who may frame the
//! agent page.

use super::error::{ConfigError, invalid};
use super::values::{Dur, List};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// `static.*` as written.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawStatic {
    /// `static.dir`, relative to the working directory.
    pub(crate) dir: PathBuf,
    /// `static.browserHardCacheDuration`; zero means revalidate.
    pub(crate) browser_hard_cache_duration: Dur,
    /// `static.agentDesktopOrigins`: origins of the agent desktops that embed the agent page.
    pub(crate) agent_desktop_origins: List,
    /// `static.frameAncestors`: a CSP source list that replaces the derived one; empty: `'self'`
    /// plus `agentDesktopOrigins`.
    pub(crate) frame_ancestors: String,
}

impl Default for RawStatic {
    fn default() -> Self {
        RawStatic {
            dir: PathBuf::from("www"),
            browser_hard_cache_duration: Dur(Duration::ZERO),
            agent_desktop_origins: List::default(),
            frame_ancestors: String::new(),
        }
    }
}

impl RawStatic {
    /// The `frame-ancestors` source list: `'self'` and the agent desktops' origins, unless the
    /// operator wrote the list out. Anything that could end the CSP directive early is refused.
    pub(crate) fn frame_ancestors(&self) -> Result<String, ConfigError> {
        for origin in &self.agent_desktop_origins.0 {
            let ok = origin.split_once("://").is_some_and(|(scheme, host)| {
                matches!(scheme, "http" | "https")
                    && !host.is_empty()
                    && !host.contains(['/', '?', '#'])
            }) && !origin
                .contains(|c: char| c.is_whitespace() || matches!(c, ';' | ',' | '\''));
            if !ok {
                return Err(invalid(
                    "static.agentDesktopOrigins",
                    format!("`{origin}` is not an origin such as https://desk.example.com"),
                ));
            }
        }
        let fa = self.frame_ancestors.trim();
        if fa.is_empty() {
            let mut list = vec!["'self'".to_string()];
            list.extend(self.agent_desktop_origins.0.iter().cloned());
            return Ok(list.join(" "));
        }
        if fa.contains([';', ',', '\n', '\r']) {
            return Err(invalid(
                "static.frameAncestors",
                "a space-separated CSP source list such as `'self' https://desk.example.com`",
            ));
        }
        Ok(fa.to_string())
    }
}
