//! Test harness: a real server on 127.0.0.1:0 with its own data and static directories,
//! tokio-tungstenite clients and a small blocking HTTP client (ureq) run off the runtime.

use anyhow::{Context, Result, anyhow, bail};
use cobrowse_protocol::{
    ErrorCode, Hello, LinkHello, LinkWelcome, Message, NavKind, Navigation, NodeData, NodeRecord,
    Role, Sequenced, Snapshot, Viewport, decode, encode,
};
use cobrowse_server::Config;
use cobrowse_server::config::StorageConfig;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any single awaited event may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// The agent token every test server is configured with ([`test_config`]); tests of the
/// generated token and of JWTs configure their own.
pub const TEST_AGENT_TOKEN: &str = "test-agent-token-0123456789";

/// The header an agent's REST call carries ([`TEST_AGENT_TOKEN`]).
pub const AGENT_AUTH: (&str, &str) = ("Authorization", "Bearer test-agent-token-0123456789");

/// Customer secrets of the sessions [`TestServer::create_session`] made, by session number, so
/// [`hello`] can introduce a customer the way its client does. Numbers are random, so sessions
/// of tests running side by side do not meet here.
static CUSTOMER_SECRETS: std::sync::Mutex<Vec<(String, String)>> =
    std::sync::Mutex::new(Vec::new());

/// The customer secret `create_session` got for session `token`, if it made one.
pub fn customer_secret(token: &str) -> Option<String> {
    CUSTOMER_SECRETS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .rev()
        .find(|(t, _)| t == token)
        .map(|(_, s)| s.clone())
}

/// Remembers the customer secret of a created session (for [`hello`]).
pub fn remember_customer_secret(created: &serde_json::Value) {
    if let (Some(t), Some(s)) = (
        created["token"].as_str(),
        created["customerSecret"].as_str(),
    ) {
        CUSTOMER_SECRETS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((t.to_string(), s.to_string()));
    }
}

/// A running server.
pub struct TestServer {
    pub addr: SocketAddr,
    /// The internal metrics listener (`metrics.listen`).
    pub metrics_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<Result<(), cobrowse_server::ServerError>>>,
    _tmp: Option<tempfile::TempDir>,
}

/// A config for tests: fixtures as static root, a temp data dir, generous limits (every test
/// talks from 127.0.0.1; the limit tests set their own).
pub fn test_config(dir: &Path) -> Config {
    Config {
        static_dir: dir.join("www"),
        storage: StorageConfig::Embedded {
            data_dir: dir.join("data"),
        },
        node_name: "test-node".into(),
        auth: cobrowse_server::config::AuthConfig {
            agent_token: Some(TEST_AGENT_TOKEN.into()),
            ..Default::default()
        },
        lookups_per_minute: 10_000,
        lookup_burst: 10_000,
        creates_per_minute: 10_000,
        create_burst: 10_000,
        connections_per_address: 10_000,
        pending_connections_per_address: 10_000,
        shutdown_grace: Duration::from_secs(3),
        ..Config::default()
    }
}

fn write_fixtures(www: &Path) -> Result<()> {
    std::fs::create_dir_all(www.join("js/agent"))?;
    std::fs::create_dir_all(www.join("js/client"))?;
    std::fs::create_dir_all(www.join("locales/customer"))?;
    std::fs::create_dir_all(www.join("demo"))?;
    std::fs::write(
        www.join("slave.html"),
        "<!doctype html><title>agent</title>",
    )?;
    std::fs::write(www.join("js/cobrowse.js"), "export const x = 1;\n")?;
    std::fs::write(
        www.join("js/agent/cobrowse_agent_bg.wasm"),
        b"\0asm\x01\0\0\0",
    )?;
    std::fs::write(
        www.join("js/client/cobrowse_client.js"),
        "export default function init() {}\n",
    )?;
    std::fs::write(
        www.join("js/client/cobrowse_client_bg.wasm"),
        b"\0asm\x01\0\0\0",
    )?;
    std::fs::write(
        www.join("locales/customer/en.json"),
        r#"{"button":"Co-browse"}"#,
    )?;
    std::fs::write(
        www.join("demo/index.html"),
        "<!doctype html><title>demo</title>",
    )?;
    std::fs::write(
        www.parent().context("parent")?.join("secret.txt"),
        "TOP-SECRET-OUTSIDE-STATIC-ROOT",
    )?;
    Ok(())
}

