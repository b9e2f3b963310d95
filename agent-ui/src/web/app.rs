//! The agent page: join flow, WebSocket, status line, toolbar, pointers and click rings.
//!
//! One [`State`] lives for the whole page, shared as `Rc<RefCell<State>>` by the event handlers
//! (a deliberate cycle through the handlers it owns: the app lives exactly as long as the page).
//!
//! # Who owns each `Closure`
//!
//! * UI listeners (join form, buttons, overlay pointer events, window resize, hashchange) are
//!   `gloo_events::EventListener`s kept in `State::listeners` for the life of the page.
//! * The animation-frame callback that sends the agent's pointer is kept in `State::raf` and
//!   reused for every frame.
//! * Socket handlers are kept in `Connection` next to the socket they are attached to; when a
//!   connection is replaced, its handlers are first detached from the socket and then dropped, so
//!   JS never calls a freed closure.
//! * The reconnect timer is a `gloo_timers` `Timeout` in `State::retry`; dropping it cancels it.
//!
//! Every callback re-checks the connection generation it was created for, so events from an old
//! socket or an outdated join never act on the current one.

use super::dom::WebDom;
use super::prefs::{tr, trf, with_texts};
use crate::debug;
use crate::error::AgentError;
use crate::frames::FramePolicy;
use crate::params::{self, PageParams};
use crate::replica::Replica;
use crate::sheets::SheetPolicy;
use crate::viewport::{self, Fit, Size};
use cobrowse_protocol::{
    Click, EndReason, Hello, Message, ModeChange, Party, Pointer, RefusalReason, Role,
    SessionEvent, SessionState, Viewport, decode, encode,
};
use gloo_events::{EventListener, EventListenerOptions};
use gloo_timers::callback::Timeout;
use js_sys::{Reflect, Uint8Array};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{
    BinaryType, CloseEvent, Document, Element, HtmlElement, HtmlIFrameElement, HtmlInputElement,
    MessageEvent, MouseEvent, Response, WebSocket, Window,
};

/// What the page shows in `#cobrowse-status[data-state]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiState {
    /// Not yet showing the customer's page (looking up, connecting, waiting for the snapshot,
    /// reconnecting).
    Waiting,
    /// The replica is live.
    Active,
    /// Over (or refused); no reconnects.
    Ended,
}

impl UiState {
    fn as_str(self) -> &'static str {
        match self {
            UiState::Waiting => "waiting",
            UiState::Active => "active",
            UiState::Ended => "ended",
        }
    }
}

/// Elements of `slave.html` the app drives. Missing optional ones are simply not updated.
struct Ui {
    doc: Document,
    status: Element,
    join_form: Option<Element>,
    sid_input: Option<HtmlInputElement>,
    url: Option<Element>,
    scale: Option<Element>,
    mode: Option<Element>,
    request: Option<HtmlElement>,
    exit: Option<HtmlElement>,
    stage: HtmlElement,
    frame_box: HtmlElement,
    frame: HtmlIFrameElement,
    overlay: HtmlElement,
    customer_pointer: HtmlElement,
}

fn by_id<T: JsCast>(doc: &Document, id: &str) -> Option<T> {
    doc.get_element_by_id(id)?.dyn_into::<T>().ok()
}

fn required<T: JsCast>(doc: &Document, id: &'static str) -> Result<T, AgentError> {
    by_id(doc, id).ok_or(AgentError::MissingElement(id))
}

fn dom_err(e: JsValue) -> AgentError {
    AgentError::Dom(format!("{e:?}"))
}

impl Ui {
    fn find(doc: &Document) -> Result<Ui, AgentError> {
        let overlay: HtmlElement = required(doc, "cobrowse-overlay")?;
        let customer_pointer = match by_id(doc, "cobrowse-pointer-customer") {
            Some(p) => p,
            None => {
                let p: HtmlElement = doc.create_element("div").map_err(dom_err)?.unchecked_into();
                p.set_id("cobrowse-pointer-customer");
                p.set_class_name("cobrowse-pointer cobrowse-pointer-customer");
                p.set_hidden(true);
                overlay.append_child(&p).map_err(dom_err)?;
                p
            }
        };
        Ok(Ui {
            doc: doc.clone(),
            status: required(doc, "cobrowse-status")?,
            join_form: by_id(doc, "cobrowse-join"),
            sid_input: by_id(doc, "cobrowse-sid"),
            url: by_id(doc, "cobrowse-url"),
            scale: by_id(doc, "cobrowse-scale"),
            mode: by_id(doc, "cobrowse-mode"),
            request: by_id(doc, "cobrowse-request-control"),
            exit: by_id(doc, "cobrowse-exit"),
            stage: required(doc, "cobrowse-stage")?,
            frame_box: required(doc, "cobrowse-frame-box")?,
            frame: required(doc, "cobrowse-replica")?,
            overlay,
            customer_pointer,
        })
    }

