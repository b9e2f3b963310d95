//! The exported client: session lifecycle, connection, and the glue between recorder, UI and
//! the page's JS.
//!
//! # Who owns what
//!
//! * [`CobrowseClient`] (held by the loader) owns the shared [`Inner`].
//! * [`Inner`] owns the [`Recorder`] (capture callbacks), the [`Ui`] (its listeners and host
//!   element), the [`Connection`] (the WebSocket and its four handler closures) and the pending
//!   reconnect timer. Dropping any of them unregisters its callbacks; `stop()` drops them all.
//! * Every callback holds only a `Weak` reference to `Inner`, so nothing keeps a stopped client
//!   alive, and uses `try_borrow_mut`: a re-entrant call is deferred to a microtask instead of
//!   panicking on the customer's page.
//! * Page-state frames go out through the [`Outbox`], shared with the recorder, which holds the
//!   socket only between `Welcome` and close.

use crate::backoff::Backoff;
use crate::config::{Config, Texts};
use crate::web::actions::{action_node, perform_at};
use crate::web::recorder::{Recorder, Sink};
use crate::web::ui::{Ui, UiAction};
use cobrowse_protocol::{
    ActionRefused, AgentAction, EndReason, ErrorCode, Hello, Message, Mode, ModeChange, NavKind,
    Party, RefusalReason, Role, SessionEvent, SessionState,
};
use gloo_timers::callback::Timeout;
use js_sys::{Function, Promise};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise, spawn_local};
use web_sys::{BinaryType, CloseEvent, Document, MessageEvent, WebSocket, Window};

/// Key of the session kept in `sessionStorage` across reloads and navigation.
pub const STORAGE_KEY: &str = "cobrowse:session";

/// Errors of the client, as the page sees them (`error` events and rejected promises carry
/// `{ code, message }`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// No server URL was configured or found by the loader.
    #[error("no server URL configured")]
    NoServerUrl,
    /// The browser could not reach the server.
    #[error("network error: {0}")]
    Network(String),
    /// The server answered with an error.
    #[error("server error {status}: {message}")]
    Http {
        /// HTTP status.
        status: u16,
        /// The server's snake_case error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// The server's answer was not what the REST contract says.
    #[error("unexpected answer from server: {0}")]
    BadResponse(String),
    /// A session is being started already.
    #[error("a session is already starting")]
    Busy,
    /// `stop()` was called while starting.
    #[error("cancelled")]
    Cancelled,
    /// The server refused the connection.
    #[error("{0}")]
    Refused(String),
    /// The server sent an error frame.
    #[error("{message}")]
    Server {
        /// snake_case form of the protocol's `ErrorCode`.
        code: &'static str,
        /// The server's message.
        message: String,
    },
    /// The page's environment lacks something we need.
    #[error("browser environment: {0}")]
    Environment(String),
}

impl ClientError {
    /// Stable snake_case code.
    pub fn code(&self) -> String {
        match self {
            ClientError::NoServerUrl => "no_server_url".into(),
            ClientError::Network(_) => "network".into(),
            ClientError::Http { code, .. } => code.clone(),
            ClientError::BadResponse(_) => "bad_response".into(),
            ClientError::Busy => "busy".into(),
            ClientError::Cancelled => "cancelled".into(),
            ClientError::Refused(_) => "refused".into(),
            ClientError::Server { code, .. } => (*code).into(),
            ClientError::Environment(_) => "environment".into(),
        }
    }

    /// `{ code, message }` for JS.
    pub fn to_js(&self) -> JsValue {
        let o = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&o, &"code".into(), &self.code().into());
        let _ = js_sys::Reflect::set(&o, &"message".into(), &self.to_string().into());
        o.into()
    }
}

fn js_err(v: JsValue) -> ClientError {
    ClientError::Network(
        v.as_string()
            .or_else(|| {
                js_sys::Reflect::get(&v, &"message".into())
                    .ok()
                    .and_then(|m| m.as_string())
            })
            .unwrap_or_else(|| "unknown".into()),
    )
}

/// What survives a reload: enough to reconnect to the same session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredSession {
    /// 9-digit token.
    pub token: String,
    /// History id.
    pub history_id: String,
    /// WebSocket URL.
    pub ws_url: String,
}

/// The `201` answer of `POST …/live/sessions` (fields we use).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatedSession {
    token: String,
    history_id: String,
    #[serde(default)]
    ws_url: Option<String>,
    #[serde(default)]
    server_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

