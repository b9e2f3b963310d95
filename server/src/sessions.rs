//! Session registry, lifecycle, timers and the relay itself.
//!
//! # Invariants
//!
//! * A token is unique among the sessions in the registry, which includes ended sessions until
//!   `session.endedRetention` has passed (so a returning party hears "ended", not "unknown", and
//!   the token cannot be handed out again meanwhile).
//! * State only moves `Idle → Active → Ended` or `Idle → Ended`; an ended session accepts no
//!   joins and no frames.
//! * All of a session's state sits behind one mutex that is never held across an `.await`;
//!   sockets are written by their own writer tasks from [`SendQueue`]s, so relaying is a few
//!   queue pushes under the lock.
//! * Every transition is announced to every party: customer and agents get [`SessionEvent`]s,
//!   controllers get the same plus [`ControllerEvent`]s (JOIN / ACTIVATED / DEACTIVATED).
//!
//! # Late join and resync
//!
//! The session keeps the latest `Snapshot` frame and every page-state frame since (raw bytes, as
//! received). A joining agent gets them right after `Welcome`; a slow agent whose queue overflows
//! gets its queue replaced by them. When the log outgrows `max(snapshot, limits.minLogBytes)` the
//! customer is sent `RequestSnapshot` once; the next snapshot resets the log. If snapshot + log
//! exceed `limits.maxLogBytes`, the cache is dropped and a snapshot requested, so memory stays
//! bounded and joiners wait for the fresh snapshot rather than get a partial page.

use crate::app::{App, StoreOp, now_ms};
use crate::queue::{Push, SendQueue};
use crate::store::{HistoryRecord, LiveRecord, PageVisit};
use bytes::Bytes;
use cobrowse_protocol::{
    ActionRefused, AgentAction, ControllerEvent, ControllerEventKind, EndReason, ErrorCode, Hello,
    Message, Mode, ModeChange, Party, RefusalReason, Role, SessionEvent, SessionState, Welcome,
    encode, tags,
};
use rand::Rng;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Close codes used by the server (see ARCHITECTURE.md).
pub mod close {
    /// Normal end of session.
    pub const NORMAL: u16 = 1000;
    /// Server going away.
    pub const GOING_AWAY: u16 = 1001;
    /// Malformed frame.
    pub const PROTOCOL: u16 = 1002;
    /// Policy: bad token, origin, role, auth, rate limit, forbidden message.
    pub const POLICY: u16 = 1008;
    /// Frame too large.
    pub const TOO_LARGE: u16 = 1009;
    /// Server error.
    pub const INTERNAL: u16 = 1011;
    /// Service restart: this node is stopping gracefully and handed the session over;
    /// reconnect (through the load balancer) and another node serves it at once.
    pub const SERVICE_RESTART: u16 = 1012;
}

/// A new 9-digit token from the thread-local CSPRNG (ChaCha, OS-seeded). No leading zero, so it
/// survives being read aloud and typed into numeric fields.
pub fn new_token() -> String {
    rand::rng()
        .random_range(100_000_000u32..1_000_000_000)
        .to_string()
}

/// True for strings that could be a token; anything else is answered "unknown" without a lookup.
pub fn is_token_shaped(s: &str) -> bool {
    s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Encodes a server-generated message.
pub fn frame(msg: &Message) -> (Bytes, u32) {
    (Bytes::from(encode(msg)), msg.tag())
}

/// A refusal to let a connection join or continue, sent as `Error` + close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Stable code for the `Error` frame.
    pub code: ErrorCode,
    /// WebSocket close code.
    pub close: u16,
    /// Human-readable reason (also the close reason).
    pub message: String,
}

impl Refusal {
    /// Builds a refusal.
    pub fn new(code: ErrorCode, close: u16, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            close,
            message: message.into(),
        }
    }
}

/// Snake-case name of an end reason (storage, REST).
pub fn end_reason_name(r: &EndReason) -> String {
    match r {
        EndReason::CustomerExit => "customer_exit".into(),
        EndReason::AgentExit => "agent_exit".into(),
        EndReason::ControllerStop => "controller_stop".into(),
        EndReason::ApiStop => "api_stop".into(),
        EndReason::InactivityTimeout => "inactivity_timeout".into(),
        EndReason::ConnectionLost => "connection_lost".into(),
        EndReason::ServerShutdown => "server_shutdown".into(),
        EndReason::Other(s) => format!("other: {s}"),
    }
}

/// Lower-case state name (REST).
pub fn state_name(s: SessionState) -> &'static str {
    match s {
        SessionState::Idle => "idle",
        SessionState::Active => "active",
        SessionState::Ended => "ended",
    }
}

/// A connection as the session knows it.
#[derive(Debug, Clone)]
pub struct ConnRef {
    /// Unique per server.
    pub id: u64,
    /// Granted role.
    pub role: Role,
    /// Its send queue.
    pub queue: Arc<SendQueue>,
    /// Agent id from `Hello` (agents only).
    pub agent_id: Option<String>,
}

#[derive(Debug, Default)]
struct Cache {
    snapshot: Option<Bytes>,
    log: Vec<(Bytes, u32)>,
    log_bytes: usize,
    requested: bool,
}

