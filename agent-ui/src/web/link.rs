//! The WebSocket link to the server: session lookup, connect, `Hello`, reconnect with backoff,
//! and the end of a session. Decoded messages go to `State::on_message`; this file never
//! interprets them.
//!
//! A closed socket is reconnected unless `cobrowse_protocol::close::retry_after_close` calls the
//! close final: a policy close (1008) before that connection's first `Welcome` is the server
//! refusing the `Hello` (unless its `Error` said rate limiting: then the page waits and tries
//! again); after a `Welcome` the page reconnects and the next answer decides.
//!
//! The agent credential (`credential`) goes with every call: `Authorization: Bearer` on the
//! lookup, `Hello.auth` on the socket. A lookup answered 401/403 is a refusal shown to the agent
//! (`data-error="unauthorized"`), never retried: the same credential gets the same answer.
//!
//! The socket itself is `cobrowse_web_glue::socket`'s, shared with the customer client: it hands
//! every event to [`on_socket`] and is detached when dropped, so a replaced connection never
//! reaches the page. Only the session lookup, which awaits a fetch, re-checks the join
//! `generation` it started for (a newer join may overtake it).

use super::prefs::{tr, trf};
use super::state::{Connection, Shared};
use super::toolbar::UiState;
use crate::debug;
use crate::frames::FramePolicy;
use crate::params;
use crate::sheets::SheetPolicy;
use cobrowse_protocol::link::{Endpoint, Welcomed, is_sequenced_tag};
use cobrowse_protocol::rest::{self, ErrorBody, SessionLookup};
use cobrowse_protocol::{
    Code, ErrorCode, Hello, LinkWelcome, Message, RefusalReason, Role, SessionState, close, decode,
};
use cobrowse_web_glue::socket::{Socket, SocketEvent, Watchdog};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{Headers, Request, RequestInit, Response, Window};

/// Sends `msg`. A sequenced message (`cobrowse_protocol::link`) is numbered on the link and
/// kept until the server acknowledges it, so what the agent does while the socket is being
/// replaced (typing, a mode request) is sent once the link resumes; it goes out only on a
/// socket the server accepted. Without a link (an older server) it is dropped while not
/// connected, as pointers are transient and the buttons that send state need a connection.
pub(super) fn send(state: &Shared, msg: &Message) {
    let Ok(mut s) = state.try_borrow_mut() else {
        // Called while the page state is borrowed: send right after, in order.
        let (st, msg) = (state.clone(), msg.clone());
        spawn_local(async move { send(&st, &msg) });
        return;
    };
    let st = &mut *s;
    if !is_sequenced_tag(msg.tag()) {
        if let Some(c) = &st.conn {
            c.socket.send(msg);
        }
        return;
    }
    let accepted = st.conn.as_ref().filter(|c| c.welcomed);
    if accepted.is_none() && !st.link.keeps() {
        return;
    }
    let bytes = st.link.encode(msg);
    if let Some(c) = accepted {
        c.socket.send_bytes(&bytes);
    }
}

/// Frames applied between two `Ack`s (one also goes with every keep-alive `Ping`).
const ACK_EVERY: u64 = 32;

/// The keep-alive period until the server names one (`Welcome.link`).
const DEFAULT_KEEPALIVE_MS: u32 = 10_000;

/// What the agent keeps of its own frames unacknowledged (actions and mode changes; pointers
/// are never kept).
pub(super) const RESEND_BOUNDS: (usize, usize) = (1024, 1024 * 1024);

