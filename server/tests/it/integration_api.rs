//! The integration API for agent desktops over real HTTP: a session's event stream read as a
//! `text/event-stream` by a real client, the agent's stream, tickets for `EventSource`, the
//! binary controller's activation time, and webhooks received by a real local HTTP server that
//! checks the signature and answers the first attempt with a 500.
//!
//! The latency lines (`latency: …`) are figures for the report, not assertions.

use crate::common::*;
use anyhow::{Context, Result, bail};
use cobrowse_protocol::rest::{DesktopEvent, DesktopEventKind};
use cobrowse_protocol::{ControllerEventKind, Message, ModeChange, Role, SessionState};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One thing an event stream said.
#[derive(Debug, Clone, PartialEq)]
enum Sse {
    Data(DesktopEvent),
    Named(String, String),
    Comment(String),
}

/// A real HTTP client reading an event stream as it arrives.
struct SseReader {
    resp: reqwest::Response,
    buf: String,
}

impl SseReader {
    async fn open(url: &str, auth: Option<&str>) -> Result<SseReader> {
        let mut req = reqwest::Client::new().get(url);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let resp = req.send().await?;
        if resp.status() != 200 {
            bail!("stream answered {}: {}", resp.status(), resp.text().await?);
        }
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !ct.starts_with("text/event-stream") {
            bail!("content type {ct}");
        }
        Ok(SseReader {
            resp,
            buf: String::new(),
        })
    }

    /// The next block (`None`: the stream ended).
    async fn next(&mut self) -> Result<Option<Sse>> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut name = None;
                let mut data = None;
                for line in block.lines() {
                    if let Some(c) = line.strip_prefix(':') {
                        return Ok(Some(Sse::Comment(c.trim().to_string())));
                    }
                    let (k, v) = line.split_once(':').unwrap_or((line, ""));
                    match k {
                        "event" => name = Some(v.trim().to_string()),
                        "data" => data = Some(v.trim_start().to_string()),
                        _ => {}
                    }
                }
                let data = data.unwrap_or_default();
                return Ok(Some(match name {
                    Some(n) => Sse::Named(n, data),
                    None => Sse::Data(serde_json::from_str(&data).with_context(|| data.clone())?),
                }));
            }
            match tokio::time::timeout(WAIT, self.resp.chunk()).await?? {
                Some(bytes) => self.buf.push_str(std::str::from_utf8(&bytes)?),
                None => return Ok(None),
            }
        }
    }

    /// The next event, skipping keep-alive comments.
    async fn event(&mut self) -> Result<DesktopEvent> {
        loop {
            match self.next().await? {
                Some(Sse::Data(e)) => return Ok(e),
                Some(Sse::Comment(_)) => {}
                other => bail!("expected an event, got {other:?}"),
            }
        }
    }
}

fn events_url(server: &TestServer, token: &str) -> String {
    server.url(&format!("/cobrowse/rest/live/sessions/{token}/events"))
}

