//! Arbitrary bytes into the decoder: it must never panic, and whatever it accepts must re-encode
//! to a frame that decodes to the same message and is canonical (re-encodes to itself).
#![no_main]

use cobrowse_protocol::{Limits, decode_with, encode, peek_tag};
use libfuzzer_sys::fuzz_target;

mod appended;
use appended::APPENDED_FIELDS;

/// Small limits, so the fuzzer reaches every limit check with short inputs.
const TINY: Limits = Limits {
    max_frame_bytes: 256,
    max_nodes: 8,
    max_depth: 4,
    max_string_bytes: 8,
    max_decoded_bytes: 4096,
};

fuzz_target!(|data: &[u8]| {
    let _ = peek_tag(data);
    for limits in [Limits::default(), TINY] {
        if let Ok(msg) = decode_with(data, &limits) {
            let frame = encode(&msg);
            // Re-encoding drops trailing bytes and never lengthens varints. It may add the
            // default of a field appended to a message in a later version (`Hello.link`: an older
            // frame decodes with it absent), one byte per such field.
            assert!(
                frame.len() <= data.len() + APPENDED_FIELDS,
                "re-encoded frame grew"
            );
            if frame.len() > limits.max_frame_bytes {
                continue;
            }
            let again = decode_with(&frame, &limits);
            assert_eq!(
                again.as_ref(),
                Ok(&msg),
                "re-encoded frame decodes differently"
            );
            assert_eq!(encode(&msg), frame, "encoding is not deterministic");
        }
    }
});