    fn set_status(&self, state: UiState, text: &str) {
        let s = state.as_str();
        let _ = self.status.set_attribute("data-state", s);
        self.status.set_text_content(Some(text));
        if let Some(root) = self.doc.document_element() {
            let _ = root.set_attribute("data-cobrowse-state", s);
        }
    }

    fn set_error(&self, code: Option<&str>) {
        match code {
            Some(c) => {
                let _ = self.status.set_attribute("data-error", c);
            }
            None => {
                let _ = self.status.remove_attribute("data-error");
            }
        }
    }
}

fn set_text(el: &Option<Element>, text: &str) {
    if let Some(e) = el {
        e.set_text_content(Some(text));
    }
}

fn set_style(el: &HtmlElement, prop: &str, value: &str) {
    let _ = el.style().set_property(prop, value);
}

/// A socket and the handlers attached to it.
struct Connection {
    ws: WebSocket,
    _onopen: Closure<dyn FnMut()>,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onclose: Closure<dyn FnMut(CloseEvent)>,
}

impl Connection {
    /// Detaches the handlers and closes the socket; the closures drop with `self` afterwards.
    fn shut(self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

/// The page's state, shared by all handlers.
pub struct State {
    ui: Ui,
    params: PageParams,
    replica: Replica<WebDom>,
    token: Option<String>,
    generation: u32,
    conn: Option<Connection>,
    retry: Option<Timeout>,
    attempt: u32,
    ended: bool,
    /// The connection was refused for good (error frame that retrying cannot fix).
    refused: bool,
    /// This session was live on this page before (so a 404 now means it ended).
    was_live: bool,
    ws_override: Option<String>,
    viewport: Viewport,
    fit: Fit,
    pending_pointer: Option<Option<(i32, i32)>>,
    raf_scheduled: bool,
    raf: Option<Closure<dyn FnMut()>>,
    rings: VecDeque<(f64, Element)>,
    listeners: Vec<EventListener>,
    /// Constructed/adopted sheets and pseudo-state (hover, focus, active) of the replica.
    styles: super::styles::Styles,
}

type Shared = Rc<RefCell<State>>;

/// Starts the agent page: reads the parameters, wires the UI, and joins when a session number
/// was given.
#[wasm_bindgen]
pub async fn start_agent() -> Result<(), JsValue> {
    console_error_panic_hook::set_once();
    let window = web_sys::window().ok_or(AgentError::NoDocument)?;
    let doc = window.document().ok_or(AgentError::NoDocument)?;
    let loc = window.location();
    let params = params::parse(
        &loc.search().unwrap_or_default(),
        &loc.hash().unwrap_or_default(),
    );
    crate::log::set_enabled(params.debug);
    // Language and theme first: every text below comes from the chosen locale file.
    super::prefs::init(&doc, &params).await;
    let ui = Ui::find(&doc)?;
    if params.no_sid_input
        && let Some(f) = &ui.join_form
    {
        let _ = f.set_attribute("hidden", "");
    }
    if let Some(r) = &ui.request {
        r.set_hidden(true);
    }
    let replica = Replica::new(WebDom::new(ui.frame.clone()));
    // (WebDom may have replaced a wrongly sandboxed frame; it owns the live one from here.)
    let state: Shared = Rc::new(RefCell::new(State {
        ui,
        params: params.clone(),
        replica,
        token: None,
        generation: 0,
        conn: None,
        retry: None,
        attempt: 0,
        ended: false,
        refused: false,
        was_live: false,
        ws_override: None,
        viewport: Viewport::default(),
        fit: Fit {
            scale: 1.0,
            shown: Size {
                width: 0.0,
                height: 0.0,
            },
        },
        pending_pointer: None,
        raf_scheduled: false,
        raf: None,
        rings: VecDeque::new(),
        listeners: Vec::new(),
        styles: super::styles::Styles::new(),
    }));
    wire_ui(&state, &window);
    match params.sid {
        Some(sid) => join(&state, sid),
        None => {
            let s = state.borrow();
            s.ui.set_status(UiState::Waiting, &tr("enterSid"));
        }
    }
    Ok(())
}

fn wire_ui(state: &Shared, window: &Window) {
    let mut ls = Vec::new();
    let st = state.borrow();
    if let Some(form) = &st.ui.join_form {
        let s = state.clone();
        let opts = EventListenerOptions::enable_prevent_default();
        ls.push(EventListener::new_with_options(
            form,
            "submit",
            opts,
            move |e| {
                e.prevent_default();
                let raw = s.borrow().ui.sid_input.as_ref().map(|i| i.value());
                match raw.as_deref().and_then(params::normalize_sid) {
                    Some(sid) => join(&s, sid),
                    None => s.borrow().ui.set_status(UiState::Waiting, &tr("badSid")),
                }
            },
        ));
    }
    {
        let s = state.clone();
        ls.push(EventListener::new(window, "hashchange", move |_| {
            let Some(w) = web_sys::window() else { return };
            let loc = w.location();
            let p = params::parse(
                &loc.search().unwrap_or_default(),
                &loc.hash().unwrap_or_default(),
            );
            let current = s.borrow().token.clone();
            if let Some(sid) = p.sid
                && current.as_deref() != Some(sid.as_str())
            {
                join(&s, sid);
            }
        }));
    }
    {
        let s = state.clone();
        ls.push(EventListener::new(window, "resize", move |_| layout(&s)));
    }
    {
        let s = state.clone();
        super::control::install(&st.ui.doc, Rc::new(move |m: &Message| send(&s, m)));
    }
    if let Some(b) = &st.ui.request {
        let s = state.clone();
        ls.push(EventListener::new(b, "click", move |_| {
            send(&s, &Message::Mode(ModeChange::Request));
            set_text(&s.borrow().ui.mode, &tr("controlRequested"));
        }));
    }
    if let Some(b) = &st.ui.exit {
        let s = state.clone();
        ls.push(EventListener::new(b, "click", move |_| {
            send(&s, &Message::Leave);
        }));
    }
    {
        let s = state.clone();
        ls.push(EventListener::new(&st.ui.overlay, "mousemove", move |e| {
            let Some(e) = e.dyn_ref::<MouseEvent>() else {
                return;
            };
            let pos = overlay_point(&s, e);
            queue_pointer(&s, Some(pos));
            agent_hover(&s, Some(pos));
        }));
    }
    {
        let s = state.clone();
        ls.push(EventListener::new(
            &st.ui.overlay,
            "mouseleave",
            move |_| {
                queue_pointer(&s, None);
                agent_hover(&s, None);
            },
        ));
    }
    {
        let s = state.clone();
        ls.push(EventListener::new(&st.ui.overlay, "click", move |e| {
            let Some(e) = e.dyn_ref::<MouseEvent>() else {
                return;
            };
            let (x, y) = overlay_point(&s, e);
            let node = s
                .borrow()
                .replica
                .backend()
                .id_at(f64::from(x), f64::from(y));
            debug!("agent click at {x},{y} on node {node:?}");
            let target = s
                .borrow()
                .replica
                .backend()
                .document()
                .and_then(|d| d.element_from_point(x as f32, y as f32));
            let caret = s
                .borrow()
                .replica
                .backend()
                .caret_at(f64::from(x), f64::from(y));
            super::control::on_click(target, node, caret, x, y);
            send(
                &s,
                &Message::Click(Click {
                    party: Party::Agent,
                    x,
                    y,
                    node,
                }),
            );
            ring(&s, Party::Agent, x, y);
        }));
    }
    drop(st);
    let s = state.clone();
    let raf = Closure::<dyn FnMut()>::new(move || flush_pointer(&s));
    let mut st = state.borrow_mut();
    st.raf = Some(raf);
    st.listeners = ls;
}

/// The agent's pointer moved to `pos` (customer viewport px) or left: the agent sees its own
/// hover in the replica (the overlay above it keeps the replica from getting real pointer events).
fn agent_hover(state: &Shared, pos: Option<(i32, i32)>) {
    let mut s = state.borrow_mut();
    let st = &mut *s;
    let node = pos.and_then(|(x, y)| {
        let doc = st.replica.backend().document()?;
        doc.element_from_point(x as f32, y as f32)
            .map(web_sys::Node::from)
    });
    st.styles.set_agent_hover(node, &st.replica);
}

/// The overlay point under `e` in customer viewport pixels.
fn overlay_point(state: &Shared, e: &MouseEvent) -> (i32, i32) {
    let s = state.borrow();
    let rect = s.ui.overlay.get_bounding_client_rect();
    let ax = f64::from(e.client_x()) - rect.left();
    let ay = f64::from(e.client_y()) - rect.top();
    viewport::to_customer(&s.fit, ax, ay)
}

/// Remembers the latest agent pointer and sends it at the next animation frame (latest wins).
fn queue_pointer(state: &Shared, pos: Option<(i32, i32)>) {
    let mut s = state.borrow_mut();
    s.pending_pointer = Some(pos);
    if s.raf_scheduled {
        return;
    }
    let Some(w) = web_sys::window() else { return };
    if let Some(cb) = &s.raf
        && w.request_animation_frame(cb.as_ref().unchecked_ref())
            .is_ok()
    {
        s.raf_scheduled = true;
    }
}

fn flush_pointer(state: &Shared) {
    let pos = {
        let mut s = state.borrow_mut();
        s.raf_scheduled = false;
        s.pending_pointer.take()
    };
    if let Some(pos) = pos {
        send(
            state,
            &Message::Pointer(Pointer {
                party: Party::Agent,
                pos,
                frame: None,
            }),
        );
    }
}

/// Sends `msg` when connected; silently drops it otherwise (pointers are transient, and the
/// buttons that send state are only useful while connected).
fn send(state: &Shared, msg: &Message) {
    let s = state.borrow();
    if let Some(c) = &s.conn
        && c.ws.ready_state() == WebSocket::OPEN
    {
        let bytes = encode(msg);
        if c.ws.send_with_u8_array(&bytes).is_err() {
            debug!("send failed");
        }
    }
}

/// Starts (or restarts) joining session `sid`.
fn join(state: &Shared, sid: String) {
    let generation = {
        let mut s = state.borrow_mut();
        s.generation = s.generation.wrapping_add(1);
        if let Some(c) = s.conn.take() {
            c.shut();
        }
        s.retry = None;
        if s.token.as_deref() != Some(sid.as_str()) {
            s.attempt = 0;
            s.ws_override = None;
            s.was_live = false;
        }
        s.token = Some(sid.clone());
        s.ended = false;
        s.refused = false;
        if let Some(i) = &s.ui.sid_input {
            i.set_value(&sid);
        }
        s.ui.set_error(None);
        s.ui.set_status(UiState::Waiting, &trf("lookingUp", &[("sid", &sid)]));
        s.generation
    };
    let st = state.clone();
    spawn_local(async move {
        let ws_url = match lookup(&sid).await {
            Lookup::Found {
                ws_url,
                frames,
                sheets,
            } => {
                let mut s = st.borrow_mut();
                if s.generation == generation {
                    s.replica.set_frame_policy(frames);
                    s.styles.set_proxy_prefix(sheets.proxy_prefix());
                    s.replica.set_sheet_policy(sheets);
                }
                ws_url
            }
            Lookup::Refused { code, text } => {
                let mut s = st.borrow_mut();
                if s.generation == generation {
                    // A session we were in that the server no longer knows has ended for good.
                    let text = if s.was_live && code == "unknown_session" {
                        tr("sessionGone")
                    } else {
                        tr(text)
                    };
                    s.ended = true;
                    s.ui.set_error(Some(code));
                    s.ui.set_status(UiState::Ended, &text);
                }
                return;
            }
            Lookup::Failed(why) => {
                debug!("lookup failed: {why}");
                schedule_reconnect(&st, generation);
                return;
            }
        };
        let url = {
            let s = st.borrow();
            if s.generation != generation {
                return;
            }
            s.ws_override.clone().unwrap_or(ws_url)
        };
        connect(&st, generation, &url);
    });
}

enum Lookup {
    Found {
        ws_url: String,
        /// Which third-party iframes the replica may load (`allowedThirdPartyDomains`).
        frames: FramePolicy,
        /// Which stylesheets load through the CSS proxy (`allowedExternalDomains`).
        sheets: SheetPolicy,
    },
    Refused {
        code: &'static str,
        /// Text key (`locale`).
        text: &'static str,
    },
    Failed(String),
}

/// `GET rest/live/sessions/{token}` relative to the page (works when the page is embedded too).
async fn lookup(sid: &str) -> Lookup {
    let Some(w) = web_sys::window() else {
        return Lookup::Failed("no window".into());
    };
    let url = format!("rest/live/sessions/{sid}");
    let resp = match JsFuture::from(w.fetch_with_str(&url)).await {
        Ok(r) => r,
        Err(e) => return Lookup::Failed(format!("{e:?}")),
    };
    let Ok(resp) = resp.dyn_into::<Response>() else {
        return Lookup::Failed("not a response".into());
    };
    match resp.status() {
        200 => {}
        404 => {
            return Lookup::Refused {
                code: "unknown_session",
                text: "unknownSessionRetry",
            };
        }
        429 => {
            return Lookup::Refused {
                code: "rate_limited",
                text: "rateLimited",
            };
        }
        other => return Lookup::Failed(format!("HTTP {other}")),
    }
    let json = match resp.json() {
        Ok(p) => match JsFuture::from(p).await {
            Ok(j) => j,
            Err(e) => return Lookup::Failed(format!("bad JSON: {e:?}")),
        },
        Err(e) => return Lookup::Failed(format!("{e:?}")),
    };
    let field = |k: &str| {
        Reflect::get(&json, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_string())
    };
    if field("state").as_deref() == Some("ended") {
        return Lookup::Refused {
            code: "session_ended",
            text: "sessionEnded",
        };
    }
    // Absent (older server) or malformed: no third-party frame loads and no sheet is proxied,
    // the safe defaults.
    let list = |key: &str| -> Vec<String> {
        Reflect::get(&json, &JsValue::from_str(key))
            .ok()
            .filter(js_sys::Array::is_array)
            .map(|v| {
                js_sys::Array::from(&v)
                    .iter()
                    .filter_map(|s| s.as_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let page = w.location().href().ok();
    let frames = FramePolicy::new(&list("allowedThirdPartyDomains"), page.as_deref());
    let sheets = SheetPolicy::new(&list("allowedExternalDomains"), page.as_deref());
    let ws_url = match field("wsUrl") {
        Some(u) if u.starts_with("ws://") || u.starts_with("wss://") => u,
        _ => default_ws_url(&w),
    };
    Lookup::Found {
        ws_url,
        frames,
        sheets,
    }
}

/// The WebSocket URL next to this page, for answers without a usable `wsUrl`.
fn default_ws_url(w: &Window) -> String {
    let loc = w.location();
    params::ws_url_for_page(
        &loc.protocol().unwrap_or_default(),
        &loc.host().unwrap_or_default(),
        &loc.pathname().unwrap_or_default(),
    )
}

fn connect(state: &Shared, generation: u32, url: &str) {
    let ws = match WebSocket::new(url) {
        Ok(ws) => ws,
        Err(e) => {
            debug!("WebSocket({url}) failed: {e:?}");
            schedule_reconnect(state, generation);
            return;
        }
    };
    ws.set_binary_type(BinaryType::Arraybuffer);
    debug!("connecting to {url}");
    let onopen = {
        let s = state.clone();
        Closure::<dyn FnMut()>::new(move || {
            let hello = {
                let st = s.borrow();
                if st.generation != generation {
                    return;
                }
                st.ui.set_status(UiState::Waiting, &tr("joining"));
                Message::Hello(Hello {
                    role: Role::Agent,
                    token: st.token.clone().unwrap_or_default(),
                    auth: st.params.auth.clone(),
                    agent_id: st.params.agent_id.clone(),
                    resume_from: None,
                    client: concat!("cobrowse-agent/", env!("CARGO_PKG_VERSION")).into(),
                })
            };
            send(&s, &hello);
        })
    };
    let onmessage = {
        let s = state.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if s.borrow().generation != generation {
                return;
            }
            let data = e.data();
            let Some(buf) = data.dyn_ref::<js_sys::ArrayBuffer>() else {
                debug!("ignoring a non-binary frame");
                return;
            };
            let bytes = Uint8Array::new(buf).to_vec();
            match decode(&bytes) {
                Ok(msg) => handle(&s, msg),
                Err(err) => debug!("undecodable frame: {err}"),
            }
        })
    };
    let onclose = {
        let s = state.clone();
        Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            debug!("socket closed: {} {}", e.code(), e.reason());
            {
                let mut st = s.borrow_mut();
                if st.generation != generation {
                    return;
                }
                st.conn = None;
                if st.ended || st.refused {
                    return;
                }
                if e.code() == 1008 {
                    // Policy: bad token, role or auth. Retrying cannot help.
                    st.refused = true;
                    st.ui.set_status(UiState::Ended, &tr("serverRefused"));
                    return;
                }
            }
            schedule_reconnect(&s, generation);
        })
    };
    ws.set_onopen(Some(onopen.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    ws.set_onclose(Some(onclose.as_ref().unchecked_ref()));
    let mut s = state.borrow_mut();
    if let Some(old) = s.conn.take() {
        old.shut();
    }
    s.conn = Some(Connection {
        ws,
        _onopen: onopen,
        _onmessage: onmessage,
        _onclose: onclose,
    });
}

fn schedule_reconnect(state: &Shared, generation: u32) {
    let mut s = state.borrow_mut();
    if s.generation != generation || s.ended || s.refused {
        return;
    }
    let delay = params::backoff_ms(s.attempt, js_sys::Math::random());
    s.attempt = s.attempt.saturating_add(1);
    let text = trf(
        "reconnecting",
        &[("seconds", &delay.div_ceil(1000).to_string())],
    );
    s.ui.set_status(UiState::Waiting, &text);
    let st = state.clone();
    s.retry = Some(Timeout::new(delay, move || {
        let sid = {
            let s = st.borrow();
            if s.generation != generation {
                return;
            }
            s.token.clone()
        };
        if let Some(sid) = sid {
            join(&st, sid);
        }
    }));
}

fn end(state: &Shared, text: &str, code: Option<&str>) {
    let mut s = state.borrow_mut();
    s.ended = true;
    s.retry = None;
    s.ui.set_error(code);
    s.ui.set_status(UiState::Ended, text);
    s.ui.customer_pointer.set_hidden(true);
    if let Some(r) = &s.ui.request {
        r.set_hidden(true);
    }
    if let Some(c) = s.conn.take() {
        c.shut();
    }
}

fn handle(state: &Shared, msg: Message) {
    match msg {
        Message::Welcome(w) => {
            let mut s = state.borrow_mut();
            s.was_live = true;
            s.attempt = 0;
            if w.write_mode_allowed {
                if let Some(r) = &s.ui.request {
                    r.set_hidden(false);
                }
            } else if let Some(r) = s.ui.request.take() {
                // `writeModeAllowed=false` removes the request entirely (ARCHITECTURE.md: absent);
                // the server setting does not change during a session.
                r.remove();
            }
            super::control::set_write(w.mode == cobrowse_protocol::Mode::Write);
            set_text(
                &s.ui.mode,
                &tr(match w.mode {
                    cobrowse_protocol::Mode::Pointer => "modePointer",
                    cobrowse_protocol::Mode::Write => "modeWrite",
                }),
            );
            if w.state == SessionState::Ended {
                drop(s);
                end(state, &tr("sessionEnded"), Some("session_ended"));
                return;
            }
            if s.replica.is_empty() {
                s.ui.set_status(UiState::Waiting, &tr("waitingForPage"));
            } else {
                s.ui.set_status(UiState::Active, &tr("connected"));
            }
        }
        Message::Session(ev) => session_event(state, ev),
        Message::Snapshot(snap) => {
            {
                let mut s = state.borrow_mut();
                s.viewport = snap.viewport;
            }
            layout(state);
            let mut s = state.borrow_mut();
            let stats = s.replica.apply_snapshot(&snap);
            {
                let st = &mut *s;
                st.styles.on_snapshot(&snap, &st.replica);
            }
            debug!(
                "snapshot: {} nodes, {} applied, {} ignored",
                snap.nodes.len(),
                stats.applied,
                stats.ignored
            );
            let url = s.replica.page_url().map(str::to_owned);
            if let Some(u) = url {
                set_text(&s.ui.url, &u);
            }
            s.ui.set_status(UiState::Active, &tr("live"));
        }
        Message::Mutations(m) => {
            let stats = state.borrow_mut().replica.apply_mutations(&m);
            {
                let mut s = state.borrow_mut();
                let st = &mut *s;
                st.styles.on_mutations(&m, &st.replica);
            }
            if stats.ignored > 0 {
                debug!("mutations: {} ignored", stats.ignored);
            }
        }
        Message::Form(f) => {
            state.borrow_mut().replica.apply_form(&f);
        }
        Message::Scroll(p) => {
            state.borrow_mut().replica.apply_scroll(&p);
        }
        Message::Sheet(op) => {
            let mut s = state.borrow_mut();
            let st = &mut *s;
            if !st.styles.apply(&op, &st.replica) {
                st.replica.apply_sheet(&op);
            }
        }
        Message::Media(m) => super::media::apply(&m, &state.borrow().replica),
        Message::Selection(ranges) => {
            state.borrow_mut().replica.apply_selection(&ranges);
        }
        Message::Canvas(f) => {
            let mut s = state.borrow_mut();
            let st = &mut *s;
            super::canvas::show(&f, &st.replica, &mut st.styles);
        }
        Message::Pseudo(p) if p.party == Party::Customer => {
            let mut s = state.borrow_mut();
            let st = &mut *s;
            st.styles.set_pseudo(p, &st.replica);
        }
        Message::Viewport(v) => {
            state.borrow_mut().viewport = v;
            layout(state);
        }
        Message::Navigation(n) => {
            let s = state.borrow();
            set_text(&s.ui.url, &n.url);
            if let Some(u) = &s.ui.url {
                let _ = u.set_attribute("title", &n.title);
            }
        }
        Message::Pointer(p) if p.party == Party::Customer => draw_pointer(state, &p),
        Message::Click(c) if c.party == Party::Customer => ring(state, Party::Customer, c.x, c.y),
        Message::Mode(m) => {
            let s = state.borrow();
            let text = tr(match m {
                ModeChange::Request => return,
                ModeChange::Granted => "granted",
                ModeChange::Denied => "denied",
                ModeChange::Revoked {
                    by: Party::Customer,
                } => "revokedByCustomer",
                ModeChange::Revoked { by: Party::Agent } => "released",
            });
            super::control::set_write(m == ModeChange::Granted);
            if let Some(el) = &s.ui.mode {
                let _ = el.remove_attribute("data-refusal");
            }
            set_text(&s.ui.mode, &text);
        }
        Message::Refused(r) => {
            let s = state.borrow();
            set_text(&s.ui.mode, &with_texts(|t| t.refusal(&r.reason)));
            // The reason as a stable code, for hosts and tests (the text is localized).
            if let Some(el) = &s.ui.mode {
                let code = match r.reason {
                    RefusalReason::NotInWriteMode => "not_in_write_mode",
                    RefusalReason::Restricted => "restricted",
                    RefusalReason::NoSuchNode => "no_such_node",
                    RefusalReason::OffOrigin => "off_origin",
                    RefusalReason::WriteModeDisabled => "write_mode_disabled",
                    RefusalReason::NotEditable => "not_editable",
                };
                let _ = el.set_attribute("data-refusal", code);
            }
        }
        Message::Ping(v) => send(state, &Message::Pong(v)),
        Message::Error(e) => {
            let (text, retry) = with_texts(|t| t.error(e.code));
            debug!("server error {:?}: {}", e.code, e.message);
            if retry {
                state.borrow().ui.set_status(UiState::Waiting, &text);
            } else {
                let code = match e.code {
                    cobrowse_protocol::ErrorCode::UnknownSession => "unknown_session",
                    cobrowse_protocol::ErrorCode::SessionEnded => "session_ended",
                    cobrowse_protocol::ErrorCode::RateLimited => "rate_limited",
                    cobrowse_protocol::ErrorCode::Unauthorized => "unauthorized",
                    cobrowse_protocol::ErrorCode::AgentBusy => "agent_busy",
                    _ => "refused",
                };
                state.borrow_mut().refused = true;
                end(state, &text, Some(code));
            }
        }
        other => debug!("ignoring message tag {}", other.tag()),
    }
}

fn session_event(state: &Shared, ev: SessionEvent) {
    match ev {
        SessionEvent::Ended(reason) => {
            let text = with_texts(|t| t.end_reason(&reason));
            let code = match reason {
                EndReason::CustomerExit => "customer_exit",
                EndReason::AgentExit => "agent_exit",
                _ => "ended",
            };
            end(state, &text, Some(code));
        }
        SessionEvent::CustomerDisconnected => {
            let s = state.borrow();
            let st = if s.replica.is_empty() {
                UiState::Waiting
            } else {
                UiState::Active
            };
            s.ui.set_status(st, &tr("customerDropped"));
        }
        SessionEvent::CustomerReconnected => {
            let s = state.borrow();
            let st = if s.replica.is_empty() {
                UiState::Waiting
            } else {
                UiState::Active
            };
            s.ui.set_status(st, &tr("customerBack"));
        }
        SessionEvent::AgentBusy => end(state, &tr("agentBusy"), Some("agent_busy")),
        SessionEvent::OwnerChanged { server_url } => {
            state.borrow_mut().ws_override = params::ws_url_from_server(&server_url);
        }
        SessionEvent::AgentJoined { .. }
        | SessionEvent::AgentLeft { .. }
        | SessionEvent::ServerGoingAway => {}
    }
}

/// Sizes the replica frame to the customer's viewport and scales it into the stage.
fn layout(state: &Shared) {
    let mut s = state.borrow_mut();
    let v = s.viewport;
    if v.width == 0 || v.height == 0 {
        return;
    }
    let avail = Size {
        width: f64::from(s.ui.stage.client_width()),
        height: f64::from(s.ui.stage.client_height()),
    };
    let customer = Size {
        width: f64::from(v.width),
        height: f64::from(v.height),
    };
    let fit = viewport::fit(customer, avail);
    s.fit = fit;
    let frame: &HtmlElement = s.replica.backend().frame().unchecked_ref();
    set_style(frame, "width", &format!("{}px", v.width));
    set_style(frame, "height", &format!("{}px", v.height));
    set_style(frame, "transform", &format!("scale({})", fit.scale));
    set_style(&s.ui.frame_box, "width", &format!("{}px", fit.shown.width));
    set_style(
        &s.ui.frame_box,
        "height",
        &format!("{}px", fit.shown.height),
    );
    let text = trf(
        "scale",
        &[
            ("width", &v.width.to_string()),
            ("height", &v.height.to_string()),
            ("zoom", &viewport::percent(&fit)),
        ],
    );
    set_text(&s.ui.scale, &text);
}

fn draw_pointer(state: &Shared, p: &Pointer) {
    let s = state.borrow();
    let el = &s.ui.customer_pointer;
    let Some((x, y)) = p.pos else {
        el.set_hidden(true);
        return;
    };
    // Customer viewport pixels before scaling, for hosts and tests (ARCHITECTURE.md selectors).
    let _ = el.set_attribute("data-x", &x.to_string());
    let _ = el.set_attribute("data-y", &y.to_string());
    // Positions inside an iframe are relative to that frame's viewport: add the frame's offset.
    let (mut fx, mut fy) = (0.0, 0.0);
    if let Some(doc) = p.frame
        && let Some(frame) = s.replica.frame_of(doc)
    {
        // (A replica node: from the iframe's realm, so cast rather than `dyn_ref`.)
        let el: &Element = frame.unchecked_ref();
        let r = el.get_bounding_client_rect();
        fx = r.left();
        fy = r.top();
    }
    let (ax, ay) = viewport::to_agent(&s.fit, x, y);
    let (ax, ay) = (ax + fx * s.fit.scale, ay + fy * s.fit.scale);
    set_style(el, "transform", &format!("translate({ax}px, {ay}px)"));
    el.set_hidden(false);
}

/// Draws a click ring; old rings (finished animating) are removed when new ones come.
fn ring(state: &Shared, party: Party, x: i32, y: i32) {
    let mut s = state.borrow_mut();
    let now = js_sys::Date::now();
    while let Some((t, _)) = s.rings.front() {
        if now - *t < 1500.0 && s.rings.len() < 16 {
            break;
        }
        if let Some((_, el)) = s.rings.pop_front() {
            el.remove();
        }
    }
    let Ok(el) = s.ui.doc.create_element("div") else {
        return;
    };
    let class = match party {
        Party::Customer => "cobrowse-ring cobrowse-ring-customer",
        Party::Agent => "cobrowse-ring cobrowse-ring-agent",
    };
    el.set_class_name(class);
    let (ax, ay) = viewport::to_agent(&s.fit, x, y);
    let h: &HtmlElement = el.unchecked_ref();
    set_style(h, "left", &format!("{ax}px"));
    set_style(h, "top", &format!("{ay}px"));
    if s.ui.overlay.append_child(&el).is_ok() {
        s.rings.push_back((now, el));
    }
}
