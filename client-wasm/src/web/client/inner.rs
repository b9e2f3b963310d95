//! The client's shared state and the primitives every part of it uses: logging, page events,
//! the phase and mode, the stored session, sending a frame, starting capture, ending locally.

use super::rest::js_err;
use crate::batching::Flush;
use crate::config::{self, Config, Texts};
use crate::session::{ClientError, Phase, STORAGE_KEY, StoredLink, StoredSession, reason_text};
use crate::upload_budget::{Admit, UploadBudget};
use crate::web::recorder::{Held, Recorder, Sink};
use crate::web::ui::Ui;
use cobrowse_protocol::link::{Endpoint, is_sequenced_tag};
use cobrowse_protocol::{Code, EndReason, ErrorCode, Message, Mode, encode};
use cobrowse_web_glue::socket::{Reconnect, Sender, Socket, Watchdog};
use gloo_timers::callback::Timeout;
use js_sys::Function;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Document, Window};

/// Where every numbered frame goes, shared with the recorder's sink ([`Outgoing`]).
pub(super) type Outbox = Rc<RefCell<Outgoing>>;

/// What leaves the client: a sender on the current socket between `Welcome` and close only (so
/// nothing goes onto a socket the server has not accepted yet), and the link
/// (`cobrowse_protocol::link`), which numbers each frame and keeps it until the server
/// acknowledges it. While no socket is accepted, a linked client keeps what it captures for the
/// resume instead of dropping it; a client without a link (an older server) drops it and sends
/// its page after the next `Welcome`, as before links. Every frame passes the upload budget
/// (`crate::upload_budget`) first, so a page-state delta the budget holds is never numbered.
///
/// Frames wait in `pending` until the microtask [`send_via`] arms, so what one task of the page
/// produced goes out as one WebSocket message (`crate::batching`). Anything that replaces the
/// sender, or drops this value (the session ends, the client is destroyed), hands them to the
/// socket first, in order.
pub(super) struct Outgoing {
    sender: Option<Sender>,
    pub(super) link: Endpoint,
    pub(super) budget: UploadBudget,
    /// The server takes `Batch` frames (its `Welcome` said so).
    pub(super) batch: bool,
    pending: Vec<Vec<u8>>,
    /// A flush of `pending` is queued.
    armed: bool,
    /// When frames last went to the socket (`now_ms`), for the pacing (`crate::batching`).
    last_flush: Option<f64>,
    /// The paced flush's timer while one is armed; kept (not forgotten) so its closure is freed
    /// once it has run or the frames left sooner.
    timer: Option<Timeout>,
}

/// What became of a frame given to [`Outgoing::send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sent {
    /// On its way to the socket (or kept for the resume while a linked client has none).
    Yes,
    /// Not sent: no accepted socket and no link to keep it, or a delta the budget holds.
    No,
    /// Not sent: the budget holds deltas from this one on; the client arranges the resync
    /// ([`Inner::schedule_resync`]).
    HoldStarted,
}

impl Outgoing {
    /// A client with no link yet; `stored` is the last page's link in this session, if any;
    /// `budget` the site's upload budget (a full bucket from now).
    pub(super) fn new(stored: Option<StoredLink>, budget: &config::UploadBudget) -> Outgoing {
        let (frames, bytes) = RESEND_BOUNDS;
        Outgoing {
            sender: None,
            link: match stored {
                Some(l) => Endpoint::after_page(l.id, l.applied, frames, bytes),
                None => Endpoint::new(frames, bytes),
            },
            budget: UploadBudget::new(budget, now_ms()),
            batch: false,
            pending: Vec::new(),
            armed: false,
            last_flush: None,
            timer: None,
        }
    }

    /// True between the socket's `Welcome` and its close.
    pub(super) fn accepted(&self) -> bool {
        self.sender.is_some()
    }

    /// The accepted socket's sender, or `None` when it closed; what waits for the old one is
    /// sent first.
    pub(super) fn set_sender(&mut self, sender: Option<Sender>) {
        self.flush();
        self.sender = sender;
    }

    /// Queues an already numbered frame (a resend after a resume) behind what waits.
    pub(super) fn queue(&mut self, frame: Vec<u8>) {
        self.pending.push(frame);
    }

