//! Configuration: the validated [`Config`] the server runs with, and its loading: built-in
//! defaults, then a TOML file, then `COBROWSE_…` environment variables, then command-line flags,
//! each layer overriding the one before.
//!
//! The layering is [figment]'s: each layer is a provider, merged in that order and deserialized
//! once into the raw shape (the top-level options here, one module per section: `cluster`,
//! `cross_origin`, `network`, `proxy`, `session`, `auth`, `statics`, `ui`, `storage`, `limits`,
//! `metrics`, `events`, `webhooks` (both in `integration`), `recording`, each with
//! its fields, defaults and validation). figment remembers which provider set every value, so an
//! error names the option's dotted name and the layer that set it (file path, environment
//! variable or flag). Durations are read and written with humantime ([`Dur`]).
//!
//! Option names follow the reference product (`allowedOrigins`, `inactivityDuration`,
//! `maxInterval`, …) so that operators of existing co-browse deployments recognise them.
//! `server/README.md` is the full reference; a test keeps it, [`OPTIONS`] and the sections'
//! fields one list.

mod auth;
#[cfg(test)]
mod auth_tests;
mod cluster;
mod cross_origin;
mod error;
mod integration;
mod layers;
mod limits;
mod metrics;
mod network;
mod options;
mod proxy;
mod recording;
mod session;
mod statics;
mod storage;
#[cfg(test)]
mod tests;
mod ui;
mod values;

pub use auth::{AuthConfig, JwtConfig};
pub use error::ConfigError;
pub use integration::{EventsConfig, WebhooksConfig};
pub use layers::Overrides;
pub use options::{OPTIONS, env_name};
pub use proxy::CssProxyConfig;
pub use recording::RecordingConfig;
pub use storage::{CassandraConfig, CassandraTls, StorageConfig};
pub use ui::UI_THEMES;
pub use values::{Dur, List, parse_duration};

use crate::origin::OriginList;
use crate::policy::DomPolicy;
use error::invalid;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The options as written, every one defaulted so partial files work: the top-level options
/// here, each section in its own module.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct RawConfig {
    listen: String,
    port: u16,
    /// Empty means `node-<port>`.
    node_name: String,
    server_url: String,
    log_level: String,
    cluster: cluster::RawCluster,
    cross_origin: cross_origin::RawCrossOrigin,
    proxy: proxy::RawProxy,
    session: session::RawSession,
    auth: auth::RawAuth,
    /// A JSON file path or an `http://` URL; empty means the built-in policy.
    dom_restrictions: String,
    #[serde(rename = "static")]
    statics: statics::RawStatic,
    storage: storage::RawStorage,
    limits: limits::RawLimits,
    ui: ui::RawUi,
    network: network::RawNetwork,
    metrics: metrics::RawMetrics,
    events: integration::RawEvents,
    webhooks: integration::RawWebhooks,
    recording: recording::RawRecording,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            listen: "0.0.0.0".into(),
            port: 8700,
            node_name: String::new(),
            server_url: String::new(),
            log_level: "info".into(),
            cluster: Default::default(),
            cross_origin: Default::default(),
            proxy: Default::default(),
            session: Default::default(),
            auth: Default::default(),
            dom_restrictions: String::new(),
            statics: Default::default(),
            storage: Default::default(),
            limits: Default::default(),
            ui: Default::default(),
            network: Default::default(),
            metrics: Default::default(),
            events: Default::default(),
            webhooks: Default::default(),
            recording: Default::default(),
        }
    }
}