impl Cache {
    /// Records a page-state frame; true when a fresh snapshot should be requested now.
    fn add(&mut self, bytes: &Bytes, tag: u32, min_log: usize, max_total: usize) -> bool {
        if tag == tags::SNAPSHOT {
            self.snapshot = Some(bytes.clone());
            self.log.clear();
            self.log_bytes = 0;
            self.requested = false;
            return false;
        }
        let Some(snap) = &self.snapshot else {
            // Deltas without a base are useless to a joiner; ask for a base instead.
            return !std::mem::replace(&mut self.requested, true);
        };
        let snap_len = snap.len();
        self.log.push((bytes.clone(), tag));
        self.log_bytes += bytes.len();
        if snap_len + self.log_bytes > max_total {
            self.snapshot = None;
            self.log.clear();
            self.log_bytes = 0;
            return !std::mem::replace(&mut self.requested, true);
        }
        if self.log_bytes > snap_len.max(min_log) && !self.requested {
            self.requested = true;
            return true;
        }
        false
    }

    fn frames(&self) -> Vec<(Bytes, u32)> {
        match &self.snapshot {
            Some(s) => std::iter::once((s.clone(), tags::SNAPSHOT))
                .chain(self.log.iter().cloned())
                .collect(),
            None => Vec::new(),
        }
    }
}

#[derive(Debug)]
struct Inner {
    state: SessionState,
    mode: Mode,
    mode_requested: bool,
    activated_at: Option<u64>,
    customer: Option<ConnRef>,
    customer_seen: bool,
    agents: Vec<ConnRef>,
    controllers: Vec<ConnRef>,
    cache: Cache,
    history: HistoryRecord,
    node_url: String,
    customer_gen: u64,
    agent_gen: u64,
}

/// One co-browsing session.
#[derive(Debug)]
pub struct Session {
    /// 9-digit token.
    pub token: String,
    /// History id (UUIDv4).
    pub history_id: String,
    /// Creation time, ms since the Unix epoch.
    pub created_at: u64,
    /// Taken over from a lost node (cluster failover): joining parties are told
    /// `SessionEvent::OwnerChanged`.
    pub adopted: bool,
    inner: Mutex<Inner>,
}

/// A read-only view for REST answers.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// Token.
    pub token: String,
    /// History id.
    pub history_id: String,
    /// State.
    pub state: SessionState,
    /// Agents connected.
    pub agents: u32,
    /// Created.
    pub created_at: u64,
    /// Activated.
    pub activated_at: Option<u64>,
}

impl Session {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Session code never panics while holding the lock on input paths; if something did,
        // the state is still a consistent struct, so continue rather than take the server down.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Snapshot of the public facts.
    pub fn info(&self) -> SessionInfo {
        let i = self.lock();
        SessionInfo {
            token: self.token.clone(),
            history_id: self.history_id.clone(),
            state: i.state,
            agents: i.agents.len() as u32,
            created_at: self.created_at,
            activated_at: i.activated_at,
        }
    }

    fn live_record(&self, i: &Inner, node: &str) -> LiveRecord {
        LiveRecord {
            token: self.token.clone(),
            history_id: self.history_id.clone(),
            node: node.to_string(),
            node_url: i.node_url.clone(),
            state: state_name(i.state).into(),
            created_at: self.created_at,
            activated_at: i.activated_at,
            write_mode: i.mode == Mode::Write,
        }
    }

    /// Stores the live record after a mode change, so a node that takes the session over knows
    /// the grant.
    fn store_mode(&self, app: &App, i: &Inner) {
        app.write(StoreOp::Live(self.live_record(i, &app.config.node_name)));
    }
}

impl Inner {
    fn parties(&self) -> impl Iterator<Item = &ConnRef> {
        self.customer
            .iter()
            .chain(self.agents.iter())
            .chain(self.controllers.iter())
    }

    fn welcome(&self, s: &Session, role: Role, app: &App) -> Message {
        Message::Welcome(Welcome {
            role,
            token: s.token.clone(),
            history_id: s.history_id.clone(),
            state: self.state,
            mode: self.mode,
            write_mode_allowed: app.config.write_mode_allowed,
            agents: self.agents.len() as u32,
            server_time_ms: now_ms(),
            node: app.config.node_name.clone(),
        })
    }

    /// A session event for every party.
    fn announce(&self, app: &App, ev: SessionEvent) {
        let (bytes, tag) = frame(&Message::Session(ev));
        for p in self.parties() {
            p.queue.push_control(bytes.clone(), tag);
            app.metrics
                .relayed(crate::metrics::Direction::Server, bytes.len());
        }
    }

    fn to_controllers(&self, s: &Session, kind: ControllerEventKind) {
        let (bytes, tag) = frame(&Message::Controller(ControllerEvent {
            kind,
            token: s.token.clone(),
            history_id: s.history_id.clone(),
            started_at_ms: s.created_at,
        }));
        for c in &self.controllers {
            c.queue.push_control(bytes.clone(), tag);
        }
    }

    fn request_snapshot(&self) {
        if let Some(c) = &self.customer {
            let (bytes, tag) = frame(&Message::RequestSnapshot);
            c.queue.push_control(bytes, tag);
        }
    }

    /// Relays a customer frame to every agent; overflowing agents are resynced from the cache.
    fn relay_to_agents(&mut self, app: &App, bytes: &Bytes, tag: u32, received: Instant) {
        let mut need_snapshot = false;
        for a in &self.agents {
            if a.queue.push(bytes.clone(), tag, received) == Push::Overflow {
                app.metrics.resyncs.increment(1);
                tracing::info!(
                    conn = a.id,
                    "agent send queue overflow; resyncing from cache"
                );
                let frames = self.cache.frames();
                if frames.is_empty() {
                    need_snapshot = true;
                }
                a.queue.resync(frames);
            }
        }
        if need_snapshot && !self.cache.requested {
            self.cache.requested = true;
            self.request_snapshot();
        }
    }

