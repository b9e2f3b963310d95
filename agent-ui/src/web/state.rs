//! The agent page's session state: one [`State`] for the whole page, shared by every handler as
//! [`Shared`], and the [`Connection`] it holds.

use super::dom::WebDom;
use super::styles::Styles;
use super::toolbar::Ui;
use crate::params::PageParams;
use crate::replica::Replica;
use crate::viewport::{Fit, Size};
use cobrowse_protocol::link::Endpoint;
use cobrowse_protocol::{ErrorCode, Message, Viewport};
use cobrowse_web_glue::socket::{Reconnect, Socket, Watchdog};
use gloo_events::EventListener;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::Element;

/// The current socket and what the server said on it. Dropping it drops the [`Socket`], which
/// detaches its handlers and closes it, so a replaced connection never reports back.
pub(super) struct Connection {
    pub(super) socket: Socket,
    /// The server answered this socket's `Hello` with a `Welcome`: a policy close is then about
    /// this connection, not a refusal of the session (`cobrowse_protocol::close`).
    pub(super) welcomed: bool,
    /// The code of the last `Error` frame on this socket: a policy close after
    /// `Error{RateLimited}` is retried, after any other refusal it is final.
    pub(super) last_error: Option<ErrorCode>,
    /// The socket's keep-alive, dropped with it.
    pub(super) watchdog: Watchdog,
}

/// The page's state, shared by all handlers.
pub(super) struct State {
    pub(super) ui: Ui,
    pub(super) params: PageParams,
    pub(super) replica: Replica<WebDom>,
    /// The session number being joined or shown.
    pub(super) token: Option<String>,
    /// Bumped by every join, for the one callback that can outlive it: the session lookup, an
    /// `await` that a newer join may overtake. Socket events need no such check
    /// (a replaced [`Socket`] is detached), nor does the reconnect timer (every join cancels it).
    pub(super) generation: u32,
    pub(super) conn: Option<Connection>,
    /// The link across this page's sockets (numbers, resends, duplicates; `cobrowse_protocol::link`).
    pub(super) link: Endpoint,
    /// The pending reconnect; its delays grow until a `Welcome` resets them.
    pub(super) reconnect: Reconnect,
    pub(super) ended: bool,
    /// The connection was refused for good (error frame that retrying cannot fix).
    pub(super) refused: bool,
    /// This session was live on this page before (so a 404 now means it ended).
    pub(super) was_live: bool,
    /// The server that owns the session now (`OwnerChanged`), used instead of the looked-up URL.
    pub(super) ws_override: Option<String>,
    /// The customer's viewport, and how it is scaled into the stage.
    pub(super) viewport: Viewport,
    pub(super) fit: Fit,
    /// The agent's latest pointer, waiting for the next animation frame (`None`: none waiting).
    pub(super) pending_pointer: Option<Option<(i32, i32)>>,
    pub(super) raf_scheduled: bool,
    /// The animation-frame callback that sends the pointer, reused for every frame.
    pub(super) raf: Option<Closure<dyn FnMut()>>,
    /// Click rings shown, oldest first, with their start time.
    pub(super) rings: VecDeque<(f64, Element)>,
    /// UI listeners, kept for the life of the page.
    pub(super) listeners: Vec<EventListener>,
    /// Constructed/adopted sheets and pseudo-state (hover, focus, active) of the replica.
    pub(super) styles: Styles,
    /// The customer's open `<select>` popup, drawn over the replica.
    pub(super) select_popup: super::select_popup::SelectOverlay,
    /// Where decoded messages from the socket go: the socket code hands them up instead of
    /// knowing what each one does.
    pub(super) on_message: OnMessage,
    /// How long page changes take to paint, for the server's metrics.
    pub(super) render: super::render::RenderTiming,
    /// Annotations: the chosen tool, the stroke being drawn, the layer over the replica.
    pub(super) ink: super::ink::InkState,
}

/// The page state as every handler holds it.
pub(super) type Shared = Rc<RefCell<State>>;

/// Receives each decoded message of the current connection, with when its frame arrived
/// (`clock::now()`).
pub(super) type OnMessage = fn(&Shared, Message, f64);

impl State {
    /// The state of a page that has not joined yet.
    pub(super) fn new(
        ui: Ui,
        params: PageParams,
        replica: Replica<WebDom>,
        on_message: OnMessage,
    ) -> Self {
        State {
            ui,
            params,
            replica,
            token: None,
            generation: 0,
            conn: None,
            link: Endpoint::new(super::link::RESEND_BOUNDS.0, super::link::RESEND_BOUNDS.1),
            reconnect: Reconnect::default(),
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
            styles: Styles::new(),
            select_popup: Default::default(),
            on_message,
            render: Default::default(),
            ink: Default::default(),
        }
    }
}
