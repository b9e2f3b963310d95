//! One load step: N customer/agent pairs against a fresh relay, driven for a fixed time.
//!
//! Timeline of a step (all deadlines fixed up front, so no task waits on another):
//! connect all pairs → `warmup` (frames flow, nothing recorded) → `measure` (frames stamped in
//! this window are counted as sent, and their arrival at the agent is recorded) → `grace` (late
//! arrivals of in-window frames still count) → everything closes and the relay is killed.
//! A frame stamped in the window that has not arrived by the end of the grace period counts as
//! lost, and lost frames rank above every measured latency in the percentiles, so an overloaded
//! relay cannot look fast by not delivering.

use crate::LoadError;
use crate::frames;
use crate::procstat::{self, Usage};
use crate::stats::{StepResult, percentile_with_lost};
use crate::target::{Kind, Target};
use bytes::Bytes;
use cobrowse_protocol::{Hello, Message, Role, decode, encode};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, sleep_until, timeout_at};
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Parameters of one step.
#[derive(Debug, Clone)]
pub struct StepConfig {
    /// Customer/agent pairs.
    pub pairs: usize,
    /// Frames per second each customer sends.
    pub rate: f64,
    /// Time frames flow before measuring.
    pub warmup: Duration,
    /// Measuring window.
    pub measure: Duration,
    /// How long after the window in-window frames may still arrive.
    pub grace: Duration,
}

/// Connections opened at once while setting a step up.
const CONNECT_CONCURRENCY: usize = 32;

async fn connect(
    url: &str,
    role: Role,
    token: &str,
    auth: Option<&str>,
) -> Result<Socket, LoadError> {
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true).await?;
    let hello = Message::Hello(Hello {
        role,
        token: token.to_owned(),
        auth: auth.map(str::to_owned),
        agent_id: None,
        resume_from: None,
        client: "cobrowse-loadgen".into(),
        link: None,
        observe: false,
    });
    ws.send(Ws::Binary(Bytes::from(encode(&hello)))).await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let item = timeout_at(deadline, ws.next())
            .await
            .map_err(|_| LoadError::Timeout(format!("Welcome for {role:?} {token}")))?;
        match item {
            Some(Ok(Ws::Binary(b))) => match decode(&b)? {
                Message::Welcome(_) => return Ok(ws),
                Message::Error(e) => {
                    return Err(LoadError::Unexpected(format!(
                        "{role:?} refused: {:?} {}",
                        e.code, e.message
                    )));
                }
                _ => continue,
            },
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => {
                return Err(LoadError::Unexpected(format!(
                    "{role:?} closed before Welcome"
                )));
            }
        }
    }
}

/// Opens one pair: session, customer (sends its snapshot), then agent.
async fn open_pair(target: &Target, index: usize) -> Result<(Socket, Socket), LoadError> {
    let (token, secret) = target.create_session(index).await?;
    let url = target.ws_url();
    let mut customer = connect(&url, Role::Customer, &token, secret.as_deref()).await?;
    customer
        .send(Ws::Binary(Bytes::from(encode(&frames::snapshot()))))
        .await?;
    let agent = connect(&url, Role::Agent, &token, Some(crate::target::AGENT_TOKEN)).await?;
    Ok((customer, agent))
}

/// Deadlines of a step, shared by all tasks.
#[derive(Debug, Clone, Copy)]
struct Clock {
    epoch: Instant,
    start: Instant,
    end: Instant,
    drain: Instant,
}

impl Clock {
    fn micros(&self, t: Instant) -> u64 {
        t.duration_since(self.epoch).as_micros() as u64
    }
    fn in_window(&self, stamp: u64) -> bool {
        stamp >= self.micros(self.start) && stamp < self.micros(self.end)
    }
}