/// Validated configuration used by the running server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address.
    pub listen: IpAddr,
    /// Listen port (tests bind their own listener and ignore it).
    pub port: u16,
    /// This node's name (cookie `gcbSessionServer`, REST `node.name`).
    pub node_name: String,
    /// This node's public URL; empty means "not configured" (URLs handed to clients are never
    /// built from request headers; see [`Config::public_url`]).
    pub server_url: String,
    /// Public cluster URL (load balancer) used by agents; empty means `server_url`.
    pub cluster_url: String,
    /// URL other nodes use to reach this one (cluster mode); empty means `http://` + the bound
    /// address (loopback when bound to all interfaces).
    pub internal_url: String,
    /// `tracing` filter directive (`info`, `debug`, `cobrowse_server=debug`).
    pub log_level: String,
    /// Origins allowed to use the REST API and the WebSocket.
    pub allowed_origins: OriginList,
    /// Proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` count (`network.trustedProxies`,
    /// and `crossOrigin.trustForwardedFor`: the socket peer, whatever its address).
    pub trusted_proxies: crate::net::TrustedProxies,
    /// Answer permessage-deflate offers (`network.websocketCompression`).
    pub websocket_compression: bool,
    /// Domains the CSS proxy may fetch from.
    pub allowed_external_domains: Vec<String>,
    /// Third-party iframe origins shown to agents.
    pub allowed_third_party_domains: Vec<String>,
    /// CSS proxy limits, timeouts, cache and forward proxy.
    pub css_proxy: CssProxyConfig,
    /// Idle sessions end when no agent joined within this time.
    pub inactivity_duration: Duration,
    /// A party that lost its connection must return within this time.
    pub max_interval: Duration,
    /// Whether agents may request write mode.
    pub write_mode_allowed: bool,
    /// Simultaneous sessions per agent id (0 = no limit).
    pub agent_sessions_limit: u32,
    /// Time a new socket has to send `Hello`.
    pub hello_timeout: Duration,
    /// How long an ended session's token is still recognised (answers "ended", not "unknown").
    pub ended_retention: Duration,
    /// What agents and controllers must present (`auth.*`).
    pub auth: AuthConfig,
    /// The DOM restriction policy served to clients.
    pub dom_policy: DomPolicy,
    /// Static root served under `/cobrowse/`.
    pub static_dir: PathBuf,
    /// `Cache-Control: max-age` for static files; zero means revalidate (`no-cache`).
    pub hard_cache: Duration,
    /// CSP `frame-ancestors` for `slave.html`: `'self'` plus `static.agentDesktopOrigins`, or
    /// `static.frameAncestors` as written.
    pub frame_ancestors: String,
    /// Default language of the agent page (a language tag such as `de`), if set.
    pub ui_locale: Option<String>,
    /// Default theme of the agent page (one of [`UI_THEMES`]), if set.
    pub ui_theme: Option<String>,
    /// Storage backend.
    pub storage: StorageConfig,
    /// Frame decode limits.
    pub limits: cobrowse_protocol::Limits,
    /// Largest first frame (the `Hello`), read before the client is known.
    pub hello_max_bytes: usize,
    /// What all sessions' page caches may hold together.
    pub cache_bytes: usize,
    /// Frames a connection's send queue holds before overflow handling.
    pub send_queue_frames: usize,
    /// The page-state log may grow to max(snapshot size, this) before a fresh snapshot is asked.
    pub min_log_bytes: usize,
    /// Hard cap of snapshot + log; beyond it the cache is dropped and a snapshot requested.
    pub max_log_bytes: usize,
    /// What one link keeps unacknowledged for a resume (bytes; frames: `send_queue_frames`).
    pub replay_bytes: usize,
    /// Pages recorded per session history.
    pub max_pages: usize,
    /// Live sessions this server holds at most; creating more answers 503 `server_full`.
    pub max_live_sessions: usize,
    /// WebSocket ping period; a socket silent for two periods is considered lost.
    pub ping_interval: Duration,
    /// Token lookups per client address per minute.
    pub lookups_per_minute: u32,
    /// Burst of token lookups allowed at once.
    pub lookup_burst: u32,
    /// Session creations per client address per minute.
    pub creates_per_minute: u32,
    /// Burst of session creations allowed at once.
    pub create_burst: u32,
    /// WebSocket connections one client address may hold.
    pub connections_per_address: usize,
    /// Of those, connections without an admitted `Hello`.
    pub pending_connections_per_address: usize,
    /// The internal metrics listener (`metrics.listen`); `None` = metrics off.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// How long shutdown waits for sockets to close.
    pub shutdown_grace: Duration,
    /// `static.agentDesktopOrigins` that are exact origins (no `*`): where the agent page may
    /// post its events (`postMessage` needs an exact target origin).
    pub desktop_origins: Vec<String>,
    /// Event streams (`events.*`).
    pub events: EventsConfig,
    /// Webhooks (`webhooks.*`; no URLs: off).
    pub webhooks: WebhooksConfig,
    /// Audit recordings (`recording.*`; off by default).
    pub recording: RecordingConfig,
}

impl Default for Config {
    fn default() -> Self {
        // The defaults are valid by construction (a test checks it), the DOM policy is the
        // built-in one, and nothing is read from outside.
        Config::from_figment(&defaults()).unwrap_or_else(|e| panic!("default config: {e}"))
    }
}

/// The bottom layer: every option's built-in default.
fn defaults() -> Figment {
    Figment::from(Serialized::defaults(RawConfig::default()))
}

impl Config {
    /// The public base URL this node hands to clients: `serverUrl`, else `cluster.url`; `None`
    /// when neither is configured (clients then keep the URL they reached the server at). Never
    /// derived from a request, whose `Host` an attacker writes.
    pub fn public_url(&self) -> Option<&str> {
        [self.server_url.as_str(), self.cluster_url.as_str()]
            .into_iter()
            .find(|u| !u.is_empty())
    }

