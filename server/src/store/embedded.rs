//! The embedded store: one redb file (`cobrowse.redb`) in the data directory, records as JSON.
//!
//! redb is synchronous; every call runs on the blocking pool so the async runtime never waits on
//! disk. redb commits are durable (fsync) by default, which is what makes history survive a crash
//! as well as a restart.
//!
//! History is also indexed by creation time (table `session_history_by_time`, key
//! `<createdAt, 20 digits>/<historyId>`, written in the same transaction as the record) so the
//! supervisor console's search walks only its time range, newest first. A database written
//! before the index existed gets it filled at open.

use super::embedded_recording as recording;
use super::{
    HistoryQuery, HistoryRecord, LiveRecord, NodeRecord, RecordingChunk, Store, StoreError,
    StoreFuture,
};
use cobrowse_common::clock::now_ms;
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const LIVE: TableDefinition<&str, &[u8]> = TableDefinition::new("live_sessions");
const HISTORY: TableDefinition<&str, &[u8]> = TableDefinition::new("session_history");
const NODES: TableDefinition<&str, &[u8]> = TableDefinition::new("nodes");
/// `agent_key(agent id, token)` → expiry (ms since the Unix epoch, JSON).
const AGENTS: TableDefinition<&str, &[u8]> = TableDefinition::new("agent_sessions");

/// The prefix of every key of `agent_id`'s rows: its length first, so no identity's prefix
/// is another's (an identity may contain any character).
fn agent_prefix(agent_id: &str) -> String {
    format!("{}:{agent_id}/", agent_id.len())
}

/// Creation-time index of [`HISTORY`]: `time_key` → nothing (the key holds the id).
const HISTORY_BY_TIME: TableDefinition<&str, ()> = TableDefinition::new("session_history_by_time");

/// The index key of a record created at `created_at`: sorts as the time, then the id.
fn time_key(created_at: u64, history_id: &str) -> String {
    format!("{created_at:020}/{history_id}")
}

/// Writes `rec` and its index entry inside `txn`.
fn put_history_in(txn: &redb::WriteTransaction, rec: &HistoryRecord) -> Result<(), StoreError> {
    let bytes = encode(rec)?;
    let mut t = txn.open_table(HISTORY).map_err(backend)?;
    t.insert(rec.history_id.as_str(), bytes.as_slice())
        .map_err(backend)?;
    let mut index = txn.open_table(HISTORY_BY_TIME).map_err(backend)?;
    index
        .insert(time_key(rec.created_at, &rec.history_id).as_str(), ())
        .map_err(backend)?;
    Ok(())
}

/// Fills the creation-time index from the records when it is empty and they are not (a
/// database from before the index).
fn backfill_index(db: &Database) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(backend)?;
    {
        let history = txn.open_table(HISTORY).map_err(backend)?;
        let mut index = txn.open_table(HISTORY_BY_TIME).map_err(backend)?;
        if index.is_empty().map_err(backend)? && !history.is_empty().map_err(backend)? {
            for entry in history.iter().map_err(backend)? {
                let (k, v) = entry.map_err(backend)?;
                let rec: HistoryRecord = decode(k.value(), v.value())?;
                index
                    .insert(time_key(rec.created_at, &rec.history_id).as_str(), ())
                    .map_err(backend)?;
            }
        }
    }
    txn.commit().map_err(backend)
}

/// Walks the index backwards through `q`'s range, reading each record and keeping the ones
/// its filters want.
fn search(db: &Database, q: &HistoryQuery) -> Result<Vec<HistoryRecord>, StoreError> {
    let lo = time_key(q.from, "");
    let hi = match &q.after {
        Some((at, id)) if *at < q.to => time_key(*at, id),
        Some(_) | None => time_key(q.to, ""),
    };
    let txn = db.begin_read().map_err(backend)?;
    let index = txn.open_table(HISTORY_BY_TIME).map_err(backend)?;
    let history = txn.open_table(HISTORY).map_err(backend)?;
    let mut out = Vec::new();
    if lo >= hi {
        return Ok(out);
    }
    for entry in index
        .range(lo.as_str()..hi.as_str())
        .map_err(backend)?
        .rev()
    {
        if out.len() >= q.limit {
            break;
        }
        let (key, _) = entry.map_err(backend)?;
        let key = key.value();
        let Some((_, id)) = key.split_once('/') else {
            continue;
        };
        let Some(v) = history.get(id).map_err(backend)? else {
            continue;
        };
        let rec: HistoryRecord = decode(id, v.value())?;
        if q.wants(&rec) {
            out.push(rec);
        }
    }
    Ok(out)
}