    /// Forwards an agent frame to the customer. A customer that cannot keep up with agent
    /// traffic (pointers coalesce, so this means a stuck socket) is disconnected; it reconnects
    /// and resends its page.
    fn relay_to_customer(&self, bytes: &Bytes, tag: u32, received: Instant) {
        if let Some(c) = &self.customer
            && c.queue.push(bytes.clone(), tag, received) == Push::Overflow
        {
            tracing::warn!(conn = c.id, "customer send queue overflow; closing it");
            c.queue.close(close::POLICY, "send queue overflow");
        }
    }
}

/// Timer kinds; each fires once and re-checks its condition under the lock.
#[derive(Debug, Clone, Copy)]
enum Timer {
    Inactivity,
    CustomerLost(u64),
    AgentLost(u64),
    Forget,
}

/// All sessions of this server, plus agent-limit bookkeeping.
#[derive(Debug, Default)]
pub struct Registry {
    map: Mutex<HashMap<String, Arc<Session>>>,
    /// history id → token, for sessions in `map`.
    by_history: Mutex<HashMap<String, String>>,
    /// agent id → tokens of sessions the agent is connected to.
    agents: Mutex<HashMap<String, HashSet<String>>>,
    next_conn: AtomicU64,
    /// Sessions created and not yet ended.
    live: std::sync::atomic::AtomicUsize,
}

impl Registry {
    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn agents(&self) -> MutexGuard<'_, HashMap<String, HashSet<String>>> {
        self.agents.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The session with this token, ended ones included (until forgotten).
    pub fn get(&self, token: &str) -> Option<Arc<Session>> {
        self.map().get(token).cloned()
    }

    /// The in-memory history record of a session this server holds (live or recently ended).
    /// REST reads it first so an answer never lags behind the storage writer.
    pub fn history(&self, history_id: &str) -> Option<HistoryRecord> {
        let token = self
            .by_history
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(history_id)
            .cloned()?;
        let session = self.get(&token)?;
        let h = session.lock().history.clone();
        Some(h)
    }

    /// Sessions not yet ended.
    pub fn live_count(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    fn release_agent(&self, agent_id: &str, token: &str) {
        let mut agents = self.agents();
        if let Some(set) = agents.get_mut(agent_id) {
            set.remove(token);
            if set.is_empty() {
                agents.remove(agent_id);
            }
        }
    }
}

/// Why a session could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// Storage failed.
    #[error("storage: {0}")]
    Store(#[from] crate::store::StoreError),
    /// No free token found (the token space is practically never this full).
    #[error("no free session token")]
    NoToken,
    /// The server is shutting down.
    #[error("server is shutting down")]
    ShuttingDown,
    /// `limits.maxLiveSessions` reached.
    #[error("too many live sessions")]
    Full,
}

/// Creates a session: token, history id, storage records, inactivity timer.
pub async fn create(
    app: &Arc<App>,
    origin: Option<String>,
    url: Option<String>,
    node_url: String,
) -> Result<Arc<Session>, CreateError> {
    if app.is_shutting_down() {
        return Err(CreateError::ShuttingDown);
    }
    if app.registry.live_count() >= app.config.max_live_sessions {
        return Err(CreateError::Full);
    }
    let now = now_ms();
    for _ in 0..32 {
        let token = new_token();
        let history_id = uuid::Uuid::new_v4().to_string();
        let pages = url
            .iter()
            .map(|u| PageVisit {
                url: u.clone(),
                title: String::new(),
                at: now,
            })
            .collect();
        let history = HistoryRecord {
            history_id: history_id.clone(),
            token: token.clone(),
            created_at: now,
            activated_at: None,
            ended_at: None,
            end_reason: None,
            origin: origin.clone(),
            pages,
            agent_id: None,
        };
        let session = Arc::new(Session {
            token: token.clone(),
            history_id,
            created_at: now,
            adopted: false,
            inner: Mutex::new(Inner {
                state: SessionState::Idle,
                mode: Mode::Pointer,
                mode_requested: false,
                activated_at: None,
                customer: None,
                customer_seen: false,
                agents: Vec::new(),
                controllers: Vec::new(),
                cache: Cache::default(),
                history: history.clone(),
                node_url: node_url.clone(),
                customer_gen: 0,
                agent_gen: 0,
            }),
        });
        {
            let mut map = app.registry.map();
            if map.contains_key(&token) {
                continue;
            }
            map.insert(token.clone(), session.clone());
        }
        app.registry
            .by_history
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(session.history_id.clone(), token.clone());
        let live = session.live_record(&session.lock(), &app.config.node_name);
        let stored = async {
            let inserted = app.store.insert_live(live).await?;
            if inserted {
                app.store.put_history(history).await?;
            }
            Ok::<bool, crate::store::StoreError>(inserted)
        }
        .await;
        match stored {
            Ok(true) => {}
            Ok(false) => {
                // Taken elsewhere in the cluster; try another token.
                app.registry.map().remove(&token);
                app.registry
                    .by_history
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&session.history_id);
                continue;
            }
            Err(e) => {
                app.registry.map().remove(&token);
                app.registry
                    .by_history
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&session.history_id);
                return Err(e.into());
            }
        }
        app.metrics.sessions_created.increment(1);
        app.metrics.sessions_idle.increment(1.0);
        app.registry.live.fetch_add(1, Ordering::SeqCst);
        spawn_timer(
            app,
            &session,
            app.config.inactivity_duration,
            Timer::Inactivity,
        );
        // The customer must connect (and stay) within maxInterval like any party.
        spawn_timer(
            app,
            &session,
            app.config.max_interval,
            Timer::CustomerLost(0),
        );
        tracing::info!(token = %session.token, history_id = %session.history_id, "session created");
        return Ok(session);
    }
    Err(CreateError::NoToken)
}

