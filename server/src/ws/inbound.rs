//! What an inbound frame does once the connection is admitted: a frame goes through its link
//! (`link`) and the relay table (`sessions::handle`); a `Batch` is taken apart and each of its
//! frames goes the same way, in order, as if it had come alone, so limits, role checks and link
//! numbering hold per frame whether or not the sender batched.

use super::frames::decode_refusal;
use super::link;
use crate::app::App;
use crate::sessions::{self, ConnRef, Refusal, Session, close};
use bytes::Bytes;
use cobrowse_protocol::{ErrorCode, Message};
use std::sync::Arc;
use std::time::Instant;

/// Applies one frame read off the socket. `Err`: refuse and close the connection (the frames
/// of a batch before the refused one stay applied, as they would had they come alone).
pub(super) fn apply(
    app: &Arc<App>,
    session: &Arc<Session>,
    conn: &ConnRef,
    msg: Message,
    raw: Bytes,
    received: Instant,
) -> Result<(), Refusal> {
    if !matches!(msg, Message::Batch(_)) {
        return apply_one(app, session, conn, msg, raw, received);
    }
    // The frames as slices of `raw` (the decoded copies in `msg` are dropped).
    drop(msg);
    let frames = cobrowse_protocol::split_batch(&raw)
        .map_err(|e| decode_refusal(&e))?
        .unwrap_or_default();
    for f in frames {
        let inner = raw.slice_ref(f);
        let msg = cobrowse_protocol::decode_with(&inner, &app.config.limits)
            .map_err(|e| decode_refusal(&e))?;
        if matches!(msg, Message::Batch(_)) {
            return Err(violation("a Batch inside a Batch"));
        }
        apply_one(app, session, conn, msg, inner, received)?;
    }
    Ok(())
}

fn apply_one(
    app: &Arc<App>,
    session: &Arc<Session>,
    conn: &ConnRef,
    msg: Message,
    raw: Bytes,
    received: Instant,
) -> Result<(), Refusal> {
    tracing::debug!(conn = conn.id, role = ?conn.role, tag = msg.tag(), len = raw.len(), "frame in");
    match link::unwrap(app, conn, msg, raw)? {
        Some((Message::Hello(_), _)) => Err(violation("Hello may only be the first frame")),
        Some((msg, raw)) => {
            let ping = matches!(msg, Message::Ping(_));
            let r = sessions::handle(app, session, conn, msg, raw, received);
            link::acknowledge(conn, ping);
            r
        }
        None => Ok(()),
    }
}

fn violation(what: &str) -> Refusal {
    Refusal::new(ErrorCode::ProtocolViolation, close::POLICY, what)
}
