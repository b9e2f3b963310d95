//! The replay page (`replay.html#id=<historyId>&auth=…`): a session's stored audit recording,
//! played into the same sandboxed replica as the live agent page, with a timeline.
//!
//! The recording (`GET rest/history/sessions/{id}/recording/frames`, agent credential) is the
//! frames the server relayed, in `cobrowse_protocol::recording`'s layout. They are **untrusted
//! replay data** exactly as live frames are: decoded by the protocol crate, applied through the
//! live page's own `dispatch::apply` into the replica (`sanitize`, sandbox without
//! `allow-scripts`, the page's CSP), so nothing in a recording runs here. Nothing is sent
//! anywhere: this page has no socket.
//!
//! Playing applies frames in time order at the chosen speed. Seeking rebuilds: the latest
//! snapshot at or before the target, then every page-state frame after it up to the target, and
//! each party's last pointer — the replica then holds what the agent saw at that moment.
//! Agent actions, mode changes and session events are marked on the timeline (a click on a
//! marker seeks there).
//!
//! For hosts and tests: `<html data-cobrowse-replay>` is `loading`, `paused`, `playing` or
//! `failed`; `data-started-at` the recording's first frame (ms since the epoch); the seek
//! input's value is the position in ms from that start.
//!
//! # Who owns each `Closure`
//!
//! * Control listeners (play, speed, seek, markers) are `EventListener`s in [`Player::listeners`].
//! * The playback tick is the `Interval` in [`Player::tick`], dropped (cancelled) on pause.
//! * The player is shared by those handlers (`Rc<RefCell<Player>>`) for the life of the page.

use super::dispatch;
use super::dom::WebDom;
use super::pointers::{draw_pointer_on, layout, ring};
use super::state::{Shared, State};
use super::toolbar::{Ui, UiState, set_style};
use crate::error::AgentError;
use crate::params;
use crate::replica::Replica;
use cobrowse_protocol::recording::{Entry, Source, read_recording};
use cobrowse_protocol::rest::HISTORY_PATH;
use cobrowse_protocol::{Code, Message, ModeChange, Party, SessionEvent, decode};
use gloo_events::EventListener;
use gloo_timers::callback::Interval;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Document, Headers, HtmlElement, HtmlInputElement, Request, RequestInit, Response};

/// Playback tick period (ms of page time).
const TICK_MS: u32 = 50;
/// Speeds offered, the first one is the default.
const SPEEDS: &[f64] = &[1.0, 0.5, 2.0, 4.0, 8.0];

/// One decoded recorded frame, at ms from the recording's start.
struct Frame {
    at: f64,
    source: Source,
    msg: Message,
}

/// Playback state.
struct Player {
    state: Shared,
    frames: Vec<Frame>,
    /// Index of the next frame to apply.
    next: usize,
    /// Position, ms from the start.
    pos: f64,
    duration: f64,
    speed: f64,
    tick: Option<Interval>,
    last_tick: f64,
    listeners: Vec<EventListener>,
    seek: HtmlInputElement,
    time: Option<HtmlElement>,
    play: Option<HtmlElement>,
    agent_pointer: Option<HtmlElement>,
}

type SharedPlayer = Rc<RefCell<Player>>;

/// Starts the replay page.
#[wasm_bindgen]
pub async fn start_replay() -> Result<(), JsValue> {
    console_error_panic_hook::set_once();
    let window = web_sys::window().ok_or(AgentError::NoDocument)?;
    let doc = window.document().ok_or(AgentError::NoDocument)?;
    let loc = window.location();
    let hash = loc.hash().unwrap_or_default();
    let mut params = params::parse(&loc.search().unwrap_or_default(), &hash);
    params.auth = super::credential::take(&window);
    crate::log::set_enabled(params.debug);
    super::prefs::init(&doc, &params).await;
    set_root(&doc, "data-cobrowse-replay", "loading");
    let ui = Ui::find(&doc)?;
    let id = history_id(&hash);
    let auth = params.auth.clone();
    let replica = Replica::new(WebDom::new(ui.frame.clone()));
    let state: Shared = Rc::new(RefCell::new(State::new(
        ui,
        params,
        replica,
        dispatch::handle,
    )));
    let Some(id) = id else {
        return fail(
            &state,
            "No recording named: open replay.html#id=<historyId>.",
        );
    };
    let bytes = match fetch(&id, auth.as_deref()).await {
        Ok(b) => b,
        Err(why) => return fail(&state, &why),
    };
    let entries = match read_recording(&bytes) {
        Ok(e) => e,
        Err(e) => return fail(&state, &format!("The recording cannot be read: {e}")),
    };
    let player = Player::new(&doc, state.clone(), entries)?;
    {
        let s = state.borrow();
        s.ui.set_status(UiState::Active, "Recording loaded");
    }
    wire(&player, &doc, &window);
    markers(&player, &doc);
    seek_to(&player, 0.0);
    set_root(&doc, "data-cobrowse-replay", "paused");
    Ok(())
}

