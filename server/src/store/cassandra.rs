//! The cluster store: Apache Cassandra or ScyllaDB through the `scylla` driver.
//!
//! Records are kept as JSON text (the same encoding as the embedded store), with the columns a
//! query must select or compare on pulled out: `live_sessions.node` is the owner that the
//! lightweight transactions compare-and-set. Only CQL both databases accept is used (no
//! `USING TIMEOUT`, no tablets options); every statement is prepared once at open.
//!
//! # Tables (created at open when absent, by `cassandra_schema`)
//!
//! * `live_sessions (session_token PRIMARY KEY, node, record)` (`token` is a reserved word in
//!   CQL) — every write is a lightweight
//!   transaction (`IF NOT EXISTS`, or `IF node = ?` with the writer as the expected owner, for
//!   updates and deletes too) so ownership changes are linearizable, a node that lost a session
//!   cannot touch the new owner's row, and plain writes never race Paxos timestamps. TTL `retention.liveSessions`.
//! * `session_history (history_id PRIMARY KEY, record)` — TTL `retention.history`.
//! * `agent_sessions (agent_id, session_token)` — which sessions each agent identity is in
//!   (`cassandra_agents`); TTL `retention.liveSessions`.
//! * `session_history_by_day ((day), created_at, history_id, record)` — the same records by
//!   day of creation, for the supervisor console's search (`cassandra_history`); same TTL.
//! * `nodes (name PRIMARY KEY, internal_url, public_url, heartbeat_at, proxy_key)` — TTL given by
//!   the node (three heartbeat periods), so dead nodes vanish by themselves. `proxy_key` was
//!   added later: a keyspace created before it gets the column at start (`ALTER TABLE`).
//! * `recording_chunks ((history_id), started_at, node, seq)` — audit recordings, in
//!   `cassandra_recording`; TTL `recording.retention`.
//!
//! Reads and writes use the configured consistency levels; lightweight transactions use
//! `LOCAL_SERIAL` for their Paxos phase. Whole-table reads (`list_live`, `list_nodes`) go
//! through the driver's pager ([`LIST_PAGE_ROWS`] rows per page), so a large table never has
//! to fit in one response.
//!
//! # Connection security
//!
//! `storage.cassandra.tls.*` turns on TLS through the system OpenSSL (scylla's `openssl-010`
//! backend): the server's certificate is verified against `caFile` (or the system roots) and,
//! unless `verifyHostname = false`, against the node's IP address; `certFile`/`keyFile` add a
//! client certificate for clusters that require one. `username`/`password` use the
//! `PasswordAuthenticator` handshake.

use super::cassandra_history;
use super::cassandra_recording as recording;
use super::{
    HistoryQuery, HistoryRecord, LiveRecord, NodeRecord, RecordingChunk, Store, StoreError,
    StoreFuture,
};
use crate::config::CassandraConfig;
use futures_util::TryStreamExt;
use scylla::client::session::Session;
use scylla::frame::types::{Consistency, SerialConsistency};
use scylla::response::query_result::QueryResult;
use scylla::statement::prepared::PreparedStatement;
use scylla::value::{CqlValue, Row};
use std::sync::Arc;
use std::time::Duration;

/// Rows per page for whole-table reads.
pub const LIST_PAGE_ROWS: i32 = 500;
/// Cassandra's largest TTL (20 years), in seconds.
const MAX_TTL_SECS: u64 = 630_720_000;

pub(super) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Maps a validated consistency name to the driver's enum.
fn consistency(name: &str) -> Consistency {
    match name {
        "ANY" => Consistency::Any,
        "ONE" => Consistency::One,
        "TWO" => Consistency::Two,
        "THREE" => Consistency::Three,
        "QUORUM" => Consistency::Quorum,
        "ALL" => Consistency::All,
        "EACH_QUORUM" => Consistency::EachQuorum,
        "LOCAL_ONE" => Consistency::LocalOne,
        _ => Consistency::LocalQuorum,
    }
}

/// A TTL in whole seconds as CQL wants it (`0` = no expiry), clamped to Cassandra's maximum.
pub(super) fn ttl_secs(d: Duration) -> i32 {
    d.as_secs().min(MAX_TTL_SECS) as i32
}

