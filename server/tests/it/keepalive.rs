//! WebSocket keepalive: the server pings, and drops a peer that never answers.
//! The client here speaks raw WebSocket over TCP, so nothing answers pings behind our back.

use crate::common::*;
use anyhow::{Context, Result, bail};
use cobrowse_protocol::Role;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn masked_binary(payload: &[u8]) -> Vec<u8> {
    let mask = [0x11u8, 0x22, 0x33, 0x44];
    let mut out = vec![0x82];
    if payload.len() < 126 {
        out.push(0x80 | payload.len() as u8);
    } else {
        out.push(0x80 | 126);
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// Splits unmasked server frames into (opcode, payload).
fn frames(mut buf: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while buf.len() >= 2 {
        let op = buf[0] & 0x0f;
        let (len, head) = match buf[1] & 0x7f {
            126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
            127 if buf.len() >= 10 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&buf[2..10]);
                (u64::from_be_bytes(b) as usize, 10)
            }
            n if n < 126 => (n as usize, 2),
            _ => break,
        };
        if buf.len() < head + len {
            break;
        }
        out.push((op, buf[head..head + len].to_vec()));
        buf = &buf[head + len..];
    }
    out
}

#[tokio::test]
async fn silent_peer_is_pinged_then_dropped() -> Result<()> {
    let server = TestServer::start(|c| c.ping_interval = Duration::from_millis(50)).await?;
    let (token, _, _) = server.create_session().await?;
    let mut s = tokio::net::TcpStream::connect(server.addr).await?;
    s.write_all(
        b"GET /cobrowse/ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await?;
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    if !head.starts_with("HTTP/1.1 101") {
        bail!("upgrade refused: {head}");
    }
    let hello = cobrowse_protocol::encode(&hello(Role::Customer, &token));
    s.write_all(&masked_binary(&hello)).await?;

    // Never answer; the server must give up on us by itself.
    let mut all = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut all))
        .await
        .context("server kept a silent peer open")??;
    let seen = frames(&all);
    let ops: Vec<u8> = seen.iter().map(|(op, _)| *op).collect();
    assert_eq!(ops.first(), Some(&0x2), "Welcome first: {ops:?}");
    assert!(ops.contains(&0x9), "no ping sent: {ops:?}");
    let (op, payload) = seen.last().context("no frames")?;
    assert_eq!(*op, 0x8, "ends with a close frame: {ops:?}");
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1001);
    server.stop().await
}