/// A node row with its expiry (redb has no TTL; expired rows are filtered out when listed).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredNode {
    node: NodeRecord,
    expires_at: u64,
}

/// The store's clock: ms since the Unix epoch. Expiry (node rows, recording retention) is
/// decided by it, so tests can move time instead of waiting for it.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// redb-backed [`Store`].
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    clock: Clock,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        key: key.to_string(),
        message: e.to_string(),
    })
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(backend)
}

impl EmbeddedStore {
    /// Opens (or creates) the database in `data_dir`, creating the directory and tables.
    pub fn open(data_dir: &Path) -> Result<EmbeddedStore, StoreError> {
        Self::open_with_clock(data_dir, Arc::new(now_ms))
    }

    /// [`EmbeddedStore::open`] with another clock deciding what has expired.
    pub fn open_with_clock(data_dir: &Path, clock: Clock) -> Result<EmbeddedStore, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| backend(format!("create {}: {e}", data_dir.display())))?;
        let path = data_dir.join("cobrowse.redb");
        let db =
            Database::create(&path).map_err(|e| backend(format!("{}: {e}", path.display())))?;
        let txn = db.begin_write().map_err(backend)?;
        txn.open_table(LIVE).map_err(backend)?;
        txn.open_table(HISTORY).map_err(backend)?;
        txn.open_table(NODES).map_err(backend)?;
        txn.open_table(recording::RECORDINGS).map_err(backend)?;
        txn.open_table(recording::EXPIRY).map_err(backend)?;
        txn.open_table(AGENTS).map_err(backend)?;
        txn.open_table(HISTORY_BY_TIME).map_err(backend)?;
        txn.commit().map_err(backend)?;
        backfill_index(&db)?;
        Ok(EmbeddedStore {
            db: Arc::new(db),
            clock,
        })
    }

    fn blocking<T, F>(&self, f: F) -> StoreFuture<'_, T>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    {
        let db = self.db.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || f(&db))
                .await
                .map_err(|e| backend(format!("storage task: {e}")))?
        })
    }
}

fn put(
    db: &Database,
    table: TableDefinition<&str, &[u8]>,
    key: &str,
    value: &[u8],
) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(backend)?;
    {
        let mut t = txn.open_table(table).map_err(backend)?;
        t.insert(key, value).map_err(backend)?;
    }
    txn.commit().map_err(backend)
}

fn get<T: DeserializeOwned>(
    db: &Database,
    table: TableDefinition<&str, &[u8]>,
    key: &str,
) -> Result<Option<T>, StoreError> {
    let txn = db.begin_read().map_err(backend)?;
    let t = txn.open_table(table).map_err(backend)?;
    match t.get(key).map_err(backend)? {
        Some(v) => decode(key, v.value()).map(Some),
        None => Ok(None),
    }
}

/// The owner of `token`'s live record, if there is one.
fn owner(
    t: &redb::Table<'_, &'static str, &'static [u8]>,
    token: &str,
) -> Result<Option<String>, StoreError> {
    match t.get(token).map_err(backend)? {
        Some(v) => Ok(Some(decode::<LiveRecord>(token, v.value())?.node)),
        None => Ok(None),
    }
}

/// Removes `token`'s live record inside `txn` if `owner_name` owns it.
fn remove_owned(
    txn: &redb::WriteTransaction,
    token: &str,
    owner_name: &str,
) -> Result<bool, StoreError> {
    let mut t = txn.open_table(LIVE).map_err(backend)?;
    if owner(&t, token)?.as_deref() != Some(owner_name) {
        return Ok(false);
    }
    t.remove(token).map_err(backend)?;
    Ok(true)
}

