//! permessage-deflate on the relay's sockets, with yawc as the client (it compresses the way a
//! browser does: raw deflate, context kept across messages unless agreed otherwise). Bytes are
//! counted on the TCP connection itself, so "compressed" means fewer bytes on the wire, not a
//! header that says so.

use crate::common::*;
use anyhow::{Context as _, Result, bail};
use cobrowse_protocol::{ErrorCode, Message, Role, decode, encode, rest};
use futures_util::SinkExt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use yawc::{Frame, OpCode, Options};

/// A TCP connection that counts the bytes it carries each way.
struct Counted {
    io: TcpStream,
    read: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        r
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            self.written.fetch_add(n as u64, Ordering::Relaxed);
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

struct Client {
    ws: yawc::WebSocket<Counted>,
    read: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
}

impl Client {
    /// Connects offering permessage-deflate the way browsers do (context kept both ways).
    async fn connect(server: &TestServer) -> Result<Client> {
        Client::connect_to(&server.addr.to_string(), false).await
    }

    /// `agent`: the URL carries the agent page's hint (`rest::WS_AGENT_HINT`), as the agent
    /// page's does.
    async fn connect_to(addr: &str, agent: bool) -> Result<Client> {
        let read = Arc::new(AtomicU64::new(0));
        let written = Arc::new(AtomicU64::new(0));
        let io = Counted {
            io: TcpStream::connect(addr).await?,
            read: read.clone(),
            written: written.clone(),
        };
        let mut url = format!("ws://{addr}{}", rest::WS_PATH);
        if agent {
            url = rest::agent_ws_url(&url);
        }
        let url = url::Url::parse(&url)?;
        let options = Options::default().with_low_latency_compression();
        let ws = yawc::WebSocket::handshake(url, io, options).await?;
        Ok(Client { ws, read, written })
    }

    async fn send(&mut self, m: &Message) -> Result<()> {
        self.ws.send(Frame::binary(encode(m))).await?;
        Ok(())
    }

    /// The next protocol frame (rosters and pings skipped), or the close code and reason.
    async fn next(&mut self) -> Result<Result<Message, (u16, String)>> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next_frame())
                .await
                .context("no frame in time")??;
            match frame.opcode() {
                OpCode::Binary => match decode(frame.payload())? {
                    Message::Roster(_) => continue,
                    m => return Ok(Ok(m)),
                },
                OpCode::Close => {
                    let code = frame.close_code().map_or(1005, u16::from);
                    let reason = frame.close_reason()?.unwrap_or_default().to_owned();
                    return Ok(Err((code, reason)));
                }
                _ => continue,
            }
        }
    }

    async fn until(&mut self, mut pred: impl FnMut(&Message) -> bool) -> Result<Message> {
        loop {
            match self.next().await? {
                Ok(m) if pred(&m) => return Ok(m),
                Ok(_) => continue,
                Err(close) => bail!("closed {close:?} while waiting"),
            }
        }
    }

    /// Reads up to the close: the `Error` frame before it and the close code.
    async fn refusal(&mut self) -> Result<(Option<ErrorCode>, u16, String)> {
        let mut code = None;
        loop {
            match self.next().await? {
                Ok(Message::Error(e)) => code = Some(e.code),
                Ok(_) => continue,
                Err((close, reason)) => return Ok((code, close, reason)),
            }
        }
    }

    async fn join(server: &TestServer, hello: Message) -> Result<Client> {
        Client::join_at(&server.addr.to_string(), hello).await
    }

    async fn join_at(addr: &str, hello: Message) -> Result<Client> {
        let agent = matches!(&hello, Message::Hello(h) if h.role == Role::Agent);
        let mut c = Client::connect_to(addr, agent).await?;
        c.send(&hello).await?;
        c.until(|m| matches!(m, Message::Welcome(_))).await?;
        Ok(c)
    }
}