/// Takes over a live session whose owner node was lost (the caller already won the ownership
/// claim in storage): same token, same history record. The page cache starts empty; the
/// customer's reconnect brings a fresh snapshot (it sends one after every `Welcome`). A write-mode
/// grant recorded with the session is kept (while `session.writeModeAllowed` holds here): the
/// parties' `Welcome` says `write`, and the customer's client, the authority on its own consent,
/// re-confirms it or takes it back. `None` when the token is already held here.
pub fn adopt(
    app: &Arc<App>,
    rec: LiveRecord,
    history: Option<HistoryRecord>,
) -> Option<Arc<Session>> {
    let state = if rec.state == "active" {
        SessionState::Active
    } else {
        SessionState::Idle
    };
    let history = history.unwrap_or_else(|| HistoryRecord {
        history_id: rec.history_id.clone(),
        token: rec.token.clone(),
        created_at: rec.created_at,
        activated_at: rec.activated_at,
        ended_at: None,
        end_reason: None,
        origin: None,
        pages: Vec::new(),
        agent_id: None,
    });
    let session = Arc::new(Session {
        token: rec.token.clone(),
        history_id: rec.history_id.clone(),
        created_at: rec.created_at,
        adopted: true,
        inner: Mutex::new(Inner {
            state,
            mode: if rec.write_mode && app.config.write_mode_allowed {
                Mode::Write
            } else {
                Mode::Pointer
            },
            mode_requested: false,
            activated_at: rec.activated_at,
            customer: None,
            customer_seen: true,
            agents: Vec::new(),
            controllers: Vec::new(),
            cache: Cache::default(),
            history,
            node_url: rec.node_url.clone(),
            customer_gen: 0,
            agent_gen: 0,
        }),
    });
    {
        let mut map = app.registry.map();
        if map.contains_key(&rec.token) {
            return None;
        }
        map.insert(rec.token.clone(), session.clone());
    }
    app.registry
        .by_history
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(session.history_id.clone(), rec.token.clone());
    app.registry.live.fetch_add(1, Ordering::SeqCst);
    match state {
        SessionState::Idle => {
            app.metrics.sessions_idle.increment(1.0);
            spawn_timer(
                app,
                &session,
                app.config.inactivity_duration,
                Timer::Inactivity,
            );
        }
        _ => app.metrics.sessions_active.increment(1.0),
    }
    spawn_timer(
        app,
        &session,
        app.config.max_interval,
        Timer::CustomerLost(0),
    );
    tracing::info!(token = %session.token, history_id = %session.history_id, "session adopted");
    Some(session)
}

fn spawn_timer(app: &Arc<App>, session: &Arc<Session>, after: Duration, timer: Timer) {
    // Timers hold weak references: a pending timer must not keep a stopped server's state (and
    // its open database) alive.
    let app_ref = Arc::downgrade(app);
    let session_ref = Arc::downgrade(session);
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        let (Some(app), Some(session)) = (app_ref.upgrade(), session_ref.upgrade()) else {
            return;
        };
        if app.is_shutting_down() {
            return;
        }
        let reason = {
            let i = session.lock();
            match timer {
                Timer::Inactivity if i.state == SessionState::Idle => {
                    Some(EndReason::InactivityTimeout)
                }
                Timer::CustomerLost(g)
                    if i.customer_gen == g
                        && i.customer.is_none()
                        && i.state != SessionState::Ended =>
                {
                    Some(EndReason::ConnectionLost)
                }
                Timer::AgentLost(g)
                    if i.agent_gen == g
                        && i.agents.is_empty()
                        && i.state == SessionState::Active =>
                {
                    Some(EndReason::ConnectionLost)
                }
                Timer::Forget => {
                    drop(i);
                    let mut map = app.registry.map();
                    if map
                        .get(&session.token)
                        .is_some_and(|s| Arc::ptr_eq(s, &session))
                    {
                        map.remove(&session.token);
                    }
                    drop(map);
                    app.registry
                        .by_history
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&session.history_id);
                    None
                }
                _ => None,
            }
        };
        if let Some(reason) = reason {
            tracing::info!(token = %session.token, ?reason, "session timer fired");
            end(&app, &session, reason);
        }
    });
}

