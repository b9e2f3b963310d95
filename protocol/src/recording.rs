//! Audit recordings: the stored frame format and the REST answer describing a recording.
//!
//! A recording is what the server relayed during a session, in order, each frame with the time
//! it was relayed and who sent it. The frames are the wire frames exactly as the server relayed
//! them ([`crate::codec`]); the customer's page state arrives already masked by the customer's
//! browser, so a recording holds nothing the agent did not see. One definition for the server
//! (which writes chunks of it and serves it) and the replay page (which reads it).
//!
//! # Byte layout
//!
//! ```text
//! recording = MAGIC entry*
//! entry     = at_ms:u64le source:u8 len:u32le frame:[u8; len]
//! ```
//!
//! `source` is a [`Source`] code. A stored chunk is `entry*` (no magic); the REST answer
//! `GET …/recording/frames` is [`MAGIC`] followed by every chunk in order, so a reader never
//! needs to know where one chunk ended.

use serde::{Deserialize, Serialize};

/// The first bytes of a recording served over REST: a name and a format version.
pub const MAGIC: &[u8; 8] = b"CBREC01\n";

/// A recording's REST paths are this under [`crate::rest::HISTORY_PATH`]`/{historyId}`: its
/// [`RecordingInfo`] here, its frames at `…/recording/frames`.
pub const RECORDING_SUFFIX: &str = "/recording";

/// Bytes of an entry before its frame.
pub const ENTRY_HEAD: usize = 8 + 1 + 4;

/// Who sent a recorded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Source {
    /// The customer's browser (page state, its pointer, its consent decisions).
    Customer,
    /// An agent (its pointer, clicks, write-mode actions, mode requests).
    Agent,
    /// The server (session events: joins, departures, the end).
    Server,
}

impl Source {
    /// The byte stored for it.
    pub fn code(self) -> u8 {
        match self {
            Source::Customer => 0,
            Source::Agent => 1,
            Source::Server => 2,
        }
    }

    /// The source a stored byte names.
    pub fn from_code(code: u8) -> Option<Source> {
        match code {
            0 => Some(Source::Customer),
            1 => Some(Source::Agent),
            2 => Some(Source::Server),
            _ => None,
        }
    }
}

/// One recorded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Entry {
    /// When the server relayed it, ms since the Unix epoch.
    pub at_ms: u64,
    /// Who sent it.
    pub source: Source,
    /// The wire frame as relayed.
    pub frame: Vec<u8>,
}

/// A recording that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordingError {
    /// It does not start with [`MAGIC`] (another format or version).
    #[error("not a recording of this format (no `CBREC01` header)")]
    BadMagic,
    /// An entry is cut off.
    #[error("entry at byte {0} is cut off")]
    Truncated(usize),
    /// An entry names an unknown source.
    #[error("entry at byte {0} has unknown source {1}")]
    BadSource(usize, u8),
}

/// Appends `entry` in the stored layout to `out`.
pub fn write_entry(out: &mut Vec<u8>, at_ms: u64, source: Source, frame: &[u8]) {
    out.extend_from_slice(&at_ms.to_le_bytes());
    out.push(source.code());
    out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    out.extend_from_slice(frame);
}

/// Reads `entry*` (a stored chunk, or a recording after its magic). `offset` is where `bytes`
/// starts in the whole, for the error's byte position.
pub fn read_entries(bytes: &[u8], offset: usize) -> Result<Vec<Entry>, RecordingError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let at = offset + pos;
        let head = bytes
            .get(pos..pos + ENTRY_HEAD)
            .ok_or(RecordingError::Truncated(at))?;
        let mut ms = [0u8; 8];
        ms.copy_from_slice(&head[..8]);
        let source = Source::from_code(head[8]).ok_or(RecordingError::BadSource(at, head[8]))?;
        let mut len = [0u8; 4];
        len.copy_from_slice(&head[9..13]);
        let len = u32::from_le_bytes(len) as usize;
        let start = pos + ENTRY_HEAD;
        let frame = bytes
            .get(start..start.saturating_add(len))
            .ok_or(RecordingError::Truncated(at))?;
        out.push(Entry {
            at_ms: u64::from_le_bytes(ms),
            source,
            frame: frame.to_vec(),
        });
        pos = start + len;
    }
    Ok(out)
}

/// Reads a whole recording as served over REST (magic first).
pub fn read_recording(bytes: &[u8]) -> Result<Vec<Entry>, RecordingError> {
    match bytes.strip_prefix(MAGIC.as_slice()) {
        Some(rest) => read_entries(rest, MAGIC.len()),
        None => Err(RecordingError::BadMagic),
    }
}

/// `200` answer of `GET /cobrowse/rest/history/sessions/{historyId}/recording`: what is stored
/// of a session's recording. The frames themselves are at `…/recording/frames`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordingInfo {
    /// The session's history id.
    #[cfg_attr(feature = "openapi", schema(format = "uuid"))]
    pub history_id: String,
    /// The first recorded frame's time.
    pub started_at: u64,
    /// The last recorded frame's time.
    pub ended_at: u64,
    /// Frames recorded.
    pub frames: u64,
    /// Bytes of the entries (frames and their heads) as stored.
    pub bytes: u64,
    /// Chunks stored (a chunk holds a bounded run of frames).
    pub chunks: u64,
    /// The nodes that wrote them (more than one after a fail-over), in order of first chunk.
    pub nodes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_with_the_magic() {
        let mut bytes = MAGIC.to_vec();
        write_entry(&mut bytes, 1_700_000_000_000, Source::Customer, b"abc");
        write_entry(&mut bytes, 1_700_000_000_005, Source::Agent, b"");
        write_entry(&mut bytes, u64::MAX, Source::Server, &[0xff; 300]);
        let entries = read_recording(&bytes).expect("read");
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].frame, b"abc");
        assert_eq!(entries[1].source, Source::Agent);
        assert_eq!(entries[2].at_ms, u64::MAX);
        assert_eq!(entries[2].frame.len(), 300);
    }

    #[test]
    fn damage_is_reported_with_its_position() {
        assert_eq!(read_recording(b"CBREC02\n"), Err(RecordingError::BadMagic));
        let mut bytes = MAGIC.to_vec();
        write_entry(&mut bytes, 1, Source::Customer, b"abcdef");
        assert_eq!(
            read_recording(&bytes[..bytes.len() - 1]),
            Err(RecordingError::Truncated(8))
        );
        bytes[16] = 9;
        assert_eq!(read_recording(&bytes), Err(RecordingError::BadSource(8, 9)));
    }

    #[test]
    fn any_bytes_read_or_fail_without_panicking() {
        arbtest::arbtest(|u| {
            let bytes: Vec<u8> = u.arbitrary()?;
            let _ = read_entries(&bytes, 0);
            let entries: Vec<Entry> = u.arbitrary()?;
            let mut out = MAGIC.to_vec();
            for e in &entries {
                write_entry(&mut out, e.at_ms, e.source, &e.frame);
            }
            assert_eq!(read_recording(&out).expect("own output reads"), entries);
            Ok(())
        });
    }
}