/// A customer and an agent, both compressing, on one session; the customer's first snapshot
/// repeats its `Hello`'s secret, so it can only be inflated by a server whose inflater saw the
/// `Hello` (read by hand before admission, then handed to yawc).
async fn pair(server: &TestServer, text: &str) -> Result<(Client, Client, usize)> {
    let (token, _, _) = server.create_session().await?;
    let secret = customer_secret(&token).context("secret")?;
    let mut customer = Client::join(server, hello(Role::Customer, &token)).await?;
    let snap = snapshot(&format!("{secret} {secret} {text}"));
    let raw = encode(&snap).len();
    customer.send(&snap).await?;
    let mut agent = Client::join(server, agent_hello(&token, "agent-deflate")).await?;
    let got = agent.until(|m| snapshot_marker(m).is_some()).await?;
    assert_eq!(got, snap, "the agent gets the customer's snapshot intact");
    Ok((customer, agent, raw))
}

#[tokio::test]
async fn browsers_compress_uploads_with_context_and_the_server_compresses_large_frames()
-> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let text = "<tr class=\"row\"><td>Blue mug</td><td>12.00</td></tr>".repeat(2000);
    let (mut customer, mut agent, raw) = pair(&server, &text).await?;
    let up = customer.written.load(Ordering::Relaxed) as usize;
    let down = agent.read.load(Ordering::Relaxed) as usize;
    let text = server.metrics().await?;
    let deflate = r#"cobrowse_websocket_upgrades_total{compression="deflate"}"#;
    assert_eq!(
        metric(&text, deflate),
        Some(2.0),
        "both sockets compress:\n{text}"
    );
    assert!(
        up * 10 < raw,
        "customer sent {up} bytes for a {raw}-byte snapshot (and its Hello): not compressed"
    );
    assert!(
        down * 10 < raw,
        "agent read {down} bytes for a {raw}-byte snapshot: the server did not compress"
    );

    // Small deltas compress against the ones before (the client's context is kept): 200
    // navigations of near-identical text cost a fraction of their size.
    let before = customer.written.load(Ordering::Relaxed) as usize;
    let mut raw_deltas = 0;
    for n in 0..200 {
        let m = nav(
            n,
            &format!("Blue mug {n}, large, dishwasher-safe stoneware {}", n * 7),
        );
        raw_deltas += encode(&m).len();
        customer.send(&m).await?;
        let got = agent.until(|m| nav_index(m).is_some()).await?;
        assert_eq!(got, m, "delta {n} arrives intact");
    }
    let deltas = customer.written.load(Ordering::Relaxed) as usize - before;
    // Each frame still carries a 6-byte masked header.
    assert!(
        deltas * 2 < raw_deltas + 6 * 200,
        "{deltas} bytes on the wire for {raw_deltas} bytes of deltas"
    );
    server.stop().await
}

#[tokio::test]
async fn compression_off_by_configuration_answers_no_offer() -> Result<()> {
    let server = TestServer::start(|c| c.websocket_compression = false).await?;
    let (customer, _agent, raw) = pair(&server, &"x".repeat(20_000)).await?;
    let up = customer.written.load(Ordering::Relaxed) as usize;
    assert!(
        up >= raw,
        "customer sent {up} bytes for {raw}: compressed though off"
    );
    server.stop().await
}

#[tokio::test]
async fn inflation_bombs_are_refused_as_too_large_and_others_continue() -> Result<()> {
    const MAX: usize = 64 * 1024;
    let server = TestServer::start(|c| c.limits.max_frame_bytes = MAX).await?;
    let (mut customer, mut agent, _) = pair(&server, "bystander").await?;

    // Before the Hello: a first frame of a few KiB that inflates to 8 MiB.
    let mut bomb = Client::connect(&server).await?;
    let zeros = vec![0u8; 8 << 20];
    bomb.ws.send(Frame::binary(zeros.clone())).await?;
    let sent = bomb.written.load(Ordering::Relaxed);
    assert!(sent < 64 * 1024, "the bomb took {sent} bytes on the wire");
    let (code, close, reason) = bomb.refusal().await?;
    assert_eq!((code, close), (Some(ErrorCode::TooLarge), 1009), "{reason}");

    // After admission: the same bomb from a customer the server already let in.
    let (token, _, _) = server.create_session().await?;
    let mut admitted = Client::join(&server, hello(Role::Customer, &token)).await?;
    admitted.ws.send(Frame::binary(zeros)).await?;
    let (_, close, reason) = admitted.refusal().await?;
    assert_eq!(close, 1009, "{reason}");

    // The bystanders' session still relays.
    customer.send(&nav(7, "still here")).await?;
    let got = agent.until(|m| nav_index(m).is_some()).await?;
    assert_eq!(nav_index(&got), Some(7));
    server.stop().await
}