/// Ends a session: notifies every party, closes their sockets (1000), records history.
pub fn end(app: &Arc<App>, session: &Arc<Session>, reason: EndReason) {
    let mut i = session.lock();
    if i.state == SessionState::Ended {
        return;
    }
    let was = i.state;
    i.state = SessionState::Ended;
    match was {
        SessionState::Idle => app.metrics.sessions_idle.decrement(1.0),
        SessionState::Active => app.metrics.sessions_active.decrement(1.0),
        SessionState::Ended => {}
    }
    app.registry.live.fetch_sub(1, Ordering::SeqCst);
    app.metrics.sessions_ended.increment(1);
    if i.activated_at.is_none() {
        app.metrics.sessions_never_joined.increment(1);
    }
    i.history.ended_at = Some(now_ms());
    i.history.end_reason = Some(end_reason_name(&reason));
    app.write(StoreOp::History(i.history.clone()));
    app.write(StoreOp::RemoveLive(session.token.clone()));
    i.to_controllers(session, ControllerEventKind::Deactivated);
    i.announce(app, SessionEvent::Ended(reason.clone()));
    for p in i.parties() {
        p.queue.close(close::NORMAL, "session ended");
    }
    for a in &i.agents {
        if let Some(id) = &a.agent_id {
            app.registry.release_agent(id, &session.token);
        }
    }
    i.customer = None;
    i.agents.clear();
    i.controllers.clear();
    i.cache = Cache::default();
    i.customer_gen += 1;
    i.agent_gen += 1;
    drop(i);
    tracing::info!(token = %session.token, ?reason, "session ended");
    spawn_timer(app, session, app.config.ended_retention, Timer::Forget);
}

/// Attaches a connection that sent a valid `Hello` (auth and rate limit already checked).
/// On success `conn.queue` holds `Welcome` and whatever the role gets next.
pub fn join(app: &Arc<App>, session: &Arc<Session>, conn: &ConnRef) -> Result<(), Refusal> {
    let mut i = session.lock();
    if i.state == SessionState::Ended {
        return Err(Refusal::new(
            ErrorCode::SessionEnded,
            close::POLICY,
            "the session has ended",
        ));
    }
    let control = |q: &SendQueue, m: &Message| {
        let (b, t) = frame(m);
        q.push_control(b, t);
    };
    match conn.role {
        Role::Customer => {
            if let Some(old) = i.customer.take() {
                old.queue.close(
                    close::POLICY,
                    "replaced by a newer connection of the customer",
                );
            }
            i.customer = Some(conn.clone());
            i.customer_gen += 1;
            i.cache.requested = false;
            control(&conn.queue, &i.welcome(session, Role::Customer, app));
            if std::mem::replace(&mut i.customer_seen, true) {
                i.announce(app, SessionEvent::CustomerReconnected);
            }
        }
        Role::Agent => {
            let limit = app.config.agent_sessions_limit as usize;
            if let Some(id) = &conn.agent_id {
                let mut agents = app.registry.agents();
                let set = agents.entry(id.clone()).or_default();
                let others = set.iter().filter(|t| **t != session.token).count();
                if limit > 0 && others >= limit {
                    drop(agents);
                    if let Some(c) = &i.customer {
                        control(&c.queue, &Message::Session(SessionEvent::AgentBusy));
                    }
                    return Err(Refusal::new(
                        ErrorCode::AgentBusy,
                        close::POLICY,
                        format!("agent is already in {others} session(s) (limit {limit})"),
                    ));
                }
                set.insert(session.token.clone());
            }
            i.agents.push(conn.clone());
            i.agent_gen += 1;
            if i.state == SessionState::Idle {
                let now = now_ms();
                i.state = SessionState::Active;
                i.activated_at = Some(now);
                i.history.activated_at = Some(now);
                app.metrics.sessions_idle.decrement(1.0);
                app.metrics.sessions_active.increment(1.0);
                app.write(StoreOp::History(i.history.clone()));
                app.write(StoreOp::Live(
                    session.live_record(&i, &app.config.node_name),
                ));
                i.to_controllers(session, ControllerEventKind::Activated);
            }
            if i.history.agent_id.is_none() && conn.agent_id.is_some() {
                i.history.agent_id = conn.agent_id.clone();
                app.write(StoreOp::History(i.history.clone()));
            }
            control(&conn.queue, &i.welcome(session, Role::Agent, app));
            let agents = i.agents.len() as u32;
            i.announce(
                app,
                SessionEvent::AgentJoined {
                    agent_id: conn.agent_id.clone(),
                    agents,
                },
            );
            if i.customer.is_none() {
                control(
                    &conn.queue,
                    &Message::Session(SessionEvent::CustomerDisconnected),
                );
            }
            let frames = i.cache.frames();
            if frames.is_empty() {
                if !i.cache.requested && i.customer.is_some() {
                    i.cache.requested = true;
                    i.request_snapshot();
                }
            } else {
                conn.queue.resync(frames);
            }
        }
        Role::Controller => {
            i.controllers.push(conn.clone());
            control(&conn.queue, &i.welcome(session, Role::Controller, app));
            let ev = |kind| {
                Message::Controller(ControllerEvent {
                    kind,
                    token: session.token.clone(),
                    history_id: session.history_id.clone(),
                    started_at_ms: session.created_at,
                })
            };
            control(&conn.queue, &ev(ControllerEventKind::Join));
            if i.state == SessionState::Active {
                control(&conn.queue, &ev(ControllerEventKind::Activated));
            }
        }
    }
    Ok(())
}

