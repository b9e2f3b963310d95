//! The sequenced frame of a link (see [`crate::link`] for the rules both ends follow).

/// One frame of a sequenced link: its number and the frame itself, a complete encoded frame
/// (version, tag, body) kept as bytes, so the relay forwards and stores it as received and a
/// receiver decodes only what it has not applied yet.
///
/// On the wire the body is the number as a varint followed by the frame's bytes up to the end:
/// no length prefix, the frame is the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Sequenced {
    /// The sender's number for this frame on this link (from 1, increasing; gaps allowed).
    pub seq: u64,
    /// The complete inner frame.
    pub frame: Vec<u8>,
}
