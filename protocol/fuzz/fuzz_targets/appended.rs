//! Shared by the targets that re-encode what they decoded.

/// The most fields appended to one message since version 1. A frame from before a field was
/// appended decodes with it absent and re-encodes with the absent `Option` as one byte, so a
/// valid older frame may re-encode up to this many bytes longer (`Hello` has two: `link`,
/// `observe`).
pub const APPENDED_FIELDS: usize = 4;