/// A connection went away without `Leave` (or was replaced).
pub fn disconnect(app: &Arc<App>, session: &Arc<Session>, conn: &ConnRef) {
    let mut i = session.lock();
    if i.state == SessionState::Ended {
        return;
    }
    match conn.role {
        Role::Customer => {
            if i.customer.as_ref().is_some_and(|c| c.id == conn.id) {
                i.customer = None;
                i.customer_gen += 1;
                let g = i.customer_gen;
                i.announce(app, SessionEvent::CustomerDisconnected);
                drop(i);
                spawn_timer(
                    app,
                    session,
                    app.config.max_interval,
                    Timer::CustomerLost(g),
                );
            }
        }
        Role::Agent => {
            let before = i.agents.len();
            i.agents.retain(|a| a.id != conn.id);
            if i.agents.len() == before {
                return;
            }
            if let Some(id) = &conn.agent_id
                && !i.agents.iter().any(|a| a.agent_id.as_ref() == Some(id))
            {
                app.registry.release_agent(id, &session.token);
            }
            let agents = i.agents.len() as u32;
            i.announce(
                app,
                SessionEvent::AgentLeft {
                    agent_id: conn.agent_id.clone(),
                    agents,
                },
            );
            if agents == 0 {
                i.mode_requested = false;
                if i.mode == Mode::Write {
                    i.mode = Mode::Pointer;
                    session.store_mode(app, &i);
                    if let Some(c) = &i.customer {
                        let (b, t) =
                            frame(&Message::Mode(ModeChange::Revoked { by: Party::Agent }));
                        c.queue.push_control(b, t);
                    }
                }
                i.agent_gen += 1;
                let g = i.agent_gen;
                drop(i);
                spawn_timer(app, session, app.config.max_interval, Timer::AgentLost(g));
            }
        }
        Role::Controller => i.controllers.retain(|c| c.id != conn.id),
    }
}

fn violation(role: Role, what: &str) -> Refusal {
    Refusal::new(
        ErrorCode::ProtocolViolation,
        close::POLICY,
        format!("{what} is not allowed for role {role:?}"),
    )
}

