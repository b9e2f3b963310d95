//! The bytes a stranger's socket sends before anyone knows who it is, read the way the server
//! reads them (`server/src/net/socket.rs`): WebSocket frame headers parsed by hand (the server's
//! own `frame_head`, compiled in here), a first data frame of at most `limits.helloMaxBytes`,
//! a bounded number of pings skipped, then `decode_with` at the server's limits. Nothing may
//! panic; a header re-encoded parses to itself; an accepted `Hello` re-encodes to a frame no
//! longer than the one sent (but for fields appended since) that decodes to the same `Hello`.
#![no_main]

// The server's parser itself, not a copy: it is one dependency-free file, and the fuzz crate must
// not link the whole server (tokio, warp, the Cassandra driver) under the sanitizer.
#[path = "../../../server/src/net/frame_head.rs"]
#[allow(dead_code)]
mod frame_head;

mod appended;

use appended::APPENDED_FIELDS;
use cobrowse_protocol::{Limits, Message, decode_with, encode};
use frame_head::{FrameHead, opcode};
use libfuzzer_sys::fuzz_target;

/// `limits.helloMaxBytes`' default.
const HELLO_MAX: u64 = 16 * 1024;
/// Pings and pongs the server skips before the first data frame.
const CONTROLS_BEFORE_HELLO: u32 = 8;

/// A header as a client would write it (shortest length form).
fn header(h: &FrameHead) -> Vec<u8> {
    let mut out = vec![u8::from(h.fin) << 7 | u8::from(h.compressed) << 6 | h.opcode];
    match h.len {
        0..=125 => out.push(0x80 | h.len as u8),
        126..=0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(h.len as u16).to_be_bytes());
        }
        _ => {
            out.push(0x80 | 127);
            out.extend_from_slice(&h.len.to_be_bytes());
        }
    }
    out.extend_from_slice(&h.mask);
    out
}

fuzz_target!(|data: &[u8]| {
    let mut buf = data;
    let mut controls = 0;
    // A socket that agreed to permessage-deflate accepts RSV1 on a message's first frame; the
    // input's first header says which kind of socket this is (RSV1 set: a compressed one).
    let deflate = data.first().is_some_and(|b| b & 0x40 != 0);
    loop {
        let h = match frame_head::parse(buf, deflate) {
            Ok(Some(h)) => h,
            Ok(None) | Err(_) => return,
        };
        assert!((6..=14).contains(&h.header_len) && h.header_len <= buf.len());
        assert!(deflate || !h.compressed, "RSV1 accepted without deflate");
        let again = frame_head::parse(&header(&h), deflate).expect("a header we wrote parses");
        let again = again.expect("a header we wrote is whole");
        assert_eq!(
            (again.fin, again.opcode, again.mask, again.len, again.compressed),
            (h.fin, h.opcode, h.mask, h.len, h.compressed)
        );
        if !h.is_control() && h.len > HELLO_MAX {
            return; // refused from its header, before its payload is read
        }
        let end = h.header_len + h.len as usize;
        let Some(masked) = buf.get(h.header_len..end) else {
            return; // the server waits for more
        };
        let mut payload = masked.to_vec();
        frame_head::unmask(&mut payload, h.mask);
        let mut twice = payload.clone();
        frame_head::unmask(&mut twice, h.mask);
        assert_eq!(twice, masked);
        buf = &buf[end..];
        if !h.fin || h.opcode == opcode::CONTINUATION {
            return;
        }
        if h.compressed {
            // The server inflates it within the same limit (`net::deflate::inflate_first`, flate2
            // bounded by its unit tests); what it inflates to is decoded like any frame below.
            return;
        }
        match h.opcode {
            opcode::PING | opcode::PONG => {
                controls += 1;
                if controls > CONTROLS_BEFORE_HELLO {
                    return;
                }
            }
            opcode::BINARY => {
                if let Ok(Message::Hello(hello)) = decode_with(&payload, &Limits::default()) {
                    let frame = encode(&Message::Hello(hello.clone()));
                    // No longer, but for the one-byte defaults of fields appended since (`link`).
                    assert!(
                        frame.len() <= payload.len() + APPENDED_FIELDS,
                        "re-encoded Hello grew"
                    );
                    assert_eq!(
                        decode_with(&frame, &Limits::default()),
                        Ok(Message::Hello(hello))
                    );
                }
                return;
            }
            _ => return,
        }
    }
});