struct Statements {
    insert_live: PreparedStatement,
    claim_live: PreparedStatement,
    update_live: PreparedStatement,
    get_live: PreparedStatement,
    remove_live: PreparedStatement,
    list_live: PreparedStatement,
    put_history: PreparedStatement,
    get_history: PreparedStatement,
    put_history_by_day: PreparedStatement,
    search_history: PreparedStatement,
    heartbeat: PreparedStatement,
    list_nodes: PreparedStatement,
    ping: PreparedStatement,
}

/// Cassandra/ScyllaDB-backed [`Store`].
#[derive(Clone)]
pub struct CassandraStore {
    session: Arc<Session>,
    st: Arc<Statements>,
    rec: Arc<recording::Statements>,
    agents: Arc<super::cassandra_agents::AgentStatements>,
    live_ttl: i32,
    history_ttl: i32,
}

impl CassandraStore {
    /// Connects (retrying for up to 30 s while the database starts), creates the keyspace and
    /// tables when absent and prepares every statement.
    pub async fn open(c: &CassandraConfig) -> Result<CassandraStore, StoreError> {
        let session = super::cassandra_connect::connect(c).await?;
        super::cassandra_schema::ensure(&session, c).await?;
        let ks = &c.keyspace;
        let read = consistency(&c.read_consistency);
        let write = consistency(&c.write_consistency);
        let prep = |q: String, cl: Consistency, lwt: bool| {
            let session = &session;
            async move {
                let mut p = session
                    .prepare(q.as_str())
                    .await
                    .map_err(|e| backend(format!("prepare ({q}): {e}")))?;
                p.set_consistency(cl);
                p.set_page_size(LIST_PAGE_ROWS);
                if lwt {
                    p.set_serial_consistency(Some(SerialConsistency::LocalSerial));
                }
                Ok::<_, StoreError>(p)
            }
        };
        let st = Statements {
            insert_live: prep(
                format!(
                    "INSERT INTO {ks}.live_sessions (session_token, node, record) VALUES (?, ?, ?) \
                     IF NOT EXISTS USING TTL ?"
                ),
                write,
                true,
            )
            .await?,
            claim_live: prep(
                format!(
                    "UPDATE {ks}.live_sessions USING TTL ? SET node = ?, record = ? \
                     WHERE session_token = ? IF node = ?"
                ),
                write,
                true,
            )
            .await?,
            update_live: prep(
                format!(
                    "UPDATE {ks}.live_sessions USING TTL ? SET record = ? \
                     WHERE session_token = ? IF node = ?"
                ),
                write,
                true,
            )
            .await?,
            get_live: prep(
                format!("SELECT node, record FROM {ks}.live_sessions WHERE session_token = ?"),
                read,
                false,
            )
            .await?,
            remove_live: prep(
                format!("DELETE FROM {ks}.live_sessions WHERE session_token = ? IF node = ?"),
                write,
                true,
            )
            .await?,
            list_live: prep(
                format!("SELECT node, record FROM {ks}.live_sessions"),
                read,
                false,
            )
            .await?,
            put_history: prep(
                format!(
                    "INSERT INTO {ks}.session_history (history_id, record) VALUES (?, ?) \
                     USING TTL ?"
                ),
                write,
                false,
            )
            .await?,
            get_history: prep(
                format!("SELECT record FROM {ks}.session_history WHERE history_id = ?"),
                read,
                false,
            )
            .await?,
            put_history_by_day: prep(cassandra_history::insert_cql(ks), write, false).await?,
            search_history: prep(cassandra_history::search_cql(ks), read, false).await?,
            heartbeat: prep(
                format!(
                    "INSERT INTO {ks}.nodes (name, internal_url, public_url, heartbeat_at, \
                     proxy_key) VALUES (?, ?, ?, ?, ?) USING TTL ?"
                ),
                write,
                false,
            )
            .await?,
            list_nodes: prep(
                format!(
                    "SELECT name, internal_url, public_url, heartbeat_at, proxy_key \
                     FROM {ks}.nodes"
                ),
                read,
                false,
            )
            .await?,
            ping: prep(
                "SELECT release_version FROM system.local".into(),
                Consistency::One,
                false,
            )
            .await?,
        };
        let rec = recording::Statements::prepare(&session, ks, read, write).await?;
        let agents =
            super::cassandra_agents::AgentStatements::prepare(&session, ks, read, write).await?;
        Ok(CassandraStore {
            agents: Arc::new(agents),
            session: Arc::new(session),
            st: Arc::new(st),
            rec: Arc::new(rec),
            live_ttl: ttl_secs(c.retention_live_sessions),
            history_ttl: ttl_secs(c.retention_history),
        })
    }
}

