//! Configuration: defaults, then a TOML file, then `COBROWSE_…` environment variables, then CLI
//! flags, each layer overriding the one before.
//!
//! All layers are merged into one TOML table first and deserialized once, so a bad value fails
//! with the option's dotted name (`session.inactivityDuration`) whichever layer set it. Option
//! names follow the reference product (`allowedOrigins`, `inactivityDuration`, `maxInterval`, …)
//! so that operators of existing co-browse deployments recognise them. `server/README.md` is the
//! full reference; keep it in sync with [`OPTIONS`].

use crate::origin::OriginList;
use crate::policy::{DomPolicy, PolicyError};
use serde::{Deserialize, Deserializer};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Why the configuration cannot be used. The message always names the option.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The config file is not valid TOML.
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
    /// An option has a bad value or is unknown.
    #[error("config option `{option}`: {message}")]
    Invalid {
        /// Dotted option name.
        option: String,
        /// What is wrong.
        message: String,
    },
    /// The DOM restriction policy is invalid.
    #[error("config option `domRestrictions`: {0}")]
    Policy(#[from] PolicyError),
}

fn invalid(option: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        option: option.to_string(),
        message: message.into(),
    }
}

/// Every option, as a dotted TOML path. Environment variables are derived from these names
/// (`session.inactivityDuration` → `COBROWSE_SESSION_INACTIVITY_DURATION`).
pub const OPTIONS: &[&str] = &[
    "listen",
    "port",
    "nodeName",
    "serverUrl",
    "logLevel",
    "cluster.url",
    "cluster.internalUrl",
    "crossOrigin.allowedOrigins",
    "crossOrigin.trustForwardedFor",
    "proxy.allowedExternalDomains",
    "proxy.allowedThirdPartyDomains",
    "proxy.forwardProxy",
    "proxy.maxCssBytes",
    "proxy.connectTimeout",
    "proxy.timeout",
    "proxy.cacheBytes",
    "session.inactivityDuration",
    "session.maxInterval",
    "session.writeModeAllowed",
    "session.agentSessionsLimit",
    "session.helloTimeout",
    "session.endedRetention",
    "auth.agentToken",
    "domRestrictions",
    "static.dir",
    "static.browserHardCacheDuration",
    "static.frameAncestors",
    "ui.locale",
    "ui.theme",
    "storage.type",
    "storage.dataDir",
    "storage.cassandra.contactPoints",
    "storage.cassandra.keyspace",
    "storage.cassandra.replicationStrategy",
    "storage.cassandra.replicationFactor",
    "storage.cassandra.datacenter",
    "storage.cassandra.username",
    "storage.cassandra.password",
    "storage.cassandra.tls.enabled",
    "storage.cassandra.tls.caFile",
    "storage.cassandra.tls.certFile",
    "storage.cassandra.tls.keyFile",
    "storage.cassandra.tls.verifyHostname",
    "storage.cassandra.nodeHeartbeat",
    "storage.cassandra.readConsistency",
    "storage.cassandra.writeConsistency",
    "storage.cassandra.retention.liveSessions",
    "storage.cassandra.retention.history",
    "storage.cassandra.retention.windowHistory",
    "limits.maxFrameBytes",
    "limits.maxNodes",
    "limits.maxDepth",
    "limits.maxStringBytes",
    "limits.sendQueueFrames",
    "limits.minLogBytes",
    "limits.maxLogBytes",
    "limits.maxPages",
    "limits.maxLiveSessions",
    "limits.pingInterval",
    "limits.lookupsPerMinute",
    "limits.lookupBurst",
    "limits.shutdownGrace",
];

/// The environment variable for a dotted option name.
pub fn env_name(option: &str) -> String {
    let mut out = String::from("COBROWSE_");
    for ch in option.chars() {
        if ch == '.' {
            out.push('_');
        } else if ch.is_ascii_uppercase() {
            out.push('_');
            out.push(ch);
        } else {
            out.push(ch.to_ascii_uppercase());
        }
    }
    out
}

/// A duration given as integer seconds (`600`) or a string with a unit (`"250ms"`, `"10s"`,
/// `"5m"`, `"1h"`). Short durations exist for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

/// Parses `"250ms"`, `"10s"`, `"5m"`, `"1h"`, `"2d"` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| {
        format!("`{s}` is not a duration (examples: 600, \"250ms\", \"10s\", \"5m\")")
    })?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        other => return Err(format!("unknown duration unit `{other}` in `{s}`")),
    };
    if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
        return Err(format!("duration `{s}` is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Float(f64),
            Str(String),
        }
        let secs = match Raw::deserialize(d)? {
            Raw::Int(i) if i >= 0 => Duration::from_secs(i as u64),
            Raw::Float(f) if f >= 0.0 && f.is_finite() => Duration::from_secs_f64(f),
            Raw::Str(s) => parse_duration(&s).map_err(serde::de::Error::custom)?,
            _ => return Err(serde::de::Error::custom("a duration must not be negative")),
        };
        Ok(Dur(secs))
    }
}