/// A client that offers nothing still gets a plain socket (every other test here uses one).
#[tokio::test]
async fn clients_without_an_offer_are_served_uncompressed() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let req = format!("ws://{}/cobrowse/ws", server.addr);
    let (_ws, resp) = tokio_tungstenite::connect_async(req).await?;
    assert!(
        resp.headers().get("sec-websocket-extensions").is_none(),
        "{:?}",
        resp.headers()
    );
    server.stop().await
}

/// Sessions on the real server binary (a process of its own, so its resident set is the
/// server's alone): a compressing customer that sends a page and deltas, a compressing agent that
/// receives them. Returns the server's resident-set growth per session.
async fn rss_per_session(compression: bool, sessions: usize) -> Result<u64> {
    let agent_token = format!("auth.agentToken={TEST_AGENT_TOKEN}");
    let switch = format!("network.websocketCompression={compression}");
    let server = crate::memory::spawn(&[
        &agent_token,
        &switch,
        "limits.connectionsPerAddress=1000",
        "limits.createBurst=1000",
        "limits.createsPerMinute=100000",
        "limits.lookupBurst=1000",
        "limits.lookupsPerMinute=100000",
    ])?;
    let pid = server.child.id();
    let addr = server.addr.clone();
    let page = "<li class=\"product\"><span>Trail shoe</span><b>89.00</b></li>".repeat(300);
    let mut open = Vec::new();
    let mut before = 0;
    // One session first, so the runtime, the pools and the allocator's arenas exist already.
    for n in 0..=sessions {
        if n == 1 {
            before = crate::memory::status_bytes(pid, "VmRSS:")?;
        }
        let created = http(
            "POST",
            &format!("http://{addr}/cobrowse/rest/live/sessions"),
            &[],
            Some("{}"),
        )
        .await?
        .json()?;
        remember_customer_secret(&created);
        let token = created["token"].as_str().context("token")?.to_string();
        let mut customer = Client::join_at(&addr, hello(Role::Customer, &token)).await?;
        customer.send(&snapshot(&format!("{n} {page}"))).await?;
        for i in 0..20 {
            customer
                .send(&nav(i, "Trail shoe, size 42, in stock"))
                .await?;
        }
        let mut agent = Client::join_at(&addr, agent_hello(&token, &format!("agent-{n}"))).await?;
        agent.until(|m| nav_index(m) == Some(19)).await?;
        open.push((customer, agent));
    }
    let after = crate::memory::status_bytes(pid, "VmRSS:")?;
    Ok(after.saturating_sub(before) / sessions as u64)
}

/// What compression costs the server per session: the customer's inflate window (its socket
/// keeps the context the browser compresses against); nothing for the agent's socket (its page
/// asks for no client context: its frames are inflated with pooled state) nor for what the server
/// writes (borrowed from the pool per frame). A compressor kept per socket would cost ~300 KiB.
#[tokio::test]
async fn compressed_sessions_cost_one_inflate_window() -> Result<()> {
    const SESSIONS: usize = 150;
    let plain = rss_per_session(false, SESSIONS).await?;
    let deflate = rss_per_session(true, SESSIONS).await?;
    let extra = deflate.saturating_sub(plain);
    println!(
        "server RSS per session ({SESSIONS} sessions, both parties sending): plain {} KiB, \
         compressed {} KiB: +{} KiB",
        plain / 1024,
        deflate / 1024,
        extra / 1024
    );
    assert!(
        extra < 64 * 1024,
        "compression costs {} KiB a session: more than the customer's inflate window",
        extra / 1024
    );
    Ok(())
}