/// Whether a lightweight transaction's answer says `[applied] = true`.
fn applied(res: QueryResult) -> Result<bool, StoreError> {
    let rows = res.into_rows_result().map_err(backend)?;
    let row: Option<Row> = rows.maybe_first_row::<Row>().map_err(backend)?;
    Ok(matches!(
        row.and_then(|r| r.columns.into_iter().next().flatten()),
        Some(CqlValue::Boolean(true))
    ))
}

fn decode_live(token: &str, node: String, record: &str) -> Result<LiveRecord, StoreError> {
    let mut rec: LiveRecord = serde_json::from_str(record).map_err(|e| StoreError::Corrupt {
        key: token.to_string(),
        message: e.to_string(),
    })?;
    // The column is what the transactions compare on: it is the truth about the owner.
    rec.node = node;
    Ok(rec)
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(backend)
}

impl Store for CassandraStore {
    fn add_agent_session(&self, id: String, token: String, ttl: Duration) -> StoreFuture<'_, ()> {
        let ttl = ttl_secs(ttl);
        Box::pin(async move { self.agents.add(&self.session, &id, &token, ttl).await })
    }

    fn remove_agent_session(&self, id: String, token: String) -> StoreFuture<'_, ()> {
        Box::pin(async move { self.agents.remove(&self.session, &id, &token).await })
    }

    fn agent_sessions(&self, id: String) -> StoreFuture<'_, Vec<String>> {
        Box::pin(async move { self.agents.list(&self.session, &id).await })
    }

    fn insert_live(&self, rec: LiveRecord) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let record = encode(&rec)?;
            let res = self
                .session
                .execute_unpaged(
                    &self.st.insert_live,
                    (&rec.token, &rec.node, &record, self.live_ttl),
                )
                .await
                .map_err(backend)?;
            applied(res)
        })
    }

    fn claim_live(&self, expected_owner: String, rec: LiveRecord) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let record = encode(&rec)?;
            let res = self
                .session
                .execute_unpaged(
                    &self.st.claim_live,
                    (
                        self.live_ttl,
                        &rec.node,
                        &record,
                        &rec.token,
                        &expected_owner,
                    ),
                )
                .await
                .map_err(backend)?;
            applied(res)
        })
    }

    fn heartbeat(&self, node: NodeRecord, ttl: Duration) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.session
                .execute_unpaged(
                    &self.st.heartbeat,
                    (
                        &node.name,
                        &node.internal_url,
                        &node.public_url,
                        node.heartbeat_at as i64,
                        &node.proxy_key,
                        ttl_secs(ttl).max(1),
                    ),
                )
                .await
                .map_err(backend)?;
            Ok(())
        })
    }

    fn list_nodes(&self) -> StoreFuture<'_, Vec<NodeRecord>> {
        Box::pin(async move {
            let mut rows = self
                .session
                .execute_iter(self.st.list_nodes.clone(), ())
                .await
                .map_err(backend)?
                .rows_stream::<(
                    String,
                    Option<String>,
                    Option<String>,
                    Option<i64>,
                    Option<String>,
                )>()
                .map_err(backend)?;
            let mut out = Vec::new();
            while let Some((name, internal, public, at, key)) =
                rows.try_next().await.map_err(backend)?
            {
                out.push(NodeRecord {
                    name,
                    internal_url: internal.unwrap_or_default(),
                    public_url: public.unwrap_or_default(),
                    heartbeat_at: at.unwrap_or(0).max(0) as u64,
                    proxy_key: key.unwrap_or_default(),
                });
            }
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(out)
        })
    }

    fn update_live(&self, rec: LiveRecord) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let record = encode(&rec)?;
            let res = self
                .session
                .execute_unpaged(
                    &self.st.update_live,
                    (self.live_ttl, &record, &rec.token, &rec.node),
                )
                .await
                .map_err(backend)?;
            let applied = applied(res)?;
            if !applied {
                tracing::info!(token = %rec.token, node = %rec.node,
                    "live record not updated: this node no longer owns the session");
            }
            Ok(applied)
        })
    }

    fn get_live(&self, token: String) -> StoreFuture<'_, Option<LiveRecord>> {
        Box::pin(async move {
            let res = self
                .session
                .execute_unpaged(&self.st.get_live, (&token,))
                .await
                .map_err(backend)?;
            let rows = res.into_rows_result().map_err(backend)?;
            match rows
                .maybe_first_row::<(Option<String>, Option<String>)>()
                .map_err(backend)?
            {
                Some((node, Some(record))) => {
                    decode_live(&token, node.unwrap_or_default(), &record).map(Some)
                }
                _ => Ok(None),
            }
        })
    }

    fn remove_live(&self, token: String, owner: String) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let res = self
                .session
                .execute_unpaged(&self.st.remove_live, (&token, &owner))
                .await
                .map_err(backend)?;
            applied(res)
        })
    }

    fn list_live(&self) -> StoreFuture<'_, Vec<LiveRecord>> {
        Box::pin(async move {
            let mut rows = self
                .session
                .execute_iter(self.st.list_live.clone(), ())
                .await
                .map_err(backend)?
                .rows_stream::<(Option<String>, Option<String>)>()
                .map_err(backend)?;
            let mut out = Vec::new();
            while let Some(row) = rows.try_next().await.map_err(backend)? {
                if let (node, Some(record)) = row {
                    out.push(decode_live(
                        "live_sessions",
                        node.unwrap_or_default(),
                        &record,
                    )?);
                }
            }
            Ok(out)
        })
    }

    fn put_history(&self, rec: HistoryRecord) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let record = encode(&rec)?;
            self.session
                .execute_unpaged(
                    &self.st.put_history,
                    (&rec.history_id, &record, self.history_ttl),
                )
                .await
                .map_err(backend)?;
            // Its row for the search by time (the key never changes: `created_at` is fixed at
            // creation, so every update overwrites the same row).
            self.session
                .execute_unpaged(
                    &self.st.put_history_by_day,
                    (
                        cassandra_history::day(rec.created_at),
                        rec.created_at.min(i64::MAX as u64) as i64,
                        &rec.history_id,
                        &record,
                        self.history_ttl,
                    ),
                )
                .await
                .map_err(backend)?;
            Ok(())
        })
    }

    fn get_history(&self, history_id: String) -> StoreFuture<'_, Option<HistoryRecord>> {
        Box::pin(async move {
            let res = self
                .session
                .execute_unpaged(&self.st.get_history, (&history_id,))
                .await
                .map_err(backend)?;
            let rows = res.into_rows_result().map_err(backend)?;
            match rows
                .maybe_first_row::<(Option<String>,)>()
                .map_err(backend)?
            {
                Some((Some(record),)) => {
                    serde_json::from_str(&record)
                        .map(Some)
                        .map_err(|e| StoreError::Corrupt {
                            key: history_id.clone(),
                            message: e.to_string(),
                        })
                }
                _ => Ok(None),
            }
        })
    }

    fn put_chunk(&self, chunk: RecordingChunk, ttl: Duration) -> StoreFuture<'_, ()> {
        Box::pin(async move { self.rec.put(&self.session, chunk, ttl).await })
    }

    fn get_chunks(&self, history_id: String) -> StoreFuture<'_, Vec<RecordingChunk>> {
        Box::pin(async move { self.rec.get(&self.session, history_id).await })
    }

    fn search_history(&self, query: HistoryQuery) -> StoreFuture<'_, Vec<HistoryRecord>> {
        Box::pin(async move {
            cassandra_history::search(&self.session, &self.st.search_history, &query).await
        })
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let probe = self.session.execute_unpaged(&self.st.ping, ());
            match tokio::time::timeout(Duration::from_secs(3), probe).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(backend(e)),
                Err(_) => Err(backend("database did not answer within 3 s")),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_are_whole_seconds_and_clamped() {
        assert_eq!(ttl_secs(Duration::from_millis(1500)), 1);
        assert_eq!(ttl_secs(Duration::ZERO), 0);
        assert_eq!(
            ttl_secs(Duration::from_secs(u64::MAX / 2)),
            MAX_TTL_SECS as i32
        );
    }

    #[test]
    fn consistency_names_map() {
        assert_eq!(consistency("LOCAL_ONE"), Consistency::LocalOne);
        assert_eq!(consistency("QUORUM"), Consistency::Quorum);
        assert_eq!(consistency("LOCAL_QUORUM"), Consistency::LocalQuorum);
    }
}