    /// Loads the configuration: optional file, then environment (`env` pairs, normally
    /// `std::env::vars()`), then command-line overrides.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        cli: &Overrides,
    ) -> Result<Config, ConfigError> {
        let mut figment = defaults();
        if let Some(path) = file {
            // figment reads the file itself; opening it first tells "cannot read" apart from
            // "not valid TOML" (and `file_exact`: a relative path is not searched for upwards).
            std::fs::File::open(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            figment = figment.merge(Toml::file_exact(path));
        }
        for setting in layers::env_settings(env) {
            figment = figment.merge(setting);
        }
        for setting in cli.settings()? {
            figment = figment.merge(setting);
        }
        Config::from_figment(&figment)
    }

    /// Deserializes and validates the merged layers; any error names the layer of its option.
    fn from_figment(figment: &Figment) -> Result<Config, ConfigError> {
        let raw: RawConfig = figment
            .extract()
            .map_err(|e| layers::from_figment(figment, e))?;
        raw.validate()
            .map_err(|e| e.with_layer(|option| layers::layer_of(figment, option)))
    }
}

impl RawConfig {
    /// The top-level options, then each section's.
    fn validate(self) -> Result<Config, ConfigError> {
        let listen: IpAddr = self
            .listen
            .parse()
            .map_err(|_| invalid("listen", format!("`{}` is not an IP address", self.listen)))?;
        values::check_url("serverUrl", &self.server_url)?;
        self.cluster.validate()?;
        let node_name = if self.node_name.is_empty() {
            format!("node-{}", self.port)
        } else {
            self.node_name
        };
        if !node_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(invalid(
                "nodeName",
                "use letters, digits, '-', '_' and '.' only (it is a cookie value)",
            ));
        }
        tracing_subscriber::EnvFilter::try_new(&self.log_level)
            .map_err(|e| invalid("logLevel", e.to_string()))?;
        let allowed_origins: OriginList = self.cross_origin.validate()?;
        let trusted_proxies = self
            .network
            .validate(self.cross_origin.trust_forwarded_for)?;
        let metrics_listen = self.metrics.validate()?;
        let proxy = self.proxy.validate()?;
        self.session.validate()?;
        let auth = self.auth.validate()?;
        let dom_policy = if self.dom_restrictions.is_empty() {
            DomPolicy::default()
        } else {
            crate::policy::load(&self.dom_restrictions)
                .map_err(|e| invalid("domRestrictions", e.to_string()))?
        };
        let (ui_locale, ui_theme) = self.ui.validate()?;
        let frame_ancestors = self.statics.frame_ancestors()?;
        let desktop_origins = self
            .statics
            .agent_desktop_origins
            .0
            .iter()
            .filter(|o| !o.contains('*'))
            .cloned()
            .collect();
        let events = self.events.validate()?;
        let webhooks = self.webhooks.validate()?;
        let recording = self.recording.validate()?;
        let storage = self.storage.validate()?;
        if matches!(storage, StorageConfig::Cassandra(_)) && auth.needs_generated_token() {
            return Err(invalid(
                "auth.agentToken",
                "a cluster needs one agent credential shared by every node: set auth.agentToken \
                 or auth.jwt.* (a generated token would differ from node to node)",
            ));
        }
        let l = &self.limits;
        l.validate()?;
        let s = &self.session;
        Ok(Config {
            listen,
            port: self.port,
            node_name,
            server_url: self.server_url,
            cluster_url: self.cluster.url,
            internal_url: self.cluster.internal_url,
            log_level: self.log_level,
            allowed_origins,
            trusted_proxies,
            websocket_compression: self.network.websocket_compression,
            allowed_external_domains: proxy.allowed_external_domains,
            allowed_third_party_domains: proxy.allowed_third_party_domains,
            css_proxy: proxy.css,
            inactivity_duration: s.inactivity_duration.0,
            max_interval: s.max_interval.0,
            write_mode_allowed: s.write_mode_allowed,
            agent_sessions_limit: s.agent_sessions_limit,
            hello_timeout: s.hello_timeout.0,
            ended_retention: s.ended_retention.0,
            auth,
            dom_policy,
            static_dir: self.statics.dir,
            hard_cache: self.statics.browser_hard_cache_duration.0,
            frame_ancestors,
            ui_locale,
            ui_theme,
            storage,
            limits: l.frame_limits(),
            hello_max_bytes: l.hello_max_bytes,
            cache_bytes: l.cache_bytes,
            send_queue_frames: l.send_queue_frames,
            min_log_bytes: l.min_log_bytes,
            max_log_bytes: l.max_log_bytes,
            replay_bytes: l.replay_bytes,
            max_pages: l.max_pages,
            max_live_sessions: l.max_live_sessions,
            ping_interval: l.ping_interval.0,
            lookups_per_minute: l.lookups_per_minute,
            lookup_burst: l.lookup_burst,
            creates_per_minute: l.creates_per_minute,
            create_burst: l.create_burst,
            connections_per_address: l.connections_per_address,
            pending_connections_per_address: l.pending_connections_per_address,
            metrics_listen,
            shutdown_grace: l.shutdown_grace.0,
            desktop_origins,
            events,
            webhooks,
            recording,
        })
    }
}
