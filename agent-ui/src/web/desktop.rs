//! Events for the agent desktop that embeds the agent page: the session's own event stream
//! (`GET rest/live/sessions/{token}/events`, the same JSON desktops and webhooks get), relayed
//! to the embedding window with `postMessage` as `{"cobrowse": <DesktopEvent>}`.
//!
//! Only to the configured desktops (`ui.json`'s `desktopOrigins`, exact origins, see
//! [`crate::params::post_targets`]): one `postMessage` per origin with that origin as the
//! target, so the browser delivers it only if the embedding window has it; never `*`. Nothing
//! is posted when the page is not embedded or no origin is configured.
//!
//! The stream opens with a single-use ticket (`POST rest/live/event-tickets`, the agent
//! credential), because `EventSource` cannot send `Authorization`. It is opened after the
//! lookup and before the socket (so the desktop hears the agent's own `join` and `activated`),
//! follows one session, and a later `Welcome` (a reconnect) reopens it when it is closed.
//!
//! # Who owns each `Closure`
//!
//! The stream's `message`, `open` and `error` handlers live in [`FOLLOWING`] with the `EventSource`
//! they are attached to, until the stream closes (error or end) or another session replaces it.

use crate::debug;
use crate::params;
use cobrowse_protocol::rest::{self, DesktopEvent, EVENT_TICKET_PARAM, EventTicket};
use std::cell::RefCell;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{EventSource, Headers, MessageEvent, Request, RequestInit, Response};

struct Following {
    token: String,
    source: EventSource,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_open: Closure<dyn FnMut(web_sys::Event)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

thread_local! {
    /// Where events may go (set once from `ui.json`).
    static TARGETS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// The open stream.
    static FOLLOWING: RefCell<Option<Following>> = const { RefCell::new(None) };
}

/// Keeps the configured desktop origins (`ui.json`'s `desktopOrigins`).
pub fn set_origins(configured: &[String]) {
    TARGETS.with(|t| *t.borrow_mut() = params::post_targets(configured));
}

/// The embedding window, when the page is embedded and has somewhere to post.
fn parent() -> Option<web_sys::Window> {
    let window = web_sys::window()?;
    let parent = window.parent().ok().flatten()?;
    let embedded = !js_sys::Object::is(&parent, &window);
    let targets = TARGETS.with(|t| !t.borrow().is_empty());
    (embedded && targets).then_some(parent)
}

/// Posts one event (the stream's `data` text) to the embedding window, if it is a desktop.
fn post(data: &str) {
    let Some(parent) = parent() else {
        return;
    };
    // Only what parses as the protocol's event is relayed.
    let value = match js_sys::JSON::parse(data) {
        Ok(v) if serde_wasm_bindgen::from_value::<DesktopEvent>(v.clone()).is_ok() => v,
        _ => {
            debug!("desktop event ignored: not an event");
            return;
        }
    };
    let message = js_sys::Object::new();
    if js_sys::Reflect::set(&message, &"cobrowse".into(), &value).is_err() {
        return;
    }
    TARGETS.with(|t| {
        for origin in t.borrow().iter() {
            let _ = parent.post_message(&message, origin);
        }
    });
}

/// How long joining waits for the stream to open (it is opened before the socket, so the
/// desktop hears this agent's own `join` and `activated`); after that the page joins anyway.
const OPEN_WAIT_MS: i32 = 3_000;

/// Follows `token`'s events for the desktop: resolves once the stream is open (or failed, or
/// after [`OPEN_WAIT_MS`]). Nothing when not embedded by a configured desktop, or when that
/// stream is already open.
pub async fn follow(token: &str, auth: Option<String>) {
    if parent().is_none() {
        return;
    }
    let open = FOLLOWING.with(|f| {
        f.borrow()
            .as_ref()
            .is_some_and(|f| f.token == token && f.source.ready_state() != EventSource::CLOSED)
    });
    if open {
        return;
    }
    close();
    let mut slot = None;
    let ready = js_sys::Promise::new(&mut |resolve, _| slot = Some(resolve));
    let Some(resolve) = slot else {
        return;
    };
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, OPEN_WAIT_MS);
    }
    let token = token.to_owned();
    wasm_bindgen_futures::spawn_local(async move {
        match open_stream(&token, auth.as_deref(), resolve.clone()).await {
            Ok(f) => FOLLOWING.with(|slot| *slot.borrow_mut() = Some(f)),
            Err(e) => {
                debug!("desktop events not followed: {e:?}");
                let _ = resolve.call0(&JsValue::NULL);
            }
        }
    });
    let _ = JsFuture::from(ready).await;
}

fn close() {
    if let Some(f) = FOLLOWING.with(|f| f.borrow_mut().take()) {
        f.source.close();
    }
}

async fn ticket(auth: Option<&str>) -> Result<String, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let init = RequestInit::new();
    init.set_method("POST");
    if let Some(credential) = auth {
        let headers = Headers::new()?;
        headers.set("authorization", &format!("Bearer {credential}"))?;
        init.set_headers(&headers);
    }
    let url = params::page_relative(rest::EVENT_TICKETS_PATH);
    let request = Request::new_with_str_and_init(url, &init)?;
    let resp: Response = JsFuture::from(window.fetch_with_request(&request))
        .await?
        .dyn_into()?;
    if !resp.ok() {
        return Err(format!("ticket refused: {}", resp.status()).into());
    }
    let json = JsFuture::from(resp.json()?).await?;
    let t: EventTicket = serde_wasm_bindgen::from_value(json)?;
    Ok(t.ticket)
}

async fn open_stream(
    token: &str,
    auth: Option<&str>,
    opened: js_sys::Function,
) -> Result<Following, JsValue> {
    let ticket = ticket(auth).await?;
    let url = format!(
        "{}/{token}/events?{EVENT_TICKET_PARAM}={ticket}",
        params::page_relative(rest::LIVE_SESSIONS_PATH)
    );
    let source = EventSource::new(&url)?;
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|e: MessageEvent| {
        if let Some(data) = e.data().as_string() {
            post(&data);
        }
    });
    let on_open = {
        let opened = opened.clone();
        Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            let _ = opened.call0(&JsValue::NULL);
        })
    };
    // An error closes the stream for good (its ticket is spent); the next `Welcome` reopens.
    let on_error = {
        let source = source.clone();
        Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            source.close();
            let _ = opened.call0(&JsValue::NULL);
        })
    };
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Ok(Following {
        token: token.to_owned(),
        source,
        _on_message: on_message,
        _on_open: on_open,
        _on_error: on_error,
    })
}