/// `ws(s)://host/cobrowse/ws` for a server base URL.
pub fn ws_url_for(base: &str) -> String {
    let base = base.trim_end_matches('/');
    let rest = base
        .strip_prefix("https://")
        .map(|r| format!("wss://{r}"))
        .or_else(|| base.strip_prefix("http://").map(|r| format!("ws://{r}")))
        .unwrap_or_else(|| base.to_owned());
    format!("{rest}/cobrowse/ws")
}

/// Where the client is in a session's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No session.
    Idle,
    /// Creating the session.
    Starting,
    /// Session exists, no agent yet.
    Waiting,
    /// An agent is connected.
    Active,
    /// The session is over.
    Ended,
}

impl Phase {
    /// The public state (`idle|active|ended`).
    pub fn public(self) -> &'static str {
        match self {
            Phase::Idle | Phase::Starting | Phase::Waiting => "idle",
            Phase::Active => "active",
            Phase::Ended => "ended",
        }
    }

    fn ui(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Starting => "starting",
            Phase::Waiting => "waiting",
            Phase::Active => "active",
            Phase::Ended => "ended",
        }
    }
}

/// snake_case name of a protocol error code, as in REST error bodies.
pub fn error_code(c: ErrorCode) -> &'static str {
    match c {
        ErrorCode::BadFrame => "bad_frame",
        ErrorCode::TooLarge => "too_large",
        ErrorCode::ProtocolViolation => "protocol_violation",
        ErrorCode::UnsupportedVersion => "unsupported_version",
        ErrorCode::UnknownSession => "unknown_session",
        ErrorCode::SessionEnded => "session_ended",
        ErrorCode::Unauthorized => "unauthorized",
        ErrorCode::OriginRefused => "origin_refused",
        ErrorCode::RateLimited => "rate_limited",
        ErrorCode::AgentBusy => "agent_busy",
        ErrorCode::CustomerPresent => "customer_present",
        ErrorCode::Internal => "internal",
    }
}

/// snake_case name of an end reason, as in the `ended` event.
pub fn reason_code(r: &EndReason) -> &'static str {
    match r {
        EndReason::CustomerExit => "customer_exit",
        EndReason::AgentExit => "agent_exit",
        EndReason::ControllerStop => "controller_stop",
        EndReason::ApiStop => "api_stop",
        EndReason::InactivityTimeout => "inactivity_timeout",
        EndReason::ConnectionLost => "connection_lost",
        EndReason::ServerShutdown => "server_shutdown",
        EndReason::Other(_) => "other",
    }
}

fn reason_text(texts: &Texts, r: &EndReason) -> String {
    match r {
        EndReason::CustomerExit => texts.reason_customer.clone(),
        EndReason::AgentExit => texts.reason_agent.clone(),
        EndReason::ControllerStop | EndReason::ApiStop => texts.reason_stopped.clone(),
        EndReason::InactivityTimeout => texts.reason_timeout.clone(),
        EndReason::ConnectionLost => texts.reason_connection.clone(),
        EndReason::ServerShutdown => texts.reason_server.clone(),
        EndReason::Other(s) => s.clone(),
    }
}

/// The socket page-state frames go to, shared with the recorder's sink.
type Outbox = Rc<RefCell<Option<WebSocket>>>;

fn send_on(ws: &WebSocket, msg: &Message) -> bool {
    let bytes = cobrowse_protocol::encode(msg);
    ws.ready_state() == WebSocket::OPEN && ws.send_with_u8_array(&bytes).is_ok()
}

/// One WebSocket and the closures it calls. Dropping it detaches the handlers and closes it.
struct Connection {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(web_sys::Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        let _ = self.ws.close_with_code(1000);
    }
}

struct Inner {
    me: Weak<RefCell<Inner>>,
    config: Config,
    texts: Texts,
    /// The UI's language tag (`web::lang::language`).
    lang: String,
    window: Window,
    document: Document,
    phase: Phase,
    mode: Mode,
    session: Option<StoredSession>,
    conn: Option<Connection>,
    outbox: Outbox,
    recorder: Option<Recorder>,
    ui: Option<Ui>,
    handlers: Vec<(String, Function)>,
    backoff: Backoff,
    retry: Option<Timeout>,
    welcomed_once: bool,
    /// This page (this instance, not the stored session) was welcomed before: a `Welcome` now
    /// is a reconnect, and the customer's own mode is the authority (see `crate::consent`).
    page_welcomed: bool,
}