/// Customer: sends the mix at `rate` until the window ends; answers `RequestSnapshot`.
/// Returns how many in-window (page-state, pointer) frames it sent.
async fn customer(
    ws: Socket,
    clock: Clock,
    rate: f64,
    offset: Duration,
) -> Result<(u64, u64), LoadError> {
    let (mut sink, source): (SplitSink<Socket, Ws>, SplitStream<Socket>) = ws.split();
    let (want_snapshot, mut snapshot_wanted) = mpsc::unbounded_channel::<()>();
    let reader = tokio::spawn(drain_customer(source, want_snapshot));
    let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let mut tick = tokio::time::interval_at(Instant::now() + offset, period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut seq = 0u64;
    let mut sent = (0u64, 0u64);
    let result = loop {
        tokio::select! {
            _ = tick.tick() => {}
            Some(()) = snapshot_wanted.recv() => {
                if let Err(e) = sink.send(Ws::Binary(Bytes::from(encode(&frames::snapshot())))).await {
                    break Err(e.into());
                }
                continue;
            }
        }
        let now = Instant::now();
        if now >= clock.end {
            break Ok(sent);
        }
        let stamp = clock.micros(now);
        if let Err(e) = sink
            .send(Ws::Binary(Bytes::from(frames::frame(seq, stamp))))
            .await
        {
            break Err(e.into());
        }
        if clock.in_window(stamp) {
            if frames::is_pointer(seq) {
                sent.1 += 1;
            } else {
                sent.0 += 1;
            }
        }
        seq += 1;
    };
    // Keep the socket open through the grace period so the session stays up while agents drain.
    sleep_until(clock.drain).await;
    reader.abort();
    result
}

async fn drain_customer(mut source: SplitStream<Socket>, want_snapshot: mpsc::UnboundedSender<()>) {
    while let Some(Ok(m)) = source.next().await {
        if let Ws::Binary(b) = m
            && matches!(decode(&b), Ok(Message::RequestSnapshot))
        {
            let _ = want_snapshot.send(());
        }
    }
}

/// Agent: reads until the grace period ends; returns the relay latencies (µs) of in-window
/// frames and how many of them were pointer moves.
async fn agent(mut ws: Socket, clock: Clock) -> Result<(Vec<u32>, u64), LoadError> {
    let mut lat = Vec::new();
    let mut pointers = 0u64;
    loop {
        let item = match timeout_at(clock.drain, ws.next()).await {
            Ok(item) => item,
            Err(_) => return Ok((lat, pointers)),
        };
        let bytes = match item {
            Some(Ok(Ws::Binary(b))) => b,
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => return Ok((lat, pointers)),
        };
        let now = clock.micros(Instant::now());
        let msg = decode(&bytes)?;
        if let Some(stamp) = frames::stamp_of(&msg)
            && clock.in_window(stamp)
        {
            lat.push(now.saturating_sub(stamp).min(u32::MAX as u64) as u32);
            if matches!(msg, Message::Pointer(_)) {
                pointers += 1;
            }
        }
    }
}

/// Runs one step against a fresh relay of `kind`.
pub async fn step(kind: &Kind, cfg: &StepConfig) -> Result<StepResult, LoadError> {
    let target = Target::start(kind.clone()).await?;
    let pid = target.pid();
    let idle = procstat::usage(pid);
    let setup_started = Instant::now();
    let results: Vec<Result<(Socket, Socket), LoadError>> =
        futures_util::stream::iter(0..cfg.pairs)
            .map(|i| open_pair(&target, i))
            .buffer_unordered(CONNECT_CONCURRENCY)
            .collect()
            .await;
    let mut pairs = Vec::with_capacity(cfg.pairs);
    let mut connect_errors = Vec::new();
    for r in results {
        match r {
            Ok(p) => pairs.push(p),
            Err(e) => connect_errors.push(e.to_string()),
        }
    }
    let setup_secs = setup_started.elapsed().as_secs_f64();
    let epoch = Instant::now();
    let start = epoch + cfg.warmup;
    let end = start + cfg.measure;
    let clock = Clock {
        epoch,
        start,
        end,
        drain: end + cfg.grace,
    };
    let connected = pairs.len();
    let n = connected.max(1);
    let mut customers = Vec::with_capacity(pairs.len());
    let mut agents = Vec::with_capacity(pairs.len());
    for (i, (c, a)) in pairs.into_iter().enumerate() {
        // Spread the customers' ticks over one period so load is smooth, not lock-step.
        let offset = Duration::from_secs_f64(i as f64 / n as f64 / cfg.rate.max(0.001));
        customers.push(tokio::spawn(customer(c, clock, cfg.rate, offset)));
        agents.push(tokio::spawn(agent(a, clock)));
    }
    sleep_until(start).await;
    let at_start = procstat::usage(pid);
    let self_start = procstat::usage(std::process::id());
    sleep_until(end).await;
    let at_end = procstat::usage(pid);
    let self_end = procstat::usage(std::process::id());
    let (mut sent_state, mut sent_pointer) = (0u64, 0u64);
    let mut errors = connect_errors;
    for c in customers {
        match c.await {
            Ok(Ok((s, p))) => {
                sent_state += s;
                sent_pointer += p;
            }
            Ok(Err(e)) => errors.push(format!("customer: {e}")),
            Err(e) => errors.push(format!("customer task: {e}")),
        }
    }
    let mut lat = Vec::new();
    let mut got_pointer = 0u64;
    for a in agents {
        match a.await {
            Ok(Ok((l, p))) => {
                lat.extend(l);
                got_pointer += p;
            }
            Ok(Err(e)) => errors.push(format!("agent: {e}")),
            Err(e) => errors.push(format!("agent task: {e}")),
        }
    }
    drop(target);
    let window = cfg.measure.as_secs_f64();
    let cpu = |a: Option<Usage>, b: Option<Usage>| match (a, b) {
        (Some(a), Some(b)) => Some((b.cpu_secs - a.cpu_secs) / window),
        _ => None,
    };
    let delivered = lat.len() as u64;
    let coalesced = sent_pointer.saturating_sub(got_pointer);
    let lost = sent_state.saturating_sub(delivered - got_pointer.min(delivered));
    let sent = sent_state + sent_pointer;
    lat.sort_unstable();
    let rss_idle = idle.map(|u| u.rss_bytes);
    let rss_loaded = at_end.map(|u| u.rss_bytes);
    Ok(StepResult {
        target: kind.label().to_owned(),
        pairs: cfg.pairs,
        connected,
        setup_secs,
        sent_fps: sent as f64 / window,
        delivered_fps: delivered as f64 / window,
        lost,
        coalesced,
        p50_ms: percentile_with_lost(&lat, lost, 0.50),
        p99_ms: percentile_with_lost(&lat, lost, 0.99),
        max_ms: percentile_with_lost(&lat, lost, 1.0),
        server_cpu: cpu(at_start, at_end),
        loadgen_cpu: cpu(self_start, self_end),
        rss_idle,
        rss_loaded,
        errors,
    })
}
