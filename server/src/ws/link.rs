//! A sequenced link's frames as they come in (`crate::sessions::link`): `Seq` frames unwrapped
//! and applied once, `Ack`s taken, and the relay's own `Ack`s sent back now and then.

use super::frames::decode_refusal;
use crate::app::App;
use crate::sessions::link::ACK_EVERY;
use crate::sessions::{ConnRef, Refusal, close, frame};
use bytes::Bytes;
use cobrowse_protocol::link::is_sequenced_tag;
use cobrowse_protocol::{ErrorCode, Message};

fn violation(what: &str) -> Refusal {
    Refusal::new(
        ErrorCode::ProtocolViolation,
        close::POLICY,
        what.to_string(),
    )
}

/// What the relay does with an inbound frame: `Some((message, raw))` to handle (the inner frame
/// of a `Seq`, applied for the first time, or a plain frame), `None` when there is nothing to
/// handle (a duplicate, an `Ack`, a frame of a socket the link has left).
pub(super) fn unwrap(
    app: &App,
    conn: &ConnRef,
    msg: Message,
    raw: Bytes,
) -> Result<Option<(Message, Bytes)>, Refusal> {
    match msg {
        Message::Seq(s) => {
            let Some(link) = &conn.link else {
                return Err(violation("Seq frames need a link (Hello.link)"));
            };
            if !link.is_attached(conn.id) || !link.accept(s.seq) {
                return Ok(None);
            }
            let inner = raw.slice(raw.len() - s.frame.len()..);
            let msg = cobrowse_protocol::decode_with(&inner, &app.config.limits)
                .map_err(|e| decode_refusal(&e))?;
            if !is_sequenced_tag(msg.tag()) {
                return Err(violation(&format!(
                    "{} is never sequenced",
                    msg.kind_name()
                )));
            }
            Ok(Some((msg, inner)))
        }
        Message::Ack(n) => {
            if let Some(link) = &conn.link {
                link.ack(n);
            }
            Ok(None)
        }
        Message::Ping(v) => Ok(Some((Message::Ping(v), raw))),
        other if conn.link.is_some() && is_sequenced_tag(other.tag()) => Err(violation(&format!(
            "{} must travel in a Seq frame on a link",
            other.kind_name()
        ))),
        other => Ok(Some((other, raw))),
    }
}

/// Sends the party an `Ack` when one is due: after every [`ACK_EVERY`] frames applied, and
/// with every `Pong` (`ping`) for anything new.
pub(super) fn acknowledge(conn: &ConnRef, ping: bool) {
    let Some(link) = &conn.link else { return };
    if let Some(n) = link.ack_due(if ping { 0 } else { ACK_EVERY }) {
        let (b, t) = frame(&Message::Ack(n));
        conn.queue.push_control(b, t);
    }
}