    /// Sends a sequenced message (or keeps it for the resume; see the type's docs), within the
    /// upload budget. Call it through [`send_via`], which arms the flush.
    fn send(&mut self, msg: &Message) -> Sent {
        let tag = msg.tag();
        if (self.sender.is_none() && !self.link.keeps()) || self.budget.holds(tag) {
            return Sent::No;
        }
        let frame = encode(msg);
        match self.budget.admit(tag, frame.len(), now_ms()) {
            Admit::Send => {}
            Admit::Drop => return Sent::No,
            Admit::Hold => return Sent::HoldStarted,
        }
        let bytes = self.link.encode_frame(tag, frame);
        if self.sender.is_some() {
            self.pending.push(bytes);
            Sent::Yes
        } else if self.link.keeps() {
            Sent::Yes
        } else {
            Sent::No
        }
    }

    /// Once per batch of pending frames: when the caller should flush them.
    fn arm(&mut self) -> Option<Flush> {
        if self.pending.is_empty() || self.armed {
            return None;
        }
        self.armed = true;
        // Asked only when pacing would hold the frames (two calls into the page per task).
        let hidden = || {
            cobrowse_web_glue::realm::window()
                .and_then(|w| w.document())
                .is_some_and(|d| d.hidden())
        };
        Some(crate::batching::when_to_flush(
            now_ms(),
            self.last_flush,
            self.batch,
            hidden,
        ))
    }

    /// Hands what waits to the socket, as few messages as the server takes. Without a socket
    /// it is dropped here: a linked client still holds it for the resume.
    pub(super) fn flush(&mut self) {
        self.armed = false;
        // Fired, or no longer needed: the frames leave now.
        self.timer = None;
        let frames = std::mem::take(&mut self.pending);
        if let Some(sender) = &self.sender
            && !frames.is_empty()
        {
            for message in crate::batching::group(frames, self.batch) {
                sender.send_bytes(&message);
            }
            self.last_flush = Some(now_ms());
        }
    }
}

impl Drop for Outgoing {
    fn drop(&mut self) {
        // A session that ends sends its `Leave` and drops this in the same task.
        self.flush();
    }
}

/// Sends a sequenced `msg` through `outbox` ([`Outgoing::send`]), and queues what hands this
/// task's frames to the socket together: a microtask, or a timer while sends are paced.
pub(super) fn send_via(outbox: &Outbox, msg: &Message) -> Sent {
    let (sent, arm) = match outbox.try_borrow_mut() {
        Ok(mut out) => {
            let sent = out.send(msg);
            (sent, out.arm())
        }
        Err(_) => (Sent::No, None),
    };
    match arm {
        Some(Flush::Now) => flush_soon(Rc::downgrade(outbox)),
        Some(Flush::After(ms)) => {
            let weak = Rc::downgrade(outbox);
            let timer = Timeout::new(ms.ceil() as u32, move || flush_soon(weak));
            // Dropped by the flush (which cancels it when frames left sooner: a new socket, the
            // session's end).
            match outbox.try_borrow_mut() {
                Ok(mut out) => out.timer = Some(timer),
                // Never (no borrow is held here); rather than lose the flush, send at the end of
                // the task.
                Err(_) => {
                    drop(timer);
                    flush_soon(Rc::downgrade(outbox));
                }
            }
        }
        None => {}
    }
    sent
}

/// Flushes `outbox` in a microtask: after the page's script and the observer callbacks queued
/// before it, before the browser renders.
fn flush_soon(outbox: Weak<RefCell<Outgoing>>) {
    spawn_local(async move {
        let Some(out) = outbox.upgrade() else { return };
        match out.try_borrow_mut() {
            Ok(mut o) => o.flush(),
            // Borrowed across this microtask (never, as the client holds no borrow over a
            // yield): try again in the next one rather than leave the frames waiting.
            Err(_) => flush_soon(outbox),
        };
    });
}

