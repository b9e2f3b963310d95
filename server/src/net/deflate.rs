//! permessage-deflate (RFC 7692) on the relay's sockets: the answer to a client's offer, the
//! first frame inflated before admission, and the yawc options a compressed socket runs with.
//!
//! Every browser offers the extension and compresses natively, off the page's main thread, so a
//! customer's snapshot and deltas cost a fraction of their size on the uplink. The directions are
//! asymmetric on purpose:
//!
//! * **client → server keeps its context**: a delta of a few dozen bytes compresses only against
//!   the frames before it. The server holds one inflate window (32 KiB) per compressing socket,
//!   allocated at its first compressed frame.
//! * **server → client has none** (`server_no_context_takeover`): each frame the server writes is
//!   compressed alone with state borrowed from a process-wide [`DeflatePool`], so an open socket
//!   holds no deflate state between frames (a context-keeping compressor is ~300 KiB a socket),
//!   and frames under [`COMPRESSION_THRESHOLD`] (pointer moves, acks, small deltas) go as they are.
//!
//! Offers this side cannot honour (a `server_max_window_bits` below 15, unknown parameters) are
//! declined one by one; a client none of whose offers fits gets a plain socket, as does every
//! client when `network.websocketCompression` is off.

use flate2::{Decompress, FlushDecompress, Status};
use std::sync::OnceLock;
use yawc::{DeflatePool, Options};

/// The extension's token.
const EXTENSION: &str = "permessage-deflate";

/// Frames the server writes below this many bytes are sent uncompressed: deflate's block
/// overhead eats what it could save on them, and they are the frames where latency matters.
pub const COMPRESSION_THRESHOLD: usize = 256;

/// The trailer RFC 7692 §7.2.1 has the sender strip from every compressed message.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// What the server agreed to: the `Sec-WebSocket-Extensions` value of its answer, which also
/// configures the socket (yawc reads the same parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreed(String);

impl Agreed {
    /// The response header's value.
    pub fn header(&self) -> &str {
        &self.0
    }
}

/// The answer to the `Sec-WebSocket-Extensions` values of an upgrade request: the first
/// permessage-deflate offer this side can honour, or `None`. `small_frames`: the client said it
/// is an agent page (`rest::WS_AGENT_HINT`), whose frames are acknowledgements and pointer moves:
/// the answer then also imposes `client_no_context_takeover` (RFC 7692 lets a server impose it on
/// a client that did not offer it), so its frames are inflated with pooled state and the socket
/// holds no inflate window (~41 KiB) for them.
pub fn negotiate<'a>(
    values: impl IntoIterator<Item = &'a str>,
    small_frames: bool,
) -> Option<Agreed> {
    values
        .into_iter()
        .flat_map(|v| v.split(','))
        .find_map(|offer| accept_offer(offer, small_frames))
}

/// One offer (`permessage-deflate; client_max_window_bits; …`), if acceptable.
fn accept_offer(offer: &str, small_frames: bool) -> Option<Agreed> {
    let mut parts = offer.split(';').map(str::trim);
    if !parts.next()?.eq_ignore_ascii_case(EXTENSION) {
        return None;
    }
    let mut seen: Vec<String> = Vec::new();
    let mut client_no_context = false;
    for param in parts.filter(|p| !p.is_empty()) {
        let (name, value) = match param.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (param, None),
        };
        let name = name.to_ascii_lowercase();
        // RFC 7692 §7: an offer naming a parameter twice is declined.
        if seen.contains(&name) {
            return None;
        }
        let bits =
            |v: Option<&str>| v.map(|v| v.parse::<u8>().ok().filter(|b| (8..=15).contains(b)));
        match name.as_str() {
            // We never keep the server's context anyway.
            "server_no_context_takeover" if value.is_none() => {}
            "client_no_context_takeover" if value.is_none() => client_no_context = true,
            // The client limits its own window (or says it could): any window inflates with ours.
            "client_max_window_bits" => match bits(value) {
                None | Some(Some(_)) => {}
                Some(None) => return None,
            },
            // The client asks for a smaller window than ours: our compressor has one size.
            "server_max_window_bits" => match bits(value) {
                Some(Some(15)) => {}
                _ => return None,
            },
            _ => return None,
        }
        seen.push(name);
    }
    let mut header = format!("{EXTENSION}; server_no_context_takeover");
    if client_no_context || small_frames {
        header.push_str("; client_no_context_takeover");
    }
    Some(Agreed(header))
}

/// Why a compressed first frame was not inflated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InflateError {
    /// It inflates to more than the limit.
    TooLarge,
    /// It is not a deflate stream.
    Corrupt,
}