/// Runs `f` on `Inner` now, or in a microtask when it is busy (re-entrant call).
fn with_inner(weak: &Weak<RefCell<Inner>>, f: impl FnOnce(&mut Inner) + 'static) {
    let Some(rc) = weak.upgrade() else { return };
    match rc.try_borrow_mut() {
        Ok(mut inner) => f(&mut inner),
        Err(_) => {
            let weak = weak.clone();
            spawn_local(async move {
                if let Some(rc) = weak.upgrade()
                    && let Ok(mut inner) = rc.try_borrow_mut()
                {
                    f(&mut inner);
                }
            });
        }
    }
}

impl Inner {
    fn log(&self, what: &str) {
        if self.config.debug {
            web_sys::console::debug_1(&format!("[cobrowse] {what}").into());
        }
    }

    /// Calls the page's handlers for `event` in a microtask, so page code never runs while we
    /// hold our own state.
    fn emit(&self, event: &str, detail: JsValue) {
        let fs: Vec<Function> = self
            .handlers
            .iter()
            .filter(|(e, _)| e == event)
            .map(|(_, f)| f.clone())
            .collect();
        if fs.is_empty() {
            return;
        }
        spawn_local(async move {
            for f in fs {
                let _ = f.call1(&JsValue::NULL, &detail);
            }
        });
    }

    fn set_phase(&mut self, phase: Phase) {
        let old = self.phase.public();
        self.phase = phase;
        if let Some(ui) = &self.ui {
            ui.set_state(phase.ui());
        }
        if old != phase.public() {
            self.emit("state", phase.public().into());
        }
    }

    fn storage(&self) -> Option<web_sys::Storage> {
        self.window.session_storage().ok().flatten()
    }

    fn load_session(&self) -> Option<StoredSession> {
        let raw = self.storage()?.get_item(STORAGE_KEY).ok()??;
        let v = js_sys::JSON::parse(&raw).ok()?;
        serde_wasm_bindgen::from_value(v).ok()
    }

    fn store_session(&self) {
        let (Some(st), Some(s)) = (self.storage(), &self.session) else {
            return;
        };
        if let Ok(v) = serde_wasm_bindgen::to_value(s)
            && let Ok(json) = js_sys::JSON::stringify(&v)
        {
            let _ = st.set_item(STORAGE_KEY, &String::from(json));
        }
    }

    fn clear_session(&self) {
        if let Some(st) = self.storage() {
            let _ = st.remove_item(STORAGE_KEY);
        }
    }

    fn session_detail(&self) -> JsValue {
        let o = js_sys::Object::new();
        if let Some(s) = &self.session {
            let _ = js_sys::Reflect::set(&o, &"token".into(), &s.token.clone().into());
            let _ = js_sys::Reflect::set(&o, &"historyId".into(), &s.history_id.clone().into());
        }
        o.into()
    }

    fn send(&self, msg: &Message) {
        if let Some(c) = &self.conn
            && !send_on(&c.ws, msg)
        {
            self.log("send failed (socket not open)");
        }
    }

