//! Storage behind one trait, so the embedded default and the Cassandra/Scylla cluster store
//! (issue #6) are interchangeable.
//!
//! # What is stored
//!
//! * **Live sessions** ([`LiveRecord`]): token → owner node, state and times. In a cluster this is
//!   where a node learns which node owns a token, and where token uniqueness is decided
//!   ([`Store::insert_live`] must be atomic: a lightweight transaction in Cassandra).
//! * **History** ([`HistoryRecord`]): one record per session, keyed by history id (UUIDv4), kept
//!   after the session ends: times, end reason, origin, pages visited, agent id.
//!
//! Records are plain serde structs; each backend chooses its encoding (JSON in redb).
//!
//! * **Nodes** ([`NodeRecord`]): the cluster's node registry (name, internal and public URL,
//!   last heartbeat). A row lives as long as the TTL its node gives it, so a node that stops
//!   heartbeating disappears from [`Store::list_nodes`] by itself.
//!
//! # Contract for implementations
//!
//! * Every method is async and object safe (boxed futures) so the server holds `Arc<dyn Store>`.
//! * `insert_live` returns `Ok(false)` when the token is taken; `claim_live` is a compare-and-set
//!   on the owner (a lightweight transaction in Cassandra); `update_live` only applies while the
//!   record's node still owns the token, so a node that lost a session cannot overwrite the new
//!   owner's record. History and node rows upsert.
//! * The server serialises its writes through one task (see `crate::app::StoreWriter`), so a
//!   backend sees a session's updates in order and need not order them itself.
//!
//! # Layout
//!
//! * [`embedded`] — the redb implementation (default; one file in the data directory).
//! * [`cassandra`] — the Cassandra / ScyllaDB implementation (`scylla` driver) for clusters.

pub mod cassandra;
pub mod embedded;

use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A storage failure. The server answers 503 / `ErrorCode::Internal` and logs it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed (I/O, database error).
    #[error("storage backend: {0}")]
    Backend(String),
    /// A stored record could not be decoded.
    #[error("corrupt record {key}: {message}")]
    Corrupt {
        /// The key.
        key: String,
        /// Decoder message.
        message: String,
    },
    /// The configured backend is not part of this build.
    #[error("storage type `{0}` is not available in this build")]
    Unsupported(String),
}

/// Boxed future returned by [`Store`] methods.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A live session as the cluster sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveRecord {
    /// 9-digit token.
    pub token: String,
    /// History id.
    pub history_id: String,
    /// Owner node name.
    pub node: String,
    /// Owner node public URL (may be empty when derived per request).
    pub node_url: String,
    /// `idle` or `active`.
    pub state: String,
    /// Creation time, ms since the Unix epoch.
    pub created_at: u64,
    /// Activation time.
    pub activated_at: Option<u64>,
    /// The customer granted write mode and has not taken it back. Kept with the session so a
    /// node that takes the session over (failover, graceful hand-over) restores the grant
    /// instead of silently dropping to pointer mode; the customer's client re-confirms it on
    /// reconnect. Absent in records written before this field existed (= pointer mode).
    #[serde(default)]
    pub write_mode: bool,
}

/// Owner value of a live record that a node released on graceful shutdown: no node owns it, so
/// the first node a party reconnects to claims it at once (compare-and-set on this value)
/// instead of waiting for the old owner's heartbeat row to expire.
pub const RELEASED: &str = "";

/// One page the customer visited during a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageVisit {
    /// Full URL.
    pub url: String,
    /// Title.
    pub title: String,
    /// When, ms since the Unix epoch.
    pub at: u64,
}

/// A session's history record; serialized as the REST `history/sessions/{id}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRecord {
    /// UUIDv4.
    pub history_id: String,
    /// The session's token (reusable after the session ended).
    pub token: String,
    /// Created, ms since the Unix epoch.
    pub created_at: u64,
    /// Activated (first agent joined).
    pub activated_at: Option<u64>,
    /// Ended.
    pub ended_at: Option<u64>,
    /// Snake-case end reason (`customer_exit`, `inactivity_timeout`, …).
    pub end_reason: Option<String>,
    /// The customer page's origin, from the `Origin` header at creation.
    pub origin: Option<String>,
    /// Pages visited, in order.
    pub pages: Vec<PageVisit>,
    /// The (first) agent's id.
    pub agent_id: Option<String>,
}

/// A server node as the registry sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRecord {
    /// Node name (the `gcbSessionServer` cookie value).
    pub name: String,
    /// URL other nodes use to reach this one (proxying).
    pub internal_url: String,
    /// URL clients use to reach this node directly (`serverUrl`).
    pub public_url: String,
    /// Last heartbeat, ms since the Unix epoch.
    pub heartbeat_at: u64,
}

/// The storage operations both backends provide.
pub trait Store: Send + Sync + 'static {
    /// Records a new live session; `Ok(false)` when the token is already live (atomic).
    fn insert_live(&self, rec: LiveRecord) -> StoreFuture<'_, bool>;
    /// Moves a live session to `rec.node` if `expected_owner` still owns it (compare-and-set,
    /// atomic across nodes). `Ok(false)` when another node owns it or the session is gone.
    fn claim_live(&self, expected_owner: String, rec: LiveRecord) -> StoreFuture<'_, bool>;
    /// Refreshes this node's registry row; it expires `ttl` after the last heartbeat.
    fn heartbeat(&self, node: NodeRecord, ttl: Duration) -> StoreFuture<'_, ()>;
    /// Nodes whose registry row has not expired.
    fn list_nodes(&self) -> StoreFuture<'_, Vec<NodeRecord>>;
    /// Updates a live session (state, activation) while `rec.node` still owns it; a no-op when
    /// the session is gone or owned by another node.
    fn update_live(&self, rec: LiveRecord) -> StoreFuture<'_, ()>;
    /// Looks a live session up by token.
    fn get_live(&self, token: String) -> StoreFuture<'_, Option<LiveRecord>>;
    /// Forgets a live session (it ended).
    fn remove_live(&self, token: String) -> StoreFuture<'_, ()>;
    /// Every live session record (used at start to close sessions a crashed run left behind).
    fn list_live(&self) -> StoreFuture<'_, Vec<LiveRecord>>;
    /// Creates or replaces a history record.
    fn put_history(&self, rec: HistoryRecord) -> StoreFuture<'_, ()>;
    /// Reads a history record.
    fn get_history(&self, history_id: String) -> StoreFuture<'_, Option<HistoryRecord>>;
    /// Cheap health probe for `/cobrowse/health`.
    fn ping(&self) -> StoreFuture<'_, ()>;
}