impl Store for EmbeddedStore {
    fn add_agent_session(
        &self,
        agent_id: String,
        token: String,
        ttl: Duration,
    ) -> StoreFuture<'_, ()> {
        self.blocking(move |db| {
            let expires_at = now_ms().saturating_add(ttl.as_millis() as u64);
            let key = agent_prefix(&agent_id) + &token;
            put(db, AGENTS, &key, &encode(&expires_at)?)
        })
    }

    fn remove_agent_session(&self, agent_id: String, token: String) -> StoreFuture<'_, ()> {
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(backend)?;
            {
                let mut t = txn.open_table(AGENTS).map_err(backend)?;
                t.remove((agent_prefix(&agent_id) + &token).as_str())
                    .map_err(backend)?;
            }
            txn.commit().map_err(backend)
        })
    }

    fn agent_sessions(&self, agent_id: String) -> StoreFuture<'_, Vec<String>> {
        self.blocking(move |db| {
            let prefix = agent_prefix(&agent_id);
            let txn = db.begin_read().map_err(backend)?;
            let t = txn.open_table(AGENTS).map_err(backend)?;
            let now = now_ms();
            let mut out = Vec::new();
            for row in t.range(prefix.as_str()..).map_err(backend)? {
                let (k, v) = row.map_err(backend)?;
                let Some(token) = k.value().strip_prefix(prefix.as_str()) else {
                    break;
                };
                if decode::<u64>(k.value(), v.value())? > now {
                    out.push(token.to_string());
                }
            }
            Ok(out)
        })
    }

    fn insert_live(&self, rec: LiveRecord) -> StoreFuture<'_, bool> {
        self.blocking(move |db| {
            let bytes = encode(&rec)?;
            // One write transaction: redb has a single writer, so check-then-insert is atomic.
            let txn = db.begin_write().map_err(backend)?;
            let inserted = {
                let mut t = txn.open_table(LIVE).map_err(backend)?;
                if t.get(rec.token.as_str()).map_err(backend)?.is_some() {
                    false
                } else {
                    t.insert(rec.token.as_str(), bytes.as_slice())
                        .map_err(backend)?;
                    true
                }
            };
            txn.commit().map_err(backend)?;
            Ok(inserted)
        })
    }

    fn claim_live(&self, expected_owner: String, rec: LiveRecord) -> StoreFuture<'_, bool> {
        self.blocking(move |db| {
            let bytes = encode(&rec)?;
            let txn = db.begin_write().map_err(backend)?;
            let claimed = {
                let mut t = txn.open_table(LIVE).map_err(backend)?;
                let current: Option<LiveRecord> =
                    match t.get(rec.token.as_str()).map_err(backend)? {
                        Some(v) => Some(decode(&rec.token, v.value())?),
                        None => None,
                    };
                match current {
                    Some(cur) if cur.node == expected_owner => {
                        t.insert(rec.token.as_str(), bytes.as_slice())
                            .map_err(backend)?;
                        true
                    }
                    _ => false,
                }
            };
            txn.commit().map_err(backend)?;
            Ok(claimed)
        })
    }

    fn heartbeat(&self, node: NodeRecord, ttl: Duration) -> StoreFuture<'_, ()> {
        self.blocking(move |db| {
            let stored = StoredNode {
                expires_at: node.heartbeat_at.saturating_add(ttl.as_millis() as u64),
                node,
            };
            put(db, NODES, &stored.node.name, &encode(&stored)?)
        })
    }

    fn list_nodes(&self) -> StoreFuture<'_, Vec<NodeRecord>> {
        let now = (self.clock)();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(backend)?;
            let t = txn.open_table(NODES).map_err(backend)?;
            let mut out = Vec::new();
            for entry in t.iter().map_err(backend)? {
                let (k, v) = entry.map_err(backend)?;
                let stored: StoredNode = decode(k.value(), v.value())?;
                if stored.expires_at > now {
                    out.push(stored.node);
                }
            }
            Ok(out)
        })
    }

    fn update_live(&self, rec: LiveRecord) -> StoreFuture<'_, bool> {
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(backend)?;
            let applied = {
                let mut t = txn.open_table(LIVE).map_err(backend)?;
                let owned = owner(&t, &rec.token)?.as_deref() == Some(rec.node.as_str());
                if owned {
                    t.insert(rec.token.as_str(), encode(&rec)?.as_slice())
                        .map_err(backend)?;
                }
                owned
            };
            txn.commit().map_err(backend)?;
            Ok(applied)
        })
    }

    fn get_live(&self, token: String) -> StoreFuture<'_, Option<LiveRecord>> {
        self.blocking(move |db| get(db, LIVE, &token))
    }

    fn remove_live(&self, token: String, owner_name: String) -> StoreFuture<'_, bool> {
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(backend)?;
            let removed = remove_owned(&txn, &token, &owner_name)?;
            txn.commit().map_err(backend)?;
            Ok(removed)
        })
    }

    fn end_live(&self, history: HistoryRecord, owner_name: String) -> StoreFuture<'_, bool> {
        // One transaction: the end is recorded and the live record gone together, or neither.
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(backend)?;
            put_history_in(&txn, &history)?;
            let removed = remove_owned(&txn, &history.token, &owner_name)?;
            txn.commit().map_err(backend)?;
            Ok(removed)
        })
    }

    fn list_live(&self) -> StoreFuture<'_, Vec<LiveRecord>> {
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(backend)?;
            let t = txn.open_table(LIVE).map_err(backend)?;
            let mut out = Vec::new();
            for entry in t.iter().map_err(backend)? {
                let (k, v) = entry.map_err(backend)?;
                out.push(decode(k.value(), v.value())?);
            }
            Ok(out)
        })
    }

    fn put_history(&self, rec: HistoryRecord) -> StoreFuture<'_, ()> {
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(backend)?;
            put_history_in(&txn, &rec)?;
            txn.commit().map_err(backend)
        })
    }

    fn search_history(&self, query: HistoryQuery) -> StoreFuture<'_, Vec<HistoryRecord>> {
        self.blocking(move |db| search(db, &query))
    }

    fn get_history(&self, history_id: String) -> StoreFuture<'_, Option<HistoryRecord>> {
        self.blocking(move |db| get(db, HISTORY, &history_id))
    }

    fn put_chunk(&self, chunk: RecordingChunk, ttl: Duration) -> StoreFuture<'_, ()> {
        let now = (self.clock)();
        let expires_at = if ttl.is_zero() {
            0
        } else {
            now.saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
        };
        self.blocking(move |db| recording::put(db, &chunk, expires_at, now))
    }

    fn get_chunks(&self, history_id: String) -> StoreFuture<'_, Vec<RecordingChunk>> {
        let now = (self.clock)();
        self.blocking(move |db| recording::get(db, &history_id, now))
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(backend)?;
            txn.open_table(LIVE).map_err(backend)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(token: &str) -> LiveRecord {
        LiveRecord {
            token: token.into(),
            history_id: format!("h-{token}"),
            node: "n1".into(),
            node_url: String::new(),
            state: "idle".into(),
            created_at: 1,
            activated_at: None,
            write_mode: false,
            customer_key: "digest".into(),
            agents: Vec::new(),
            agent_count: 0,
            page_url: String::new(),
        }
    }

    #[tokio::test]
    async fn live_records_are_unique_and_removable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = EmbeddedStore::open(dir.path()).expect("open");
        assert!(s.insert_live(live("123456789")).await.expect("insert"));
        assert!(!s.insert_live(live("123456789")).await.expect("dup"));
        let mut r = live("123456789");
        r.state = "active".into();
        assert!(s.update_live(r.clone()).await.expect("update"));
        assert_eq!(s.get_live("123456789".into()).await.expect("get"), Some(r));
        assert_eq!(s.list_live().await.expect("list").len(), 1);
        assert!(
            !s.remove_live("123456789".into(), "n2".into())
                .await
                .expect("foreign remove"),
            "another node's record is not removed"
        );
        assert!(s.get_live("123456789".into()).await.expect("get").is_some());
        assert!(
            s.remove_live("123456789".into(), "n1".into())
                .await
                .expect("remove")
        );
        assert_eq!(s.get_live("123456789".into()).await.expect("get"), None);
        s.ping().await.expect("ping");
    }

    #[tokio::test]
    async fn history_survives_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let rec = HistoryRecord {
            history_id: "abc".into(),
            token: "111222333".into(),
            created_at: 5,
            activated_at: Some(6),
            ended_at: Some(7),
            end_reason: Some("customer_exit".into()),
            origin: Some("https://shop.example".into()),
            pages: vec![super::super::PageVisit {
                url: "https://shop.example/".into(),
                title: "Shop".into(),
                at: 5,
            }],
            agent_id: Some("alice".into()),
        };
        {
            let s = EmbeddedStore::open(dir.path()).expect("open");
            s.put_history(rec.clone()).await.expect("put");
        }
        let s = EmbeddedStore::open(dir.path()).expect("reopen");
        assert_eq!(s.get_history("abc".into()).await.expect("get"), Some(rec));
        assert_eq!(s.get_history("nope".into()).await.expect("get"), None);
    }
}