    fn load_restrictions_then_connect(&mut self) {
        let Some(base) = self.config.server_base() else {
            return;
        };
        let weak = self.me.clone();
        let document = self.document.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = crate::web::restrict::load(&document, &base).await;
            with_inner(&weak, move |i| match result {
                Ok(()) => i.connect(),
                Err(e) => {
                    i.log(&e);
                    if !matches!(i.phase, Phase::Ended | Phase::Idle) {
                        i.schedule_reconnect();
                    }
                }
            });
        });
    }

    fn connect(&mut self) {
        self.retry = None;
        let Some(session) = self.session.clone() else {
            return;
        };
        if matches!(self.phase, Phase::Ended | Phase::Idle) {
            return;
        }
        if !crate::web::restrict::loaded() {
            // Fail closed (issue #5): nothing is captured before the site's masking rules are
            // known; a failed load is retried like a failed connection.
            self.load_restrictions_then_connect();
            return;
        }
        self.log(&format!("connecting to {}", session.ws_url));
        let ws = match WebSocket::new(&session.ws_url) {
            Ok(ws) => ws,
            Err(e) => {
                self.log(&format!("socket failed: {}", js_err(e)));
                self.schedule_reconnect();
                return;
            }
        };
        ws.set_binary_type(BinaryType::Arraybuffer);
        let weak = self.me.clone();
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
            with_inner(&weak, |i| i.on_open());
        });
        let weak = self.me.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let data = e.data();
            let Some(buf) = data.dyn_ref::<js_sys::ArrayBuffer>() else {
                return;
            };
            let bytes = js_sys::Uint8Array::new(buf).to_vec();
            with_inner(&weak, move |i| i.on_frame(&bytes));
        });
        let weak = self.me.clone();
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            let (code, reason) = (e.code(), e.reason());
            with_inner(&weak, move |i| i.on_close(code, &reason));
        });
        let weak = self.me.clone();
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
            with_inner(&weak, |i| i.log("socket error"));
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        self.outbox.replace(None);
        self.conn = Some(Connection {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            _on_error: on_error,
        });
    }

    fn on_open(&mut self) {
        let Some(s) = &self.session else { return };
        let hello = Message::Hello(Hello {
            role: Role::Customer,
            token: s.token.clone(),
            auth: None,
            agent_id: None,
            resume_from: None,
            client: concat!("cobrowse-client/", env!("CARGO_PKG_VERSION")).into(),
        });
        self.send(&hello);
    }

    fn on_frame(&mut self, bytes: &[u8]) {
        let msg = match cobrowse_protocol::decode(bytes) {
            Ok(m) => m,
            Err(e) => {
                self.log(&format!("bad frame from server: {e}"));
                return;
            }
        };
        match msg {
            Message::Welcome(w) => {
                self.log(&format!("welcome: {} agents", w.agents));
                self.backoff.reset();
                self.welcomed_once = true;
                let reconnect = std::mem::replace(&mut self.page_welcomed, true);
                if let Some(c) = &self.conn {
                    self.outbox.replace(Some(c.ws.clone()));
                }
                let phase = if w.state == SessionState::Active || w.agents > 0 {
                    Phase::Active
                } else {
                    Phase::Waiting
                };
                self.set_phase(phase);
                match crate::consent::on_welcome(reconnect, self.mode, w.mode) {
                    crate::consent::OnWelcome::Keep => {}
                    // The server remembers a grant made before a reload (or on a lost node).
                    crate::consent::OnWelcome::Follow => self.set_mode(w.mode),
                    // Taken back while the socket was down: the customer's word counts.
                    crate::consent::OnWelcome::Revoke => {
                        self.send(&Message::Mode(ModeChange::Revoked {
                            by: Party::Customer,
                        }))
                    }
                }
                self.ensure_recorder();
                if let Some(r) = &self.recorder {
                    if let Some(nav) = r.navigation(NavKind::Load) {
                        self.send(&nav);
                    }
                    if let Some(snap) = r.snapshot() {
                        self.send(&snap);
                    }
                }
            }
            Message::RequestSnapshot => {
                if let Some(snap) = self.recorder.as_ref().and_then(Recorder::snapshot) {
                    self.send(&snap);
                }
            }
            Message::Ping(n) => self.send(&Message::Pong(n)),
            Message::Session(ev) => self.on_session_event(ev),
            Message::Pointer(p) if p.party == Party::Agent => {
                if let Some(ui) = &self.ui {
                    ui.draw_pointer(p.pos);
                }
            }
            Message::Click(c) if c.party == Party::Agent => {
                if let Some(ui) = &self.ui {
                    ui.ring(c.x, c.y);
                }
            }
            Message::Mode(ModeChange::Request) => {
                let ask = self.config.write_mode && self.mode == Mode::Pointer;
                match &self.ui {
                    Some(ui) if ask => ui.show_write_request(),
                    _ => self.send(&Message::Mode(ModeChange::Denied)),
                }
            }
            Message::Mode(ModeChange::Revoked { .. }) => {
                if let Some(ui) = &self.ui {
                    ui.close_write_request();
                }
                if self.mode == Mode::Write {
                    self.set_mode(Mode::Pointer);
                }
            }
            Message::Action(a) => {
                let result = if self.mode != Mode::Write {
                    Err(RefusalReason::NotInWriteMode)
                } else {
                    let resolve = |id: u32| self.recorder.as_ref().and_then(|r| r.node(id));
                    let node = action_node(&a).and_then(resolve);
                    let caret = match &a {
                        AgentAction::Edit { caret: Some(c), .. } => resolve(c.node),
                        _ => None,
                    };
                    perform_at(&self.window, node, caret, &a)
                };
                if let Err(reason) = result {
                    self.log("agent action refused");
                    self.send(&Message::Refused(ActionRefused {
                        node: action_node(&a),
                        reason,
                    }));
                }
            }
            Message::Error(e) => {
                self.log(&format!("server error: {}", e.message));
                let err = ClientError::Server {
                    code: error_code(e.code),
                    message: e.message.clone(),
                };
                self.emit("error", err.to_js());
                if matches!(e.code, ErrorCode::UnknownSession | ErrorCode::SessionEnded) {
                    self.end(EndReason::Other(e.message), false);
                }
            }
            other => self.log(&format!("ignored frame tag {}", other.tag())),
        }
    }

    fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
        if let Some(ui) = &self.ui {
            ui.set_write_mode(mode == Mode::Write);
        }
        let name = match mode {
            Mode::Write => "write",
            Mode::Pointer => "pointer",
        };
        self.emit("mode", name.into());
    }

    fn on_session_event(&mut self, ev: SessionEvent) {
        match ev {
            SessionEvent::AgentJoined { agent_id, .. } => {
                self.set_phase(Phase::Active);
                if let Some(ui) = &self.ui {
                    ui.status(&self.texts.agent_joined);
                }
                let o = js_sys::Object::new();
                if let Some(id) = agent_id {
                    let _ = js_sys::Reflect::set(&o, &"agentId".into(), &id.into());
                }
                self.emit("agentJoined", o.into());
            }
            SessionEvent::AgentLeft { agent_id, .. } => {
                if let Some(ui) = &self.ui {
                    ui.status(&self.texts.agent_left);
                    ui.draw_pointer(None);
                }
                let o = js_sys::Object::new();
                if let Some(id) = agent_id {
                    let _ = js_sys::Reflect::set(&o, &"agentId".into(), &id.into());
                }
                self.emit("agentLeft", o.into());
            }
            SessionEvent::Ended(reason) => self.end(reason, false),
            SessionEvent::AgentBusy => {
                if let Some(ui) = &self.ui {
                    ui.status(&self.texts.agent_busy);
                }
            }
            SessionEvent::OwnerChanged { server_url } => {
                if let Some(s) = &mut self.session {
                    s.ws_url = ws_url_for(&server_url);
                }
                self.store_session();
            }
            SessionEvent::ServerGoingAway
            | SessionEvent::CustomerDisconnected
            | SessionEvent::CustomerReconnected => {}
        }
    }

    fn on_close(&mut self, code: u16, reason: &str) {
        self.log(&format!("socket closed: {code} {reason}"));
        self.outbox.replace(None);
        self.conn = None;
        if matches!(self.phase, Phase::Ended | Phase::Idle) {
            return;
        }
        if code == 1008 && !self.welcomed_once {
            // Refused by policy before ever being accepted: retrying cannot help.
            let err = ClientError::Refused(reason.to_owned());
            self.emit("error", err.to_js());
            self.end(EndReason::Other(reason.to_owned()), false);
            return;
        }
        self.schedule_reconnect();
    }

    fn schedule_reconnect(&mut self) {
        let delay = self.backoff.next_delay(js_sys::Math::random());
        self.log(&format!("reconnecting in {delay} ms"));
        let weak = self.me.clone();
        self.retry = Some(Timeout::new(delay, move || {
            with_inner(&weak, |i| i.connect());
        }));
    }

    fn ensure_recorder(&mut self) {
        if self.recorder.is_some() {
            return;
        }
        let outbox = Rc::clone(&self.outbox);
        let sink: Sink = Rc::new(move |msg: Message| {
            if let Ok(slot) = outbox.try_borrow()
                && let Some(ws) = slot.as_ref()
            {
                send_on(ws, &msg);
            }
        });
        match Recorder::start(
            self.window.clone(),
            self.document.clone(),
            sink,
            self.config.debug,
        ) {
            Ok(r) => {
                r.set_inline_images(self.config.inline_images.clone());
                self.recorder = Some(r);
            }
            Err(e) => self.log(&format!("recorder failed: {}", js_err(e))),
        }
    }

    /// Ends the session locally: stops capture, closes the socket, forgets the stored session,
    /// tells the UI and the page. `leave` sends `Leave` first (our side ends it).
    fn end(&mut self, reason: EndReason, leave: bool) {
        if self.phase == Phase::Ended {
            return;
        }
        if leave {
            self.send(&Message::Leave);
        }
        self.recorder = None;
        self.outbox.replace(None);
        self.conn = None;
        self.retry = None;
        self.mode = Mode::Pointer;
        self.clear_session();
        self.session = None;
        if let Some(ui) = &self.ui {
            ui.show_ended(&reason_text(&self.texts, &reason));
        }
        self.set_phase(Phase::Ended);
        let o = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&o, &"reason".into(), &reason_code(&reason).into());
        if let EndReason::Other(detail) = &reason {
            let _ = js_sys::Reflect::set(&o, &"detail".into(), &detail.clone().into());
        }
        self.emit("ended", o.into());
    }

    fn begin(&mut self, session: StoredSession, resumed: bool) {
        self.session = Some(session.clone());
        self.store_session();
        self.backoff.reset();
        self.welcomed_once = resumed;
        self.page_welcomed = false;
        self.set_phase(Phase::Waiting);
        if let Some(ui) = &self.ui {
            ui.show_session(&session.token);
        }
        self.emit("session", self.session_detail());
        self.connect();
    }

    fn on_ui(&mut self, action: UiAction) {
        match action {
            UiAction::Start => {
                if self.config.confirm_call {
                    if let Some(ui) = &self.ui {
                        ui.show_confirm();
                    }
                } else {
                    self.start_from_ui();
                }
            }
            UiAction::ConfirmYes => {
                if let Some(ui) = &self.ui {
                    ui.close_dialog();
                }
                self.start_from_ui();
            }
            UiAction::ConfirmNo => {
                if let Some(ui) = &self.ui {
                    ui.show_need_agent();
                }
            }
            UiAction::Copy => {
                if let Some(ui) = &self.ui {
                    ui.copy_token();
                }
            }
            UiAction::Exit => self.end(EndReason::CustomerExit, true),
            UiAction::Grant => {
                self.send(&Message::Mode(ModeChange::Granted));
                self.set_mode(Mode::Write);
            }
            UiAction::Deny => {
                if let Some(ui) = &self.ui {
                    ui.close_write_request();
                }
                self.send(&Message::Mode(ModeChange::Denied));
            }
            UiAction::Revoke => {
                self.send(&Message::Mode(ModeChange::Revoked {
                    by: Party::Customer,
                }));
                self.set_mode(Mode::Pointer);
            }
            UiAction::Close => {
                if let Some(ui) = &self.ui {
                    if ui.dialog_open() {
                        ui.close_dialog();
                    } else if matches!(self.phase, Phase::Ended | Phase::Idle) {
                        ui.reset(self.config.button);
                    }
                }
            }
        }
    }

    fn start_from_ui(&mut self) {
        let Some(rc) = self.me.upgrade() else { return };
        // The promise's outcome is reported through events and the UI.
        let _ = start_session(rc);
    }
}

