//! Recording chunks in the embedded store: one redb row per chunk, plus an expiry index.
//!
//! redb has no TTL, so each row carries its expiry: reads skip expired chunks, and every append
//! first deletes a bounded batch of expired ones found through the index `recording_expiry`
//! (key: zero-padded expiry, then the chunk's key), so the file does not grow with recordings
//! nobody may read any more, and no append pays for more than [`PURGE_BATCH`] deletions.
//! Expiry is decided by the store's clock (`EmbeddedStore::open_with_clock`), which is what lets
//! the tests run it deterministically.

use super::{RecordingChunk, StoreError};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

/// Chunk rows: key `RecordingChunk::sort_key`, value [`encode`]d.
pub(super) const RECORDINGS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("recording_chunks");
/// Expiry index: key `{expires_at:020}|{chunk key}`, empty value.
pub(super) const EXPIRY: TableDefinition<&str, &[u8]> = TableDefinition::new("recording_expiry");

/// Expired chunks one append deletes at most.
const PURGE_BATCH: usize = 64;
/// Bytes of a row's value before the data: expiry, end time, frame count, node length.
const HEAD: usize = 8 + 8 + 4 + 2;

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn encode(c: &RecordingChunk, expires_at: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(HEAD + c.node.len() + c.data.len());
    v.extend_from_slice(&expires_at.to_le_bytes());
    v.extend_from_slice(&c.ended_at.to_le_bytes());
    v.extend_from_slice(&c.frames.to_le_bytes());
    v.extend_from_slice(&(c.node.len() as u16).to_le_bytes());
    v.extend_from_slice(c.node.as_bytes());
    v.extend_from_slice(&c.data);
    v
}

/// The chunk stored under `key` (its history id, start and sequence are read back from the key),
/// with its expiry.
fn decode(key: &str, v: &[u8]) -> Result<(RecordingChunk, u64), StoreError> {
    let corrupt = |message: &str| StoreError::Corrupt {
        key: key.to_string(),
        message: message.to_string(),
    };
    let head = v.get(..HEAD).ok_or_else(|| corrupt("short row"))?;
    let u64_at = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&head[i..i + 8]);
        u64::from_le_bytes(b)
    };
    let mut frames = [0u8; 4];
    frames.copy_from_slice(&head[16..20]);
    let node_len = u16::from_le_bytes([head[20], head[21]]) as usize;
    let node = v
        .get(HEAD..HEAD + node_len)
        .and_then(|b| std::str::from_utf8(b).ok())
        .ok_or_else(|| corrupt("bad node name"))?;
    let mut parts = key.split('/');
    let (Some(history_id), Some(started), Some(_), Some(seq)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(corrupt("bad key"));
    };
    let chunk = RecordingChunk {
        history_id: history_id.to_string(),
        started_at: started.parse().map_err(|_| corrupt("bad start"))?,
        node: node.to_string(),
        seq: seq.parse().map_err(|_| corrupt("bad sequence"))?,
        ended_at: u64_at(8),
        frames: u32::from_le_bytes(frames),
        data: v[HEAD + node_len..].to_vec(),
    };
    Ok((chunk, u64_at(0)))
}

/// Deletes up to [`PURGE_BATCH`] chunks that expired by `now`, then appends `chunk`.
pub(super) fn put(
    db: &Database,
    chunk: &RecordingChunk,
    expires_at: u64,
    now: u64,
) -> Result<(), StoreError> {
    let key = chunk.sort_key();
    let txn = db.begin_write().map_err(backend)?;
    {
        let mut rows = txn.open_table(RECORDINGS).map_err(backend)?;
        let mut index = txn.open_table(EXPIRY).map_err(backend)?;
        let due = format!("{now:020}");
        let expired: Vec<String> = index
            .range::<&str>(..due.as_str())
            .map_err(backend)?
            .take(PURGE_BATCH)
            .map(|e| e.map(|(k, _)| k.value().to_string()).map_err(backend))
            .collect::<Result<_, _>>()?;
        for entry in expired {
            index.remove(entry.as_str()).map_err(backend)?;
            if let Some((_, chunk_key)) = entry.split_once('|') {
                rows.remove(chunk_key).map_err(backend)?;
            }
        }
        rows.insert(key.as_str(), encode(chunk, expires_at).as_slice())
            .map_err(backend)?;
        if expires_at != 0 {
            let entry = format!("{expires_at:020}|{key}");
            index
                .insert(entry.as_str(), [].as_slice())
                .map_err(backend)?;
        }
    }
    txn.commit().map_err(backend)
}

/// The unexpired chunks of `history_id` at `now`, in key order.
pub(super) fn get(
    db: &Database,
    history_id: &str,
    now: u64,
) -> Result<Vec<RecordingChunk>, StoreError> {
    let txn = db.begin_read().map_err(backend)?;
    let rows = txn.open_table(RECORDINGS).map_err(backend)?;
    // Keys are `{history_id}/…`; `0` is the byte after `/`, so this range is exactly the prefix.
    let from = format!("{history_id}/");
    let to = format!("{history_id}0");
    let mut out = Vec::new();
    for entry in rows
        .range::<&str>(from.as_str()..to.as_str())
        .map_err(backend)?
    {
        let (k, v) = entry.map_err(backend)?;
        let (chunk, expires_at) = decode(k.value(), v.value())?;
        if expires_at == 0 || expires_at > now {
            out.push(chunk);
        }
    }
    Ok(out)
}