/// The budget's clock: the page's monotonic `performance.now()` (a wall clock set back would
/// stop the refill until it caught up), `Date.now()` where there is none.
pub(super) fn now_ms() -> f64 {
    cobrowse_web_glue::realm::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// What the customer keeps unacknowledged: enough for a minute of a busy page; a longer
/// outage is resumed with the page as a whole instead.
const RESEND_BOUNDS: (usize, usize) = (4096, 8 * 1024 * 1024);

/// Everything one client holds; see the parent module for who owns what.
pub(super) struct Inner {
    pub(super) me: Weak<RefCell<Inner>>,
    pub(super) config: Config,
    pub(super) texts: Texts,
    /// The UI's language tag (`web::lang::language`).
    pub(super) lang: String,
    pub(super) window: Window,
    pub(super) document: Document,
    pub(super) phase: Phase,
    pub(super) mode: Mode,
    pub(super) session: Option<StoredSession>,
    pub(super) conn: Option<Socket>,
    /// The current socket's keep-alive (after its `Welcome`).
    pub(super) watchdog: Option<Watchdog>,
    pub(super) outbox: Outbox,
    pub(super) recorder: Option<Recorder>,
    pub(super) ui: Option<Ui>,
    pub(super) handlers: Vec<(String, Function)>,
    pub(super) reconnect: Reconnect,
    pub(super) welcomed_once: bool,
    /// The code of the last `Error` frame on the current socket: it tells a rate-limited
    /// refusal (retried) from a final one when the close follows.
    pub(super) last_error: Option<ErrorCode>,
    /// Keep-alive pings sent (their values).
    pub(super) ping_count: u64,
    /// This page (this instance, not the stored session) was welcomed before: a `Welcome` now
    /// is a reconnect, and the customer's own mode is the authority (see `crate::consent`).
    pub(super) page_welcomed: bool,
    /// The upload budget's resync: fires when the bucket can pay for a snapshot again
    /// ([`Inner::resync`]); dropped with the session.
    pub(super) resync: Option<Timeout>,
}

/// Runs `f` on `Inner` now, or in a microtask when it is busy (re-entrant call).
pub(super) fn with_inner(weak: &Weak<RefCell<Inner>>, f: impl FnOnce(&mut Inner) + 'static) {
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

/// `{ code, message }` for JS.
pub(super) fn error_js(e: &ClientError) -> JsValue {
    let o = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&o, &"code".into(), &e.code().into());
    let _ = js_sys::Reflect::set(&o, &"message".into(), &e.to_string().into());
    o.into()
}

impl Inner {
    pub(super) fn log(&self, what: &str) {
        if self.config.debug {
            web_sys::console::debug_1(&format!("[cobrowse] {what}").into());
        }
    }

    /// Calls the page's handlers for `event` in a microtask, so page code never runs while we
    /// hold our own state.
    pub(super) fn emit(&self, event: &str, detail: JsValue) {
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

    pub(super) fn set_phase(&mut self, phase: Phase) {
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

    pub(super) fn load_session(&self) -> Option<StoredSession> {
        let raw = self.storage()?.get_item(STORAGE_KEY).ok()??;
        let v = js_sys::JSON::parse(&raw).ok()?;
        serde_wasm_bindgen::from_value(v).ok()
    }

    pub(super) fn store_session(&self) {
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

    pub(super) fn session_detail(&self) -> JsValue {
        let o = js_sys::Object::new();
        if let Some(s) = &self.session {
            let _ = js_sys::Reflect::set(&o, &"token".into(), &s.token.clone().into());
            let _ = js_sys::Reflect::set(&o, &"historyId".into(), &s.history_id.clone().into());
        }
        o.into()
    }

    /// Sends `msg`: numbered on the link when it is a sequenced message (kept for the resume
    /// while no socket is accepted), plain on the current socket otherwise (`Hello`, `Pong`).
    pub(super) fn send(&mut self, msg: &Message) {
        let sent = if is_sequenced_tag(msg.tag()) {
            send_via(&self.outbox, msg)
        } else {
            // Plain frames (`Hello`, `Ping`, `Ack`, `Pong`) go now, after what waits.
            if let Ok(mut out) = self.outbox.try_borrow_mut() {
                out.flush();
            }
            if self.conn.as_ref().is_some_and(|c| c.send(msg)) {
                Sent::Yes
            } else {
                Sent::No
            }
        };
        match sent {
            Sent::Yes => {}
            Sent::No => self.log("not sent now (no accepted socket, or held by the upload budget)"),
            Sent::HoldStarted => self.schedule_resync(),
        }
    }

    /// A fresh snapshot, sent now when the upload budget can pay for one (a `RequestSnapshot`),
    /// else by the resync once it can.
    pub(super) fn send_snapshot_within_budget(&mut self) {
        let now = now_ms();
        let afford = self
            .outbox
            .try_borrow_mut()
            .is_ok_and(|mut o| o.budget.snapshot_requested(now));
        if !afford {
            self.schedule_resync();
            return;
        }
        if let Some(snap) = self.recorder.as_ref().and_then(Recorder::snapshot) {
            self.send(&snap);
        }
    }

    /// Arms the resync timer for when the upload budget's resync is due, unless it is armed.
    pub(super) fn schedule_resync(&mut self) {
        if self.resync.is_some() {
            return;
        }
        let due = self
            .outbox
            .try_borrow_mut()
            .ok()
            .and_then(|mut o| o.budget.resync_in_ms(now_ms()));
        let Some(ms) = due else { return };
        self.log(&format!(
            "upload budget spent: page changes held, a fresh snapshot in {} ms",
            ms.ceil()
        ));
        let weak = self.me.clone();
        // At least 1 ms later (never re-entrant), rounded up so it is not early.
        let ms = ms.ceil().clamp(1.0, f64::from(u32::MAX)) as u32;
        self.resync = Some(Timeout::new(ms, move || {
            with_inner(&weak, |i| i.resync());
        }));
    }

    /// The resync timer fired: sends the one snapshot that replaces everything the budget held,
    /// or waits on when the bucket is not there yet (a clock that lagged). Without an accepted
    /// socket the snapshot is not paid for and the budget keeps holding: the snapshot after the
    /// next `Welcome` ends it.
    fn resync(&mut self) {
        self.resync = None;
        let due = self
            .outbox
            .try_borrow_mut()
            .ok()
            .and_then(|mut o| o.budget.resync_in_ms(now_ms()));
        match due {
            None => {}
            Some(ms) if ms > 0.0 => self.schedule_resync(),
            Some(_) => {
                if let Some(snap) = self.recorder.as_ref().and_then(Recorder::snapshot) {
                    self.log("upload budget: resync snapshot");
                    self.send(&snap);
                }
            }
        }
    }

    /// Remembers the link and what this page applied, for the next page of the session.
    pub(super) fn store_link(&mut self) {
        let link = self.outbox.try_borrow().ok().and_then(|o| {
            (o.link.id() != 0).then(|| StoredLink {
                id: o.link.id(),
                applied: o.link.applied(),
            })
        });
        if let Some(s) = &mut self.session
            && s.link != link
        {
            s.link = link;
            self.store_session();
        }
    }

    pub(super) fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
        if let Some(ui) = &self.ui {
            ui.set_write_mode(mode == Mode::Write);
        }
        self.emit("mode", mode.code().into());
    }

    pub(super) fn ensure_recorder(&mut self) {
        if self.recorder.is_some() {
            return;
        }
        let outbox = Rc::clone(&self.outbox);
        let me = self.me.clone();
        let sink: Sink = Rc::new(move |msg: Message| {
            let sent = send_via(&outbox, &msg);
            if sent == Sent::HoldStarted {
                // The recorder is busy sending: the timer is armed from `Inner` (now, or in a
                // microtask when `Inner` is what called the recorder).
                with_inner(&me, Inner::schedule_resync);
            }
        });
        let outbox = Rc::clone(&self.outbox);
        let held: Held = Rc::new(move || outbox.try_borrow().is_ok_and(|o| o.budget.holding()));
        match Recorder::start(
            self.window.clone(),
            self.document.clone(),
            sink,
            self.config.debug,
            self.config.page_mask(),
        ) {
            Ok(r) => {
                r.set_inline_images(self.config.inline_images.clone());
                r.set_held(held);
                self.recorder = Some(r);
            }
            Err(e) => self.log(&format!("recorder failed: {}", js_err(e))),
        }
    }

    /// Ends the session locally: stops capture, closes the socket, forgets the stored session,
    /// tells the UI and the page. `leave` sends `Leave` first (our side ends it).
    pub(super) fn end(&mut self, reason: EndReason, leave: bool) {
        if self.phase == Phase::Ended {
            return;
        }
        if leave {
            self.send(&Message::Leave);
        }
        self.recorder = None;
        self.resync = None;
        self.outbox
            .replace(Outgoing::new(None, &self.config.upload_budget));
        self.conn = None;
        self.watchdog = None;
        self.reconnect.cancel();
        self.mode = Mode::Pointer;
        self.clear_session();
        self.session = None;
        if let Some(ui) = &self.ui {
            ui.show_ended(&reason_text(&self.texts, &reason));
        }
        self.set_phase(Phase::Ended);
        let o = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&o, &"reason".into(), &reason.code().into());
        if let Some(detail) = reason.detail() {
            let _ = js_sys::Reflect::set(&o, &"detail".into(), &detail.into());
        }
        self.emit("ended", o.into());
    }
}