async fn create_session(base: &str, page_url: &str) -> Result<StoredSession, ClientError> {
    let window = web_sys::window().ok_or_else(|| ClientError::Environment("no window".into()))?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    let body = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&body, &"url".into(), &page_url.into());
    let body = js_sys::JSON::stringify(&body).map_err(js_err)?;
    init.set_body(&body.into());
    let headers = web_sys::Headers::new().map_err(js_err)?;
    headers
        .set("content-type", "application/json")
        .map_err(js_err)?;
    init.set_headers(&headers);
    let url = format!("{base}/cobrowse/rest/live/sessions");
    let req = web_sys::Request::new_with_str_and_init(&url, &init).map_err(js_err)?;
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_request(&req))
        .await
        .map_err(js_err)?
        .dyn_into()
        .map_err(|_| ClientError::BadResponse("not a response".into()))?;
    let status = resp.status();
    let json = JsFuture::from(resp.json().map_err(js_err)?)
        .await
        .map_err(|_| ClientError::BadResponse(format!("status {status}, body is not JSON")))?;
    if !resp.ok() {
        let (code, message) = serde_wasm_bindgen::from_value::<ErrorBody>(json)
            .map(|b| (b.error.code, b.error.message))
            .unwrap_or_else(|_| ("http_error".into(), format!("status {status}")));
        return Err(ClientError::Http {
            status,
            code,
            message,
        });
    }
    let created: CreatedSession = serde_wasm_bindgen::from_value(json)
        .map_err(|e| ClientError::BadResponse(e.to_string()))?;
    let ws_url = created
        .ws_url
        .or_else(|| created.server_url.as_deref().map(ws_url_for))
        .unwrap_or_else(|| ws_url_for(base));
    Ok(StoredSession {
        token: created.token,
        history_id: created.history_id,
        ws_url,
    })
}

