//! The recording chunk record: a bounded run of a session's recorded frames.
//!
//! A chunk's `data` is `cobrowse_protocol::recording` entries (no magic); its key is
//! (history id, `started_at`, node, `seq`). The node name is part of the key because two nodes
//! write the same session's chunks across a fail-over, each numbering its own from zero.

/// One stored chunk of a session's recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingChunk {
    /// The session's history id.
    pub history_id: String,
    /// The first frame's time, ms since the Unix epoch.
    pub started_at: u64,
    /// The node that wrote it.
    pub node: String,
    /// The writer's chunk number for this session (from 0).
    pub seq: u32,
    /// The last frame's time.
    pub ended_at: u64,
    /// Frames in `data`.
    pub frames: u32,
    /// The entries.
    pub data: Vec<u8>,
}

impl RecordingChunk {
    /// The key the embedded store sorts by: fixed-width numbers, so byte order is key order.
    /// `/` cannot occur in a history id (a UUID) or a node name (letters, digits, `-_.`).
    pub(crate) fn sort_key(&self) -> String {
        format!(
            "{}/{:020}/{}/{:010}",
            self.history_id, self.started_at, self.node, self.seq
        )
    }
}
