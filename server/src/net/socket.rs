//! The upgraded socket as the relay sees it ([`Socket`]: a `Stream` + `Sink` of warp WebSocket
//! messages, what [`crate::ws::serve`] takes).
//!
//! # Before the `Hello` is admitted
//!
//! Anyone can open a socket, so until the handshake admits its `Hello` (see [`Admission`]) the
//! socket costs almost nothing: frames are read by hand ([`super::frame_head`]) into a buffer of
//! at most `limits.helloMaxBytes` plus a header. A first frame announcing more is refused from its
//! header alone, its payload read and thrown away in small chunks (so the refusal and close can
//! still be read by the peer), never buffered. Pings and pongs before the `Hello` are skipped,
//! a few at most. No tungstenite state (whose read buffer alone is 128 KiB) exists yet.
//!
//! # After
//!
//! The first read or write after the first frame hands the socket, with any bytes read past that
//! frame, to tokio-tungstenite: with the full frame limit (`limits.maxFrameBytes` + 64 KiB) when
//! the `Hello` was admitted, with the small one when it was refused (so the close handshake of a
//! refused socket cannot buffer a large frame either). tokio-tungstenite cannot change a stream's
//! limits later, which is why the first frame is not read through it.
//!
//! # Compressed sockets
//!
//! A client that agreed to permessage-deflate at the upgrade ([`super::deflate`]) may compress
//! its `Hello`: the first frame is then inflated by hand too, within the same limit. Such a socket
//! is handed to yawc instead of tokio-tungstenite (tungstenite has no permessage-deflate), with
//! the compressed `Hello` put back in front of the connection ([`super::replay`]): the client
//! compresses every frame against the ones before, so yawc's inflater must see it too. yawc reads
//! it again, and that copy is dropped. Its writes pass [`super::close_once`], so however many
//! closes yawc and the relay send, the peer gets one.
//!
//! Control frames are bounded for the socket's whole life: more than a burst of
//! [`CONTROL_BURST`] pings/pongs, refilling at [`CONTROL_PER_SECOND`] a second, ends the
//! connection as rate limited (honest peers answer our pings every 20 s and send none).

use super::close_once::CloseOnce;
use super::deflate::{self, Agreed, InflateError};
use super::frame_head::{self, FrameHead, opcode};
use super::limits::Admission;
use super::replay::Replay;
use bytes::Bytes;
use futures_util::{FutureExt, Sink, Stream};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::fmt;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message as TMessage};
use warp::ws::Message as WsMessage;

/// Pings and pongs a socket may send at once.
pub const CONTROL_BURST: u32 = 32;
/// Pings and pongs a socket may send per second, sustained.
pub const CONTROL_PER_SECOND: u32 = 4;
/// Pings and pongs skipped before the first data frame.
const CONTROLS_BEFORE_HELLO: u32 = 8;
/// Bytes read at once before the `Hello` (and thrown away at once while skipping).
const CHUNK: usize = 4096;

/// Read buffer of an admitted socket. tungstenite allocates its read buffer up front and keeps it
/// (128 KiB by default), and a session holds two or three sockets, so the default alone would be
/// most of a session's memory. A frame larger than this is still read whole: the buffer grows to
/// the announced frame length.
pub const READ_BUFFER: usize = 8 * 1024;
/// Bytes a socket gathers before writing them out ahead of the writer's flush (tungstenite's
/// default is 128 KiB, and the buffer keeps the capacity it grew to). The writer flushes after
/// every batch anyway, so this only bounds how much one batch holds before it reaches the kernel.
pub const WRITE_BUFFER: usize = 16 * 1024;

/// The WebSocket configuration of a socket that passed admission, and of the node-to-node
/// proxy's upstream socket: lean buffers (see [`READ_BUFFER`]) and `frame_bytes` as the largest
/// message and frame.
pub fn lean_config(frame_bytes: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(Some(frame_bytes))
        .max_frame_size(Some(frame_bytes))
}

/// The text of [`SocketError::ControlFlood`]; `ws::frames` turns it into a rate-limit close.
pub const CONTROL_FLOOD: &str = "too many ping/pong frames";

