//! One session's state and its parties ([`Session`], [`ConnRef`]), what every party is sent on
//! a transition, and the [`Registry`] of all sessions of this server.

use super::cache::Cache;
use super::link::Link;
use super::timers::TimerSlots;
use super::types::frame;
use crate::app::{App, StoreOp, now_ms};
use crate::queue::SendQueue;
use crate::store::{HistoryRecord, LiveRecord};
use bytes::Bytes;
use cobrowse_protocol::Code;
use cobrowse_protocol::recording::Source;
use cobrowse_protocol::rest::{DesktopEvent, DesktopEventKind};
use cobrowse_protocol::{
    ActionRefused, ControllerEvent, ControllerEventKind, Message, Mode, RefusalReason, Role,
    SessionEvent, SessionState, Welcome,
};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

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
    /// Its link, when the party speaks sequencing (set by `join`).
    pub link: Option<Arc<Link>>,
    /// When its last render report was taken (agents only send them).
    pub render_reports: super::render_gate::RenderGate,
    /// How much ink it may still have relayed (agents only draw).
    pub ink: super::ink_gate::InkGate,
    /// The agent's seat in the session (set by `join`; 0 for customers and controllers).
    pub seat: u32,
    /// The agent joined to watch (`Hello.observe`): it never takes control by joining.
    pub observe: bool,
}

/// A session's mutable state, behind [`Session`]'s one mutex.
#[derive(Debug)]
pub(super) struct Inner {
    pub(super) state: SessionState,
    pub(super) mode: Mode,
    pub(super) mode_requested: bool,
    pub(super) activated_at: Option<u64>,
    pub(super) customer: Option<ConnRef>,
    pub(super) customer_seen: bool,
    pub(super) agents: Vec<ConnRef>,
    pub(super) controllers: Vec<ConnRef>,
    pub(super) cache: Cache,
    pub(super) history: HistoryRecord,
    pub(super) node_url: String,
    pub(super) customer_gen: u64,
    pub(super) agent_gen: u64,
    /// The customer's link, kept while its socket is away (frames for it wait there).
    pub(super) customer_link: Option<Arc<Link>>,
    /// Links of agents whose socket went away, newest last, for a resume.
    pub(super) detached_agents: Vec<Arc<Link>>,
    /// Write mode stays on while the agent that held it is away with this link: it ends when
    /// anyone else joins (or the agent's link cannot continue).
    pub(super) write_held_for: Option<u64>,
    /// The session's pending timers (lifecycle sets them; a join cancels the ones it makes moot).
    pub(super) timers: TimerSlots,
    /// The audit recording, when the session's site is recorded (a cell: session events are
    /// recorded from `&self` methods, always under the session's lock).
    pub(super) recorder: Option<std::cell::RefCell<super::recorder::Recorder>>,
    /// Seats and who holds control among the agents (`super::control`).
    pub(super) control: super::control::ControlState,
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
    /// Digest of the customer secret ([`crate::auth::customer`]); kept with the live record so
    /// a node that adopts the session still knows its customer. Empty: nobody is the customer.
    pub customer_key: String,
    pub(super) inner: Mutex<Inner>,
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
    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
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

    /// The session as it is now, as a `state` event (the first event of its stream).
    pub fn desktop_state(&self) -> DesktopEvent {
        self.lock()
            .desktop_event(self, DesktopEventKind::State, None)
    }

    /// True when `presented` is this session's customer secret (constant-time; see
    /// [`crate::auth::customer::matches`]).
    pub fn is_customer(&self, presented: Option<&str>) -> bool {
        crate::auth::customer::matches(presented, &self.customer_key)
    }

    /// The live record as stored with `node` as owner.
    pub(super) fn live_record(&self, i: &Inner, node: &str) -> LiveRecord {
        LiveRecord {
            token: self.token.clone(),
            history_id: self.history_id.clone(),
            node: node.to_string(),
            node_url: i.node_url.clone(),
            state: i.state.code().into(),
            created_at: self.created_at,
            activated_at: i.activated_at,
            write_mode: i.mode == Mode::Write,
            customer_key: self.customer_key.clone(),
            agents: i.agent_ids(),
            agent_count: i.agents.len() as u32,
            page_url: i.page_url().to_string(),
        }
    }

    /// Stores the live record after a mode change, so a node that takes the session over knows
    /// the grant.
    /// Desktops hear of it too (`mode`): every mode change passes here.
    pub(super) fn store_mode(&self, app: &App, i: &Inner) {
        app.write(StoreOp::Live(self.live_record(i, &app.config.node_name)));
        i.publish(app, self, DesktopEventKind::Mode, None);
    }
}