/// Inflates the first message of a socket (so with no context before it), at most `limit` bytes.
pub fn inflate_first(payload: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    let mut inflater = Decompress::new(false);
    // One byte over the limit tells "too large" from "exactly the limit"; the limit is the
    // small pre-admission one, so this is allocated once and briefly.
    let mut out = Vec::with_capacity(limit.saturating_add(1));
    for input in [payload, &TAIL[..]] {
        let mut rest = input;
        while !rest.is_empty() {
            let before = inflater.total_in();
            let status = inflater
                .decompress_vec(rest, &mut out, FlushDecompress::Sync)
                .map_err(|_| InflateError::Corrupt)?;
            if out.len() > limit {
                return Err(InflateError::TooLarge);
            }
            let used = (inflater.total_in() - before) as usize;
            rest = &rest[used..];
            if status == Status::StreamEnd || used == 0 {
                break;
            }
        }
    }
    Ok(out)
}

/// Deflate state shared by every socket's outgoing frames (no context takeover), sized for the
/// frames compressed at the same moment: about one per worker thread.
fn pool() -> &'static DeflatePool {
    static POOL: OnceLock<DeflatePool> = OnceLock::new();
    POOL.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(4, usize::from);
        DeflatePool::new(threads * 2)
    })
}

/// yawc options for a socket that agreed to compression: messages of at most `max_message`
/// bytes (inflated), lean buffers, level 1 for what the server writes (it compresses on the hot
/// path of every relayed frame; browsers choose their own level).
pub fn options(max_message: usize, read_buffer: usize, write_buffer: usize) -> Options {
    // yawc refuses a message that reaches its limit; ours allows exactly the limit.
    let limit = max_message.saturating_add(1);
    Options::default()
        .with_low_latency_compression()
        .with_deflate_pool(pool().clone())
        .with_compression_threshold(COMPRESSION_THRESHOLD)
        .with_limits(limit, limit)
        .with_read_buffer_capacity(read_buffer)
        .with_write_buffer_capacity(write_buffer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compress, Compression, FlushCompress};

    fn agreed(values: &[&str]) -> Option<String> {
        negotiate(values.iter().copied(), false).map(|a| a.header().to_owned())
    }

    #[test]
    fn browser_offers_are_answered_without_server_context() {
        // Chromium's and Firefox's offer.
        assert_eq!(
            agreed(&["permessage-deflate; client_max_window_bits"]).as_deref(),
            Some("permessage-deflate; server_no_context_takeover")
        );
        assert_eq!(
            agreed(&["permessage-deflate; client_no_context_takeover; client_max_window_bits=10"])
                .as_deref(),
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover")
        );
        assert!(agreed(&["PerMessage-Deflate"]).is_some());
        // An agent page's socket keeps no client context, offered or not.
        assert_eq!(
            negotiate(["permessage-deflate; client_max_window_bits"], true)
                .map(|a| a.header().to_owned())
                .as_deref(),
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover")
        );
    }

    #[test]
    fn offers_we_cannot_honour_are_declined_one_by_one() {
        assert_eq!(agreed(&[]), None);
        assert_eq!(agreed(&["x-webkit-deflate-frame"]), None);
        assert_eq!(
            agreed(&["permessage-deflate; server_max_window_bits=10"]),
            None
        );
        assert_eq!(
            agreed(&["permessage-deflate; client_max_window_bits=16"]),
            None
        );
        assert_eq!(agreed(&["permessage-deflate; mystery"]), None);
        assert_eq!(
            agreed(&["permessage-deflate; server_no_context_takeover; server_no_context_takeover"]),
            None
        );
        // A second offer that fits is taken, in either header line or list position.
        assert!(
            agreed(&[
                "permessage-deflate; server_max_window_bits=9, permessage-deflate; server_max_window_bits=\"15\""
            ])
            .is_some()
        );
        assert!(agreed(&["foo", "permessage-deflate"]).is_some());
    }

    /// A message compressed the way a browser sends it: raw deflate, sync flush, trailer off.
    fn deflated(data: &[u8]) -> Vec<u8> {
        let mut c = Compress::new(Compression::default(), false);
        let mut out = Vec::with_capacity(data.len() + 64);
        c.compress_vec(data, &mut out, FlushCompress::Sync)
            .expect("compress");
        assert!(out.ends_with(&TAIL));
        out.truncate(out.len() - 4);
        out
    }

    #[test]
    fn first_frames_inflate_within_their_limit() {
        let hello = b"hello hello hello hello, a Hello frame".repeat(3);
        let packed = deflated(&hello);
        assert!(packed.len() < hello.len());
        assert_eq!(inflate_first(&packed, hello.len()), Ok(hello.clone()));
        assert_eq!(
            inflate_first(&packed, hello.len() - 1),
            Err(InflateError::TooLarge)
        );
        // A bomb: a megabyte of zeros in a thousand bytes stops at the limit.
        let bomb = deflated(&vec![0u8; 1 << 20]);
        assert!(bomb.len() < 2048);
        assert_eq!(inflate_first(&bomb, 4096), Err(InflateError::TooLarge));
        assert_eq!(
            inflate_first(b"\xff\xff\xff\xff not deflate", 4096),
            Err(InflateError::Corrupt)
        );
    }
}
