//! Arbitrary bytes into the decoder: it must never panic, and whatever it accepts must re-encode
//! to a frame that decodes to the same message and is canonical (re-encodes to itself).
#![no_main]

use cobrowse_protocol::{Limits, decode_with, encode, peek_tag};
use libfuzzer_sys::fuzz_target;

/// Small limits, so the fuzzer reaches every limit check with short inputs.
const TINY: Limits = Limits {
    max_frame_bytes: 256,
    max_nodes: 8,
    max_depth: 4,
    max_string_bytes: 8,
};

fuzz_target!(|data: &[u8]| {
    let _ = peek_tag(data);
    for limits in [Limits::default(), TINY] {
        if let Ok(msg) = decode_with(data, &limits) {
            let frame = encode(&msg);
            // Re-encoding drops trailing bytes and never lengthens varints, so it fits the limit.
            assert!(frame.len() <= data.len(), "re-encoded frame grew");
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