/// Handles one decoded inbound frame. `Err` means: send the refusal and close this connection.
pub fn handle(
    app: &Arc<App>,
    session: &Arc<Session>,
    conn: &ConnRef,
    msg: Message,
    raw: Bytes,
    received: Instant,
) -> Result<(), Refusal> {
    use crate::metrics::Direction;
    let tag = msg.tag();
    let mut i = session.lock();
    if i.state == SessionState::Ended {
        return Ok(()); // Close is already queued; late frames are moot.
    }
    // Only the current customer connection speaks for the customer.
    if conn.role == Role::Customer && i.customer.as_ref().is_none_or(|c| c.id != conn.id) {
        return Ok(());
    }
    // Pointer, click and pseudo-state frames must speak for the sender's own party.
    if let Some(party) = msg.party() {
        let own = match conn.role {
            Role::Customer => Some(Party::Customer),
            Role::Agent => Some(Party::Agent),
            Role::Controller => None,
        };
        if own.is_some_and(|own| own != party) {
            return Err(violation(conn.role, "a frame of another party"));
        }
    }
    let reply = |m: &Message| {
        let (b, t) = frame(m);
        conn.queue.push_control(b, t);
    };
    match (conn.role, msg) {
        (_, Message::Ping(v)) => reply(&Message::Pong(v)),
        (_, Message::Pong(_)) => {}
        (Role::Customer, Message::Leave) => {
            drop(i);
            end(app, session, EndReason::CustomerExit);
        }
        (Role::Agent, Message::Leave) => {
            drop(i);
            end(app, session, EndReason::AgentExit);
        }
        (Role::Controller, Message::Leave) => {
            drop(i);
            end(app, session, EndReason::ControllerStop);
        }
        (Role::Customer, m) if m.is_page_state() => {
            if let Message::Navigation(nav) = &m
                && i.history.pages.len() < app.config.max_pages
            {
                // Bounded: history is for people reading it, not a copy of hostile input.
                i.history.pages.push(PageVisit {
                    url: truncate(&nav.url, 2048),
                    title: truncate(&nav.title, 256),
                    at: now_ms(),
                });
                app.write(StoreOp::History(i.history.clone()));
            }
            if i.cache.add(
                &raw,
                tag,
                app.config.min_log_bytes,
                app.config.max_log_bytes,
            ) {
                i.request_snapshot();
            }
            app.metrics.relayed(Direction::CustomerToAgent, raw.len());
            i.relay_to_agents(app, &raw, tag, received);
        }
        (
            Role::Customer,
            Message::Pointer(_)
            | Message::Click(_)
            | Message::Pseudo(_)
            | Message::Refused(_)
            | Message::Unknown { .. },
        ) => {
            app.metrics.relayed(Direction::CustomerToAgent, raw.len());
            i.relay_to_agents(app, &raw, tag, received);
        }
        (Role::Customer, Message::Mode(change)) => {
            match change {
                ModeChange::Granted => {
                    if !i.mode_requested || !app.config.write_mode_allowed {
                        // A grant nobody asked for is ignored rather than trusted.
                        tracing::debug!(token = %session.token, "unrequested grant ignored");
                        return Ok(());
                    }
                    i.mode_requested = false;
                    i.mode = Mode::Write;
                    session.store_mode(app, &i);
                }
                ModeChange::Denied => i.mode_requested = false,
                ModeChange::Revoked { .. } => {
                    i.mode_requested = false;
                    if std::mem::replace(&mut i.mode, Mode::Pointer) == Mode::Write {
                        session.store_mode(app, &i);
                    }
                }
                ModeChange::Request => return Err(violation(Role::Customer, "Mode(Request)")),
            }
            app.metrics.relayed(Direction::CustomerToAgent, raw.len());
            i.relay_to_agents(app, &raw, tag, received);
        }
        (
            Role::Agent,
            Message::Pointer(_) | Message::Click(_) | Message::Pseudo(_) | Message::Unknown { .. },
        ) => {
            app.metrics.relayed(Direction::AgentToCustomer, raw.len());
            i.relay_to_customer(&raw, tag, received);
        }
        (Role::Agent, Message::Mode(ModeChange::Request)) => {
            if !app.config.write_mode_allowed {
                reply(&Message::Refused(ActionRefused {
                    node: None,
                    reason: RefusalReason::WriteModeDisabled,
                }));
                return Ok(());
            }
            i.mode_requested = true;
            app.metrics.relayed(Direction::AgentToCustomer, raw.len());
            i.relay_to_customer(&raw, tag, received);
        }
        (Role::Agent, Message::Mode(ModeChange::Revoked { .. })) => {
            i.mode_requested = false;
            if std::mem::replace(&mut i.mode, Mode::Pointer) == Mode::Write {
                session.store_mode(app, &i);
            }
            app.metrics.relayed(Direction::AgentToCustomer, raw.len());
            i.relay_to_customer(&raw, tag, received);
            for a in i.agents.iter().filter(|a| a.id != conn.id) {
                a.queue.push_control(raw.clone(), tag);
            }
        }
        (Role::Agent, Message::Action(action)) => {
            if i.mode != Mode::Write {
                let reason = if app.config.write_mode_allowed {
                    RefusalReason::NotInWriteMode
                } else {
                    RefusalReason::WriteModeDisabled
                };
                reply(&Message::Refused(ActionRefused {
                    node: action_target(&action),
                    reason,
                }));
                return Ok(());
            }
            app.metrics.relayed(Direction::AgentToCustomer, raw.len());
            i.relay_to_customer(&raw, tag, received);
        }
        (Role::Agent, Message::RequestSnapshot) => {
            // The renderer lost track; give it the cached page again (or ask the customer).
            let frames = i.cache.frames();
            if frames.is_empty() {
                if !i.cache.requested && i.customer.is_some() {
                    i.cache.requested = true;
                    i.request_snapshot();
                }
            } else {
                conn.queue.resync(frames);
            }
        }
        (Role::Controller, Message::Unknown { .. }) => {}
        (role, m) => return Err(violation(role, &kind_name(&m))),
    }
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn action_target(a: &AgentAction) -> Option<cobrowse_protocol::NodeId> {
    match a {
        AgentAction::Click { node, .. }
        | AgentAction::Input { node, .. }
        | AgentAction::Check { node, .. }
        | AgentAction::Select { node, .. }
        | AgentAction::Focus { node }
        | AgentAction::Edit { node, .. } => Some(*node),
        AgentAction::Key { node, .. } => *node,
        AgentAction::Scroll(_) | AgentAction::Navigate(_) => None,
    }
}

/// Short name of a message kind for reasons and logs.
pub fn kind_name(m: &Message) -> String {
    match m {
        Message::Unknown { tag, .. } => format!("unknown message (tag {tag})"),
        other => {
            let dbg = format!("{other:?}");
            let end = dbg.find(['(', ' ', '{']).unwrap_or(dbg.len());
            dbg[..end].to_string()
        }
    }
}

/// Tells every party the server is going away and closes them (1001). Sessions are recorded as
/// ended (`server_shutdown`): the embedded store keeps no page cache to resume from. Returns the
/// queues, so the caller can abort writers still stuck after the grace period.
pub fn shutdown_all(app: &Arc<App>) -> Vec<Arc<SendQueue>> {
    let sessions: Vec<Arc<Session>> = app.registry.map().values().cloned().collect();
    let mut queues = Vec::new();
    let (bytes, tag) = frame(&Message::Session(SessionEvent::ServerGoingAway));
    for s in sessions {
        let mut i = s.lock();
        for p in i.parties() {
            p.queue.push_control(bytes.clone(), tag);
            p.queue.close(close::GOING_AWAY, "server going away");
            queues.push(p.queue.clone());
        }
        if i.state != SessionState::Ended {
            match i.state {
                SessionState::Idle => app.metrics.sessions_idle.decrement(1.0),
                _ => app.metrics.sessions_active.decrement(1.0),
            }
            app.registry.live.fetch_sub(1, Ordering::SeqCst);
            i.state = SessionState::Ended;
            i.history.ended_at = Some(now_ms());
            i.history.end_reason = Some(end_reason_name(&EndReason::ServerShutdown));
            app.write(StoreOp::History(i.history.clone()));
            app.write(StoreOp::RemoveLive(s.token.clone()));
        }
        i.customer = None;
        i.agents.clear();
        i.controllers.clear();
    }
    queues
}

/// Cluster mode, graceful stop: hands every live session over instead of ending it. For each
/// session the latest history is written, the live record is released (compare-and-set from
/// this node to [`crate::store::RELEASED`], keeping state and write-mode grant), and only then
/// are its parties told `ServerGoingAway` and closed with 1012 (service restart): their
/// reconnects reach another node (the load balancer no longer routes here), which claims the
/// released record at once. The history stays open: the session goes on elsewhere. Returns the
/// queues, so the caller can abort writers still stuck after the grace period.
pub async fn hand_over_all(app: &Arc<App>) -> Vec<Arc<SendQueue>> {
    use futures_util::StreamExt;
    let sessions: Vec<Arc<Session>> = app.registry.map().values().cloned().collect();
    let me = app.config.node_name.clone();
    let released = futures_util::stream::iter(sessions)
        .map(|s| {
            let me = me.clone();
            async move {
                let (rec, history) = {
                    let i = s.lock();
                    if i.state == SessionState::Ended {
                        return None;
                    }
                    (
                        s.live_record(&i, crate::store::RELEASED),
                        i.history.clone(),
                    )
                };
                if let Err(e) = app.store.put_history(history).await {
                    tracing::warn!(token = %s.token, error = %e, "history not written before hand-over");
                }
                match app.store.claim_live(me, rec).await {
                    Ok(true) => tracing::info!(token = %s.token, "session released for another node"),
                    Ok(false) => tracing::info!(token = %s.token, "session no longer owned here"),
                    Err(e) => tracing::warn!(token = %s.token, error = %e,
                        "session not released; another node claims it once this node's heartbeat expires"),
                }
                Some(s)
            }
        })
        .buffer_unordered(16)
        .filter_map(std::future::ready)
        .collect::<Vec<_>>()
        .await;
    let (bytes, tag) = frame(&Message::Session(SessionEvent::ServerGoingAway));
    let mut queues = Vec::new();
    for s in released {
        let mut i = s.lock();
        for p in i.parties() {
            p.queue.push_control(bytes.clone(), tag);
            p.queue
                .close(close::SERVICE_RESTART, "node restarting: reconnect");
            queues.push(p.queue.clone());
        }
        if i.state != SessionState::Ended {
            match i.state {
                SessionState::Idle => app.metrics.sessions_idle.decrement(1.0),
                _ => app.metrics.sessions_active.decrement(1.0),
            }
            app.registry.live.fetch_sub(1, Ordering::SeqCst);
            // Over here only: no history or live-record write, the session lives on elsewhere.
            i.state = SessionState::Ended;
        }
        i.customer = None;
        i.agents.clear();
        i.controllers.clear();
    }
    queues
}

/// Ends sessions a previous run of this node left in storage (crash or kill): they cannot be
/// resumed without their page cache, so their history is closed as `server_shutdown`.
pub async fn close_stale(app: &Arc<App>) -> Result<usize, crate::store::StoreError> {
    let live = app.store.list_live().await?;
    let mut n = 0;
    for rec in live.into_iter().filter(|r| r.node == app.config.node_name) {
        if let Some(mut h) = app.store.get_history(rec.history_id.clone()).await?
            && h.ended_at.is_none()
        {
            h.ended_at = Some(now_ms());
            h.end_reason = Some(end_reason_name(&EndReason::ServerShutdown));
            app.store.put_history(h).await?;
        }
        app.store.remove_live(rec.token).await?;
        n += 1;
    }
    Ok(n)
}

/// Validates a `Hello` against the registry for `role` (token shape, existence, state).
pub fn find_for_hello(app: &Arc<App>, hello: &Hello) -> Result<Arc<Session>, Refusal> {
    let unknown = || {
        Refusal::new(
            ErrorCode::UnknownSession,
            close::POLICY,
            "no live session has this token",
        )
    };
    if !is_token_shaped(&hello.token) {
        return Err(unknown());
    }
    let session = app.registry.get(&hello.token).ok_or_else(unknown)?;
    if session.lock().state == SessionState::Ended {
        return Err(Refusal::new(
            ErrorCode::SessionEnded,
            close::POLICY,
            "the session has ended",
        ));
    }
    Ok(session)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_nine_digits_and_vary() {
        let tokens: HashSet<String> = (0..1000).map(|_| new_token()).collect();
        assert!(tokens.len() > 990, "tokens repeat too often");
        for t in &tokens {
            assert!(is_token_shaped(t), "{t}");
            assert!(!t.starts_with('0'));
        }
        assert!(!is_token_shaped("12345678"));
        assert!(!is_token_shaped("12345678a"));
    }

    #[test]
    fn cache_requests_a_snapshot_when_the_log_outgrows_it() {
        let mut c = Cache::default();
        let snap = Bytes::from(vec![0u8; 100]);
        let delta = Bytes::from(vec![0u8; 40]);
        // Without a base, deltas are not kept and a snapshot is asked for once.
        assert!(c.add(&delta, tags::MUTATIONS, 0, 1000));
        assert!(!c.add(&delta, tags::MUTATIONS, 0, 1000));
        assert!(c.frames().is_empty());
        assert!(!c.add(&snap, tags::SNAPSHOT, 0, 1000));
        assert!(!c.add(&delta, tags::MUTATIONS, 0, 1000));
        assert!(!c.add(&delta, tags::MUTATIONS, 0, 1000));
        assert!(
            c.add(&delta, tags::MUTATIONS, 0, 1000),
            "120 > 100: ask once"
        );
        assert!(!c.add(&delta, tags::MUTATIONS, 0, 1000), "asked already");
        assert_eq!(c.frames().len(), 5);
        assert_eq!(c.frames()[0].1, tags::SNAPSHOT);
        assert!(!c.add(&snap, tags::SNAPSHOT, 0, 1000));
        assert_eq!(c.frames().len(), 1, "a snapshot resets the log");
    }

    #[test]
    fn cache_drops_everything_past_the_hard_cap() {
        let mut c = Cache::default();
        c.add(&Bytes::from(vec![0u8; 100]), tags::SNAPSHOT, 1 << 20, 150);
        assert!(c.add(&Bytes::from(vec![0u8; 60]), tags::MUTATIONS, 1 << 20, 150));
        assert!(c.frames().is_empty());
    }
}
