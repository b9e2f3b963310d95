//! The words the session layer shares with sockets, REST and storage: close codes, refusals,
//! server frames and the token shape. (The codes of states and end reasons are
//! `cobrowse_protocol::Code`.)

use bytes::Bytes;
use cobrowse_protocol::{ErrorCode, Message, encode};
use rand::Rng;

/// Close codes (one definition, shared with the clients that decide from them).
pub use cobrowse_protocol::close;

/// A new 9-digit token from the thread-local CSPRNG (ChaCha, OS-seeded). No leading zero, so it
/// survives being read aloud and typed into numeric fields.
pub fn new_token() -> String {
    rand::rng()
        .random_range(100_000_000u32..1_000_000_000)
        .to_string()
}

/// True for strings that could be a token; anything else is answered "unknown" without a lookup.
pub fn is_token_shaped(s: &str) -> bool {
    s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Encodes a server-generated message.
pub fn frame(msg: &Message) -> (Bytes, u32) {
    (Bytes::from(encode(msg)), msg.tag())
}

/// A refusal to let a connection join or continue, sent as `Error` + close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Stable code for the `Error` frame.
    pub code: ErrorCode,
    /// WebSocket close code.
    pub close: u16,
    /// Human-readable reason (also the close reason).
    pub message: String,
}

impl Refusal {
    /// Builds a refusal.
    pub fn new(code: ErrorCode, close: u16, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            close,
            message: message.into(),
        }
    }
}