#[tokio::test]
async fn a_session_stream_tells_join_activation_mode_and_end_with_the_real_activation_time()
-> Result<()> {
    let server = TestServer::start(|c| c.events.keepalive = Duration::from_secs(1)).await?;
    let (token, history_id, _) = server.create_session().await?;
    let mut stream = SseReader::open(&events_url(&server, &token), Some(AGENT_AUTH.1)).await?;
    let first = stream.event().await?;
    assert_eq!(first.kind, DesktopEventKind::State);
    assert_eq!(
        (first.state, first.activated_at, first.history_id.as_str()),
        (SessionState::Idle, None, history_id.as_str())
    );
    // An idle stream is kept open with comments.
    assert_eq!(
        stream.next().await?,
        Some(Sse::Comment("keep-alive".into()))
    );

    let mut customer = join(&server, hello(Role::Customer, &token)).await?;
    let sent = Instant::now();
    let mut agent = join(&server, agent_hello(&token, "alice")).await?;
    let joined = stream.event().await?;
    println!(
        "latency: agent Hello → SSE `join` received: {:?}",
        sent.elapsed()
    );
    assert_eq!(joined.kind, DesktopEventKind::Join);
    assert_eq!(
        (joined.agent_id.as_deref(), joined.agents),
        (Some("alice"), 1)
    );
    let activated = stream.event().await?;
    assert_eq!(activated.kind, DesktopEventKind::Activated);
    assert_eq!(activated.state, SessionState::Active);
    assert_eq!(activated.agent_id.as_deref(), Some("alice"));
    let at = activated.activated_at.context("activatedAt")?;
    assert!(at >= activated.created_at);
    // The join that activated the session already tells the state it left behind.
    assert_eq!(
        (joined.state, joined.activated_at),
        (SessionState::Active, Some(at))
    );

    // The lookup and a binary controller agree on the activation time (not the creation).
    let lookup = http(
        "GET",
        &server.url(&format!("/cobrowse/rest/live/sessions/{token}")),
        &[AGENT_AUTH],
        None,
    )
    .await?
    .json()?;
    assert_eq!(lookup["activatedAt"], at);
    let mut controller = join(&server, hello(Role::Controller, &token)).await?;
    for kind in [ControllerEventKind::Join, ControllerEventKind::Activated] {
        match frame(&mut controller).await? {
            Message::Controller(e) => {
                assert_eq!(e.kind, kind);
                assert_eq!(e.started_at_ms, activated.created_at);
                assert_eq!(e.activated_at_ms, Some(at));
                assert_eq!(e.agent_id.as_deref(), Some("alice"));
            }
            other => bail!("expected a controller event, got {other:?}"),
        }
    }

    // Write mode granted, then the agent goes: deactivated, and write mode ends with it.
    send(&mut agent, &Message::Mode(ModeChange::Request)).await?;
    until(&mut customer, |m| {
        matches!(m, Message::Mode(ModeChange::Request))
    })
    .await?;
    send(&mut customer, &Message::Mode(ModeChange::Granted)).await?;
    let mode = stream.event().await?;
    assert_eq!(
        (mode.kind, mode.mode.to_string_code()),
        (DesktopEventKind::Mode, "write")
    );
    drop(agent);
    let gone = stream.event().await?;
    assert_eq!(
        (gone.kind, gone.agents, gone.agent_id.as_deref()),
        (DesktopEventKind::Deactivated, 0, Some("alice"))
    );
    let back = stream.event().await?;
    assert_eq!(
        (back.kind, back.mode.to_string_code()),
        (DesktopEventKind::Mode, "pointer")
    );

    let stop = http(
        "POST",
        &server.url(&format!("/cobrowse/rest/live/sessions/{token}/stop")),
        &[AGENT_AUTH],
        None,
    )
    .await?;
    assert_eq!(stop.status, 200);
    let ended = stream.event().await?;
    assert_eq!(ended.kind, DesktopEventKind::Ended);
    assert_eq!(ended.end_reason.as_deref(), Some("api_stop"));
    assert_eq!(ended.activated_at, Some(at));
    // Nothing follows the end: the stream closes.
    loop {
        match stream.next().await? {
            None => break,
            Some(Sse::Comment(_)) => {}
            Some(other) => bail!("after the end: {other:?}"),
        }
    }
    Ok(())
}

trait ModeCode {
    fn to_string_code(&self) -> &'static str;
}

impl ModeCode for cobrowse_protocol::Mode {
    fn to_string_code(&self) -> &'static str {
        use cobrowse_protocol::Code;
        self.code()
    }
}

