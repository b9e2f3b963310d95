//! A session's audit recording as it is made: the frames the relay passed on, cut into bounded
//! chunks for the storage writer.
//!
//! Only sessions of sites with recording on (`recording.*`) have a recorder. What it keeps is
//! what the relay forwarded, byte for byte: the customer's page state, pointer, clicks and
//! consent decisions exactly as the customer's browser sent them (masked there: nothing is
//! unmasked or added here), the agents' pointers, clicks and accepted write-mode actions, and
//! the server's session events. Frames the relay refused are not recorded.
//!
//! A chunk is handed to the storage writer once it holds `recording.chunkBytes`, or at the next
//! frame once its first frame is `recording.chunkInterval` old, and whatever is left when the
//! session ends, is given up or this node stops ([`Recorder::flush`]). Chunks are numbered per
//! node, so after a fail-over the new owner's chunks sit next to the old owner's.

use crate::app::{App, StoreOp, now_ms};
use crate::store::RecordingChunk;
use cobrowse_protocol::recording::{Source, write_entry};
use std::time::Duration;

/// The open chunk of one session's recording.
#[derive(Debug)]
pub(super) struct Recorder {
    history_id: String,
    seq: u32,
    data: Vec<u8>,
    frames: u32,
    started_at: u64,
    last_at: u64,
}

impl Recorder {
    /// A recorder when the session's site (`origin`) is recorded.
    pub(super) fn for_session(
        app: &App,
        history_id: &str,
        origin: Option<&str>,
    ) -> Option<Recorder> {
        app.config.recording.records(origin).then(|| Recorder {
            history_id: history_id.to_string(),
            seq: 0,
            data: Vec::new(),
            frames: 0,
            started_at: 0,
            last_at: 0,
        })
    }

    /// Records one relayed frame now.
    pub(super) fn record(&mut self, app: &App, source: Source, frame: &[u8]) {
        self.record_at(app, now_ms(), source, frame);
    }

    fn record_at(&mut self, app: &App, at: u64, source: Source, frame: &[u8]) {
        let cfg = &app.config.recording;
        let age = Duration::from_millis(at.saturating_sub(self.started_at));
        if self.frames > 0 && age >= cfg.chunk_interval {
            self.flush(app);
        }
        if self.frames == 0 {
            self.started_at = at;
        }
        // Never earlier than the frame before: replay order is time order.
        let at = at.max(self.last_at);
        write_entry(&mut self.data, at, source, frame);
        self.frames += 1;
        self.last_at = at;
        app.metrics.recorded(frame.len());
        if self.data.len() >= cfg.chunk_bytes {
            self.flush(app);
        }
    }

    /// Hands the open chunk (if any) to the storage writer.
    pub(super) fn flush(&mut self, app: &App) {
        if self.frames == 0 {
            return;
        }
        let chunk = RecordingChunk {
            history_id: self.history_id.clone(),
            started_at: self.started_at,
            node: app.config.node_name.clone(),
            seq: self.seq,
            ended_at: self.last_at,
            frames: self.frames,
            data: std::mem::take(&mut self.data),
        };
        self.seq += 1;
        self.frames = 0;
        app.write(StoreOp::Chunk(chunk));
    }
}
