//! The Cobrowse wire format: the one contract between the customer client (`client-wasm`), the
//! agent renderer (`agent-ui`) and the relay `server`. None of them defines wire types of its own.
//!
//! This crate owns message types, their binary encoding, versioning and decode limits. It must not
//! touch I/O, async runtimes, the DOM or wasm bindings: it is plain Rust so that it builds and is
//! tested natively (`cargo test -p cobrowse-protocol`) and fuzzed (`protocol/fuzz`).
//!
//! # Frame layout
//!
//! One WebSocket binary message carries one frame (a [`Message::Batch`] frame carries several,
//! each complete):
//!
//! ```text
//! [version: u8] [tag: varint u32] [body: postcard encoding of the variant's payload]
//! ```
//!
//! * `version` is [`PROTOCOL_VERSION`]. A peer refuses frames of another version with
//!   [`DecodeError::UnsupportedVersion`] instead of guessing.
//! * `tag` picks the message kind ([`Message::tag`]). A tag this build does not know decodes to
//!   [`Message::Unknown`] with the raw body, so older peers (and the relay) keep working when newer
//!   peers add messages.
//! * The body is the rest of the frame. Decoders ignore bytes after the payload they know, so a later
//!   revision may append fields at the end of a payload without a version bump (its decoder must
//!   still accept older frames without them: postcard does not default missing fields).
//!
//! For byte streams and storage, [`encode_delimited`] / [`FrameReader`] add a varint length prefix.
//!
//! # Why postcard
//!
//! postcard gives compact, well-specified, serde-driven encoding: LEB128 varints for every integer,
//! zigzag for signed ones, length-prefixed strings and sequences, one varint per enum discriminant.
//! It is small, `no_std`-capable (so it costs little in the wasm bundles), widely used and stable
//! (its wire format is frozen for 1.x). Hand-rolled varints would be more code to fuzz for no gain.
//! We keep the *top-level* tag outside postcard so that unknown messages can be skipped.
//!
//! # Interned names
//!
//! Tag and attribute names are [`Name`]s: small integers that refer either to a static dictionary
//! of common HTML/SVG names (the most common cost one byte on the wire) or, from
//! [`DYNAMIC_NAME_BASE`] on, to a per-message table of other names ([`NameTable`]). Tables are
//! per message, not per connection, so the relay can store and replay any frame to a
//! late-joining agent without connection state.
//!
//! # Layout
//!
//! * [`names`] — the static name dictionary and per-message [`NameTable`].
//! * [`dom`] — DOM node records, mutation batches and the flat-tree validator.
//! * [`message`] — every message the product exchanges, and small enums they share.
//! * [`codec`] — frame encode/decode, limits, length-delimited streams, typed errors.
//! * `budget` — the decoder's accounting: nodes and decoded bytes charged before allocation.
//! * [`codes`] — the snake_case codes of the enums (REST, history, events, attributes).
//! * [`close`] — WebSocket close codes and when a client reconnects.
//! * [`link`] — sequence numbers, acknowledgements and resend buffers: how a party's stream
//!   survives a lost socket.
//! * [`policy`] — the DOM restriction document (mask / hide / restrict rules).
//! * `openapi` (feature `openapi`) — schemas of the REST types for the server's OpenAPI document.
//! * [`recording`] — audit recordings: the stored frame layout, the recording's REST answer.
//! * [`rest`] — REST requests and answers, the error body, server URL → WebSocket URL.
//! * [`tree`] — [`IdTree`], the replica's tree by node id, kept by both ends.
//!
//! Everything any two of the runtimes must agree on lives here, as data and pure functions.

mod budget;
pub mod close;
pub mod codec;
pub mod codes;
mod desktop_events;
pub mod dom;
pub mod link;
pub mod message;
pub mod names;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod policy;
pub mod recording;
pub mod rest;
mod supervision;
pub mod tree;

pub use codec::{
    DecodeError, FrameReader, Limits, MAX_BATCH_FRAMES, decode, decode_delimited_len, decode_only,
    decode_with, encode, encode_batch, encode_delimited, encode_seq, peek_tag, split_batch,
    split_seq,
};
pub use codes::Code;
pub use dom::{
    AddedSubtree, AttrChange, Attribute, FormState, FormValue, Insert, MutationBatch, Namespace,
    NodeData, NodeId, NodeRecord, ScrollPosition, ScrollTarget, TextChange, TreeError,
    validate_tree, walk_tree,
};
pub use message::*;
pub use names::{DYNAMIC_NAME_BASE, Name, NameTable, STATIC_NAMES};
pub use tree::IdTree;

/// The version byte every frame starts with. Bump it only for changes that older peers cannot
/// skip (a changed payload layout); additions use new tags or appended fields instead.
pub const PROTOCOL_VERSION: u8 = 1;
