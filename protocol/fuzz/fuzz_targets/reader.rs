//! Length-delimited streams: feeding the same bytes to a `FrameReader` in arbitrary chunks gives
//! exactly what parsing the whole buffer at once gives, and neither panics.
#![no_main]

use cobrowse_protocol::{
    DecodeError, FrameReader, Limits, Message, decode_delimited_len, decode_with,
};
use libfuzzer_sys::fuzz_target;

const LIMITS: Limits = Limits {
    max_frame_bytes: 512,
    max_nodes: 16,
    max_depth: 8,
    max_string_bytes: 64,
    max_decoded_bytes: 64 * 1024,
};

/// The reference: walk the whole buffer with the stateless functions.
fn whole(mut buf: &[u8]) -> Vec<Result<Message, DecodeError>> {
    let mut out = Vec::new();
    loop {
        match decode_delimited_len(buf, &LIMITS) {
            Ok(Some((len, prefix))) if buf.len() >= prefix + len => {
                let r = decode_with(&buf[prefix..prefix + len], &LIMITS);
                let failed = r.is_err();
                out.push(r);
                buf = &buf[prefix + len..];
                if failed {
                    return out;
                }
            }
            Ok(_) => return out,
            Err(e) => {
                out.push(Err(e));
                return out;
            }
        }
    }
}

/// Chunk sizes 1..=32 from a small xorshift generator seeded by the input's first byte.
fn chunk_sizes(seed: u8) -> impl Iterator<Item = usize> {
    let mut state = u32::from(seed) | 0x100;
    std::iter::from_fn(move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        Some(state as usize % 32 + 1)
    })
}

fuzz_target!(|input: &[u8]| {
    // First byte: the chunking plan; the rest: the stream.
    let Some((&seed, data)) = input.split_first() else {
        return;
    };
    let want = whole(data);

    let mut reader = FrameReader::new(LIMITS);
    let mut got = Vec::new();
    let mut at = 0;
    let mut sizes = chunk_sizes(seed);
    'feed: while at < data.len() {
        let size = sizes.next().unwrap_or(usize::MAX).min(data.len() - at);
        reader.extend(&data[at..at + size]);
        at += size;
        loop {
            match reader.next_message() {
                Ok(Some(msg)) => got.push(Ok(msg)),
                Ok(None) => break,
                Err(e) => {
                    got.push(Err(e));
                    break 'feed;
                }
            }
        }
    }
    assert_eq!(got, want);
});