/// `id=` of the fragment, when it is a UUID.
fn history_id(hash: &str) -> Option<String> {
    let hash = hash.strip_prefix('#').unwrap_or(hash);
    hash.split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == "id")
        .map(|(_, v)| v.to_string())
        .filter(|v| v.len() == 36 && v.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
}

fn set_root(doc: &Document, name: &str, value: &str) {
    if let Some(root) = doc.document_element() {
        let _ = root.set_attribute(name, value);
    }
}

fn fail(state: &Shared, why: &str) -> Result<(), JsValue> {
    let s = state.borrow();
    s.ui.set_status(UiState::Ended, why);
    set_root(&s.ui.doc, "data-cobrowse-replay", "failed");
    Ok(())
}

/// The recording's bytes, or what went wrong, in words.
async fn fetch(id: &str, auth: Option<&str>) -> Result<Vec<u8>, String> {
    let w = web_sys::window().ok_or("no window")?;
    let url = format!(
        "{}/{id}/recording/frames",
        params::page_relative(HISTORY_PATH)
    );
    let init = RequestInit::new();
    if let Some(credential) = auth {
        let headers = Headers::new().map_err(|e| format!("{e:?}"))?;
        headers
            .set("authorization", &format!("Bearer {credential}"))
            .map_err(|e| format!("{e:?}"))?;
        init.set_headers(&headers);
    }
    let request = Request::new_with_str_and_init(&url, &init).map_err(|e| format!("{e:?}"))?;
    let resp = JsFuture::from(w.fetch_with_request(&request))
        .await
        .map_err(|e| format!("The recording could not be fetched: {e:?}"))?;
    let resp: Response = resp.dyn_into().map_err(|_| "not a response")?;
    match resp.status() {
        200 => {}
        401 | 403 => return Err("Not allowed: the agent credential is missing or wrong.".into()),
        404 => {
            return Err(
                "No recording is stored for this session (not recorded or expired).".into(),
            );
        }
        s => return Err(format!("The server answered HTTP {s}.")),
    }
    let buf = JsFuture::from(resp.array_buffer().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

impl Player {
    fn new(doc: &Document, state: Shared, entries: Vec<Entry>) -> Result<SharedPlayer, JsValue> {
        let started_at = entries.first().map_or(0, |e| e.at_ms);
        let mut frames = Vec::with_capacity(entries.len());
        for e in entries {
            // A frame this version cannot decode is skipped, as the live page skips it.
            if let Ok(msg) = decode(&e.frame) {
                frames.push(Frame {
                    at: e.at_ms.saturating_sub(started_at) as f64,
                    source: e.source,
                    msg,
                });
            }
        }
        let duration = frames.last().map_or(0.0, |f| f.at);
        let seek: HtmlInputElement = doc
            .get_element_by_id("cobrowse-replay-seek")
            .and_then(|e| e.dyn_into().ok())
            .ok_or(AgentError::NoDocument)?;
        seek.set_max(&duration.to_string());
        set_root(doc, "data-started-at", &started_at.to_string());
        let by_id = |id: &str| doc.get_element_by_id(id).and_then(|e| e.dyn_into().ok());
        Ok(Rc::new(RefCell::new(Player {
            state,
            frames,
            next: 0,
            pos: 0.0,
            duration,
            speed: SPEEDS[0],
            tick: None,
            last_tick: 0.0,
            listeners: Vec::new(),
            seek,
            time: by_id("cobrowse-replay-time"),
            play: by_id("cobrowse-replay-play"),
            agent_pointer: by_id("cobrowse-pointer-agent"),
        })))
    }
}

/// Applies frame `i` to the page; `live`: during playback (click rings are shown), not while
/// rebuilding for a seek.
fn apply(p: &Player, i: usize, live: bool) {
    let f = &p.frames[i];
    let state = &p.state;
    match (&f.msg, f.source) {
        (m, Source::Customer) if m.is_page_state() => dispatch::apply(state, m.clone()),
        (Message::Pseudo(_), Source::Customer) => dispatch::apply(state, f.msg.clone()),
        (Message::Pointer(ptr), _) => match ptr.party {
            Party::Customer => dispatch::apply(state, f.msg.clone()),
            Party::Agent => {
                if let Some(el) = &p.agent_pointer {
                    draw_pointer_on(state, el, ptr);
                }
            }
        },
        (Message::Click(c), _) if live => ring(state, c.party, c.x, c.y),
        (Message::Mode(m), _) => {
            let text = match m {
                ModeChange::Request => "Agent asked for control",
                ModeChange::Granted => "Write mode (customer granted control)",
                ModeChange::Denied => "Customer refused control",
                ModeChange::Revoked { .. } => "Pointer mode (control ended)",
            };
            state.borrow().ui.show_mode_change(text);
        }
        _ => {}
    }
}

/// Moves to `pos` (ms from the start): rebuilt from the latest snapshot at or before it.
fn seek_to(player: &SharedPlayer, pos: f64) {
    let mut p = player.borrow_mut();
    let pos = pos.clamp(0.0, p.duration);
    let end = p.frames.partition_point(|f| f.at <= pos);
    let from = p.frames[..end]
        .iter()
        .rposition(|f| matches!(f.msg, Message::Snapshot(_)))
        .unwrap_or(0);
    // Pointers before the snapshot still count: each party's last one up to `pos` is drawn.
    let last_pointer = |party: Party| {
        p.frames[..end]
            .iter()
            .rposition(|f| matches!(&f.msg, Message::Pointer(ptr) if ptr.party == party))
    };
    let pointers = [last_pointer(Party::Customer), last_pointer(Party::Agent)];
    for i in from..end {
        if !matches!(p.frames[i].msg, Message::Pointer(_)) {
            apply(&p, i, false);
        }
    }
    for i in pointers.into_iter().flatten() {
        apply(&p, i, false);
    }
    p.next = end;
    p.pos = pos;
    show_position(&p);
}

/// Applies what is due up to the current position.
fn advance(player: &SharedPlayer) {
    let mut p = player.borrow_mut();
    let now = js_sys::Date::now();
    p.pos = (p.pos + (now - p.last_tick) * p.speed).min(p.duration);
    p.last_tick = now;
    while p.next < p.frames.len() && p.frames[p.next].at <= p.pos {
        apply(&p, p.next, true);
        p.next += 1;
    }
    show_position(&p);
    let done = p.pos >= p.duration;
    drop(p);
    if done {
        pause(player);
    }
}

fn show_position(p: &Player) {
    p.seek.set_value(&format!("{}", p.pos.round()));
    if let Some(t) = &p.time {
        let secs = |ms: f64| {
            let s = (ms / 1000.0).floor() as u64;
            format!("{}:{:02}", s / 60, s % 60)
        };
        t.set_text_content(Some(&format!("{} / {}", secs(p.pos), secs(p.duration))));
    }
}

fn play(player: &SharedPlayer) {
    let mut p = player.borrow_mut();
    if p.tick.is_some() {
        return;
    }
    if p.pos >= p.duration {
        drop(p);
        seek_to(player, 0.0);
        p = player.borrow_mut();
    }
    p.last_tick = js_sys::Date::now();
    let me = player.clone();
    p.tick = Some(Interval::new(TICK_MS, move || advance(&me)));
    if let Some(b) = &p.play {
        b.set_text_content(Some("Pause"));
    }
    set_root(&p.state.borrow().ui.doc, "data-cobrowse-replay", "playing");
}

fn pause(player: &SharedPlayer) {
    let mut p = player.borrow_mut();
    p.tick = None;
    if let Some(b) = &p.play {
        b.set_text_content(Some("Play"));
    }
    set_root(&p.state.borrow().ui.doc, "data-cobrowse-replay", "paused");
}

/// Play/pause, speed, the seek bar, and the layout on resize.
fn wire(player: &SharedPlayer, doc: &Document, window: &web_sys::Window) {
    let mut ls = Vec::new();
    if let Some(b) = doc.get_element_by_id("cobrowse-replay-play") {
        let pl = player.clone();
        ls.push(EventListener::new(&b, "click", move |_| {
            if pl.borrow().tick.is_some() {
                pause(&pl);
            } else {
                play(&pl);
            }
        }));
    }
    if let Some(sel) = doc.get_element_by_id("cobrowse-replay-speed") {
        let pl = player.clone();
        let s2 = sel.clone();
        ls.push(EventListener::new(&sel, "change", move |_| {
            let v = s2
                .dyn_ref::<web_sys::HtmlSelectElement>()
                .and_then(|s| s.value().parse::<f64>().ok())
                .filter(|v| SPEEDS.contains(v));
            if let Some(v) = v {
                pl.borrow_mut().speed = v;
            }
        }));
    }
    {
        let pl = player.clone();
        let seek = pl.borrow().seek.clone();
        ls.push(EventListener::new(&seek, "input", move |_| {
            let v = pl.borrow().seek.value().parse::<f64>().unwrap_or(0.0);
            seek_to(&pl, v);
        }));
    }
    {
        let state = player.borrow().state.clone();
        ls.push(EventListener::new(window, "resize", move |_| {
            layout(&state)
        }));
    }
    player.borrow_mut().listeners.extend(ls);
}

/// The timeline's marks: agent actions, mode changes, session events.
fn markers(player: &SharedPlayer, doc: &Document) {
    let Some(bar) = doc.get_element_by_id("cobrowse-replay-markers") else {
        return;
    };
    let mut ls = Vec::new();
    {
        let p = player.borrow();
        for f in &p.frames {
            let (kind, title) = match &f.msg {
                Message::Action(_) => ("action", "Agent action".to_string()),
                Message::Mode(m) => ("mode", format!("Mode: {m:?}")),
                Message::Session(ev) => ("session", session_text(ev)),
                _ => continue,
            };
            let Ok(el) = doc.create_element("button") else {
                continue;
            };
            let _ = el.set_attribute("type", "button");
            let _ = el.set_attribute("class", "cobrowse-replay-marker");
            let _ = el.set_attribute("data-kind", kind);
            let _ = el.set_attribute("data-at", &f.at.to_string());
            let _ = el.set_attribute("title", &title);
            let _ = el.set_attribute("aria-label", &title);
            let left = if p.duration > 0.0 {
                f.at / p.duration * 100.0
            } else {
                0.0
            };
            set_style(el.unchecked_ref(), "left", &format!("{left}%"));
            if bar.append_child(&el).is_ok() {
                let pl = player.clone();
                let at = f.at;
                ls.push(EventListener::new(&el, "click", move |_| {
                    pause(&pl);
                    seek_to(&pl, at);
                }));
            }
        }
    }
    player.borrow_mut().listeners.extend(ls);
}

fn session_text(ev: &SessionEvent) -> String {
    match ev {
        SessionEvent::AgentJoined { agent_id, .. } => {
            format!(
                "Agent joined: {}",
                agent_id.as_deref().unwrap_or("anonymous")
            )
        }
        SessionEvent::AgentLeft { agent_id, .. } => {
            format!("Agent left: {}", agent_id.as_deref().unwrap_or("anonymous"))
        }
        SessionEvent::CustomerDisconnected => "Customer disconnected".into(),
        SessionEvent::CustomerReconnected => "Customer back".into(),
        SessionEvent::Ended(r) => format!("Ended: {}", r.code()),
        other => format!("{other:?}"),
    }
}