/// A TCP relay that can black-hole its connections: from then on nothing passes either way and
/// nothing is closed (no FIN, no reset), as when a NAT mapping or a middlebox drops a flow.
struct BlackHole {
    addr: std::net::SocketAddr,
    holed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl BlackHole {
    async fn start(target: std::net::SocketAddr) -> Result<BlackHole> {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let holed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let h = holed.clone();
        tokio::spawn(async move {
            while let Ok((down, _)) = listener.accept().await {
                let Ok(up) = tokio::net::TcpStream::connect(target).await else {
                    continue;
                };
                let (dr, dw) = down.into_split();
                let (ur, uw) = up.into_split();
                for (mut r, mut w) in [(dr, uw), (ur, dw)].map(|(r, w)| (r, w)) {
                    let h = h.clone();
                    tokio::spawn(async move {
                        let mut buf = vec![0u8; 16 * 1024];
                        loop {
                            match r.read(&mut buf).await {
                                Ok(0) | Err(_) if h.load(Ordering::SeqCst) => {
                                    // Hold the other side open: a black hole closes nothing.
                                    std::future::pending::<()>().await;
                                }
                                Ok(0) | Err(_) => return,
                                Ok(_) if h.load(Ordering::SeqCst) => {}
                                Ok(n) => {
                                    if w.write_all(&buf[..n]).await.is_err() {
                                        return;
                                    }
                                }
                            }
                        }
                    });
                }
            }
        });
        Ok(BlackHole { addr, holed })
    }

    fn black_hole(&self) {
        self.holed.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The client's half of a channel "socket" (what the test sends, the proxy reads).
struct ChanStream(tokio::sync::mpsc::UnboundedReceiver<warp::ws::Message>);

impl futures_util::Stream for ChanStream {
    type Item = Result<warp::ws::Message, std::convert::Infallible>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|m| m.map(Ok))
    }
}

/// The other half (what the proxy sends, the test reads).
struct ChanSink(tokio::sync::mpsc::UnboundedSender<warp::ws::Message>);

impl futures_util::Sink<warp::ws::Message> for ChanSink {
    type Error = &'static str;
    fn poll_ready(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn start_send(
        self: std::pin::Pin<&mut Self>,
        item: warp::ws::Message,
    ) -> Result<(), Self::Error> {
        self.0.send(item).map_err(|_| "client gone")
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// The node-to-node hop of a cluster: a node proxies a customer's socket to the session's owner
/// (`cluster::proxy`), and the link between the two nodes goes silent without a reset. Both
/// nodes must notice by their keep-alives: the proxying node closes the client with 1001 (so it
/// reconnects), the owner drops the party (its agent sees the customer leave).
#[tokio::test]
async fn a_black_holed_link_between_nodes_is_noticed_on_both_nodes() -> Result<()> {
    use cobrowse_protocol::{Message, SessionEvent};
    use std::time::Instant;
    use warp::ws::Message as WarpMessage;
    const P: Duration = Duration::from_millis(250);
    let owner = TestServer::start(|c| c.ping_interval = P).await?;
    let (token, _, _) = owner.create_session().await?;
    let hole = BlackHole::start(owner.addr).await?;

    // The proxying node: an app of its own (same ping interval), its client a pair of channels.
    let dir = tempfile::tempdir()?;
    let mut config = test_config(dir.path());
    config.ping_interval = P;
    let store = cobrowse_server::open_store(&config).await?;
    let (app, _writer) = cobrowse_server::app::App::new(config, store);
    let (to_proxy, from_client) = tokio::sync::mpsc::unbounded_channel::<WarpMessage>();
    let (to_client, mut from_proxy) = tokio::sync::mpsc::unbounded_channel::<WarpMessage>();
    let client_rx = ChanStream(from_client);
    let client_tx = ChanSink(to_client);
    let hello_frame = bytes::Bytes::from(cobrowse_protocol::encode(&hello(Role::Customer, &token)));
    let owner_url = format!("http://{}", hole.addr);
    let proxy = tokio::spawn(async move {
        let r = cobrowse_server::cluster::proxy(
            &app,
            &owner_url,
            std::net::IpAddr::from([127, 0, 0, 1]),
            hello_frame,
            client_tx,
            client_rx,
        )
        .await;
        r.is_ok()
    });
    // The client answers the proxying node's pings, as a browser does.
    let mut welcomed = false;
    let to_proxy_pong = to_proxy.clone();
    while !welcomed {
        let m = tokio::time::timeout(WAIT, from_proxy.recv())
            .await?
            .context("proxy ended early")?;
        if m.is_ping() {
            to_proxy_pong.send(WarpMessage::pong(Vec::new()))?;
        } else if m.is_binary() {
            welcomed = matches!(
                cobrowse_protocol::decode(m.as_bytes())?,
                Message::Welcome(_)
            );
        }
    }

    // An agent straight on the owner (after the customer, so it is not told the customer is
    // away on joining), read all along (tungstenite answers pings while reading).
    let mut agent = join(&owner, hello(Role::Agent, &token)).await?;
    let (agent_tx, mut agent_events) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(ev) = next(&mut agent).await {
            let gone = !matches!(ev, Event::Frame(_));
            let _ = agent_tx.send((Instant::now(), ev));
            if gone {
                return;
            }
        }
    });
    let start = Instant::now();
    hole.black_hole();
    let client_closed = loop {
        let m = tokio::time::timeout(WAIT, from_proxy.recv())
            .await
            .context("the proxying node never gave the client up")?
            .context("the proxy dropped the client without a close")?;
        if m.is_ping() {
            to_proxy_pong.send(WarpMessage::pong(Vec::new()))?;
        } else if m.is_close() {
            let (code, reason) = m.close_frame().unwrap_or((0, ""));
            assert_eq!(code, 1001, "{reason}");
            break start.elapsed();
        }
    };
    let owner_noticed = loop {
        let (at, ev) = tokio::time::timeout(WAIT, agent_events.recv())
            .await
            .context("the owner never noticed the silent node")?
            .context("agent socket ended")?;
        if ev == Event::Frame(Message::Session(SessionEvent::CustomerDisconnected)) {
            break at.duration_since(start);
        }
    };
    println!(
        "# half-open node↔node link (pingInterval {P:?}): proxying node gave the client up after \
         {client_closed:?}, the owner dropped the party after {owner_noticed:?}"
    );
    // Documented: noticed within 2–3 intervals (server/README.md "Keepalive"); the slack is for
    // a loaded machine.
    let limit = P * 3 + Duration::from_secs(1);
    assert!(client_closed <= limit, "{client_closed:?}");
    assert!(owner_noticed <= limit, "{owner_noticed:?}");
    assert!(tokio::time::timeout(WAIT, proxy).await??, "the proxy ran");
    drop(to_proxy);
    owner.stop().await
}
