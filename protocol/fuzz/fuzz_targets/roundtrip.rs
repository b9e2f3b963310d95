//! Structured messages through encode/decode: a message round-trips exactly unless it breaks an
//! invariant the types cannot express (tree shape, name ids: only snapshots and mutation batches
//! have those; an ink stroke's bounds, `Ink::check`), or is an `Unknown` that carries a known tag.
#![no_main]

use cobrowse_protocol::{Limits, Message, decode_with, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|msg: Message| {
    let limits = Limits {
        max_depth: usize::MAX,
        ..Limits::default()
    };
    let frame = encode(&msg);
    match decode_with(&frame, &limits) {
        Ok(decoded) => {
            // `Unknown` with a tag this build knows is not representable: it decodes as that
            // tag's own message. Asked of the decoder, not of a tag constant that goes stale
            // when a tag is added (it did: `Unknown { tag: 26 }` once `Paint` was 26).
            let known_tag_as_unknown = matches!(msg, Message::Unknown { .. })
                && !matches!(decoded, Message::Unknown { .. });
            if !known_tag_as_unknown {
                assert_eq!(decoded, msg);
            }
        }
        Err(e) => assert!(
            matches!(
                msg,
                Message::Snapshot(_) | Message::Mutations(_) | Message::Unknown { .. }
            ) || matches!(&msg, Message::Ink(ink) if ink.check().is_err()),
            "{e} for {msg:?}"
        ),
    }
});