/// What reading or writing the socket failed with.
#[derive(Debug)]
pub enum SocketError {
    /// tokio-tungstenite's error, once it reads the socket.
    Ws(tungstenite::Error),
    /// yawc's error, once it reads a compressed socket.
    Deflate(yawc::WebSocketError),
    /// A compressed first frame inflates to more than the pre-`Hello` limit (said "too long", so
    /// it is refused as too large), or does not inflate.
    FirstFrameInflate(InflateError, usize),
    /// The first frame announced more than the pre-`Hello` limit. Its text says "too long", as
    /// tungstenite's capacity errors do, so it is refused like them (1009).
    FirstFrameTooLarge {
        /// The announced payload length.
        len: u64,
        /// `limits.helloMaxBytes`.
        limit: usize,
    },
    /// A frame a client must not send before its `Hello` (see [`frame_head::parse`]).
    Protocol(&'static str),
    /// Pings/pongs beyond the bound.
    ControlFlood,
    /// The transport failed before tungstenite took over.
    Io(std::io::Error),
}

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketError::Ws(e) => e.fmt(f),
            // Worded like tungstenite's capacity error, so it is refused the same way (1009).
            SocketError::Deflate(e @ yawc::WebSocketError::FrameTooLarge) => {
                write!(f, "Message too long: {e}")
            }
            SocketError::Deflate(e) => e.fmt(f),
            SocketError::FirstFrameInflate(InflateError::TooLarge, limit) => write!(
                f,
                "Message too long: a first frame inflating to more than {limit} bytes before Hello"
            ),
            SocketError::FirstFrameInflate(InflateError::Corrupt, _) => f.write_str(
                "protocol error before Hello: a compressed first frame that does not inflate",
            ),
            SocketError::FirstFrameTooLarge { len, limit } => write!(
                f,
                "Message too long: a first frame of {len} bytes before Hello (limit {limit})"
            ),
            SocketError::Protocol(why) => write!(f, "protocol error before Hello: {why}"),
            SocketError::ControlFlood => f.write_str(CONTROL_FLOOD),
            SocketError::Io(e) => write!(f, "io error before Hello: {e}"),
        }
    }
}

impl std::error::Error for SocketError {}

/// Frame limits of one socket.
#[derive(Debug, Clone, Copy)]
pub struct SocketLimits {
    /// Largest first frame (and any frame before admission), `limits.helloMaxBytes`.
    pub hello_bytes: usize,
    /// Largest frame once admitted (the socket layer's limit, above the decoder's).
    pub frame_bytes: usize,
}

impl SocketLimits {
    fn config(&self, admitted: bool) -> WebSocketConfig {
        if admitted {
            lean_config(self.frame_bytes)
        } else {
            WebSocketConfig::default()
                .read_buffer_size(CHUNK)
                .write_buffer_size(0)
                .max_message_size(Some(self.hello_bytes))
                .max_frame_size(Some(self.hello_bytes))
        }
    }
}

/// Reading by hand, before the first frame was handed out.
struct Manual<S> {
    io: S,
    /// Bytes read and not yet consumed (a header, a small frame, bytes past it).
    buf: Vec<u8>,
    /// Payload bytes of an oversized first frame still to throw away.
    skip: u64,
    /// The error to report once the skipping is done.
    after_skip: Option<SocketError>,
    /// Pings/pongs seen so far.
    controls: u32,
    /// The first frame (or an error in its place) was handed out.
    done: bool,
    /// The raw bytes of a compressed first frame, for yawc to read again (see the module docs).
    compressed_first: Vec<u8>,
}

enum State<S> {
    Manual(Manual<S>),
    // Boxed: tungstenite's state is ~4× the manual reader's, and a socket lives in one of them.
    Open(Box<WebSocketStream<S>>),
    /// A socket that agreed to permessage-deflate.
    Deflated(Box<yawc::WebSocket<Replay<CloseOnce<S>>>>),
    /// Only while switching.
    Switching,
}

/// See the module docs.
pub struct Socket<S> {
    state: State<S>,
    admission: Admission,
    limits: SocketLimits,
    control: DefaultDirectRateLimiter,
    /// The permessage-deflate terms agreed at the upgrade, if any.
    deflate: Option<Agreed>,
    /// yawc's first frame is the compressed first frame read again: dropped.
    skip_replayed: bool,
}

