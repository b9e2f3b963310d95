//! Structured messages through encode/decode: a message round-trips exactly unless it breaks an
//! invariant the types cannot express (tree shape, name ids: only snapshots and mutation batches
//! have those), or is an `Unknown` that carries a known tag.
#![no_main]

use cobrowse_protocol::{Limits, Message, decode_with, encode, tags};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|msg: Message| {
    let limits = Limits {
        max_depth: usize::MAX,
        ..Limits::default()
    };
    let frame = encode(&msg);
    match decode_with(&frame, &limits) {
        Ok(decoded) => {
            if !matches!(msg, Message::Unknown { tag, .. } if tag <= tags::CONTROLLER) {
                assert_eq!(decoded, msg);
            }
        }
        Err(e) => assert!(
            matches!(
                msg,
                Message::Snapshot(_) | Message::Mutations(_) | Message::Unknown { .. }
            ),
            "{e} for {msg:?}"
        ),
    }
});