/// Starts (or restarts) joining session `sid`.
pub(super) fn join(state: &Shared, sid: String) {
    let generation = {
        let mut s = state.borrow_mut();
        s.generation = s.generation.wrapping_add(1);
        s.conn = None;
        s.reconnect.cancel();
        if s.token.as_deref() != Some(sid.as_str()) {
            s.reconnect.reset();
            s.ws_override = None;
            s.was_live = false;
            // Another session: nothing of the last one's link carries over.
            s.link = Endpoint::new(RESEND_BOUNDS.0, RESEND_BOUNDS.1);
        }
        s.token = Some(sid.clone());
        s.ended = false;
        s.refused = false;
        if let Some(i) = &s.ui.sid_input {
            i.set_value(&sid);
        }
        s.ui.set_error(None);
        let text = if s.was_live {
            tr("reconnectingNow")
        } else {
            trf("lookingUp", &[("sid", &sid)])
        };
        s.ui.set_status(UiState::Waiting, &text);
        s.generation
    };
    let st = state.clone();
    let auth = state.borrow().params.auth.clone();
    spawn_local(async move {
        let ws_url = match lookup(&sid, auth.as_deref()).await {
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
                    let text = if s.was_live && code == ErrorCode::UnknownSession.code() {
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
                if st.borrow().generation == generation {
                    schedule_reconnect(&st);
                }
                return;
            }
        };
        // The desktop's stream first, so it hears this agent's own join.
        super::desktop::follow(&sid, auth.clone()).await;
        let url = {
            let s = st.borrow();
            if s.generation != generation {
                return;
            }
            s.ws_override.clone().unwrap_or(ws_url)
        };
        connect(&st, &url);
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

/// The lookup request for `url`, with the agent credential as a bearer token when there is one.
fn lookup_request(url: &str, auth: Option<&str>) -> Result<Request, JsValue> {
    let init = RequestInit::new();
    if let Some(credential) = auth {
        let headers = Headers::new()?;
        headers.set("authorization", &format!("Bearer {credential}"))?;
        init.set_headers(&headers);
    }
    Request::new_with_str_and_init(url, &init)
}

/// `GET rest/live/sessions/{token}` relative to the page (works when the page is embedded too),
/// read as [`SessionLookup`]. An answer that is not one (not JSON, a field missing or of the
/// wrong type) is a failed lookup, retried with backoff like a network error.
async fn lookup(sid: &str, auth: Option<&str>) -> Lookup {
    let Some(w) = web_sys::window() else {
        return Lookup::Failed("no window".into());
    };
    let url = format!("{}/{sid}", params::page_relative(rest::LIVE_SESSIONS_PATH));
    let request = match lookup_request(&url, auth) {
        Ok(r) => r,
        Err(e) => return Lookup::Failed(format!("{e:?}")),
    };
    let resp = match JsFuture::from(w.fetch_with_request(&request)).await {
        Ok(r) => r,
        Err(e) => return Lookup::Failed(format!("{e:?}")),
    };
    let Ok(resp) = resp.dyn_into::<Response>() else {
        return Lookup::Failed("not a response".into());
    };
    let status = resp.status();
    let json = match resp.json() {
        Ok(p) => JsFuture::from(p)
            .await
            .map_err(|e| format!("bad JSON: {e:?}")),
        Err(e) => Err(format!("{e:?}")),
    };
    if status != 200 {
        // The status decides (a proxy in front of the server answers without our body); the
        // error body only explains, in the debug log.
        let why = match json.map(serde_wasm_bindgen::from_value::<ErrorBody>) {
            Ok(Ok(b)) => format!("HTTP {status} {}: {}", b.error.code, b.error.message),
            _ => format!("HTTP {status}"),
        };
        let (code, text) = match status {
            404 => (ErrorCode::UnknownSession, "unknownSessionRetry"),
            401 | 403 => (ErrorCode::Unauthorized, "errUnauthorized"),
            // Throttled for now, not refused: tried again with backoff.
            _ => return Lookup::Failed(why),
        };
        debug!("lookup refused: {why}");
        return Lookup::Refused {
            code: code.code(),
            text,
        };
    }
    let answer = match json.and_then(read_lookup) {
        Ok(a) => a,
        Err(e) => return Lookup::Failed(e),
    };
    if answer.state == SessionState::Ended {
        return Lookup::Refused {
            code: ErrorCode::SessionEnded.code(),
            text: "sessionEnded",
        };
    }
    let page = w.location().href().ok();
    let frames = FramePolicy::new(&answer.allowed_third_party_domains, page.as_deref());
    let sheets = SheetPolicy::new(&answer.allowed_external_domains, page.as_deref());
    // The owner's configured URL, or (none configured) the socket next to this page. The page's
    // CSP allows exactly these.
    let ws_url = answer
        .ws_url
        .filter(|u| u.starts_with("ws://") || u.starts_with("wss://"))
        .unwrap_or_else(|| default_ws_url(&w));
    Lookup::Found {
        ws_url,
        frames,
        sheets,
    }
}

/// Reads a lookup answer; `Err` says what is wrong with it.
fn read_lookup(json: JsValue) -> Result<SessionLookup, String> {
    serde_wasm_bindgen::from_value(json).map_err(|e| format!("malformed answer: {e}"))
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

/// Opens the socket for the current join, replacing (and so detaching) any previous one.
fn connect(state: &Shared, url: &str) {
    let st = state.clone();
    // Tells the server at the upgrade that this socket sends only small frames (compression).
    let url = &cobrowse_protocol::rest::agent_ws_url(url);
    let socket = match Socket::open(url, move |ev| on_socket(&st, ev)) {
        Ok(socket) => socket,
        Err(e) => {
            debug!("WebSocket({url}) failed: {e:?}");
            schedule_reconnect(state);
            return;
        }
    };
    debug!("connecting to {url}");
    let period = state
        .borrow()
        .link
        .keepalive_ms()
        .unwrap_or(DEFAULT_KEEPALIVE_MS);
    let watchdog = watch(state, &socket, period);
    state.borrow_mut().conn = Some(Connection {
        socket,
        welcomed: false,
        last_error: None,
        watchdog,
    });
}

/// The keep-alive of `socket` (also bounds the handshake: a socket opened into a black hole gets
/// no `Welcome`): a `Ping` and an `Ack` every period once welcomed, and a socket that brought
/// nothing for two periods is given up and replaced.
fn watch(state: &Shared, socket: &Socket, period: u32) -> Watchdog {
    let (ping, dead) = (state.clone(), state.clone());
    socket.watch(
        period,
        move || {
            let welcomed = ping.borrow().conn.as_ref().is_some_and(|c| c.welcomed);
            if welcomed {
                let n = js_sys::Date::now() as u64;
                send(&ping, &Message::Ping(n));
                let ack = ping.borrow_mut().link.ack(0);
                if let Some(ack) = ack {
                    send(&ping, &ack);
                }
            }
        },
        move || on_close(&dead, CLOSE_ABNORMAL, "keepalive timeout"),
    )
}

/// The close code a socket the keep-alive gave up is reported with.
const CLOSE_ABNORMAL: u16 = 1006;

/// The server accepted the socket: take its side of the link, resend what it missed, restart
/// the keep-alive with the server's period. Actions a link that starts over never got
/// acknowledged are shown as possibly not performed (`Refused{Undelivered}`), never dropped
/// silently.
pub(super) fn on_welcome(state: &Shared, link: Option<LinkWelcome>) {
    let unsent = {
        let mut s = state.borrow_mut();
        let st = &mut *s;
        let welcomed = st.link.welcome(link);
        let mut unsent = Vec::new();
        match welcomed {
            Welcomed::Resumed { resend, .. } => {
                if let Some(c) = &st.conn {
                    for frame in &resend {
                        c.socket.send_bytes(frame);
                    }
                }
            }
            Welcomed::Fresh { unsent: old } => unsent = old,
            Welcomed::Plain => {}
        }
        st.ui.set_connection(true);
        unsent
    };
    // Restarted with the server's period.
    let period = state.borrow().link.keepalive_ms();
    if let Some(period) = period {
        let wd = {
            let s = state.borrow();
            s.conn.as_ref().map(|c| watch(state, &c.socket, period))
        };
        if let (Some(wd), Some(c)) = (wd, state.borrow_mut().conn.as_mut()) {
            c.watchdog = wd;
        }
    }
    for k in unsent {
        if k.tag != cobrowse_protocol::tags::ACTION {
            continue;
        }
        if let Ok(Message::Action(a)) = decode(&k.frame) {
            state.borrow().ui.show_refusal(&RefusalReason::Undelivered);
            debug!("action {:?} may not have reached the customer", a.target());
        }
    }
}

/// One event of the current socket (an old one is detached and cannot report).
fn on_socket(state: &Shared, ev: SocketEvent) {
    match ev {
        SocketEvent::Open => on_open(state),
        SocketEvent::Frame(bytes) => {
            let at = super::clock::now();
            let received = state.borrow_mut().link.receive(&bytes);
            match received {
                Ok(Some(msg)) => {
                    let on_message = state.borrow().on_message;
                    on_message(state, msg, at);
                    let ack = state.borrow_mut().link.ack(ACK_EVERY);
                    if let Some(ack) = ack {
                        send(state, &ack);
                    }
                }
                // A frame applied before (a replay), or an acknowledgement.
                Ok(None) => {}
                Err(err) => debug!("undecodable frame: {err}"),
            }
        }
        SocketEvent::Closed(code, reason) => on_close(state, code, &reason),
        // A close follows, and decides.
        SocketEvent::Error => {}
    }
}

/// The socket is open: introduce ourselves for the session being joined.
fn on_open(state: &Shared) {
    let hello = {
        let st = state.borrow();
        let text = tr(if st.was_live {
            "reconnectingNow"
        } else {
            "joining"
        });
        st.ui.set_status(UiState::Waiting, &text);
        // The replica lives as long as this page: it always holds what it applied.
        let (resume_from, link) = st.link.hello(true);
        Message::Hello(Hello {
            role: Role::Agent,
            token: st.token.clone().unwrap_or_default(),
            auth: st.params.auth.clone(),
            agent_id: st.params.agent_id.clone(),
            resume_from,
            client: concat!("cobrowse-agent/", env!("CARGO_PKG_VERSION")).into(),
            link: Some(link),
            observe: st.params.observe,
        })
    };
    send(state, &hello);
}

fn on_close(state: &Shared, code: u16, reason: &str) {
    debug!("socket closed: {code} {reason}");
    {
        let mut st = state.borrow_mut();
        let (welcomed, error) = st
            .conn
            .take()
            .map_or((false, None), |c| (c.welcomed, c.last_error));
        if st.ended || st.refused {
            return;
        }
        st.ui.set_connection(false);
        if !close::retry_after_close(code, welcomed, error) {
            // A policy close before any `Welcome`: the server refused this `Hello` (bad
            // token, role or auth) and would refuse the next one too. After a `Welcome`
            // the page reconnects once, and the answer to that `Hello` decides.
            st.refused = true;
            st.ui.set_status(UiState::Ended, &tr("serverRefused"));
            return;
        }
    }
    schedule_reconnect(state);
}

/// Joins the current session again after the next backoff delay, unless it ended or was refused.
/// The timer needs no generation check: every join and the end cancel it.
fn schedule_reconnect(state: &Shared) {
    let mut s = state.borrow_mut();
    if s.ended || s.refused {
        return;
    }
    let st = state.clone();
    let delay = s.reconnect.schedule(move || {
        let sid = st.borrow().token.clone();
        if let Some(sid) = sid {
            join(&st, sid);
        }
    });
    let text = trf(
        "reconnecting",
        &[("seconds", &delay.div_ceil(1000).to_string())],
    );
    s.ui.set_status(UiState::Waiting, &text);
}

/// Ends the session on this page: no reconnects, status and error code shown, socket shut.
pub(super) fn end(state: &Shared, text: &str, code: Option<&str>) {
    let mut s = state.borrow_mut();
    s.ended = true;
    s.reconnect.cancel();
    s.ui.set_error(code);
    s.ui.set_status(UiState::Ended, text);
    s.ui.customer_pointer.set_hidden(true);
    if let Some(r) = &s.ui.request {
        r.set_hidden(true);
    }
    s.conn = None;
    drop(s);
    super::ink::clear(state);
}

#[cfg(test)]
mod tests {
    use super::*;
    // `web` is wasm-only, where plain `#[test]`s are not run by wasm-bindgen-test-runner.
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const ANSWER: &str = r#"{"token":"123456789","historyId":"h-1","state":"active","agents":null,
        "createdAt":1700000000000,"activatedAt":null,"writeModeAllowed":true,
        "serverUrl":"http://n1:8700","wsUrl":"ws://n1:8700/cobrowse/ws",
        "node":{"name":"n1","url":"http://n1:8700"},
        "allowedExternalDomains":["https://*.cdn.example"],"allowedThirdPartyDomains":[],
        "someNewerField":1}"#;

    fn json(text: &str) -> JsValue {
        js_sys::JSON::parse(text).expect("test JSON")
    }

    #[test]
    fn lookup_answers_read_as_protocol_types_and_malformed_ones_are_errors() {
        let a = read_lookup(json(ANSWER)).expect("the server's answer");
        assert_eq!(a.state, SessionState::Active);
        assert_eq!((a.agents, a.created_at), (None, 1_700_000_000_000));
        assert_eq!(a.allowed_external_domains, ["https://*.cdn.example"]);
        for bad in [
            "null".to_string(),
            "[]".to_string(),
            ANSWER.replace("\"active\"", "\"gone\""),
            ANSWER.replace("1700000000000", "\"soon\""),
            ANSWER.replace("\"token\"", "\"tok\""),
        ] {
            assert!(read_lookup(json(&bad)).is_err(), "{bad}");
        }
        // A server without a configured public URL answers `null`: the page then connects next
        // to itself.
        let unconfigured = ANSWER
            .replace("\"http://n1:8700\"", "null")
            .replace("\"ws://n1:8700/cobrowse/ws\"", "null");
        let a = read_lookup(json(&unconfigured)).expect("null URLs");
        assert_eq!((a.server_url, a.ws_url, a.node.url), (None, None, None));
    }
}
