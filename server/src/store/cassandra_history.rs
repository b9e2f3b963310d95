//! The Cassandra store's history search: table `session_history_by_day`, one partition per UTC
//! day of creation (`day = createdAt / 86 400 000`), rows ordered newest first by
//! `(created_at, history_id)`, holding the same JSON record as `session_history` and written
//! with it (same TTL, `retention.history`).
//!
//! A search walks the days of its range from the newest, asking each partition for its slice
//! of the range through the driver's pager, and keeps the records the agent and end-reason
//! filters want until the page is full. A day partition stays small (one day's sessions), the
//! range is bounded by the REST layer (`MAX_HISTORY_RANGE_MS`), and no query ever scans the
//! table. Records written by a version without this table are not found by searches (only by
//! id); they expire with their retention.

use super::cassandra::backend;
use super::{HistoryQuery, HistoryRecord, StoreError};
use futures_util::TryStreamExt;
use scylla::client::session::Session;
use scylla::statement::prepared::PreparedStatement;

/// Milliseconds in a partition.
pub(super) const DAY_MS: u64 = 86_400_000;

/// The partition of a record created at `created_at`.
pub(super) fn day(created_at: u64) -> i64 {
    (created_at / DAY_MS) as i64
}

/// The statement that reads one day's slice: `(day, from, "", before_at, before_id)`, rows with
/// `(created_at, history_id)` in `[(from, ""), (before_at, before_id))`, newest first.
pub(super) fn search_cql(ks: &str) -> String {
    format!(
        "SELECT record FROM {ks}.session_history_by_day WHERE day = ? \
         AND (created_at, history_id) >= (?, ?) AND (created_at, history_id) < (?, ?)"
    )
}

/// The statement that writes a record's row: `(day, created_at, history_id, record, ttl)`.
pub(super) fn insert_cql(ks: &str) -> String {
    format!(
        "INSERT INTO {ks}.session_history_by_day (day, created_at, history_id, record) \
         VALUES (?, ?, ?, ?) USING TTL ?"
    )
}

/// Runs `q` against the day partitions (see the module docs).
pub(super) async fn search(
    session: &Session,
    statement: &PreparedStatement,
    q: &HistoryQuery,
) -> Result<Vec<HistoryRecord>, StoreError> {
    let mut out = Vec::new();
    // The upper bound, exclusive: the cursor when it lies inside the range.
    let (before_at, before_id) = match &q.after {
        Some((at, id)) if *at < q.to => (*at, id.clone()),
        _ => (q.to, String::new()),
    };
    let empty = if before_id.is_empty() {
        q.from >= before_at
    } else {
        q.from > before_at
    };
    if empty || q.limit == 0 {
        return Ok(out);
    }
    let first = day(q.from);
    let mut d = day(before_at);
    while d >= first && out.len() < q.limit {
        let mut rows = session
            .execute_iter(
                statement.clone(),
                (
                    d,
                    q.from.min(i64::MAX as u64) as i64,
                    "",
                    before_at.min(i64::MAX as u64) as i64,
                    before_id.as_str(),
                ),
            )
            .await
            .map_err(backend)?
            .rows_stream::<(Option<String>,)>()
            .map_err(backend)?;
        while let Some((record,)) = rows.try_next().await.map_err(backend)? {
            let Some(record) = record else { continue };
            let rec: HistoryRecord =
                serde_json::from_str(&record).map_err(|e| StoreError::Corrupt {
                    key: "session_history_by_day".into(),
                    message: e.to_string(),
                })?;
            if q.wants(&rec) {
                out.push(rec);
                if out.len() >= q.limit {
                    break;
                }
            }
        }
        d -= 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_days_since_the_epoch() {
        assert_eq!(day(0), 0);
        assert_eq!(day(DAY_MS - 1), 0);
        assert_eq!(day(DAY_MS), 1);
        assert_eq!(day(1_700_000_000_000), 19_675);
    }
}
