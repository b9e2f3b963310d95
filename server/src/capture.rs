//! **Test-only** capture of every inbound WebSocket frame, so end-to-end tests can prove that
//! masked values never reach the server: the tests scan *every* frame the server received.
//!
//! Off unless the environment variable [`ENV`] (`COBROWSE_TEST_CAPTURE_FRAMES`) names a file;
//! there is deliberately no config-file option or flag for it, so a production configuration
//! cannot switch it on by accident. When it is on, the server logs a warning at start. Each
//! binary frame is appended as it arrived (before decoding), as a 4-byte big-endian length
//! followed by the frame's bytes; strings in `postcard` frames are plain UTF-8, so a test can
//! search the file for a canary string directly.
//!
//! The capture is process-wide (one file per server process), which is the one exception to
//! "nothing is process-global": it exists only for tests that start the binary.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// The environment variable that turns the capture on: the path of the file to append to.
pub const ENV: &str = "COBROWSE_TEST_CAPTURE_FRAMES";

/// Why the capture could not start.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The capture file could not be opened for appending.
    #[error("{ENV}: cannot open {path}: {source}")]
    Open {
        /// The configured path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

static SINK: OnceLock<Option<Mutex<File>>> = OnceLock::new();

/// Opens the capture file named by [`ENV`], if set. Call once at start; returns the path when
/// the capture is on. Without this call (library users, unit tests) nothing is captured.
pub fn init_from_env() -> Result<Option<PathBuf>, CaptureError> {
    let Some(path) = std::env::var_os(ENV).filter(|p| !p.is_empty()) else {
        let _ = SINK.set(None);
        return Ok(None);
    };
    let path = PathBuf::from(path);
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|source| CaptureError::Open {
            path: path.clone(),
            source,
        })?;
    let _ = SINK.set(Some(Mutex::new(file)));
    Ok(Some(path))
}

/// Whether frames are being captured.
pub fn enabled() -> bool {
    matches!(SINK.get(), Some(Some(_)))
}

/// Appends one inbound frame when the capture is on; a no-op otherwise. Write errors are
/// logged, never fatal (the capture must not change how the server behaves).
pub fn record(frame: &[u8]) {
    let Some(Some(sink)) = SINK.get() else {
        return;
    };
    let Ok(mut file) = sink.lock() else {
        return;
    };
    let len = u32::try_from(frame.len()).unwrap_or(u32::MAX).to_be_bytes();
    if let Err(e) = file.write_all(&len).and_then(|()| file.write_all(frame)) {
        tracing::warn!(error = %e, "test frame capture: write failed");
    }
}

/// Splits a capture file's bytes back into frames (for tests and tools).
pub fn frames(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 4 {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let Some(frame) = rest.get(4..4 + len) else {
            break;
        };
        out.push(frame);
        rest = &rest[4 + len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_enabled_without_init_and_record_is_a_no_op() {
        // No init in this process's unit tests: recording must not panic nor create anything.
        record(b"frame");
        assert!(!enabled() || std::env::var_os(ENV).is_some());
    }

    #[test]
    fn frames_split_back_and_stop_at_a_truncated_tail() {
        let mut buf = Vec::new();
        for f in [&b"ab"[..], b"", b"xyz"] {
            buf.extend_from_slice(&(f.len() as u32).to_be_bytes());
            buf.extend_from_slice(f);
        }
        buf.extend_from_slice(&[0, 0, 0, 9, 1]);
        assert_eq!(frames(&buf), vec![&b"ab"[..], b"", b"xyz"]);
    }
}