#[tokio::test]
async fn a_session_stream_tells_observers_and_control_hand_overs() -> Result<()> {
    use cobrowse_protocol::ControlChange;
    let server = TestServer::start(|_| {}).await?;
    let (token, _, _) = server.create_session().await?;
    let mut stream = SseReader::open(&events_url(&server, &token), Some(AGENT_AUTH.1)).await?;
    assert_eq!(stream.event().await?.kind, DesktopEventKind::State);
    let _customer = join(&server, hello(Role::Customer, &token)).await?;
    let mut alice = join(&server, agent_hello(&token, "alice")).await?;
    let kinds = [stream.event().await?.kind, stream.event().await?.kind];
    assert_eq!(kinds, [DesktopEventKind::Join, DesktopEventKind::Activated]);

    // Bob joins to watch: `observe`, about him, with both agents counted.
    let mut bob = join(&server, observer_hello(&token, "bob")).await?;
    let observed = stream.event().await?;
    assert_eq!(
        (observed.kind, observed.agent_id.as_deref(), observed.agents),
        (DesktopEventKind::Observe, Some("bob"), 2)
    );
    // Alice hands control to bob (seat 2): `control`, about the agent holding it now.
    send(&mut bob, &Message::Control(ControlChange::Request)).await?;
    until(&mut alice, |m| matches!(m, Message::Control(_))).await?;
    send(
        &mut alice,
        &Message::Control(ControlChange::Give { seat: 2 }),
    )
    .await?;
    let passed = stream.event().await?;
    assert_eq!(
        (passed.kind, passed.agent_id.as_deref()),
        (DesktopEventKind::Control, Some("bob"))
    );
    // Bob now holds control: his leave ends the session, and the stream with it.
    send(&mut bob, &Message::Leave).await?;
    while stream.event().await?.kind != DesktopEventKind::Ended {}
    drop(stream);
    server.stop().await
}

#[tokio::test]
async fn streams_need_the_agent_credential_or_a_single_use_ticket() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (token, _, _) = server.create_session().await?;
    let url = events_url(&server, &token);
    let none = http("GET", &url, &[], None).await?;
    assert_eq!(none.status, 401);
    assert_eq!(none.json()?["error"]["code"], "unauthorized");
    let wrong = http("GET", &url, &[("Authorization", "Bearer nope")], None).await?;
    assert_eq!(wrong.status, 401);
    let ticket_url = server.url("/cobrowse/rest/live/event-tickets");
    assert_eq!(http("POST", &ticket_url, &[], None).await?.status, 401);

    let t = http("POST", &ticket_url, &[AGENT_AUTH], None)
        .await?
        .json()?;
    let ticket = t["ticket"].as_str().context("ticket")?.to_string();
    let with_ticket = format!("{url}?ticket={ticket}");
    let mut stream = SseReader::open(&with_ticket, None).await?;
    assert_eq!(stream.event().await?.kind, DesktopEventKind::State);
    let again = http("GET", &with_ticket, &[], None).await?;
    assert_eq!(again.status, 401, "a ticket opens one stream");

    let unknown = http(
        "GET",
        &events_url(&server, "123456780"),
        &[AGENT_AUTH],
        None,
    )
    .await?;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()?["error"]["code"], "unknown_session");
    Ok(())
}

#[tokio::test]
async fn an_agent_stream_carries_only_the_sessions_of_that_agent() -> Result<()> {
    let server = TestServer::start(|_| {}).await?;
    let (a, _, _) = server.create_session().await?;
    let (b, _, _) = server.create_session().await?;
    let _ca = join(&server, hello(Role::Customer, &a)).await?;
    let _cb = join(&server, hello(Role::Customer, &b)).await?;
    let url = server.url("/cobrowse/rest/live/agents/b%C3%B6b/events");
    let mut bob = SseReader::open(&url, Some(AGENT_AUTH.1)).await?;
    let _alice = join(&server, agent_hello(&a, "alice")).await?;
    let _bob = join(&server, agent_hello(&b, "böb")).await?;
    let e = bob.event().await?;
    assert_eq!(
        (e.kind, e.token.as_str()),
        (DesktopEventKind::Join, b.as_str())
    );
    assert_eq!(e.agent_id.as_deref(), Some("böb"));
    let e = bob.event().await?;
    assert_eq!(
        (e.kind, e.token.as_str()),
        (DesktopEventKind::Activated, b.as_str())
    );
    Ok(())
}