impl Inner {
    /// The identities of the connected agents, each once, in joining order.
    pub(crate) fn agent_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for id in self.agents.iter().filter_map(|a| a.agent_id.as_ref()) {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        ids
    }

    /// The page the customer is on, as its browser sent it: the last page of the history
    /// (empty before the first). Once `limits.maxPages` pages are recorded the history stops
    /// growing, and so does this.
    pub(crate) fn page_url(&self) -> &str {
        self.history.pages.last().map_or("", |p| p.url.as_str())
    }

    /// Customer, agents and controllers.
    pub(super) fn parties(&self) -> impl Iterator<Item = &ConnRef> {
        self.customer
            .iter()
            .chain(self.agents.iter())
            .chain(self.controllers.iter())
    }

    /// The `Welcome` a party of `role` gets on joining; `link`: the party's link, `resumed`
    /// whether it continues.
    pub(super) fn welcome(
        &self,
        s: &Session,
        role: Role,
        app: &App,
        link: Option<&Arc<Link>>,
        resumed: bool,
    ) -> Message {
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
            link: link.map(|l| l.welcome(resumed, app.config.ping_interval)),
            // Every party may send `Batch` frames (`ws::inbound` takes them apart).
            batch: true,
        })
    }

    /// Records a relayed frame when the session is recorded.
    pub(super) fn record(&self, app: &App, source: Source, bytes: &[u8]) {
        if let Some(r) = &self.recorder {
            r.borrow_mut().record(app, source, bytes);
        }
    }

    /// Stores what the recording holds so far (the session ends or leaves this node).
    pub(super) fn flush_recording(&self, app: &App) {
        if let Some(r) = &self.recorder {
            r.borrow_mut().flush(app);
        }
    }

    /// A session event for every party (kept for parties that are away, to replay).
    pub(super) fn announce(&self, app: &App, ev: SessionEvent) {
        let (bytes, tag) = frame(&Message::Session(ev));
        self.record(app, Source::Server, &bytes);
        for p in self.parties() {
            p.queue.push_control(bytes.clone(), tag);
            app.metrics
                .relayed(crate::metrics::Direction::Server, bytes.len());
        }
        self.record_for_away(&bytes, tag, true);
    }

    /// Keeps a frame for the parties whose socket is away: the agents (`agents`) and the
    /// customer (always, when away), so a resume replays it.
    pub(super) fn record_for_away(&self, bytes: &Bytes, tag: u32, agents: bool) {
        if agents {
            for l in &self.detached_agents {
                l.record(tag, bytes);
            }
        }
        if self.customer.is_none()
            && let Some(l) = &self.customer_link
        {
            l.record(tag, bytes);
        }
    }

    /// The binary controller event of `kind`: the session's creation, its activation (not
    /// its creation) and its first agent.
    pub(super) fn controller_event(&self, s: &Session, kind: ControllerEventKind) -> Message {
        Message::Controller(ControllerEvent {
            kind,
            token: s.token.clone(),
            history_id: s.history_id.clone(),
            started_at_ms: s.created_at,
            activated_at_ms: self.activated_at,
            agent_id: self.history.agent_id.clone(),
        })
    }

    /// The JSON event of `kind` for desktops; `agent`: the agent it is about (else the
    /// session's first agent).
    pub(super) fn desktop_event(
        &self,
        s: &Session,
        kind: DesktopEventKind,
        agent: Option<&str>,
    ) -> DesktopEvent {
        DesktopEvent {
            kind,
            token: s.token.clone(),
            history_id: s.history_id.clone(),
            state: self.state,
            created_at: s.created_at,
            activated_at: self.activated_at,
            agent_id: agent
                .map(str::to_owned)
                .or_else(|| self.history.agent_id.clone()),
            agents: self.agents.len() as u32,
            mode: self.mode,
            end_reason: (kind == DesktopEventKind::Ended)
                .then(|| self.history.end_reason.clone())
                .flatten(),
            at: now_ms(),
        }
    }

    /// Publishes a desktop event (event streams, webhooks); never waits.
    pub(super) fn publish(
        &self,
        app: &App,
        s: &Session,
        kind: DesktopEventKind,
        agent: Option<&str>,
    ) {
        let mut agents: Vec<String> = self
            .agents
            .iter()
            .filter_map(|a| a.agent_id.clone())
            .chain(self.history.agent_id.clone())
            .chain(agent.map(str::to_owned))
            .collect();
        agents.sort();
        agents.dedup();
        let event = self.desktop_event(s, kind, agent);
        app.events
            .publish(&app.metrics, crate::events::Published { event, agents });
    }

    /// A controller event for every controller.
    pub(super) fn to_controllers(&self, s: &Session, kind: ControllerEventKind) {
        let (bytes, tag) = frame(&self.controller_event(s, kind));
        for c in &self.controllers {
            c.queue.push_control(bytes.clone(), tag);
        }
    }

    /// Tells every agent that these write-mode actions (encoded `Action` frames) were not
    /// performed: the customer's page never got them. Agents on a link learn it as
    /// `Undelivered`; older agent pages, which do not know that reason, as `NoSuchNode`.
    pub(super) fn refuse_undelivered(&self, actions: impl IntoIterator<Item = Bytes>) {
        for raw in actions {
            let Ok(Message::Action(action)) = cobrowse_protocol::decode(&raw) else {
                continue;
            };
            let refusal = |reason| {
                frame(&Message::Refused(ActionRefused {
                    node: action.target(),
                    reason,
                }))
            };
            let (linked, tag) = refusal(RefusalReason::Undelivered);
            let (plain, _) = refusal(RefusalReason::NoSuchNode);
            for a in &self.agents {
                let b = if a.link.is_some() { &linked } else { &plain };
                a.queue.push_control(b.clone(), tag);
            }
            for l in &self.detached_agents {
                l.record(tag, &linked);
            }
        }
    }

    /// A control frame for the customer: queued on its socket, or kept on its link while it is
    /// away.
    pub(super) fn to_customer(&self, bytes: &Bytes, tag: u32) {
        match (&self.customer, &self.customer_link) {
            (Some(c), _) => {
                c.queue.push_control(bytes.clone(), tag);
            }
            (None, Some(l)) => l.record(tag, bytes),
            (None, None) => {}
        }
    }

    /// Asks the customer (if connected) for a fresh snapshot. (One that is away sends a
    /// snapshot anyway if its link starts over, or is still in step with the cache if it
    /// resumes.)
    pub(super) fn request_snapshot(&self) {
        if let Some(c) = &self.customer {
            let (bytes, tag) = frame(&Message::RequestSnapshot);
            c.queue.push_control(bytes, tag);
        }
    }
}