impl TestServer {
    /// Starts a server with fixtures in a fresh temp dir; `tweak` adjusts the config.
    pub async fn start(tweak: impl FnOnce(&mut Config)) -> Result<TestServer> {
        let tmp = tempfile::tempdir()?;
        let path = tmp.path().to_path_buf();
        let mut s = TestServer::start_in(&path, tweak).await?;
        s._tmp = Some(tmp);
        Ok(s)
    }

    /// Starts a server over an existing directory (for restart tests).
    pub async fn start_in(dir: &Path, tweak: impl FnOnce(&mut Config)) -> Result<TestServer> {
        // `RUST_LOG=cobrowse_server=debug cargo test …` shows the server's logs.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        write_fixtures(&dir.join("www"))?;
        let mut config = test_config(dir);
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let metrics_addr = metrics.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(cobrowse_server::run_with(
            listener,
            Some(metrics),
            config,
            async move {
                let _ = rx.await;
            },
        ));
        Ok(TestServer {
            addr,
            metrics_addr,
            shutdown: Some(tx),
            handle: Some(handle),
            _tmp: None,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Triggers shutdown without waiting.
    pub fn trigger_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Shuts down and waits for `run` to return.
    pub async fn stop(mut self) -> Result<()> {
        self.trigger_shutdown();
        if let Some(h) = self.handle.take() {
            tokio::time::timeout(WAIT, h)
                .await
                .context("server did not stop in time")???;
        }
        Ok(())
    }

    /// Creates a session over REST; returns (token, history id, full JSON).
    pub async fn create_session(&self) -> Result<(String, String, serde_json::Value)> {
        let r = http(
            "POST",
            &self.url("/cobrowse/rest/live/sessions"),
            &[("Content-Type", "application/json")],
            Some(r#"{"url":"https://shop.example/start"}"#),
        )
        .await?;
        if r.status != 201 {
            bail!("create answered {}: {}", r.status, r.body);
        }
        let v: serde_json::Value = serde_json::from_str(&r.body)?;
        remember_customer_secret(&v);
        Ok((
            v["token"].as_str().context("token")?.to_string(),
            v["historyId"].as_str().context("historyId")?.to_string(),
            v,
        ))
    }

    /// The Prometheus text from the internal metrics listener.
    pub async fn metrics(&self) -> Result<String> {
        let url = format!("http://{}/metrics", self.metrics_addr);
        Ok(http("GET", &url, &[], None).await?.body)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.trigger_shutdown();
    }
}

/// A blocking HTTP answer.
#[derive(Debug)]
pub struct HttpAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpAnswer {
    /// Every value of header `name`, in order (`Vary` may come as several lines).
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.body).with_context(|| format!("not JSON: {}", self.body))
    }
}

/// One HTTP request with ureq on the blocking pool (no redirects followed).
pub async fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<HttpAnswer> {
    let method = method.to_string();
    let url = url.to_string();
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let body = body.map(str::to_string);
    tokio::task::spawn_blocking(move || -> Result<HttpAnswer> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let mut req = ureq::http::Request::builder()
            .method(method.as_str())
            .uri(&url);
        for (k, v) in &headers {
            req = req.header(k, v);
        }
        let req = req.body(body.unwrap_or_default())?;
        let mut resp = agent.run(req)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        Ok(HttpAnswer {
            status,
            headers,
            body,
        })
    })
    .await?
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What a client saw next.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Frame(Message),
    Close(u16, String),
    /// The stream ended without a close frame.
    Gone,
}

/// Opens a WebSocket, optionally with an `Origin` header.
pub async fn connect(server: &TestServer, origin: Option<&str>) -> Result<Ws> {
    let mut req = format!("ws://{}/cobrowse/ws", server.addr).into_client_request()?;
    if let Some(o) = origin {
        req.headers_mut().insert("Origin", o.parse()?);
    }
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
    Ok(ws)
}

/// Opens a WebSocket whose receive buffer is tiny, so a client that does not read makes the
/// server's writer block quickly (slow-agent tests).
pub async fn connect_small_buffer(server: &TestServer) -> Result<Ws> {
    let sock = tokio::net::TcpSocket::new_v4()?;
    sock.set_recv_buffer_size(4096)?;
    let stream = sock.connect(server.addr).await?;
    let req = format!("ws://{}/cobrowse/ws", server.addr).into_client_request()?;
    let (ws, _) = tokio_tungstenite::client_async(req, MaybeTlsStream::Plain(stream)).await?;
    Ok(ws)
}

pub async fn send(ws: &mut Ws, msg: &Message) -> Result<()> {
    ws.send(WsMessage::binary(encode(msg))).await?;
    Ok(())
}

pub async fn send_raw(ws: &mut Ws, bytes: Vec<u8>) -> Result<()> {
    ws.send(WsMessage::binary(bytes)).await?;
    Ok(())
}

/// The next protocol frame or close, skipping WebSocket pings and `Roster` frames. The roster
/// follows every agent's join and leave; only `several_agents` and `cluster_agents` are about
/// it, and they read it with [`next_with_rosters`] (or [`roster`]).
pub async fn next(ws: &mut Ws) -> Result<Event> {
    loop {
        match next_with_rosters(ws).await? {
            Event::Frame(Message::Roster(_)) => continue,
            other => return Ok(other),
        }
    }
}

/// The next protocol frame or close, skipping WebSocket pings only.
pub async fn next_with_rosters(ws: &mut Ws) -> Result<Event> {
    loop {
        let item = tokio::time::timeout(WAIT, ws.next())
            .await
            .map_err(|_| anyhow!("no frame within {WAIT:?}"))?;
        match item {
            None => return Ok(Event::Gone),
            Some(Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed)) => {
                return Ok(Event::Gone);
            }
            Some(Err(tungstenite::Error::Protocol(_) | tungstenite::Error::Io(_))) => {
                return Ok(Event::Gone);
            }
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(WsMessage::Binary(b))) => return Ok(Event::Frame(decode(&b)?)),
            Some(Ok(WsMessage::Close(f))) => {
                // Send tungstenite's queued close reply now, as a browser does at once.
                let _ = ws.flush().await;
                return Ok(match f {
                    Some(f) => Event::Close(u16::from(f.code), f.reason.to_string()),
                    None => Event::Close(u16::from(CloseCode::Status), String::new()),
                });
            }
            Some(Ok(_)) => continue,
        }
    }
}