/// Creates a session and connects; resolves with the token.
fn start_session(rc: Rc<RefCell<Inner>>) -> Promise {
    future_to_promise(async move {
        let (base, page_url) = {
            let mut i = rc.try_borrow_mut().map_err(|_| ClientError::Busy.to_js())?;
            match i.phase {
                Phase::Waiting | Phase::Active => {
                    let token = i.session.as_ref().map(|s| s.token.clone());
                    return Ok(token.map(JsValue::from).unwrap_or(JsValue::NULL));
                }
                Phase::Starting => return Err(ClientError::Busy.to_js()),
                Phase::Idle | Phase::Ended => {}
            }
            let Some(base) = i.config.server_base() else {
                let e = ClientError::NoServerUrl;
                i.emit("error", e.to_js());
                return Err(e.to_js());
            };
            i.set_phase(Phase::Starting);
            if let Some(ui) = &i.ui {
                ui.show_connecting();
            }
            (base, i.document.url().unwrap_or_default())
        };
        let result = create_session(&base, &page_url).await;
        let mut i = rc.try_borrow_mut().map_err(|_| ClientError::Busy.to_js())?;
        if i.phase != Phase::Starting {
            return Err(ClientError::Cancelled.to_js());
        }
        match result {
            Ok(session) => {
                let token = session.token.clone();
                i.log(&format!("session {token} created"));
                i.begin(session, false);
                Ok(token.into())
            }
            Err(e) => {
                i.log(&format!("start failed: {e}"));
                i.set_phase(Phase::Idle);
                if let Some(ui) = &i.ui {
                    ui.show_error(&e.to_string());
                }
                i.emit("error", e.to_js());
                Err(e.to_js())
            }
        }
    })
}