/// All sessions of this server, plus agent-limit bookkeeping.
#[derive(Debug, Default)]
pub struct Registry {
    pub(super) map: Mutex<HashMap<String, Arc<Session>>>,
    /// history id → token, for sessions in `map`.
    pub(super) by_history: Mutex<HashMap<String, String>>,
    /// agent id → tokens of sessions the agent is connected to.
    agents: Mutex<HashMap<String, HashSet<String>>>,
    next_conn: AtomicU64,
    /// Sessions created and not yet ended.
    pub(super) live: std::sync::atomic::AtomicUsize,
}

impl Registry {
    pub(super) fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn agents(&self) -> MutexGuard<'_, HashMap<String, HashSet<String>>> {
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

    /// The live record of every session this node holds that has not ended, as it is now (the
    /// stored ones lag behind the storage writer): the supervisor console's local view.
    pub fn live_records(&self, node: &str) -> Vec<LiveRecord> {
        let sessions: Vec<Arc<Session>> = self.map().values().cloned().collect();
        sessions
            .iter()
            .filter_map(|s| {
                let i = s.lock();
                (i.state != SessionState::Ended).then(|| s.live_record(&i, node))
            })
            .collect()
    }

    /// The tokens of sessions this node holds that have ended (until forgotten).
    pub fn ended_tokens(&self) -> HashSet<String> {
        let sessions: Vec<Arc<Session>> = self.map().values().cloned().collect();
        sessions
            .iter()
            .filter(|s| s.lock().state == SessionState::Ended)
            .map(|s| s.token.clone())
            .collect()
    }

    /// Sessions not yet ended.
    pub fn live_count(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// True while a connection of `agent_id` is in the session `token` on this server.
    pub fn agent_in(&self, agent_id: &str, token: &str) -> bool {
        self.agents()
            .get(agent_id)
            .is_some_and(|set| set.contains(token))
    }

    /// Forgets that `agent_id` is in the session `token` (agent limit).
    pub(super) fn release_agent(&self, agent_id: &str, token: &str) {
        let mut agents = self.agents();
        if let Some(set) = agents.get_mut(agent_id) {
            set.remove(token);
            if set.is_empty() {
                agents.remove(agent_id);
            }
        }
    }
}
