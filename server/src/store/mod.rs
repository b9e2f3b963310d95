//! Storage behind one trait, so the embedded default and the Cassandra/Scylla cluster store
//! are interchangeable.
//!
//! # What is stored
//!
//! * **Live sessions** ([`LiveRecord`]): token → owner node, state and times. In a cluster this is
//!   where a node learns which node owns a token, and where token uniqueness is decided
//!   ([`Store::insert_live`] must be atomic: a lightweight transaction in Cassandra).
//! * **History** ([`HistoryRecord`]): one record per session, keyed by history id (UUIDv4), kept
//!   after the session ends: times, end reason, origin, pages visited, agent id. Also ordered by
//!   creation time for the supervisor console's search ([`Store::search_history`]): an index
//!   table in redb, a table partitioned by day in Cassandra.
//!
//! * **Recording chunks** ([`RecordingChunk`]): the audit recording of a session whose site
//!   has recording on, as bounded chunks of timestamped frames (`cobrowse_protocol::recording`),
//!   each kept for the retention its writer gives it.
//!
//! Records are plain serde structs; each backend chooses its encoding (JSON in redb).
//!
//! * **Agent sessions**: which live sessions each agent identity is in, on any node
//!   ([`Store::agent_sessions`]), so `agentSessionsLimit` holds across a cluster.
//! * **Nodes** ([`NodeRecord`]): the cluster's node registry (name, internal and public URL,
//!   last heartbeat, the node's key for signed forwarding). A row lives as long as the TTL its node gives it, so a node that stops
//!   heartbeating disappears from [`Store::list_nodes`] by itself.
//!
//! # Contract for implementations
//!
//! * Every method is async and object safe (boxed futures) so the server holds `Arc<dyn Store>`.
//! * `insert_live` returns `Ok(false)` when the token is taken; `claim_live` is a compare-and-set
//!   on the owner (a lightweight transaction in Cassandra); `update_live`, `remove_live` and
//!   `end_live` only apply while the writer still owns the token (fencing), so a node that lost
//!   a session can neither overwrite nor delete the new owner's record, and learns that it lost
//!   it (`Ok(false)`). History and node rows upsert.
//! * Recording chunks are append-only and keyed by (history id, start time, node, sequence), so
//!   the node that takes a session over after a fail-over appends its own chunks next to the old
//!   owner's without a conflict; `get_chunks` answers them ordered by that key and never answers
//!   a chunk whose retention has passed.
//! * The server serialises its writes through one task (see `crate::app::StoreWriter`), so a
//!   backend sees a session's updates in order and need not order them itself.
//!
//! # Layout
//!
//! * [`embedded`] — the redb implementation (default; one file in the data directory).
//! * `recording` — the recording chunk record, shared by both implementations.
//! * [`cassandra`] — the Cassandra / ScyllaDB implementation (`scylla` driver) for clusters;
//!   `cassandra_schema` creates its keyspace and tables and adds columns newer versions need;
//!   `cassandra_history` is its search of history by time; `cassandra_connect` opens the
//!   connection (TLS, retry while the database starts); `cassandra_agents` and
//!   `cassandra_recording` are the agent-session and recording tables.

pub mod cassandra;
mod cassandra_agents;
mod cassandra_connect;
mod cassandra_history;
mod cassandra_recording;
mod cassandra_schema;
pub mod embedded;
mod embedded_recording;
mod recording;

pub use recording::RecordingChunk;

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
    /// Digest of the customer secret (`crate::auth::customer`), never the secret itself: the node
    /// that takes the session over checks the customer's reconnect against it. Absent in records
    /// written before this field existed: then no customer is accepted (fail closed).
    #[serde(default)]
    pub customer_key: String,
    /// The identities of the agents connected now (for the supervisor console, which lists the
    /// sessions of every node from these records). Absent in older records: none known.
    #[serde(default)]
    pub agents: Vec<String>,
    /// How many agents are connected now (some may have no identity).
    #[serde(default)]
    pub agent_count: u32,
    /// The page the customer is on, as its browser sent it (already masked there). Empty
    /// before the first page, and in older records.
    #[serde(default)]
    pub page_url: String,
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

/// A session's history record, as stored (JSON in redb, columns in Cassandra). The REST answer is
/// `cobrowse_protocol::rest::SessionHistory`, made from it, so the storage row can change without
/// changing the API.
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
    /// The end reason's code (`EndReason::code`: `customer_exit`, `inactivity_timeout`, …).
    pub end_reason: Option<String>,
    /// The customer page's origin, from the `Origin` header at creation.
    pub origin: Option<String>,
    /// Pages visited, in order.
    pub pages: Vec<PageVisit>,
    /// The (first) agent's id.
    pub agent_id: Option<String>,
}

impl From<HistoryRecord> for cobrowse_protocol::rest::SessionHistory {
    fn from(r: HistoryRecord) -> Self {
        cobrowse_protocol::rest::SessionHistory {
            history_id: r.history_id,
            token: r.token,
            created_at: r.created_at,
            activated_at: r.activated_at,
            ended_at: r.ended_at,
            end_reason: r.end_reason,
            origin: r.origin,
            pages: r
                .pages
                .into_iter()
                .map(|p| cobrowse_protocol::rest::PageVisit {
                    url: p.url,
                    title: p.title,
                    at: p.at,
                })
                .collect(),
            agent_id: r.agent_id,
        }
    }
}