impl<S> Socket<S> {
    /// A socket over `io`, an upgraded connection nothing was read from yet, which agreed to
    /// `deflate` (permessage-deflate) at the upgrade, or not.
    pub fn new(
        io: S,
        admission: Admission,
        limits: SocketLimits,
        deflate: Option<Agreed>,
    ) -> Socket<S> {
        let burst = NonZeroU32::new(CONTROL_BURST).unwrap_or(NonZeroU32::MIN);
        let rate = NonZeroU32::new(CONTROL_PER_SECOND).unwrap_or(NonZeroU32::MIN);
        Socket {
            state: State::Manual(Manual {
                io,
                buf: Vec::new(),
                skip: 0,
                after_skip: None,
                controls: 0,
                done: false,
                compressed_first: Vec::new(),
            }),
            admission,
            limits,
            control: RateLimiter::direct(Quota::per_second(rate).allow_burst(burst)),
            deflate,
            skip_replayed: false,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Socket<S> {
    /// Hands the connection to tokio-tungstenite (or yawc, when compressed), with the limits the
    /// admission allows.
    fn open(&mut self) {
        if let State::Manual(_) = self.state
            && let State::Manual(m) = std::mem::replace(&mut self.state, State::Switching)
        {
            let admitted = self.admission.is_admitted();
            self.state = match &self.deflate {
                None => {
                    let config = self.limits.config(admitted);
                    let ws = WebSocketStream::from_partially_read(
                        m.io,
                        m.buf,
                        Role::Server,
                        Some(config),
                    )
                    .now_or_never()
                    // Building the stream does no I/O: the future is ready at its first poll.
                    .unwrap_or_else(|| unreachable!("from_partially_read completes at once"));
                    State::Open(Box::new(ws))
                }
                Some(agreed) => {
                    let options = if admitted {
                        deflate::options(self.limits.frame_bytes, READ_BUFFER, WRITE_BUFFER)
                    } else {
                        deflate::options(self.limits.hello_bytes, CHUNK, CHUNK)
                    };
                    self.skip_replayed = !m.compressed_first.is_empty();
                    let mut prefix = m.compressed_first;
                    prefix.extend_from_slice(&m.buf);
                    let ws = yawc::WebSocket::from_stream_with_extensions(
                        Replay::new(prefix, CloseOnce::new(m.io)),
                        yawc::Role::Server,
                        Some(agreed.header()),
                        options,
                    )
                    // Fails only for terms it cannot parse or options without compression;
                    // both are ours (`deflate::negotiate`, `deflate::options`).
                    .unwrap_or_else(|e| unreachable!("agreed deflate terms are valid: {e}"));
                    State::Deflated(Box::new(ws))
                }
            };
        }
    }

    fn poll_manual(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<WsMessage, SocketError>>> {
        let hello_bytes = self.limits.hello_bytes;
        let deflate = self.deflate.is_some();
        let State::Manual(m) = &mut self.state else {
            return Poll::Ready(None);
        };
        loop {
            if m.skip > 0 {
                let mut scratch = [0u8; CHUNK];
                let want = (m.skip as usize).min(CHUNK);
                let mut rb = ReadBuf::new(&mut scratch[..want]);
                if let Err(e) = ready!(Pin::new(&mut m.io).poll_read(cx, &mut rb)) {
                    m.done = true;
                    return Poll::Ready(Some(Err(SocketError::Io(e))));
                }
                if rb.filled().is_empty() {
                    m.done = true;
                    return Poll::Ready(None);
                }
                m.skip -= rb.filled().len() as u64;
                if m.skip == 0 {
                    m.done = true;
                    return Poll::Ready(m.after_skip.take().map(Err));
                }
                continue;
            }
            let head = match frame_head::parse(&m.buf, deflate) {
                Err(why) => {
                    m.done = true;
                    return Poll::Ready(Some(Err(SocketError::Protocol(why))));
                }
                Ok(head) => head,
            };
            if let Some(h) = head {
                if !h.is_control() && h.len > hello_bytes as u64 {
                    let in_buf = (m.buf.len() - h.header_len) as u64;
                    m.skip = h.len - in_buf.min(h.len);
                    m.buf.clear();
                    let err = SocketError::FirstFrameTooLarge {
                        len: h.len,
                        limit: hello_bytes,
                    };
                    if m.skip == 0 {
                        m.done = true;
                        return Poll::Ready(Some(Err(err)));
                    }
                    m.after_skip = Some(err);
                    continue;
                }
                let end = h.header_len + h.len as usize;
                if m.buf.len() >= end {
                    let mut payload: Vec<u8> = m.buf[h.header_len..end].to_vec();
                    if h.compressed {
                        m.compressed_first = m.buf[..end].to_vec();
                    }
                    m.buf.drain(..end);
                    frame_head::unmask(&mut payload, h.mask);
                    if h.compressed {
                        match deflate::inflate_first(&payload, hello_bytes) {
                            Ok(inflated) => payload = inflated,
                            Err(e) => {
                                m.done = true;
                                return Poll::Ready(Some(Err(SocketError::FirstFrameInflate(
                                    e,
                                    hello_bytes,
                                ))));
                            }
                        }
                    }
                    match first_message(&h, payload) {
                        First::Skip => {
                            m.controls += 1;
                            if m.controls > CONTROLS_BEFORE_HELLO {
                                m.done = true;
                                return Poll::Ready(Some(Err(SocketError::ControlFlood)));
                            }
                            continue;
                        }
                        First::Message(msg) => {
                            m.done = true;
                            return Poll::Ready(Some(Ok(msg)));
                        }
                        First::Refused(why) => {
                            m.done = true;
                            return Poll::Ready(Some(Err(SocketError::Protocol(why))));
                        }
                    }
                }
            }
            // More bytes: at most one chunk past what the frame (or its header) needs.
            let mut scratch = [0u8; CHUNK];
            let mut rb = ReadBuf::new(&mut scratch);
            if let Err(e) = ready!(Pin::new(&mut m.io).poll_read(cx, &mut rb)) {
                m.done = true;
                return Poll::Ready(Some(Err(SocketError::Io(e))));
            }
            if rb.filled().is_empty() {
                m.done = true;
                return Poll::Ready(None);
            }
            m.buf.extend_from_slice(rb.filled());
        }
    }
}

/// What a whole frame read by hand means.
enum First {
    /// A ping or pong: skipped (bounded).
    Skip,
    /// Handed to the handshake.
    Message(WsMessage),
    /// Not a frame to start a connection with.
    Refused(&'static str),
}

fn first_message(h: &FrameHead, payload: Vec<u8>) -> First {
    if !h.fin || h.opcode == opcode::CONTINUATION {
        return First::Refused("a fragmented first message");
    }
    match h.opcode {
        opcode::PING | opcode::PONG => First::Skip,
        opcode::BINARY => First::Message(WsMessage::binary(payload)),
        // Text is refused by the handshake with its own message; lossy is fine for that.
        opcode::TEXT => First::Message(WsMessage::text(String::from_utf8_lossy(&payload))),
        opcode::CLOSE => First::Message(close_message(&payload)),
        _ => First::Refused("reserved opcode"),
    }
}

/// A close frame's payload (code and reason, or nothing) as a message.
fn close_message(payload: &[u8]) -> WsMessage {
    match payload {
        [a, b, reason @ ..] => WsMessage::close_with(
            u16::from_be_bytes([*a, *b]),
            String::from_utf8_lossy(reason).into_owned(),
        ),
        _ => WsMessage::close(),
    }
}

fn from_tungstenite(m: TMessage) -> Option<WsMessage> {
    Some(match m {
        TMessage::Binary(b) => WsMessage::binary(b),
        TMessage::Text(t) => WsMessage::text(t.as_str()),
        TMessage::Ping(b) => WsMessage::ping(b),
        TMessage::Pong(b) => WsMessage::pong(b),
        TMessage::Close(Some(f)) => WsMessage::close_with(u16::from(f.code), f.reason.to_string()),
        TMessage::Close(None) => WsMessage::close(),
        // tungstenite never yields raw frames when reading.
        TMessage::Frame(_) => return None,
    })
}

fn to_tungstenite(m: WsMessage) -> TMessage {
    if m.is_close() {
        return match m.close_frame() {
            Some((code, reason)) => TMessage::Close(Some(CloseFrame {
                code: CloseCode::from(code),
                reason: reason.to_owned().into(),
            })),
            None => TMessage::Close(None),
        };
    }
    if m.is_text() {
        return TMessage::text(m.to_str().unwrap_or_default().to_owned());
    }
    let is_ping = m.is_ping();
    let is_pong = m.is_pong();
    let data: Bytes = m.into_bytes();
    if is_ping {
        TMessage::Ping(data)
    } else if is_pong {
        TMessage::Pong(data)
    } else {
        TMessage::Binary(data)
    }
}

fn from_yawc(frame: yawc::frame::Frame) -> Option<WsMessage> {
    use yawc::frame::OpCode;
    let (op, _, payload) = frame.into_parts();
    Some(match op {
        OpCode::Binary => WsMessage::binary(payload),
        // Text is refused by the handshake with its own message; lossy is fine for that.
        OpCode::Text => WsMessage::text(String::from_utf8_lossy(&payload)),
        OpCode::Ping => WsMessage::ping(payload),
        OpCode::Pong => WsMessage::pong(payload),
        OpCode::Close => close_message(&payload),
        // yawc joins fragments before handing a message out.
        OpCode::Continuation => return None,
    })
}

fn to_yawc(m: WsMessage) -> yawc::frame::Frame {
    use yawc::frame::Frame;
    if m.is_close() {
        return match m.close_frame() {
            Some((code, reason)) => Frame::close(yawc::close::CloseCode::from(code), reason),
            None => Frame::close(yawc::close::CloseCode::Normal, b""),
        };
    }
    if m.is_text() {
        return Frame::text(m.to_str().unwrap_or_default().to_owned());
    }
    let is_ping = m.is_ping();
    let is_pong = m.is_pong();
    let data: Bytes = m.into_bytes();
    if is_ping {
        Frame::ping(data)
    } else if is_pong {
        Frame::pong(data)
    } else {
        Frame::binary(data)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for Socket<S> {
    type Item = Result<WsMessage, SocketError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let State::Manual(m) = &this.state
            && !m.done
        {
            return this.poll_manual(cx);
        }
        this.open();
        loop {
            let (is_control, msg) = match &mut this.state {
                State::Open(ws) => {
                    let msg = match ready!(Pin::new(ws.as_mut()).poll_next(cx)) {
                        None => return Poll::Ready(None),
                        Some(Err(e)) => return Poll::Ready(Some(Err(SocketError::Ws(e)))),
                        Some(Ok(m)) => m,
                    };
                    (
                        matches!(msg, TMessage::Ping(_) | TMessage::Pong(_)),
                        from_tungstenite(msg),
                    )
                }
                State::Deflated(ws) => {
                    let frame = match ready!(ws.poll_next_frame(cx)) {
                        Err(e) if e.is_closed() => return Poll::Ready(None),
                        Err(e) => return Poll::Ready(Some(Err(SocketError::Deflate(e)))),
                        Ok(frame) => frame,
                    };
                    if std::mem::take(&mut this.skip_replayed) {
                        continue;
                    }
                    (
                        frame.opcode().is_control()
                            && !frame.opcode().eq(&yawc::frame::OpCode::Close),
                        from_yawc(frame),
                    )
                }
                _ => return Poll::Ready(None),
            };
            if is_control && this.control.check().is_err() {
                return Poll::Ready(Some(Err(SocketError::ControlFlood)));
            }
            if let Some(m) = msg {
                return Poll::Ready(Some(Ok(m)));
            }
        }
    }
}

/// Runs a `Sink` method on whichever library reads the socket.
macro_rules! sink_call {
    ($self:ident, $method:ident $(, $arg:expr)*) => {{
        $self.open();
        match &mut $self.state {
            State::Open(ws) => Pin::new(ws.as_mut()).$method($($arg),*).map_err(SocketError::Ws),
            State::Deflated(ws) => Pin::new(ws.as_mut()).$method($($arg),*).map_err(SocketError::Deflate),
            _ => unreachable!("the socket was just opened"),
        }
    }};
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<WsMessage> for Socket<S> {
    type Error = SocketError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let this = &mut *self;
        sink_call!(this, poll_ready, cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: WsMessage) -> Result<(), Self::Error> {
        let this = &mut *self;
        this.open();
        match &mut this.state {
            State::Open(ws) => Pin::new(ws.as_mut())
                .start_send(to_tungstenite(item))
                .map_err(SocketError::Ws),
            State::Deflated(ws) => Pin::new(ws.as_mut())
                .start_send(to_yawc(item))
                .map_err(SocketError::Deflate),
            _ => unreachable!("the socket was just opened"),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let this = &mut *self;
        sink_call!(this, poll_flush, cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let this = &mut *self;
        sink_call!(this, poll_close, cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{SinkExt, StreamExt};
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    const LIMITS: SocketLimits = SocketLimits {
        hello_bytes: 1024,
        frame_bytes: 64 * 1024,
    };

    fn client_frame(op: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [9, 8, 7, 6];
        let mut out = vec![0x80 | op];
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
        frame_head::unmask(&mut body, mask);
        out.extend(body);
        out
    }

    fn pair() -> (Socket<DuplexStream>, DuplexStream, Admission) {
        let (server, client) = tokio::io::duplex(1 << 20);
        let admission = Admission::detached();
        (
            Socket::new(server, admission.clone(), LIMITS, None),
            client,
            admission,
        )
    }

    #[tokio::test]
    async fn a_small_first_frame_then_large_frames_once_admitted() {
        let (mut socket, mut client, admission) = pair();
        let mut bytes = client_frame(opcode::PING, b"p");
        bytes.extend(client_frame(opcode::BINARY, b"hello"));
        // Sent right behind the Hello, before it is admitted: read past the first frame and
        // kept for tungstenite. Several times the lean read buffer: it grows to the frame.
        let large = READ_BUFFER * 6 + 7;
        bytes.extend(client_frame(opcode::BINARY, &vec![5; large]));
        client.write_all(&bytes).await.expect("write");
        let first = socket.next().await.expect("a frame").expect("ok");
        assert_eq!(first.as_bytes(), b"hello");
        admission.admit();
        let second = socket.next().await.expect("a frame").expect("ok");
        assert_eq!(second.as_bytes().len(), large);
        // Writes go through tungstenite (unmasked server frames).
        socket
            .send(WsMessage::binary(vec![1, 2]))
            .await
            .expect("send");
        let mut head = [0u8; 4];
        client.read_exact(&mut head).await.expect("read");
        assert_eq!(head, [0x82, 0x02, 1, 2]);
    }

    #[tokio::test]
    async fn an_oversized_first_frame_is_refused_from_its_header_and_skipped() {
        let (mut socket, mut client, _admission) = pair();
        let mut bytes = client_frame(opcode::BINARY, &vec![0; 200_000]);
        bytes.extend(client_frame(opcode::CLOSE, &1000u16.to_be_bytes()));
        tokio::spawn(async move {
            let _ = client.write_all(&bytes).await;
            // Keep the client open so the socket is not just at EOF.
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            drop(client);
        });
        match socket.next().await {
            Some(Err(e @ SocketError::FirstFrameTooLarge { len: 200_000, .. })) => {
                assert!(e.to_string().contains("too long"), "{e}");
            }
            other => panic!("expected FirstFrameTooLarge, got {other:?}"),
        }
        // The payload was thrown away: the next frame is the client's close, read by
        // tungstenite with the small limit (the socket was never admitted).
        let next = socket.next().await.expect("a frame").expect("ok");
        assert_eq!(next.close_frame().map(|(c, _)| c), Some(1000));
        if let State::Manual(_) = socket.state {
            panic!("tungstenite reads after the first frame");
        }
    }

    #[tokio::test]
    async fn unadmitted_sockets_keep_the_small_limit_and_floods_end() {
        let (mut socket, mut client, _admission) = pair();
        let mut bytes = client_frame(opcode::BINARY, b"bad hello");
        bytes.extend(client_frame(opcode::BINARY, &vec![1; 2000]));
        client.write_all(&bytes).await.expect("write");
        assert!(socket.next().await.is_some_and(|r| r.is_ok()));
        let err = socket
            .next()
            .await
            .expect("an item")
            .expect_err("over the small limit");
        assert!(err.to_string().contains("too long"), "{err}");

        let (mut socket, mut client, admission) = pair();
        client
            .write_all(&client_frame(opcode::BINARY, b"hello"))
            .await
            .expect("write");
        assert!(socket.next().await.is_some_and(|r| r.is_ok()));
        admission.admit();
        let mut flood = Vec::new();
        for _ in 0..(CONTROL_BURST + 8) {
            flood.extend(client_frame(opcode::PING, b""));
        }
        client.write_all(&flood).await.expect("write");
        let mut pings = 0;
        loop {
            match socket.next().await.expect("an item") {
                Ok(m) if m.is_ping() => pings += 1,
                Err(SocketError::ControlFlood) => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(
            pings <= CONTROL_BURST as usize,
            "{pings} pings before the flood ended"
        );
    }

    #[tokio::test]
    async fn too_many_pings_before_the_hello_end_the_socket() {
        let (mut socket, mut client, _admission) = pair();
        let mut bytes = Vec::new();
        for _ in 0..=CONTROLS_BEFORE_HELLO {
            bytes.extend(client_frame(opcode::PING, b""));
        }
        client.write_all(&bytes).await.expect("write");
        assert!(matches!(
            socket.next().await,
            Some(Err(SocketError::ControlFlood))
        ));
    }
}
