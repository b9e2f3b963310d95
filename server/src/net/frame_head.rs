//! A WebSocket frame header (RFC 6455 §5.2), parsed by hand for the frames a socket reads before
//! its `Hello` is admitted (`net::socket`): the length is known from the header, so an oversized
//! frame is refused before a byte of its payload is buffered.

/// Opcodes (RFC 6455 §5.2).
pub mod opcode {
    /// A continuation of a fragmented message.
    pub const CONTINUATION: u8 = 0x0;
    /// A text frame.
    pub const TEXT: u8 = 0x1;
    /// A binary frame.
    pub const BINARY: u8 = 0x2;
    /// Close.
    pub const CLOSE: u8 = 0x8;
    /// Ping.
    pub const PING: u8 = 0x9;
    /// Pong.
    pub const PONG: u8 = 0xA;
}

/// A parsed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHead {
    /// The final fragment of its message.
    pub fin: bool,
    /// The opcode.
    pub opcode: u8,
    /// The masking key (client frames must be masked).
    pub mask: [u8; 4],
    /// RSV1: the message is compressed (only when permessage-deflate was agreed).
    pub compressed: bool,
    /// Payload length.
    pub len: u64,
    /// Bytes the header took.
    pub header_len: usize,
}

impl FrameHead {
    /// True for close, ping and pong.
    pub fn is_control(&self) -> bool {
        self.opcode & 0x8 != 0
    }
}

/// `Ok(None)` while `buf` does not hold a whole header yet; `Err` for a header a client must not
/// send (reserved bits or opcodes, an unmasked frame, a fragmented or oversized control frame).
/// `deflate`: permessage-deflate was agreed, so RSV1 may mark a message's first frame compressed.
pub fn parse(buf: &[u8], deflate: bool) -> Result<Option<FrameHead>, &'static str> {
    let [b0, b1, rest @ ..] = buf else {
        return Ok(None);
    };
    let fin = b0 & 0x80 != 0;
    let opcode = b0 & 0x0f;
    let compressed = b0 & 0x40 != 0;
    if b0 & 0x30 != 0 || (compressed && !deflate) {
        return Err("reserved bits set (no extension was negotiated)");
    }
    // RFC 7692 §6: RSV1 marks a whole message, so only its first data frame carries it.
    if compressed && (opcode & 0x8 != 0 || opcode == opcode::CONTINUATION) {
        return Err("a compressed control or continuation frame");
    }
    if !matches!(
        opcode,
        opcode::CONTINUATION
            | opcode::TEXT
            | opcode::BINARY
            | opcode::CLOSE
            | opcode::PING
            | opcode::PONG
    ) {
        return Err("reserved opcode");
    }
    if b1 & 0x80 == 0 {
        return Err("client frames must be masked");
    }
    let (len, ext) = match b1 & 0x7f {
        126 => match rest {
            [a, b, ..] => (u64::from(u16::from_be_bytes([*a, *b])), 2),
            _ => return Ok(None),
        },
        127 => match rest.get(..8) {
            Some(bytes) => {
                let mut be = [0u8; 8];
                be.copy_from_slice(bytes);
                (u64::from_be_bytes(be), 8)
            }
            None => return Ok(None),
        },
        n => (u64::from(n), 0),
    };
    let Some(mask_bytes) = rest.get(ext..ext + 4) else {
        return Ok(None);
    };
    let head = FrameHead {
        fin,
        opcode,
        mask: [mask_bytes[0], mask_bytes[1], mask_bytes[2], mask_bytes[3]],
        compressed,
        len,
        header_len: 2 + ext + 4,
    };
    if head.is_control() && (!fin || len > 125) {
        return Err("control frames must be whole and at most 125 bytes");
    }
    Ok(Some(head))
}

/// Unmasks a payload in place.
pub fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame, the way a browser sends one.
    pub(crate) fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [1, 2, 3, 4];
        let mut out = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= 0xffff => {
                out.push(0x80 | 126);
                out.extend((n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend((n as u64).to_be_bytes());
            }
        }
        out.extend(mask);
        let mut body = payload.to_vec();
        unmask(&mut body, mask);
        out.extend(body);
        out
    }

    #[test]
    fn headers_of_every_length_form() {
        for n in [0usize, 125, 126, 65_535, 65_536] {
            let f = client_frame(opcode::BINARY, &vec![7; n]);
            let head = parse(&f, false).expect("valid").expect("whole header");
            assert_eq!(
                (head.len, head.fin, head.opcode),
                (n as u64, true, opcode::BINARY)
            );
            let mut body = f[head.header_len..].to_vec();
            unmask(&mut body, head.mask);
            assert!(body.iter().all(|b| *b == 7));
            // Every prefix of the header is "need more".
            for cut in 0..head.header_len {
                assert_eq!(parse(&f[..cut], false), Ok(None), "{n} cut at {cut}");
            }
        }
        // A 16 MiB frame is known from its 14-byte header alone.
        let mut head = vec![0x82, 0x80 | 127];
        head.extend((16u64 << 20).to_be_bytes());
        head.extend([0, 0, 0, 0]);
        assert_eq!(
            parse(&head, false).expect("valid").map(|h| h.len),
            Some(16 << 20)
        );
    }

    #[test]
    fn frames_a_client_must_not_send_are_refused() {
        assert!(parse(&[0x82, 0x05], false).is_err(), "unmasked");
        assert!(
            parse(&[0xc2, 0x80], false).is_err(),
            "RSV1 without an extension"
        );
        assert!(parse(&[0xa2, 0x80], true).is_err(), "RSV2 with deflate");
        assert!(parse(&[0xc9, 0x80], true).is_err(), "a compressed ping");
        assert!(
            parse(&[0xc0, 0x80], true).is_err(),
            "a compressed continuation"
        );
        let head = parse(&[0xc2, 0x80, 0, 0, 0, 0], true)
            .expect("valid")
            .expect("whole");
        assert!(
            head.compressed,
            "RSV1 with deflate marks the message compressed"
        );
        assert!(parse(&[0x83, 0x80], false).is_err(), "reserved opcode");
        assert!(
            parse(&[0x09, 0x80, 0, 0, 0, 0], false).is_err(),
            "fragmented ping"
        );
        assert!(
            parse(&[0x89, 0x80 | 126, 0, 200, 0, 0, 0, 0], false).is_err(),
            "ping over 125 bytes"
        );
    }
}