/// A list given as a TOML array or as one comma-separated string (as the reference product and
/// environment variables do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List(pub Vec<String>);

impl<'de> Deserialize<'de> for List {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        let items = match Raw::deserialize(d)? {
            Raw::One(s) => s.split(',').map(str::to_string).collect::<Vec<_>>(),
            Raw::Many(v) => v,
        };
        Ok(List(
            items
                .into_iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        ))
    }
}

/// Raw file shape; every field has a default so partial files work.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct RawConfig {
    listen: String,
    port: u16,
    node_name: String,
    server_url: String,
    log_level: String,
    cluster: RawCluster,
    cross_origin: RawCrossOrigin,
    proxy: RawProxy,
    session: RawSession,
    auth: RawAuth,
    dom_restrictions: String,
    #[serde(rename = "static")]
    statics: RawStatic,
    storage: RawStorage,
    limits: RawLimits,
    ui: RawUi,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            listen: "0.0.0.0".into(),
            port: 8700,
            node_name: String::new(),
            server_url: String::new(),
            log_level: "info".into(),
            cluster: RawCluster::default(),
            cross_origin: RawCrossOrigin::default(),
            proxy: RawProxy::default(),
            session: RawSession::default(),
            auth: RawAuth::default(),
            dom_restrictions: String::new(),
            statics: RawStatic::default(),
            storage: RawStorage::default(),
            limits: RawLimits::default(),
            ui: RawUi::default(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct RawCluster {
    url: String,
    internal_url: String,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct RawCrossOrigin {
    allowed_origins: List,
    trust_forwarded_for: bool,
}

impl Default for RawCrossOrigin {
    fn default() -> Self {
        RawCrossOrigin {
            allowed_origins: List(vec!["*".into()]),
            trust_forwarded_for: false,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct RawProxy {
    allowed_external_domains: List,
    allowed_third_party_domains: List,
    forward_proxy: String,
    max_css_bytes: usize,
    connect_timeout: Dur,
    timeout: Dur,
    cache_bytes: usize,
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

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct RawSession {
    inactivity_duration: Dur,
    max_interval: Dur,
    write_mode_allowed: bool,
    agent_sessions_limit: u32,
    hello_timeout: Dur,
    ended_retention: Dur,
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

/// Agent page defaults (`GET /cobrowse/rest/ui.json`); empty means "the agent's browser decides".
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct RawUi {
    locale: String,
    theme: String,
}

/// Theme names the agent page knows (`agent-ui` `locale::Theme`).
pub const UI_THEMES: &[&str] = &["auto", "light", "dark", "high-contrast"];

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct RawAuth {
    agent_token: String,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct RawStatic {
    dir: PathBuf,
    browser_hard_cache_duration: Dur,
    frame_ancestors: String,
}

impl Default for RawStatic {
    fn default() -> Self {
        RawStatic {
            dir: PathBuf::from("www"),
            browser_hard_cache_duration: Dur(Duration::ZERO),
            frame_ancestors: "*".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct RawStorage {
    #[serde(rename = "type")]
    kind: String,
    data_dir: PathBuf,
    cassandra: RawCassandra,
}

impl Default for RawStorage {
    fn default() -> Self {
        RawStorage {
            kind: "embedded".into(),
            data_dir: PathBuf::from("data"),
            cassandra: RawCassandra::default(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct RawCassandra {
    contact_points: List,
    keyspace: String,
    replication_strategy: String,
    replication_factor: u32,
    datacenter: String,
    username: String,
    password: String,
    tls: RawTls,
    node_heartbeat: Dur,
    read_consistency: String,
    write_consistency: String,
    retention: RawRetention,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct RawTls {
    enabled: bool,
    ca_file: String,
    cert_file: String,
    key_file: String,
    verify_hostname: bool,
}

impl Default for RawTls {
    fn default() -> Self {
        RawTls {
            enabled: false,
            ca_file: String::new(),
            cert_file: String::new(),
            key_file: String::new(),
            verify_hostname: true,
        }
    }
}

impl Default for RawCassandra {
    fn default() -> Self {
        RawCassandra {
            contact_points: List(vec!["127.0.0.1:9042".into()]),
            keyspace: "cobrowse".into(),
            replication_strategy: "NetworkTopologyStrategy".into(),
            replication_factor: 1,
            datacenter: "datacenter1".into(),
            username: String::new(),
            password: String::new(),
            tls: RawTls::default(),
            node_heartbeat: Dur(Duration::from_secs(5)),
            read_consistency: "LOCAL_QUORUM".into(),
            write_consistency: "LOCAL_QUORUM".into(),
            retention: RawRetention::default(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct RawRetention {
    live_sessions: Dur,
    history: Dur,
    window_history: Dur,
}

impl Default for RawRetention {
    fn default() -> Self {
        RawRetention {
            live_sessions: Dur(Duration::from_secs(86_400)),
            history: Dur(Duration::from_secs(30 * 86_400)),
            window_history: Dur(Duration::from_secs(86_400)),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct RawLimits {
    max_frame_bytes: usize,
    max_nodes: usize,
    max_depth: usize,
    max_string_bytes: usize,
    send_queue_frames: usize,
    min_log_bytes: usize,
    max_log_bytes: usize,
    max_pages: usize,
    max_live_sessions: usize,
    ping_interval: Dur,
    lookups_per_minute: u32,
    lookup_burst: u32,
    shutdown_grace: Dur,
}

impl Default for RawLimits {
    fn default() -> Self {
        let p = cobrowse_protocol::Limits::default();
        RawLimits {
            max_frame_bytes: p.max_frame_bytes,
            max_nodes: p.max_nodes,
            max_depth: p.max_depth,
            max_string_bytes: p.max_string_bytes,
            send_queue_frames: 1024,
            min_log_bytes: 256 * 1024,
            max_log_bytes: 64 * 1024 * 1024,
            max_pages: 1000,
            max_live_sessions: 100_000,
            ping_interval: Dur(Duration::from_secs(20)),
            lookups_per_minute: 60,
            lookup_burst: 20,
            shutdown_grace: Dur(Duration::from_secs(5)),
        }
    }
}

/// Which storage backend to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageConfig {
    /// redb file in a local data directory; nothing else to run.
    Embedded {
        /// The data directory (created when absent).
        data_dir: PathBuf,
    },
    /// Cassandra / ScyllaDB (implemented by issue #6; settings are validated already).
    Cassandra(Box<CassandraConfig>),
}

/// Cassandra / ScyllaDB settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CassandraConfig {
    /// `host:port` contact points.
    pub contact_points: Vec<String>,
    /// Keyspace, created on start if absent.
    pub keyspace: String,
    /// `SimpleStrategy` or `NetworkTopologyStrategy`.
    pub replication_strategy: String,
    /// Replication factor (per datacenter with `NetworkTopologyStrategy`).
    pub replication_factor: u32,
    /// Datacenter named in the `NetworkTopologyStrategy` replication map.
    pub datacenter: String,
    /// Username for password authentication; empty means no authentication.
    pub username: String,
    /// Password for password authentication.
    pub password: String,
    /// TLS to the database (`storage.cassandra.tls.*`).
    pub tls: CassandraTls,
    /// How often a node refreshes its row in the node registry; the row lives three periods,
    /// so a node that stopped heartbeating is considered dead after that.
    pub node_heartbeat: Duration,
    /// Read consistency level name.
    pub read_consistency: String,
    /// Write consistency level name.
    pub write_consistency: String,
    /// TTL of live-session rows.
    pub retention_live_sessions: Duration,
    /// TTL of history rows.
    pub retention_history: Duration,
    /// TTL of page/window history rows.
    pub retention_window_history: Duration,
}

/// TLS to Cassandra / ScyllaDB. Off by default, because a database on a private network often
/// runs without it; when on, the server's certificate is always verified against `ca_file` (or
/// the system roots).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CassandraTls {
    /// Connect with TLS.
    pub enabled: bool,
    /// PEM file of the CA(s) that signed the database's certificates; `None` = system roots.
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate (chain), for clusters that require client authentication.
    pub cert_file: Option<PathBuf>,
    /// PEM private key of `cert_file`.
    pub key_file: Option<PathBuf>,
    /// Also check that the certificate names the node's IP address. Turn off only for clusters
    /// whose certificates do not carry their nodes' addresses (the chain is still verified).
    pub verify_hostname: bool,
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
    /// This node's public URL; empty means "derive from the request's Host header".
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
    /// Take the client address for rate limiting from `X-Forwarded-For` (behind a trusted proxy).
    pub trust_forwarded_for: bool,
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
    /// Token agents and controllers must present, if any.
    pub agent_token: Option<String>,
    /// The DOM restriction policy served to clients.
    pub dom_policy: DomPolicy,
    /// Static root served under `/cobrowse/`.
    pub static_dir: PathBuf,
    /// `Cache-Control: max-age` for static files; zero means revalidate (`no-cache`).
    pub hard_cache: Duration,
    /// CSP `frame-ancestors` for `slave.html`.
    pub frame_ancestors: String,
    /// Default language of the agent page (a language tag such as `de`), if set.
    pub ui_locale: Option<String>,
    /// Default theme of the agent page (one of [`UI_THEMES`]), if set.
    pub ui_theme: Option<String>,
    /// Storage backend.
    pub storage: StorageConfig,
    /// Frame decode limits.
    pub limits: cobrowse_protocol::Limits,
    /// Frames a connection's send queue holds before overflow handling.
    pub send_queue_frames: usize,
    /// The page-state log may grow to max(snapshot size, this) before a fresh snapshot is asked.
    pub min_log_bytes: usize,
    /// Hard cap of snapshot + log; beyond it the cache is dropped and a snapshot requested.
    pub max_log_bytes: usize,
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
    /// How long shutdown waits for sockets to close.
    pub shutdown_grace: Duration,
}

impl Default for Config {
    fn default() -> Self {
        // The defaults are valid by construction; `from_table` of an empty table cannot fail
        // except for a DOM policy, which is the built-in one here.
        Config::from_table(toml::Table::new()).unwrap_or_else(|e| panic!("default config: {e}"))
    }
}

/// Overrides given on the command line, applied last.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `(dotted option, value)` pairs.
    pub values: Vec<(String, String)>,
}

impl Config {
    /// Loads the configuration: optional file, then environment (`env` pairs, normally
    /// `std::env::vars()`), then CLI overrides.
    pub fn load(
        file: Option<&std::path::Path>,
        env: impl IntoIterator<Item = (String, String)>,
        cli: &Overrides,
    ) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Syntax {
                        path: path.to_path_buf(),
                        message: e.to_string(),
                    })?
            }
            None => toml::Table::new(),
        };
        let known: Vec<(String, &str)> = OPTIONS.iter().map(|o| (env_name(o), *o)).collect();
        for (key, value) in env {
            if !key.starts_with("COBROWSE_") {
                continue;
            }
            if let Some((_, option)) = known.iter().find(|(name, _)| *name == key) {
                set_path(&mut table, option, &value)?;
            }
            // Unknown COBROWSE_* variables are ignored: scripts use the prefix for their own
            // settings too.
        }
        for (option, value) in &cli.values {
            if !OPTIONS.contains(&option.as_str()) {
                return Err(invalid(option, "unknown option"));
            }
            set_path(&mut table, option, value)?;
        }
        Config::from_table(table)
    }

    /// Deserializes and validates a merged table.
    pub fn from_table(table: toml::Table) -> Result<Config, ConfigError> {
        let raw: RawConfig =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| {
                    let msg = e.to_string();
                    let option = extract_key(&msg).unwrap_or_else(|| "(file)".into());
                    invalid(&option, msg.trim().replace('\n', " "))
                })?;
        raw.validate()
    }
}

/// Pulls the dotted option name out of a toml error message: toml ends messages with
/// "in `section.key`" and names unknown fields as "unknown field `name`".
fn extract_key(msg: &str) -> Option<String> {
    let backticked = |s: &str| -> Option<String> {
        let start = s.find('`')?;
        let rest = &s[start + 1..];
        Some(rest[..rest.find('`')?].to_string())
    };
    let path = msg.rfind("in `").and_then(|i| backticked(&msg[i..]));
    let unknown = msg
        .find("unknown field `")
        .and_then(|i| backticked(&msg[i..]));
    match (path, unknown) {
        (Some(p), Some(f)) if !p.is_empty() => Some(format!("{p}.{f}")),
        (_, Some(f)) => Some(f),
        (Some(p), None) => Some(p),
        (None, None) => backticked(msg),
    }
}

/// Sets `a.b.c = value` in the table, parsing `value` as a TOML value when it is one (numbers,
/// booleans, arrays) and as a plain string otherwise.
fn set_path(table: &mut toml::Table, option: &str, value: &str) -> Result<(), ConfigError> {
    let parsed = format!("v = {value}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()));
    let mut parts: Vec<&str> = option.split('.').collect();
    let last = parts.pop().unwrap_or(option);
    let mut cur = table;
    for part in parts {
        let entry = cur
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = match entry {
            toml::Value::Table(t) => t,
            _ => return Err(invalid(option, format!("`{part}` is not a section"))),
        };
    }
    cur.insert(last.to_string(), parsed);
    Ok(())
}

fn check_url(option: &str, url: &str) -> Result<(), ConfigError> {
    if url.is_empty() {
        return Ok(());
    }
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() > "https://".len()
        && !url.contains(char::is_whitespace);
    if !ok {
        return Err(invalid(
            option,
            format!("`{url}` is not an absolute http(s) URL"),
        ));
    }
    if url.ends_with('/') {
        return Err(invalid(option, "must not end with a slash"));
    }
    Ok(())
}

const CONSISTENCY: &[&str] = &[
    "ANY",
    "ONE",
    "TWO",
    "THREE",
    "QUORUM",
    "ALL",
    "LOCAL_QUORUM",
    "EACH_QUORUM",
    "LOCAL_ONE",
];

impl RawConfig {
    fn validate(self) -> Result<Config, ConfigError> {
        let listen: IpAddr = self
            .listen
            .parse()
            .map_err(|_| invalid("listen", format!("`{}` is not an IP address", self.listen)))?;
        check_url("serverUrl", &self.server_url)?;
        check_url("cluster.url", &self.cluster.url)?;
        check_url("cluster.internalUrl", &self.cluster.internal_url)?;
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
        let allowed_origins = OriginList::parse(&self.cross_origin.allowed_origins.0)
            .map_err(|m| invalid("crossOrigin.allowedOrigins", m))?;
        for (name, list) in [
            (
                "proxy.allowedExternalDomains",
                &self.proxy.allowed_external_domains,
            ),
            (
                "proxy.allowedThirdPartyDomains",
                &self.proxy.allowed_third_party_domains,
            ),
        ] {
            OriginList::parse(&list.0).map_err(|m| invalid(name, m))?;
        }
        let p = &self.proxy;
        check_url("proxy.forwardProxy", &p.forward_proxy)?;
        if p.max_css_bytes == 0 {
            return Err(invalid("proxy.maxCssBytes", "must be positive"));
        }
        if p.connect_timeout.0.is_zero() || p.timeout.0.is_zero() {
            return Err(invalid(
                "proxy.timeout",
                "proxy.connectTimeout and proxy.timeout must be positive",
            ));
        }
        let css_proxy = CssProxyConfig {
            forward_proxy: (!p.forward_proxy.is_empty()).then(|| p.forward_proxy.clone()),
            max_css_bytes: p.max_css_bytes,
            connect_timeout: p.connect_timeout.0,
            timeout: p.timeout.0,
            cache_bytes: p.cache_bytes,
        };
        let s = &self.session;
        if s.inactivity_duration.0.is_zero() {
            return Err(invalid("session.inactivityDuration", "must be positive"));
        }
        if s.max_interval.0.is_zero() {
            return Err(invalid("session.maxInterval", "must be positive"));
        }
        if s.hello_timeout.0.is_zero() {
            return Err(invalid("session.helloTimeout", "must be positive"));
        }
        let agent_token = match self.auth.agent_token.trim() {
            "" => None,
            t if t.len() < 16 => {
                return Err(invalid(
                    "auth.agentToken",
                    "must be at least 16 characters (or empty to disable)",
                ));
            }
            t => Some(t.to_string()),
        };
        let dom_policy = if self.dom_restrictions.is_empty() {
            DomPolicy::default()
        } else {
            DomPolicy::load(&self.dom_restrictions)?
        };
        let ui_locale = Some(self.ui.locale.trim().to_owned()).filter(|l| !l.is_empty());
        if let Some(l) = &ui_locale
            && (l.len() > 35
                || l.starts_with('-')
                || !l
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        {
            return Err(invalid(
                "ui.locale",
                format!("`{l}` is not a language tag (examples: en, de, pt-BR)"),
            ));
        }
        let ui_theme = Some(self.ui.theme.trim().to_owned()).filter(|t| !t.is_empty());
        if let Some(t) = &ui_theme
            && !UI_THEMES.contains(&t.as_str())
        {
            return Err(invalid(
                "ui.theme",
                format!("`{t}` is not a theme (one of {})", UI_THEMES.join(", ")),
            ));
        }
        let fa = self.statics.frame_ancestors.trim();
        if fa.is_empty() || fa.contains([';', ',', '\n', '\r']) {
            return Err(invalid(
                "static.frameAncestors",
                "a space-separated CSP source list such as `*` or `'self' https://desk.example.com`",
            ));
        }
        let storage = match self.storage.kind.as_str() {
            "embedded" => StorageConfig::Embedded {
                data_dir: self.storage.data_dir,
            },
            "cassandra" | "scylla" => {
                let c = self.storage.cassandra;
                if c.contact_points.0.is_empty() {
                    return Err(invalid(
                        "storage.cassandra.contactPoints",
                        "at least one host:port",
                    ));
                }
                for cp in &c.contact_points.0 {
                    let port_ok = cp
                        .rsplit_once(':')
                        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
                    if !port_ok {
                        return Err(invalid(
                            "storage.cassandra.contactPoints",
                            format!("`{cp}` is not host:port"),
                        ));
                    }
                }
                if c.keyspace.is_empty()
                    || !c
                        .keyspace
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
                {
                    return Err(invalid(
                        "storage.cassandra.keyspace",
                        "letters, digits and '_' only",
                    ));
                }
                if !["SimpleStrategy", "NetworkTopologyStrategy"]
                    .contains(&c.replication_strategy.as_str())
                {
                    return Err(invalid(
                        "storage.cassandra.replicationStrategy",
                        "SimpleStrategy or NetworkTopologyStrategy",
                    ));
                }
                if c.datacenter.is_empty() || c.datacenter.contains(['\'', '\\', '\n', '\r']) {
                    return Err(invalid(
                        "storage.cassandra.datacenter",
                        "a datacenter name without quotes",
                    ));
                }
                if c.node_heartbeat.0 < Duration::from_secs(1) {
                    return Err(invalid(
                        "storage.cassandra.nodeHeartbeat",
                        "must be at least 1s",
                    ));
                }
                if c.replication_factor == 0 {
                    return Err(invalid(
                        "storage.cassandra.replicationFactor",
                        "must be at least 1",
                    ));
                }
                for (name, v) in [
                    ("storage.cassandra.readConsistency", &c.read_consistency),
                    ("storage.cassandra.writeConsistency", &c.write_consistency),
                ] {
                    if !CONSISTENCY.contains(&v.to_ascii_uppercase().as_str()) {
                        return Err(invalid(name, format!("one of {}", CONSISTENCY.join(", "))));
                    }
                }
                let file = |s: String| (!s.is_empty()).then(|| PathBuf::from(s));
                let tls = CassandraTls {
                    enabled: c.tls.enabled,
                    ca_file: file(c.tls.ca_file),
                    cert_file: file(c.tls.cert_file),
                    key_file: file(c.tls.key_file),
                    verify_hostname: c.tls.verify_hostname,
                };
                if tls.cert_file.is_some() != tls.key_file.is_some() {
                    return Err(invalid(
                        "storage.cassandra.tls.keyFile",
                        "certFile and keyFile go together (client certificate and its key)",
                    ));
                }
                StorageConfig::Cassandra(Box::new(CassandraConfig {
                    contact_points: c.contact_points.0,
                    keyspace: c.keyspace,
                    replication_strategy: c.replication_strategy,
                    replication_factor: c.replication_factor,
                    datacenter: c.datacenter,
                    username: c.username,
                    password: c.password,
                    tls,
                    node_heartbeat: c.node_heartbeat.0,
                    read_consistency: c.read_consistency.to_ascii_uppercase(),
                    write_consistency: c.write_consistency.to_ascii_uppercase(),
                    retention_live_sessions: c.retention.live_sessions.0,
                    retention_history: c.retention.history.0,
                    retention_window_history: c.retention.window_history.0,
                }))
            }
            other => {
                return Err(invalid(
                    "storage.type",
                    format!("`{other}`: expected `embedded` or `cassandra`"),
                ));
            }
        };
        let l = &self.limits;
        for (name, v) in [
            ("limits.maxFrameBytes", l.max_frame_bytes),
            ("limits.maxNodes", l.max_nodes),
            ("limits.maxDepth", l.max_depth),
            ("limits.maxStringBytes", l.max_string_bytes),
            ("limits.sendQueueFrames", l.send_queue_frames),
            ("limits.maxPages", l.max_pages),
            ("limits.maxLiveSessions", l.max_live_sessions),
        ] {
            if v == 0 {
                return Err(invalid(name, "must be positive"));
            }
        }
        if l.max_log_bytes < l.max_frame_bytes {
            return Err(invalid(
                "limits.maxLogBytes",
                "must be at least limits.maxFrameBytes (the cache must hold one snapshot)",
            ));
        }
        if l.lookups_per_minute == 0 || l.lookup_burst == 0 {
            return Err(invalid(
                "limits.lookupsPerMinute",
                "lookupsPerMinute and lookupBurst must be positive",
            ));
        }
        if l.ping_interval.0 < Duration::from_millis(10) {
            return Err(invalid("limits.pingInterval", "at least 10ms"));
        }
        Ok(Config {
            listen,
            port: self.port,
            node_name,
            server_url: self.server_url,
            cluster_url: self.cluster.url,
            internal_url: self.cluster.internal_url,
            log_level: self.log_level,
            allowed_origins,
            trust_forwarded_for: self.cross_origin.trust_forwarded_for,
            allowed_external_domains: self.proxy.allowed_external_domains.0,
            allowed_third_party_domains: self.proxy.allowed_third_party_domains.0,
            css_proxy,
            inactivity_duration: s.inactivity_duration.0,
            max_interval: s.max_interval.0,
            write_mode_allowed: s.write_mode_allowed,
            agent_sessions_limit: s.agent_sessions_limit,
            hello_timeout: s.hello_timeout.0,
            ended_retention: s.ended_retention.0,
            agent_token,
            dom_policy,
            static_dir: self.statics.dir,
            hard_cache: self.statics.browser_hard_cache_duration.0,
            frame_ancestors: fa.to_string(),
            ui_locale,
            ui_theme,
            storage,
            limits: cobrowse_protocol::Limits {
                max_frame_bytes: l.max_frame_bytes,
                max_nodes: l.max_nodes,
                max_depth: l.max_depth,
                max_string_bytes: l.max_string_bytes,
            },
            send_queue_frames: l.send_queue_frames,
            min_log_bytes: l.min_log_bytes,
            max_log_bytes: l.max_log_bytes,
            max_pages: l.max_pages,
            max_live_sessions: l.max_live_sessions,
            ping_interval: l.ping_interval.0,
            lookups_per_minute: l.lookups_per_minute,
            lookup_burst: l.lookup_burst,
            shutdown_grace: l.shutdown_grace.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(
        file: Option<&str>,
        env: &[(&str, &str)],
        cli: &[(&str, &str)],
    ) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        if let Some(text) = file {
            std::fs::write(&path, text).expect("write");
        }
        Config::load(
            file.map(|_| path.as_path()),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
            &Overrides {
                values: cli
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            },
        )
    }

    #[test]
    fn defaults_match_the_documentation() {
        let c = Config::default();
        assert_eq!(c.port, 8700);
        assert_eq!(c.inactivity_duration, Duration::from_secs(600));
        assert_eq!(c.max_interval, Duration::from_secs(600));
        assert!(c.write_mode_allowed);
        assert_eq!(c.agent_sessions_limit, 1);
        assert_eq!(c.static_dir, PathBuf::from("www"));
        assert_eq!(c.hard_cache, Duration::ZERO);
        assert!(c.allowed_origins.allows("https://anything.example"));
        assert_eq!(
            c.storage,
            StorageConfig::Embedded {
                data_dir: PathBuf::from("data")
            }
        );
        assert!(c.agent_token.is_none());
        assert_eq!(c.dom_policy, DomPolicy::default());
        assert_eq!(c.css_proxy.forward_proxy, None);
        assert_eq!(c.css_proxy.max_css_bytes, 2 * 1024 * 1024);
        assert_eq!(c.css_proxy.connect_timeout, Duration::from_secs(5));
        assert_eq!(c.css_proxy.timeout, Duration::from_secs(15));
        assert_eq!(c.css_proxy.cache_bytes, 32 * 1024 * 1024);
    }

    #[test]
    fn env_names_are_derived_from_option_names() {
        assert_eq!(
            env_name("session.inactivityDuration"),
            "COBROWSE_SESSION_INACTIVITY_DURATION"
        );
        assert_eq!(env_name("port"), "COBROWSE_PORT");
        assert_eq!(env_name("cluster.url"), "COBROWSE_CLUSTER_URL");
    }

    #[test]
    fn each_layer_overrides_the_one_before() {
        let file = "port = 9000\n[session]\ninactivityDuration = 30\nmaxInterval = \"2m\"\n";
        let c = load(Some(file), &[], &[]).expect("file only");
        assert_eq!(c.port, 9000);
        assert_eq!(c.inactivity_duration, Duration::from_secs(30));
        assert_eq!(c.max_interval, Duration::from_secs(120));

        let env = [
            ("COBROWSE_PORT", "9100"),
            ("COBROWSE_SESSION_INACTIVITY_DURATION", "250ms"),
            ("COBROWSE_UNRELATED_SETTING", "x"),
        ];
        let c = load(Some(file), &env, &[]).expect("file + env");
        assert_eq!(c.port, 9100);
        assert_eq!(c.inactivity_duration, Duration::from_millis(250));
        assert_eq!(c.max_interval, Duration::from_secs(120));

        let c = load(Some(file), &env, &[("port", "9200")]).expect("all layers");
        assert_eq!(c.port, 9200);
        assert_eq!(c.inactivity_duration, Duration::from_millis(250));
    }

    #[test]
    fn ui_defaults_for_the_agent_page() {
        let c = Config::default();
        assert_eq!((c.ui_locale, c.ui_theme), (None, None));
        let c = load(
            Some("[ui]\nlocale = \"de\"\n"),
            &[("COBROWSE_UI_THEME", "high-contrast")],
            &[],
        )
        .expect("ui options");
        assert_eq!(c.ui_locale.as_deref(), Some("de"));
        assert_eq!(c.ui_theme.as_deref(), Some("high-contrast"));
        for (option, value) in [("ui.theme", "neon"), ("ui.locale", "../en")] {
            let err = load(None, &[], &[(option, value)]).expect_err(value);
            assert!(err.to_string().contains(option), "{err}");
        }
    }

    #[test]
    fn lists_accept_commas_or_arrays() {
        let c = load(
            None,
            &[(
                "COBROWSE_CROSS_ORIGIN_ALLOWED_ORIGINS",
                "https://a.example, http://*.b.example:8080",
            )],
            &[],
        )
        .expect("env list");
        assert!(c.allowed_origins.allows("https://a.example"));
        assert!(c.allowed_origins.allows("http://x.b.example:8080"));
        assert!(!c.allowed_origins.allows("https://evil.example"));
        let c = load(
            Some("[crossOrigin]\nallowedOrigins = [\"https://a.example\"]\n"),
            &[],
            &[],
        )
        .expect("array");
        assert!(!c.allowed_origins.allows("https://b.example"));
    }

    #[test]
    fn css_proxy_options_come_from_every_layer_and_are_checked() {
        let c = load(
            Some("[proxy]\nmaxCssBytes = 1000\ntimeout = \"3s\"\n"),
            &[
                ("COBROWSE_PROXY_FORWARD_PROXY", "http://egress.corp:3128"),
                ("COBROWSE_PROXY_CACHE_BYTES", "4096"),
            ],
            &[("proxy.connectTimeout", "250ms")],
        )
        .expect("proxy options");
        let p = &c.css_proxy;
        assert_eq!(p.forward_proxy.as_deref(), Some("http://egress.corp:3128"));
        assert_eq!(
            (p.max_css_bytes, p.cache_bytes),
            (1000, 4096),
            "file and env"
        );
        assert_eq!(p.timeout, Duration::from_secs(3));
        assert_eq!(p.connect_timeout, Duration::from_millis(250));
        for (option, value, named) in [
            ("proxy.forwardProxy", "socks5://x:1", "proxy.forwardProxy"),
            ("proxy.maxCssBytes", "0", "proxy.maxCssBytes"),
            ("proxy.timeout", "0", "proxy.timeout"),
            (
                "proxy.allowedExternalDomains",
                "cdn.example",
                "proxy.allowedExternalDomains",
            ),
        ] {
            let e = load(None, &[], &[(option, value)]).expect_err(option);
            assert!(e.to_string().contains(named), "{option}: {e}");
        }
    }

    #[test]
    fn errors_name_the_option() {
        type Pairs<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(Option<&str>, Pairs, Pairs, &str)] = &[
            (Some("port = \"x\""), &[], &[], "port"),
            (
                Some("[session]\nmaxInterval = \"ten\""),
                &[],
                &[],
                "maxInterval",
            ),
            (Some("[session]\nbogus = 1"), &[], &[], "`session.bogus`"),
            (
                Some("[session]\nmaxInterval = \"ten\""),
                &[],
                &[],
                "`session.maxInterval`",
            ),
            (
                None,
                &[("COBROWSE_SESSION_INACTIVITY_DURATION", "0")],
                &[],
                "session.inactivityDuration",
            ),
            (None, &[], &[("cluster.url", "ftp://x")], "cluster.url"),
            (None, &[], &[("nope", "1")], "nope"),
            (
                None,
                &[],
                &[("auth.agentToken", "short")],
                "auth.agentToken",
            ),
            (None, &[], &[("storage.type", "mongo")], "storage.type"),
            (
                Some(
                    "[storage]\ntype = \"cassandra\"\n[storage.cassandra]\nreplicationStrategy = \"Bogus\"",
                ),
                &[],
                &[],
                "storage.cassandra.replicationStrategy",
            ),
            (None, &[], &[("listen", "not-an-ip")], "listen"),
            (
                None,
                &[],
                &[("crossOrigin.allowedOrigins", "no-scheme.example")],
                "crossOrigin.allowedOrigins",
            ),
            (
                None,
                &[],
                &[("domRestrictions", "/does/not/exist.json")],
                "domRestrictions",
            ),
        ];
        for (file, env, cli, needle) in cases {
            let err = load(*file, env, cli).expect_err(needle).to_string();
            assert!(err.contains(needle), "`{err}` should name `{needle}`");
        }
    }

    #[test]
    fn cassandra_settings_are_parsed() {
        let c = load(
            Some(
                "[storage]\ntype = \"cassandra\"\n[storage.cassandra]\ncontactPoints = \"10.0.0.1:9042,10.0.0.2:9042\"\nreadConsistency = \"one\"\n[storage.cassandra.retention]\nhistory = \"7d\"\n",
            ),
            &[],
            &[],
        )
        .expect("cassandra");
        match c.storage {
            StorageConfig::Cassandra(cc) => {
                assert_eq!(cc.contact_points.len(), 2);
                assert_eq!(cc.read_consistency, "ONE");
                assert_eq!(cc.retention_history, Duration::from_secs(7 * 86400));
                assert_eq!(cc.replication_strategy, "NetworkTopologyStrategy");
                assert_eq!(cc.datacenter, "datacenter1");
                assert!(cc.username.is_empty());
            }
            other => panic!("expected cassandra, got {other:?}"),
        }
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
    }
}