/// The customer-side client. The loader (`cobrowse.js`) and the npm package wrap it; pages use
/// `window.Cobrowse` rather than this class directly.
#[wasm_bindgen]
pub struct CobrowseClient {
    inner: Rc<RefCell<Inner>>,
}

#[wasm_bindgen]
impl CobrowseClient {
    /// Reads the configuration object (see `Config`; `undefined` gives the defaults).
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> Result<CobrowseClient, JsValue> {
        console_error_panic_hook::set_once();
        crate::web::restrict::configure(&config).map_err(|e| JsValue::from_str(&e))?;
        let config: Config = if config.is_undefined() || config.is_null() {
            Config::default()
        } else {
            serde_wasm_bindgen::from_value(config)
                .map_err(|e| JsValue::from_str(&format!("invalid cobrowse config: {e}")))?
        };
        let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
        let document = window
            .document()
            .ok_or_else(|| JsValue::from_str("no document"))?;
        let lang = crate::web::lang::language(&document, &config.locale);
        let texts = config.texts_for(&lang);
        let inner = Rc::new_cyclic(|me| {
            RefCell::new(Inner {
                me: me.clone(),
                config,
                texts,
                lang,
                window,
                document,
                phase: Phase::Idle,
                mode: Mode::Pointer,
                session: None,
                conn: None,
                outbox: Rc::new(RefCell::new(None)),
                recorder: None,
                ui: None,
                handlers: Vec::new(),
                backoff: Backoff::default(),
                retry: None,
                welcomed_once: false,
                page_welcomed: false,
            })
        });
        Ok(CobrowseClient { inner })
    }