/// A history search: records created in `[from, to)`, optionally of one agent and one end
/// reason, newest first (creation time descending, then history id descending), continuing
/// after `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Earliest creation time (inclusive), ms since the Unix epoch.
    pub from: u64,
    /// Latest creation time (exclusive).
    pub to: u64,
    /// Only records whose `agent_id` is this.
    pub agent: Option<String>,
    /// Only records whose `end_reason` is this code.
    pub end_reason: Option<String>,
    /// Continue after this record (the last one of the previous page).
    pub after: Option<(u64, String)>,
    /// At most this many records.
    pub limit: usize,
}

impl HistoryQuery {
    /// Whether `rec` passes the agent and end-reason filters (the time range and the cursor are
    /// the backends' to apply through their ordering).
    pub fn wants(&self, rec: &HistoryRecord) -> bool {
        self.agent
            .as_ref()
            .is_none_or(|a| rec.agent_id.as_ref() == Some(a))
            && self
                .end_reason
                .as_ref()
                .is_none_or(|r| rec.end_reason.as_ref() == Some(r))
    }
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
    /// The node's key (hex) for signing what it tells other nodes: the client address of a
    /// socket it proxies (`cluster::forwarded`). Only nodes read the registry. Empty from a node
    /// of a version without it.
    #[serde(default)]
    pub proxy_key: String,
}

/// The storage operations both backends provide.
pub trait Store: Send + Sync + 'static {
    /// Records that the agent with identity `agent_id` is in the session `token` (on any node),
    /// for `agentSessionsLimit` across the cluster. Upserts; a row expires after `ttl` unless
    /// written again.
    fn add_agent_session(
        &self,
        agent_id: String,
        token: String,
        ttl: Duration,
    ) -> StoreFuture<'_, ()>;
    /// Forgets that `agent_id` is in `token` (it left, or the session ended).
    fn remove_agent_session(&self, agent_id: String, token: String) -> StoreFuture<'_, ()>;
    /// The tokens of the sessions `agent_id` is recorded in, in any order. A row may outlive
    /// its session when its node died; callers count only tokens that are still live.
    fn agent_sessions(&self, agent_id: String) -> StoreFuture<'_, Vec<String>>;
    /// Records a new live session; `Ok(false)` when the token is already live (atomic).
    fn insert_live(&self, rec: LiveRecord) -> StoreFuture<'_, bool>;
    /// Moves a live session to `rec.node` if `expected_owner` still owns it (compare-and-set,
    /// atomic across nodes). `Ok(false)` when another node owns it or the session is gone.
    fn claim_live(&self, expected_owner: String, rec: LiveRecord) -> StoreFuture<'_, bool>;
    /// Refreshes this node's registry row; it expires `ttl` after the last heartbeat.
    fn heartbeat(&self, node: NodeRecord, ttl: Duration) -> StoreFuture<'_, ()>;
    /// Nodes whose registry row has not expired.
    fn list_nodes(&self) -> StoreFuture<'_, Vec<NodeRecord>>;
    /// Updates a live session (state, activation) while `rec.node` still owns it (conditional:
    /// a lightweight transaction in Cassandra). `Ok(false)` when the session is gone or owned by
    /// another node: the writer has lost it and must stop serving it.
    fn update_live(&self, rec: LiveRecord) -> StoreFuture<'_, bool>;
    /// Looks a live session up by token.
    fn get_live(&self, token: String) -> StoreFuture<'_, Option<LiveRecord>>;
    /// Forgets a live session (it ended) while `owner` still owns it, so a node that lost a
    /// session never deletes the new owner's record (which would let the number be issued
    /// again). `Ok(false)` when it is gone or owned by another node.
    fn remove_live(&self, token: String, owner: String) -> StoreFuture<'_, bool>;
    /// Records a session's end: its final history record first, then its live record removed
    /// while `owner` owns it. Never the other way round, so a crash in between leaves a live
    /// record whose history already ended (the next start finishes the removal) rather than a
    /// history that never ends. A backend that can do both atomically does.
    fn end_live(&self, history: HistoryRecord, owner: String) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let token = history.token.clone();
            self.put_history(history).await?;
            self.remove_live(token, owner).await
        })
    }
    /// Every live session record (used at start to close sessions a crashed run left behind).
    fn list_live(&self) -> StoreFuture<'_, Vec<LiveRecord>>;
    /// Creates or replaces a history record.
    fn put_history(&self, rec: HistoryRecord) -> StoreFuture<'_, ()>;
    /// Reads a history record.
    fn get_history(&self, history_id: String) -> StoreFuture<'_, Option<HistoryRecord>>;
    /// Appends a recording chunk that expires `ttl` after now (`Duration::ZERO`: never).
    fn put_chunk(&self, chunk: RecordingChunk, ttl: Duration) -> StoreFuture<'_, ()>;
    /// A session's unexpired recording chunks, ordered by start time, node and sequence.
    fn get_chunks(&self, history_id: String) -> StoreFuture<'_, Vec<RecordingChunk>>;
    /// The records `query` asks for, in its order, at most `query.limit`.
    fn search_history(&self, query: HistoryQuery) -> StoreFuture<'_, Vec<HistoryRecord>>;
    /// Cheap health probe for `/cobrowse/health`.
    fn ping(&self) -> StoreFuture<'_, ()>;
}
