//! `[storage]`: the storage backend, embedded redb or Cassandra / ScyllaDB with its TLS,
//! consistency and retention settings.

use super::error::{ConfigError, invalid};
use super::values::{Dur, List};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// Which storage backend to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageConfig {
    /// redb file in a local data directory; nothing else to run.
    Embedded {
        /// The data directory (created when absent).
        data_dir: PathBuf,
    },
    /// Cassandra / ScyllaDB cluster store (cluster mode).
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

/// `storage.*` as written.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RawStorage {
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

/// `storage.cassandra.*`.
#[derive(Debug, Deserialize, Serialize)]
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

/// `storage.cassandra.tls.*`.
#[derive(Debug, Deserialize, Serialize)]
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

/// `storage.cassandra.retention.*`: row TTLs per table.
#[derive(Debug, Deserialize, Serialize)]
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

/// Consistency level names Cassandra and ScyllaDB know.
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

impl RawStorage {
    /// The backend and its settings; Cassandra's are checked here so that a typo fails at
    /// start, not at the first write.
    pub(crate) fn validate(self) -> Result<StorageConfig, ConfigError> {
        match self.kind.as_str() {
            "embedded" => Ok(StorageConfig::Embedded {
                data_dir: self.data_dir,
            }),
            "cassandra" | "scylla" => {
                let c = self.cassandra;
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
                Ok(StorageConfig::Cassandra(Box::new(CassandraConfig {
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
                })))
            }
            other => Err(invalid(
                "storage.type",
                format!("`{other}`: expected `embedded` or `cassandra`"),
            )),
        }
    }
}