/// The next protocol frame; fails on close.
pub async fn frame(ws: &mut Ws) -> Result<Message> {
    match next(ws).await? {
        Event::Frame(m) => Ok(m),
        other => bail!("expected a frame, got {other:?}"),
    }
}

/// Skips frames until `pred` matches; fails on close.
pub async fn until(ws: &mut Ws, mut pred: impl FnMut(&Message) -> bool) -> Result<Message> {
    loop {
        let m = frame(ws).await?;
        if pred(&m) {
            return Ok(m);
        }
    }
}

/// Reads until close; returns (code, reason) and the frames seen before it.
pub async fn until_close(ws: &mut Ws) -> Result<(u16, String, Vec<Message>)> {
    let mut seen = Vec::new();
    loop {
        match next(ws).await? {
            Event::Frame(m) => seen.push(m),
            Event::Close(c, r) => return Ok((c, r, seen)),
            Event::Gone => bail!("stream ended without a close frame; saw {seen:?}"),
        }
    }
}

/// Asserts the connection is refused with `code` in an `Error` frame and close code `close`.
pub async fn expect_refusal(ws: &mut Ws, code: ErrorCode, close: u16) -> Result<String> {
    let (c, reason, seen) = until_close(ws).await?;
    let err = seen.iter().find_map(|m| match m {
        Message::Error(e) => Some(e.clone()),
        _ => None,
    });
    let err =
        err.with_context(|| format!("no Error frame before close {c} {reason:?}: {seen:?}"))?;
    if err.code != code || c != close {
        bail!(
            "expected {code:?}/{close}, got {:?}/{c} ({reason})",
            err.code
        );
    }
    Ok(reason)
}

