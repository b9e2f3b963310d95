//! A session's course: starting one (from the page or the UI), connecting once the site's
//! restrictions are known, reconnecting after a close, ending on a refusal, and the UI's
//! buttons.

use super::inner::{Inner, Outgoing, error_js, with_inner};
use super::rest::{self, js_err};
use crate::session::{ClientError, OnClose, OnStart, Phase, StoredSession};
use crate::web::restrict;
use crate::web::ui::UiAction;
use cobrowse_protocol::{EndReason, Message, Mode, ModeChange, Party};
use cobrowse_web_glue::socket::{Socket, SocketEvent};
use js_sys::Promise;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{future_to_promise, spawn_local};
use web_sys::Document;

/// The keep-alive period until the server names one (`Welcome.link`): a socket that brought
/// nothing for twice as long (also no `Welcome`) is given up.
const DEFAULT_KEEPALIVE_MS: u32 = 10_000;

/// The close code a dropped socket is reported with when the keep-alive gave it up (the
/// browser's own "abnormal closure").
const CLOSE_ABNORMAL: u16 = 1006;

/// Fetches the site's DOM restrictions and installs them with the page's own.
pub(super) async fn load_restrictions(document: &Document, base: &str) -> Result<(), String> {
    let doc = rest::restrictions(base).await?;
    restrict::apply(document, doc)
}

impl Inner {
    fn load_restrictions_then_connect(&mut self) {
        let Some(base) = self.config.server_base() else {
            return;
        };
        let weak = self.me.clone();
        let document = self.document.clone();
        spawn_local(async move {
            let result = load_restrictions(&document, &base).await;
            with_inner(&weak, move |i| match result {
                Ok(()) => i.connect(),
                Err(e) => {
                    i.log(&e);
                    if !i.phase.at_rest() {
                        i.schedule_reconnect();
                    }
                }
            });
        });
    }

    fn connect(&mut self) {
        self.reconnect.cancel();
        let Some(session) = self.session.clone() else {
            return;
        };
        if self.phase.at_rest() {
            return;
        }
        if !restrict::loaded() {
            // Fail closed: nothing is captured before the site's masking rules are known; a
            // failed load is retried like a failed connection.
            self.load_restrictions_then_connect();
            return;
        }
        self.log(&format!("connecting to {}", session.ws_url));
        let weak = self.me.clone();
        let on_event = move |ev| with_inner(&weak, move |i| i.on_socket(ev));
        let conn = match Socket::open(&session.ws_url, on_event) {
            Ok(conn) => conn,
            Err(e) => {
                self.log(&format!("socket failed: {}", js_err(e)));
                self.schedule_reconnect();
                return;
            }
        };
        self.outbox.borrow_mut().set_sender(None);
        self.last_error = None;
        // Also bounds the handshake: a socket that opens into a black hole gets no `Welcome`.
        self.watch(&conn);
        self.conn = Some(conn);
    }

    /// Starts the keep-alive of `conn` with the period the server gave (`Welcome.link`), or a
    /// default until it did.
    pub(super) fn watch(&mut self, conn: &Socket) {
        let period = self
            .outbox
            .try_borrow()
            .ok()
            .and_then(|o| o.link.keepalive_ms())
            .unwrap_or(DEFAULT_KEEPALIVE_MS);
        let (ping, dead) = (self.me.clone(), self.me.clone());
        self.watchdog = Some(conn.watch(
            period,
            move || with_inner(&ping, |i| i.keepalive()),
            move || with_inner(&dead, |i| i.on_close(CLOSE_ABNORMAL, "keepalive timeout")),
        ));
    }

    /// One keep-alive beat on an accepted socket: a `Ping` (answered by the server's `Pong`)
    /// and an `Ack` for anything applied since the last one.
    fn keepalive(&mut self) {
        let welcomed = self.outbox.try_borrow().is_ok_and(|o| o.accepted());
        if !welcomed {
            return;
        }
        self.ping_count += 1;
        self.send(&Message::Ping(self.ping_count));
        let ack = self
            .outbox
            .try_borrow_mut()
            .ok()
            .and_then(|mut o| o.link.ack(0));
        if let Some(ack) = ack {
            self.send(&ack);
        }
    }

