//! `GET history/sessions/{historyId}/recording[/frames]`: a session's audit recording.
//!
//! Same checks, in the same order, as the history lookup (`crate::rest`): rate limit, the agent
//! credential, then the id. A recording is as sensitive as watching the session, so no one
//! without the agent credential reads it, and nothing about whether one exists is said before
//! the credential passed. A session of a site without recording, one whose recording expired
//! and an id that never was all answer the same `404 unknown_history`.
//!
//! The frames answer is `application/octet-stream` in `cobrowse_protocol::recording`'s layout:
//! the magic, then every stored chunk in key order (start time, node, sequence), so a recording
//! written by two nodes across a fail-over reads as one.

use crate::app::App;
use crate::reply::{Resp, error, json_response};
use crate::rest::{RestRequest, agent_refusal, rate_limited};
use crate::store::RecordingChunk;
use cobrowse_protocol::recording::{MAGIC, RecordingInfo};
use cobrowse_protocol::rest::ApiError;
use std::sync::Arc;
use warp::http::{HeaderValue, StatusCode, header};

/// Which answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// [`RecordingInfo`] (JSON).
    Info,
    /// The frames (binary).
    Frames,
}

/// Answers either part for `id`.
pub async fn answer(app: &Arc<App>, req: &RestRequest, id: &str, part: Part) -> Resp {
    if let Err(t) = app.allow_lookup(req.ip) {
        return rate_limited(t, "session lookups");
    }
    if let Some(refused) = agent_refusal(app, req) {
        return refused;
    }
    let none = || error(ApiError::UnknownHistory, "no recording has this id");
    if uuid::Uuid::parse_str(id).is_err() {
        return none();
    }
    let chunks = match app.store.get_chunks(id.to_string()).await {
        Ok(c) if c.is_empty() => return none(),
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "recording read failed");
            return error(ApiError::StorageUnavailable, "recording could not be read");
        }
    };
    match part {
        Part::Info => json_response(StatusCode::OK, &info(id, &chunks)),
        Part::Frames => frames(chunks),
    }
}

fn info(id: &str, chunks: &[RecordingChunk]) -> RecordingInfo {
    let mut nodes: Vec<String> = Vec::new();
    for c in chunks {
        if !nodes.contains(&c.node) {
            nodes.push(c.node.clone());
        }
    }
    RecordingInfo {
        history_id: id.to_string(),
        started_at: chunks.iter().map(|c| c.started_at).min().unwrap_or(0),
        ended_at: chunks.iter().map(|c| c.ended_at).max().unwrap_or(0),
        frames: chunks.iter().map(|c| u64::from(c.frames)).sum(),
        bytes: chunks.iter().map(|c| c.data.len() as u64).sum(),
        chunks: chunks.len() as u64,
        nodes,
    }
}

fn frames(chunks: Vec<RecordingChunk>) -> Resp {
    let len = MAGIC.len() + chunks.iter().map(|c| c.data.len()).sum::<usize>();
    let mut body = Vec::with_capacity(len);
    body.extend_from_slice(MAGIC);
    for c in chunks {
        body.extend_from_slice(&c.data);
    }
    let mut r = Resp::new(body.into());
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