/// The `Hello` the rightful party sends: a customer's carries the secret [`TestServer::create_session`]
/// got for `token`, an agent's or controller's the [`TEST_AGENT_TOKEN`]. Attack tests build
/// theirs with [`hello_with`].
pub fn hello(role: Role, token: &str) -> Message {
    let auth = match role {
        Role::Customer => customer_secret(token),
        Role::Agent | Role::Controller => Some(TEST_AGENT_TOKEN.to_string()),
    };
    hello_with(role, token, auth.as_deref())
}

/// A `Hello` presenting exactly `auth`.
pub fn hello_with(role: Role, token: &str, auth: Option<&str>) -> Message {
    Message::Hello(Hello {
        role,
        token: token.to_string(),
        auth: auth.map(str::to_string),
        agent_id: None,
        resume_from: None,
        client: "server-tests".into(),
        link: None,
        observe: false,
    })
}

pub fn agent_hello(token: &str, agent_id: &str) -> Message {
    Message::Hello(Hello {
        role: Role::Agent,
        token: token.to_string(),
        auth: Some(TEST_AGENT_TOKEN.to_string()),
        agent_id: Some(agent_id.to_string()),
        resume_from: None,
        client: "server-tests".into(),
        link: None,
        observe: false,
    })
}

/// An agent's `Hello` with `observe` set: it joins to watch.
pub fn observer_hello(token: &str, agent_id: &str) -> Message {
    match agent_hello(token, agent_id) {
        Message::Hello(h) => Message::Hello(Hello { observe: true, ..h }),
        other => other,
    }
}

/// Reads until a `Roster` for which `pred` holds (other frames are skipped); fails on close.
pub async fn roster(
    ws: &mut Ws,
    mut pred: impl FnMut(&cobrowse_protocol::Roster) -> bool,
) -> Result<cobrowse_protocol::Roster> {
    loop {
        match next_with_rosters(ws).await? {
            Event::Frame(Message::Roster(r)) if pred(&r) => return Ok(r),
            Event::Frame(_) => continue,
            other => bail!("expected a roster, got {other:?}"),
        }
    }
}

/// Connects and completes the handshake; returns the socket after `Welcome`.
pub async fn join(server: &TestServer, msg: Message) -> Result<Ws> {
    let mut ws = connect(server, None).await?;
    send(&mut ws, &msg).await?;
    match frame(&mut ws).await? {
        Message::Welcome(_) => Ok(ws),
        other => bail!("expected Welcome, got {other:?}"),
    }
}

/// A small valid snapshot whose single text node carries `marker`.
pub fn snapshot(marker: &str) -> Message {
    Message::Snapshot(Box::new(Snapshot {
        names: Default::default(),
        first_id: 1,
        nodes: vec![
            NodeRecord::new(
                NodeData::Document {
                    url: "https://shop.example/".into(),
                },
                1,
            ),
            NodeRecord::new(NodeData::Text(marker.to_string()), 0),
        ],
        form: vec![],
        scroll: vec![],
        viewport: Viewport {
            width: 1280,
            height: 800,
            dpr_centi: 100,
        },
        sheets: vec![],
    }))
}