    fn on_socket(&mut self, ev: SocketEvent) {
        match ev {
            SocketEvent::Open => self.on_open(),
            SocketEvent::Frame(bytes) => self.on_frame(&bytes),
            SocketEvent::Closed(code, reason) => self.on_close(code, &reason),
            SocketEvent::Error => self.log("socket error"),
        }
    }

    fn on_close(&mut self, code: u16, reason: &str) {
        self.log(&format!("socket closed: {code} {reason}"));
        self.outbox.borrow_mut().set_sender(None);
        self.conn = None;
        self.watchdog = None;
        let error = self.last_error.take();
        match self.phase.on_close(code, self.welcomed_once, error) {
            OnClose::Ignore => {}
            OnClose::Refused => {
                let err = ClientError::Refused(reason.to_owned());
                self.emit("error", error_js(&err));
                self.end(EndReason::Other(reason.to_owned()), false);
            }
            OnClose::Reconnect => {
                if let Some(ui) = &self.ui {
                    ui.set_reconnecting(true);
                }
                self.schedule_reconnect();
            }
        }
    }

    fn schedule_reconnect(&mut self) {
        let weak = self.me.clone();
        let delay = self.reconnect.schedule(move || {
            with_inner(&weak, |i| i.connect());
        });
        self.log(&format!("reconnecting in {delay} ms"));
    }

    pub(super) fn begin(&mut self, session: StoredSession, resumed: bool) {
        // A new page of a session continues nothing, but tells the server what the last page
        // applied (`StoredSession::link`).
        self.outbox
            .replace(Outgoing::new(session.link, &self.config.upload_budget));
        self.session = Some(session.clone());
        self.store_session();
        self.reconnect.reset();
        self.welcomed_once = resumed;
        self.page_welcomed = false;
        self.set_phase(Phase::Waiting);
        if let Some(ui) = &self.ui {
            ui.show_session(&session.token);
        }
        self.emit("session", self.session_detail());
        self.connect();
    }

    pub(super) fn on_ui(&mut self, action: UiAction) {
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
                    } else if self.phase.at_rest() {
                        ui.reset(self.config.button);
                    }
                }
            }
        }
    }

    fn start_from_ui(&mut self) {
        let Some(rc) = self.me.upgrade() else { return };
        // The outcome is reported through events and the UI; awaiting the promise keeps its
        // rejection from surfacing as an unhandled one on the customer's page.
        spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(start_session(rc)).await;
        });
    }
}

/// Creates a session and connects; resolves with the token.
pub(super) fn start_session(rc: Rc<RefCell<Inner>>) -> Promise {
    future_to_promise(async move {
        let (base, page_url) = {
            let mut i = rc
                .try_borrow_mut()
                .map_err(|_| error_js(&ClientError::Busy))?;
            match i.phase.on_start() {
                OnStart::Running => {
                    let token = i.session.as_ref().map(|s| s.token.clone());
                    return Ok(token.map(JsValue::from).unwrap_or(JsValue::NULL));
                }
                OnStart::Busy => return Err(error_js(&ClientError::Busy)),
                OnStart::Create => {}
            }
            let Some(base) = i.config.server_base() else {
                let e = ClientError::NoServerUrl;
                i.emit("error", error_js(&e));
                return Err(error_js(&e));
            };
            i.set_phase(Phase::Starting);
            if let Some(ui) = &i.ui {
                ui.show_connecting();
            }
            // The server keeps it in the session's history: masked like every address.
            let url = i.document.url().unwrap_or_default();
            (base, i.config.page_mask().address(&url))
        };
        let result = rest::create_session(&base, &page_url).await;
        let mut i = rc
            .try_borrow_mut()
            .map_err(|_| error_js(&ClientError::Busy))?;
        if i.phase != Phase::Starting {
            return Err(error_js(&ClientError::Cancelled));
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
                i.emit("error", error_js(&e));
                Err(error_js(&e))
            }
        }
    })
}