/// A real HTTP/1.1 receiver: answers each request with the next status of `statuses` (then
/// 200) and hands over (headers, body, when it arrived).
async fn receiver(
    statuses: Vec<u16>,
) -> Result<(
    String,
    tokio::sync::mpsc::UnboundedReceiver<(Vec<(String, String)>, Vec<u8>, Instant)>,
)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut statuses = statuses.into_iter();
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let head_end = loop {
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
                match sock.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let headers: Vec<(String, String)> = head
                .lines()
                .skip(1)
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect();
            let len: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            while buf.len() < head_end + len {
                match sock.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let body = buf[head_end..head_end + len].to_vec();
            let _ = tx.send((headers, body, Instant::now()));
            let status = statuses.next().unwrap_or(200);
            let answer =
                format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = sock.write_all(answer.as_bytes()).await;
        }
    });
    Ok((url, rx))
}

const SECRET: &str = "whsec-test-0123456789abcdef";

/// Checks `Cobrowse-Signature` as a receiver would, with its own HMAC: `t=…,v1=…` over `t.body`.
fn verify(headers: &[(String, String)], body: &[u8]) -> Result<u64> {
    let sig = headers
        .iter()
        .find(|(k, _)| k == "cobrowse-signature")
        .map(|(_, v)| v.as_str())
        .context("no Cobrowse-Signature")?;
    let (t, v1) = sig
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .context("signature shape")?;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    let want: String = ring::hmac::sign(&key, &signed)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if want != v1 {
        bail!("signature does not verify: {v1} vs {want}");
    }
    Ok(t.parse()?)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn webhooks_are_signed_and_retried_after_a_500() -> Result<()> {
    // The first delivery attempt is refused with a 500; everything after succeeds.
    let (url, mut got) = receiver(vec![500]).await?;
    let server = TestServer::start(|c| {
        c.webhooks.urls = vec![url.clone()];
        c.webhooks.secret = SECRET.into();
        c.webhooks.retry_base = Duration::from_millis(50);
        c.webhooks.retry_max = Duration::from_millis(200);
    })
    .await?;
    let (token, history_id, _) = server.create_session().await?;
    let _customer = join(&server, hello(Role::Customer, &token)).await?;
    let sent = Instant::now();
    let _agent = join(&server, agent_hello(&token, "alice")).await?;

    let mut next = async || {
        tokio::time::timeout(WAIT, got.recv())
            .await?
            .context("receiver gone")
    };
    // `join` is refused once and delivered again with the same delivery id; `activated` runs
    // alongside, so collect until both arrived and `join` twice.
    let mut joins = Vec::new();
    let mut activated = None;
    while joins.len() < 2 || activated.is_none() {
        let (headers, body, at) = next().await?;
        let t = verify(&headers, &body)?;
        let now = cobrowse_common::clock::now_ms() / 1000;
        assert!(t <= now && now - t < 300, "t is the sending time");
        let event: DesktopEvent = serde_json::from_slice(&body)?;
        assert_eq!(event.history_id, history_id);
        assert_eq!(
            header(&headers, "cobrowse-event"),
            Some(cobrowse_protocol::Code::code(&event.kind))
        );
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        let id = header(&headers, "cobrowse-delivery")
            .context("delivery id")?
            .to_string();
        match event.kind {
            DesktopEventKind::Join => {
                if joins.is_empty() {
                    println!(
                        "latency: agent Hello → webhook `join` received: {:?}",
                        at - sent
                    );
                }
                joins.push(id);
            }
            DesktopEventKind::Activated => activated = Some(event),
            other => bail!("unexpected {other:?}"),
        }
    }
    assert_eq!(joins[0], joins[1], "a retry is the same delivery");
    assert!(activated.context("activated")?.activated_at.is_some());

    // Counted once the server has read the answers.
    let m = counted(&server, "delivered", 2.0).await?;
    assert_eq!(
        metric(&m, "cobrowse_webhooks_total{result=\"retried\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(&m, "cobrowse_webhooks_total{result=\"failed\"}"),
        Some(0.0)
    );
    Ok(())
}

/// The metrics once `cobrowse_webhooks_total{result}` reached `value` (polled: the counter is
/// the only sign the server read an answer).
async fn counted(server: &TestServer, result: &str, value: f64) -> Result<String> {
    let series = format!("cobrowse_webhooks_total{{result=\"{result}\"}}");
    let deadline = Instant::now() + WAIT;
    loop {
        let m = server.metrics().await?;
        if metric(&m, &series) == Some(value) {
            return Ok(m);
        }
        if Instant::now() > deadline {
            bail!("{series} never reached {value}: {m}");
        }
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_receiver_that_always_fails_is_given_up_and_counted() -> Result<()> {
    let (url, mut got) = receiver(vec![503; 100]).await?;
    let server = TestServer::start(|c| {
        c.webhooks.urls = vec![url.clone()];
        c.webhooks.secret = SECRET.into();
        c.webhooks.max_attempts = 2;
        c.webhooks.retry_base = Duration::from_millis(10);
        c.webhooks.retry_max = Duration::from_millis(20);
    })
    .await?;
    let (token, _, _) = server.create_session().await?;
    let _agent = join(&server, agent_hello(&token, "alice")).await?;
    // join and activated, two attempts each.
    for _ in 0..4 {
        tokio::time::timeout(WAIT, got.recv())
            .await?
            .context("receiver gone")?;
    }
    let m = counted(&server, "failed", 2.0).await?;
    assert_eq!(
        metric(&m, "cobrowse_webhooks_total{result=\"delivered\"}"),
        Some(0.0)
    );
    Ok(())
}

/// Figures for the report (printed, not asserted): from an agent's `Hello` to its `join` on an
/// event stream and at a webhook receiver, over 20 sessions of one server.
#[tokio::test]
async fn event_delivery_latency_figures() -> Result<()> {
    const SESSIONS: usize = 20;
    let (url, mut hooks) = receiver(vec![]).await?;
    let server = TestServer::start(|c| {
        c.webhooks.urls = vec![url.clone()];
        c.webhooks.secret = SECRET.into();
    })
    .await?;
    let stream_url = server.url("/cobrowse/rest/live/agents/timer/events");
    let mut stream = SseReader::open(&stream_url, Some(AGENT_AUTH.1)).await?;
    let (mut to_stream, mut to_hook) = (Vec::new(), Vec::new());
    for _ in 0..SESSIONS {
        let (token, _, _) = server.create_session().await?;
        let sent = Instant::now();
        let _agent = join(&server, agent_hello(&token, "timer")).await?;
        // (The last session's agent leaving may come first: `deactivated`.)
        let e = loop {
            let e = stream.event().await?;
            if e.token == token {
                break e;
            }
        };
        to_stream.push(sent.elapsed());
        assert_eq!(e.kind, DesktopEventKind::Join);
        loop {
            let (_, body, at) = tokio::time::timeout(WAIT, hooks.recv())
                .await?
                .context("receiver gone")?;
            let e: DesktopEvent = serde_json::from_slice(&body)?;
            if e.kind == DesktopEventKind::Join && e.token == token {
                to_hook.push(at - sent);
                break;
            }
        }
        // Its `activated` follows on the stream.
        assert_eq!(stream.event().await?.kind, DesktopEventKind::Activated);
    }
    for (what, mut v) in [("SSE", to_stream), ("webhook", to_hook)] {
        v.sort();
        println!(
            "latency: agent Hello → {what} `join` over {SESSIONS} sessions: median {:?}, p95 {:?}, max {:?}",
            v[SESSIONS / 2],
            v[SESSIONS * 95 / 100 - 1],
            v[SESSIONS - 1]
        );
    }
    Ok(())
}
