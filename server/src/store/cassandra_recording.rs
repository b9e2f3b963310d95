//! Recording chunks in Cassandra / ScyllaDB: table `recording_chunks`.
//!
//! `PRIMARY KEY ((history_id), started_at, node, seq)`: one partition per session, its chunks
//! clustered in replay order, so a recording is one partition read (paged). Every chunk is
//! written `USING TTL` the retention the server gives it, so the database drops expired
//! recordings by itself. Chunks are bounded (`recording.chunkBytes`), which keeps each cell far
//! below Cassandra's mutation size limit, and a partition grows by one row per chunk.

use super::cassandra::{LIST_PAGE_ROWS, backend, ttl_secs};
use super::{RecordingChunk, StoreError};
use futures_util::TryStreamExt;
use scylla::client::session::Session;
use scylla::frame::types::Consistency;
use scylla::statement::prepared::PreparedStatement;
use std::time::Duration;

/// The CQL creating the table (additive: a keyspace of an older version gets it at start).
pub(super) fn ddl(ks: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {ks}.recording_chunks (history_id text, started_at bigint, \
         node text, seq int, ended_at bigint, frames int, data blob, \
         PRIMARY KEY ((history_id), started_at, node, seq))"
    )
}

/// The prepared statements of recordings.
pub(super) struct Statements {
    put: PreparedStatement,
    get: PreparedStatement,
}

impl Statements {
    /// Prepares them with the configured consistency levels.
    pub(super) async fn prepare(
        session: &Session,
        ks: &str,
        read: Consistency,
        write: Consistency,
    ) -> Result<Statements, StoreError> {
        let prep = |q: String, cl: Consistency| async move {
            let mut p = session
                .prepare(q.as_str())
                .await
                .map_err(|e| backend(format!("prepare ({q}): {e}")))?;
            p.set_consistency(cl);
            p.set_page_size(LIST_PAGE_ROWS);
            Ok::<_, StoreError>(p)
        };
        Ok(Statements {
            put: prep(
                format!(
                    "INSERT INTO {ks}.recording_chunks (history_id, started_at, node, seq, \
                     ended_at, frames, data) VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?"
                ),
                write,
            )
            .await?,
            get: prep(
                format!(
                    "SELECT started_at, node, seq, ended_at, frames, data \
                     FROM {ks}.recording_chunks WHERE history_id = ?"
                ),
                read,
            )
            .await?,
        })
    }

    /// Appends a chunk (`ttl` zero: kept until deleted).
    pub(super) async fn put(
        &self,
        session: &Session,
        c: RecordingChunk,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let started = i64::try_from(c.started_at).map_err(backend)?;
        let ended = i64::try_from(c.ended_at).map_err(backend)?;
        let seq = i32::try_from(c.seq).map_err(backend)?;
        let frames = i32::try_from(c.frames).map_err(backend)?;
        session
            .execute_unpaged(
                &self.put,
                (
                    &c.history_id,
                    started,
                    &c.node,
                    seq,
                    ended,
                    frames,
                    &c.data,
                    ttl_secs(ttl),
                ),
            )
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// A session's chunks in clustering order (expired ones are gone by the TTL).
    pub(super) async fn get(
        &self,
        session: &Session,
        history_id: String,
    ) -> Result<Vec<RecordingChunk>, StoreError> {
        let mut rows = session
            .execute_iter(self.get.clone(), (&history_id,))
            .await
            .map_err(backend)?
            .rows_stream::<(i64, String, i32, Option<i64>, Option<i32>, Option<Vec<u8>>)>()
            .map_err(backend)?;
        let mut out = Vec::new();
        while let Some((started, node, seq, ended, frames, data)) =
            rows.try_next().await.map_err(backend)?
        {
            out.push(RecordingChunk {
                history_id: history_id.clone(),
                started_at: started.max(0) as u64,
                node,
                seq: seq.max(0) as u32,
                ended_at: ended.unwrap_or(started).max(0) as u64,
                frames: frames.unwrap_or(0).max(0) as u32,
                data: data.unwrap_or_default(),
            });
        }
        Ok(out)
    }
}