/// A page-state delta that is easy to number: the customer moved to `/p/{n}`.
pub fn nav(n: usize, title: &str) -> Message {
    Message::Navigation(Navigation {
        url: format!("https://shop.example/p/{n}"),
        title: title.to_string(),
        kind: NavKind::Push,
    })
}

/// The page number of a [`nav`] message.
pub fn nav_index(m: &Message) -> Option<usize> {
    match m {
        Message::Navigation(n) => n.url.rsplit('/').next()?.parse().ok(),
        _ => None,
    }
}

/// The marker of a [`snapshot`] message.
pub fn snapshot_marker(m: &Message) -> Option<String> {
    match m {
        Message::Snapshot(s) => s.nodes.iter().find_map(|n| match &n.data {
            NodeData::Text(t) => Some(t.clone()),
            _ => None,
        }),
        _ => None,
    }
}

/// Reads a metric's value from the exposition text.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Round-trips a protocol ping, so every frame this client sent before has been processed.
pub async fn sync(ws: &mut Ws) -> Result<()> {
    let n = rand_u64();
    send(ws, &Message::Ping(n)).await?;
    until(ws, |m| *m == Message::Pong(n)).await?;
    Ok(())
}

fn rand_u64() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1000);
    N.fetch_add(1, Ordering::Relaxed)
}

// ---- links: clients that number and unwrap frames by hand, as the browser clients do ----

/// A `Hello` that speaks sequencing: `link` 0 is a new link.
pub fn linked_hello(role: Role, token: &str, link: u64, replay: bool, resume_from: u64) -> Message {
    let Message::Hello(mut h) = hello(role, token) else {
        unreachable!("hello() builds a Hello")
    };
    h.link = Some(LinkHello { id: link, replay });
    h.resume_from = (resume_from > 0).then_some(resume_from);
    Message::Hello(Hello { ..h })
}

/// Connects with a linked `Hello`; returns the socket and the server's side of the link.
pub async fn join_linked(
    server: &TestServer,
    role: Role,
    token: &str,
    link: u64,
    replay: bool,
    resume_from: u64,
) -> Result<(Ws, LinkWelcome)> {
    let mut ws = connect(server, None).await?;
    send(
        &mut ws,
        &linked_hello(role, token, link, replay, resume_from),
    )
    .await?;
    match frame(&mut ws).await? {
        Message::Welcome(w) => Ok((ws, w.link.context("Welcome without a link")?)),
        other => bail!("expected Welcome, got {other:?}"),
    }
}

/// Sends `msg` as frame `seq` of the link.
pub async fn send_seq(ws: &mut Ws, seq: u64, msg: &Message) -> Result<()> {
    send(
        ws,
        &Message::Seq(Sequenced {
            seq,
            frame: encode(msg),
        }),
    )
    .await
}

/// The next sequenced frame (number and decoded inner message), skipping plain ones (`Ack`,
/// `Pong`).
pub async fn next_seq(ws: &mut Ws) -> Result<(u64, Message)> {
    loop {
        if let Message::Seq(s) = frame(ws).await? {
            return Ok((s.seq, cobrowse_protocol::decode(&s.frame)?));
        }
    }
}

/// Sequenced frames until one matches `pred`.
pub async fn seq_until(
    ws: &mut Ws,
    mut pred: impl FnMut(&Message) -> bool,
) -> Result<(u64, Message)> {
    loop {
        let (n, m) = next_seq(ws).await?;
        if pred(&m) {
            return Ok((n, m));
        }
    }
}

/// Every sequenced frame that arrives until the socket stays quiet for `quiet`.
pub async fn drain_seq(ws: &mut Ws, quiet: Duration) -> Result<Vec<(u64, Message)>> {
    let mut got = Vec::new();
    while let Ok(m) = tokio::time::timeout(quiet, frame(ws)).await {
        if let Message::Seq(s) = m? {
            got.push((s.seq, cobrowse_protocol::decode(&s.frame)?));
        }
    }
    Ok(got)
}
