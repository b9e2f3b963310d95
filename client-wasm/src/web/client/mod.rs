//! The exported client, [`CobrowseClient`]: the class the loader and the npm package wrap, over
//! one session's lifecycle, connection and the glue between recorder, UI and the page's JS.
//!
//! # Layout
//!
//! Each file builds only on the ones before it:
//! * `rest` — the REST calls (create a session, fetch the DOM restrictions).
//! * `inner` — the shared state (`Inner`) and its primitives: events to the page, phase, mode,
//!   the stored session, sending, capture, ending locally.
//! * `messages` — the `Hello` and what each frame from the server does.
//! * `lifecycle` — starting, connecting, reconnecting and the UI's buttons.
//!
//! The pure parts (stored record, phases, errors) are [`crate::session`]; the REST types, paths,
//! close codes and event codes are `cobrowse_protocol`'s; the socket and the reconnect timer are
//! `cobrowse_web_glue::socket`'s, shared with the agent page.
//!
//! # Who owns what
//!
//! * [`CobrowseClient`] (held by the loader) owns the shared `Inner`.
//! * `Inner` owns the [`Recorder`](crate::web::recorder::Recorder) (capture callbacks), the
//!   [`Ui`] (its listeners and host element), the `Socket` (the WebSocket and its four
//!   handler closures) and the pending `Reconnect` timer. Dropping any of them unregisters its
//!   callbacks; `stop()` drops them all.
//! * Every callback holds only a `Weak` reference to `Inner`, so nothing keeps a stopped client
//!   alive, and uses `try_borrow_mut`: a re-entrant call is deferred to a microtask instead of
//!   panicking on the customer's page.
//! * Page-state frames go out through the `Outbox`, shared with the recorder, which holds a
//!   `Sender` on the socket only between `Welcome` and close, the link that numbers and keeps
//!   frames for a resume, and the upload budget (`inner::Outgoing`). `Inner` owns the budget's
//!   resync `Timeout` (its closure holds `Inner` weakly); ending or destroying drops it.
//! * The `Watchdog` (the socket's keep-alive) is owned next to the socket and dropped with it.

mod inner;
mod lifecycle;
mod messages;
mod rest;

pub use crate::session::{ClientError, Phase, STORAGE_KEY, StoredLink, StoredSession};

use crate::config::Config;
use crate::session::OnStop;
use crate::web::ui::{Ui, UiAction};
use cobrowse_protocol::{EndReason, Mode};
use cobrowse_web_glue::socket::Reconnect;
use inner::{Inner, with_inner};
use js_sys::{Function, Promise};
use lifecycle::{load_restrictions, start_session};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

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
        config
            .validate()
            .map_err(|e| JsValue::from_str(&format!("invalid cobrowse config: {e}")))?;
        let window =
            cobrowse_web_glue::realm::window().ok_or_else(|| JsValue::from_str("no window"))?;
        let document = window
            .document()
            .ok_or_else(|| JsValue::from_str("no document"))?;
        let lang = crate::web::lang::language(&document, &config.locale);
        let texts = config.texts_for(&lang);
        let budget = config.upload_budget;
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
                watchdog: None,
                outbox: Rc::new(RefCell::new(inner::Outgoing::new(None, &budget))),
                recorder: None,
                ui: None,
                handlers: Vec::new(),
                reconnect: Reconnect::default(),
                welcomed_once: false,
                ping_count: 0,
                last_error: None,
                page_welcomed: false,
                resync: None,
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
            // At once, so the customer's mask marker shows while the session is created; capture
            // waits for the same load anyway (see `connect`).
            let document = i.document.clone();
            spawn_local(async move {
                if let Err(e) = load_restrictions(&document, &base).await {
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

    /// Acts as if the customer pressed the co-browse button: the call confirmation when
    /// `confirmCall` is set, else a new session. The loader draws the button itself until the
    /// client is needed and calls this, after `mount`, for the press that loaded the client.
    pub fn launch(&self) {
        with_inner(&Rc::downgrade(&self.inner), |i| i.on_ui(UiAction::Start));
    }

    /// Starts a session (no confirmation dialog: the page decided). Resolves with the token;
    /// rejects with `{ code, message }`.
    pub fn start(&self) -> Promise {
        start_session(Rc::clone(&self.inner))
    }

    /// Ends the session (the agent is told) and stops capturing.
    pub fn stop(&self) {
        with_inner(&Rc::downgrade(&self.inner), |i| match i.phase.on_stop() {
            OnStop::Nothing => {}
            OnStop::Cancel => {
                i.set_phase(Phase::Idle);
                if let Some(ui) = &i.ui {
                    ui.reset(i.config.button);
                }
            }
            OnStop::End => i.end(EndReason::CustomerExit, true),
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
            i.resync = None;
            i.outbox
                .replace(inner::Outgoing::new(None, &i.config.upload_budget));
            i.conn = None;
            i.watchdog = None;
            i.reconnect.cancel();
            i.ui = None;
            i.handlers.clear();
            i.session = None;
            i.phase = Phase::Idle;
        });
    }
}
