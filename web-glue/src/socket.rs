//! One binary WebSocket to the relay, and the backoff timer that opens the next one.
//!
//! Both pages speak to the relay the same way: binary frames only, every event handed to one
//! callback, the socket closed and its handlers detached when it is replaced. What to do with an
//! event — the `Hello` on open, a frame, whether a close is final
//! (`cobrowse_protocol::close::retry_after_close`) — stays with each page.
//!
//! A [`Socket`] detaches its handlers before it is dropped, so a replaced socket can never call
//! back into the page: callers need no generation counter to tell an old socket's events from
//! the current one's.

use cobrowse_common::backoff::Backoff;
use cobrowse_protocol::Message;
use gloo_timers::callback::{Interval, Timeout};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

/// What a [`Socket`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketEvent {
    /// Open: time for `Hello`.
    Open,
    /// One binary frame (text frames are not part of the protocol and are ignored).
    Frame(Vec<u8>),
    /// Closed, with its close code and reason.
    Closed(u16, String),
    /// An error (a close follows, so most pages only log it).
    Error,
}

/// A cheap handle that sends on a [`Socket`]'s WebSocket, for code that must send without owning
/// the socket (the customer's recorder). Once its socket is dropped (and so closed), sending
/// through it reports false.
#[derive(Debug, Clone)]
pub struct Sender(WebSocket);

impl Sender {
    /// Encodes and sends `msg`; false when the socket is not open or refused it.
    pub fn send(&self, msg: &Message) -> bool {
        self.send_bytes(&cobrowse_protocol::encode(msg))
    }

    /// Sends an encoded frame (a link's `Seq` frame); false when the socket is not open or
    /// refused it.
    pub fn send_bytes(&self, frame: &[u8]) -> bool {
        self.0.ready_state() == WebSocket::OPEN && self.0.send_with_u8_array(frame).is_ok()
    }
}

/// One WebSocket and the four closures it calls. Dropping it detaches the handlers, then closes
/// the socket with `close::NORMAL`.
pub struct Socket {
    ws: WebSocket,
    /// When the last frame arrived (`Date.now()`), for the keep-alive ([`Socket::watch`]).
    last_rx: Rc<Cell<f64>>,
    _on_open: Closure<dyn FnMut(web_sys::Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

impl Socket {
    /// Opens a binary socket to `url`; every event goes to `on_event`. `Err` when the browser
    /// refuses the URL (nothing was opened; the caller schedules its retry).
    pub fn open(url: &str, on_event: impl Fn(SocketEvent) + 'static) -> Result<Socket, JsValue> {
        let ws = WebSocket::new(url)?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let on_event: Rc<dyn Fn(SocketEvent)> = Rc::new(on_event);
        let f = Rc::clone(&on_event);
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
            f(SocketEvent::Open);
        });
        let f = Rc::clone(&on_event);
        let last_rx = Rc::new(Cell::new(js_sys::Date::now()));
        let seen = Rc::clone(&last_rx);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            seen.set(js_sys::Date::now());
            let data = e.data();
            let Some(buf) = data.dyn_ref::<js_sys::ArrayBuffer>() else {
                crate::log::write(
                    "cobrowse-socket",
                    format_args!("ignoring a non-binary frame"),
                );
                return;
            };
            f(SocketEvent::Frame(js_sys::Uint8Array::new(buf).to_vec()));
        });
        let f = Rc::clone(&on_event);
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            f(SocketEvent::Closed(e.code(), e.reason()));
        });
        let f = on_event;
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
            f(SocketEvent::Error);
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Socket {
            ws,
            last_rx,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            _on_error: on_error,
        })
    }

    /// Encodes and sends `msg`; false when the socket is not open or refused it.
    pub fn send(&self, msg: &Message) -> bool {
        self.sender().send(msg)
    }

    /// Sends an encoded frame; false when the socket is not open or refused it.
    pub fn send_bytes(&self, frame: &[u8]) -> bool {
        self.sender().send_bytes(frame)
    }

    /// A handle that sends on this socket (see [`Sender`]).
    pub fn sender(&self) -> Sender {
        Sender(self.ws.clone())
    }

    /// Keeps the socket alive and notices a half-open one: `ping` runs every `period_ms` (the
    /// page sends its `Ping`, and its `Ack`), and `dead` runs once when nothing at all arrived
    /// for twice the period: the connection is gone without a close (a black hole, a dead NAT
    /// mapping), which the browser itself would notice only after minutes. The page then drops
    /// the socket and reconnects. Checked every quarter period; stops when the [`Watchdog`] is
    /// dropped.
    pub fn watch(
        &self,
        period_ms: u32,
        ping: impl Fn() + 'static,
        dead: impl Fn() + 'static,
    ) -> Watchdog {
        let period = f64::from(period_ms.max(100));
        let last_rx = Rc::clone(&self.last_rx);
        last_rx.set(js_sys::Date::now());
        let last_ping = Cell::new(js_sys::Date::now());
        let fired = Cell::new(false);
        let dead: Rc<dyn Fn()> = Rc::new(dead);
        let tick = (period / 4.0).max(25.0) as u32;
        let interval = Interval::new(tick, move || {
            if fired.get() {
                return;
            }
            let now = js_sys::Date::now();
            if now - last_rx.get() > 2.0 * period {
                fired.set(true);
                // Later, not from inside this timer: `dead` drops the socket and with it this
                // very interval's closure.
                let dead = Rc::clone(&dead);
                crate::soon::soon(move || dead());
                return;
            }
            if now - last_ping.get() >= period {
                last_ping.set(now);
                ping();
            }
        });
        Watchdog {
            _interval: interval,
        }
    }
}

/// The keep-alive timer of one socket ([`Socket::watch`]); dropping it stops it. Owned by the
/// page's connection next to its socket, so it never outlives it.
pub struct Watchdog {
    _interval: Interval,
}

impl Drop for Socket {
    fn drop(&mut self) {
        // Handlers first: the close below must not report back, and JS must never call the
        // closures that drop with `self` right after.
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        let _ = self.ws.close_with_code(cobrowse_protocol::close::NORMAL);
    }
}

/// The pending reconnect, with delays from [`Backoff`]. One timer at a time: scheduling replaces
/// the pending one, and dropping it (or [`Reconnect::cancel`]) cancels it, so a timer never
/// outlives the connection attempt it was scheduled for.
#[derive(Default)]
pub struct Reconnect {
    backoff: Backoff,
    retry: Option<Timeout>,
}

impl Reconnect {
    /// Runs `f` after the next backoff delay (replacing a pending one); returns the delay in ms.
    pub fn schedule(&mut self, f: impl FnOnce() + 'static) -> u32 {
        let delay = self.backoff.next_delay(js_sys::Math::random());
        self.retry = Some(Timeout::new(delay, f));
        delay
    }

    /// Cancels a pending reconnect.
    pub fn cancel(&mut self) {
        self.retry = None;
    }

    /// Starts the delays over (a new session, or the server accepted us).
    pub fn reset(&mut self) {
        self.backoff.reset();
    }
}
