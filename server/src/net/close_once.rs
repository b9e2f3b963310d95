//! Nothing is written after a close frame: the writing half of a compressed socket, watched
//! frame by frame.
//!
//! RFC 6455 §5.5.1: once an endpoint has sent a close frame it sends nothing more, and a browser
//! fails the connection when a second one arrives ("Close received after close"). yawc answers a
//! peer's close on its own and sends a close of its own on a protocol error, without knowing
//! whether one was sent already (tungstenite tracks that, yawc does not), while the relay sends
//! its own close when it ends or refuses a connection. So the byte stream is cut here instead,
//! whatever sent what: the first close frame goes out whole, anything written after it is
//! dropped.

use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Where the writer is in the frame it is writing.
#[derive(Debug, Clone, Copy, Default)]
struct Scan {
    /// Header bytes of the frame being written, while its header is incomplete.
    head: [u8; 14],
    head_len: usize,
    /// Payload bytes of the current frame still to come.
    payload_left: u64,
    /// The current frame is a close frame.
    in_close: bool,
    /// A close frame was written whole: nothing more goes out.
    done: bool,
}

impl Scan {
    /// Advances over `buf` (bytes written in order) and returns how many of them belong to the
    /// stream before and including the end of the first close frame.
    fn advance(&mut self, buf: &[u8]) -> usize {
        let mut i = 0;
        while i < buf.len() && !self.done {
            if self.payload_left > 0 {
                let n =
                    (buf.len() - i).min(usize::try_from(self.payload_left).unwrap_or(usize::MAX));
                i += n;
                self.payload_left -= n as u64;
                if self.payload_left == 0 && self.in_close {
                    self.done = true;
                }
                continue;
            }
            self.head[self.head_len] = buf[i];
            self.head_len += 1;
            i += 1;
            if let Some((len, is_close)) = header(&self.head[..self.head_len]) {
                self.head_len = 0;
                self.payload_left = len;
                self.in_close = is_close;
                if len == 0 && is_close {
                    self.done = true;
                }
            }
        }
        i
    }
}

/// The payload length and whether it is a close frame, once `head` holds a whole header.
fn header(head: &[u8]) -> Option<(u64, bool)> {
    let [b0, b1, rest @ ..] = head else {
        return None;
    };
    let mask = if b1 & 0x80 != 0 { 4 } else { 0 };
    let (ext, len) = match b1 & 0x7f {
        126 => (
            2,
            rest.get(..2)
                .map(|b| u64::from(u16::from_be_bytes([b[0], b[1]]))),
        ),
        127 => (
            8,
            rest.get(..8).map(|b| {
                let mut be = [0u8; 8];
                be.copy_from_slice(b);
                u64::from_be_bytes(be)
            }),
        ),
        n => (0, Some(u64::from(n))),
    };
    if head.len() < 2 + ext + mask {
        return None;
    }
    Some((len?, b0 & 0x0f == 0x8))
}

/// `io` whose writes stop after the first close frame (see the module docs).
pub struct CloseOnce<S> {
    io: S,
    scan: Scan,
}

impl<S> CloseOnce<S> {
    /// Watches the frames written to `io`.
    pub fn new(io: S) -> CloseOnce<S> {
        CloseOnce {
            io,
            scan: Scan::default(),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for CloseOnce<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for CloseOnce<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        if this.scan.done {
            // Dropped, as if written: the writer must not stall on what may not be sent.
            return Poll::Ready(Ok(buf.len()));
        }
        let mut probe = this.scan;
        let upto = probe.advance(buf);
        let written = std::task::ready!(Pin::new(&mut this.io).poll_write(cx, &buf[..upto]))?;
        this.scan.advance(&buf[..written]);
        Poll::Ready(Ok(written))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn frame(op: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0x80 | op];
        match payload.len() {
            n if n < 126 => out.push(n as u8),
            n => {
                out.push(126);
                out.extend((n as u16).to_be_bytes());
            }
        }
        out.extend(payload);
        out
    }

    #[tokio::test]
    async fn frames_pass_until_the_first_close_and_nothing_after_it() {
        let (a, mut b) = tokio::io::duplex(1 << 16);
        let mut w = CloseOnce::new(a);
        let data = frame(0x2, &[7; 300]);
        let close = frame(0x8, &[0x03, 0xe8, b'b', b'y', b'e']);
        let mut all = data.clone();
        all.extend(&close);
        all.extend(frame(0x2, b"after"));
        // Written in odd pieces, splitting headers and payloads.
        for piece in all.chunks(3) {
            w.write_all(piece).await.expect("write");
        }
        // A second close, as yawc's answer to the peer's would be.
        w.write_all(&frame(0x8, &[0x03, 0xe8]))
            .await
            .expect("write");
        drop(w);
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.expect("read");
        let mut want = data;
        want.extend(close);
        assert_eq!(got, want);
    }
}