    /// Shows the UI (the button unless `button: false`) and resumes a session kept in
    /// `sessionStorage` by a previous page of this site. Call once, after registering handlers.
    pub fn mount(&self) -> Result<(), JsValue> {
        let weak = Rc::downgrade(&self.inner);
        let mut i = self
            .inner
            .try_borrow_mut()
            .map_err(|_| JsValue::from_str("busy"))?;
        if i.ui.is_none() {
            let on_action: Rc<dyn Fn(UiAction)> = Rc::new(move |a| {
                with_inner(&weak, move |i| i.on_ui(a));
            });
            let ui = Ui::mount(
                &i.document,
                i.texts.clone(),
                &i.lang,
                i.config.button,
                i.config.button_position,
                on_action,
            )?;
            i.ui = Some(ui);
            if crate::locale::built_in(&i.lang).is_none()
                && let Some(base) = i.config.server_base()
            {
                // A language that is not compiled in: English until the server's file arrives.
                let (weak, lang) = (Rc::downgrade(&self.inner), i.lang.clone());
                spawn_local(async move {
                    if let Some(map) = crate::web::lang::fetch(&base, &lang).await {
                        with_inner(&weak, move |i| {
                            i.texts = i.config.texts_with(Some(&map));
                            if let Some(ui) = &mut i.ui {
                                ui.set_texts(i.texts.clone());
                            }
                        });
                    }
                });
            }
        }
        if !crate::web::restrict::loaded()
            && let Some(base) = i.config.server_base()
        {
            // Early, so the customer's mask marker shows before any session; capture waits for
            // the same load anyway (see `connect`).
            let document = i.document.clone();
            spawn_local(async move {
                if let Err(e) = crate::web::restrict::load(&document, &base).await {
                    web_sys::console::warn_1(&e.into());
                }
            });
        }
        if i.session.is_none()
            && let Some(stored) = i.load_session()
        {
            i.log(&format!("resuming session {}", stored.token));
            i.begin(stored, true);
        }
        Ok(())
    }

    /// Starts a session (no confirmation dialog: the page decided). Resolves with the token;
    /// rejects with `{ code, message }`.
    pub fn start(&self) -> Promise {
        start_session(Rc::clone(&self.inner))
    }

    /// Ends the session (the agent is told) and stops capturing.
    pub fn stop(&self) {
        with_inner(&Rc::downgrade(&self.inner), |i| match i.phase {
            Phase::Idle | Phase::Ended => {}
            Phase::Starting => {
                i.set_phase(Phase::Idle);
                if let Some(ui) = &i.ui {
                    ui.reset(i.config.button);
                }
            }
            Phase::Waiting | Phase::Active => i.end(EndReason::CustomerExit, true),
        });
    }

    /// Registers `handler` for `event` (`session`, `state`, `agentJoined`, `agentLeft`,
    /// `ended`, `error`).
    pub fn on(&self, event: String, handler: Function) {
        with_inner(&Rc::downgrade(&self.inner), move |i| {
            i.handlers.push((event, handler))
        });
    }

    /// Removes a handler registered with `on`.
    pub fn off(&self, event: String, handler: Function) {
        with_inner(&Rc::downgrade(&self.inner), move |i| {
            i.handlers
                .retain(|(e, f)| !(e == &event && JsValue::from(f) == JsValue::from(&handler)))
        });
    }

    /// The 9-digit session number, when a session exists.
    #[wasm_bindgen(js_name = sessionId)]
    pub fn session_id(&self) -> Option<String> {
        self.inner
            .try_borrow()
            .ok()?
            .session
            .as_ref()
            .map(|s| s.token.clone())
    }

    /// `idle`, `active` or `ended`.
    pub fn state(&self) -> String {
        self.inner
            .try_borrow()
            .map(|i| i.phase.public().to_owned())
            .unwrap_or_else(|_| "idle".into())
    }

    /// Removes the UI and every listener without ending the session (for single-page apps that
    /// tear the client down; the session resumes when a new client mounts).
    pub fn destroy(&self) {
        with_inner(&Rc::downgrade(&self.inner), |i| {
            i.recorder = None;
            i.outbox.replace(None);
            i.conn = None;
            i.retry = None;
            i.ui = None;
            i.handlers.clear();
            i.session = None;
            i.phase = Phase::Idle;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ws_urls_follow_the_scheme() {
        assert_eq!(
            ws_url_for("https://cb.example.com/"),
            "wss://cb.example.com/cobrowse/ws"
        );
        assert_eq!(
            ws_url_for("http://localhost:8700"),
            "ws://localhost:8700/cobrowse/ws"
        );
    }

    #[test]
    fn error_codes_are_stable() {
        assert_eq!(ClientError::NoServerUrl.code(), "no_server_url");
        let e = ClientError::Http {
            status: 429,
            code: "rate_limited".into(),
            message: "slow down".into(),
        };
        assert_eq!(e.code(), "rate_limited");
        assert_eq!(reason_code(&EndReason::AgentExit), "agent_exit");
        assert_eq!(error_code(ErrorCode::UnknownSession), "unknown_session");
        let e = ClientError::Server {
            code: error_code(ErrorCode::OriginRefused),
            message: "origin not allowed".into(),
        };
        assert_eq!(e.code(), "origin_refused");
        assert_eq!(Phase::Waiting.public(), "idle");
    }
}
