//! The agent page's wiring: `start_agent()` reads the parameters, finds the page's elements, builds
//! the `State` and attaches every listener; the work happens in the sibling
//! modules (`link` socket, `dispatch` messages, `pointers`, `ink`, `toolbar`).
//!
//! One `State` lives for the whole page, shared as `Rc<RefCell<State>>` by the event handlers
//! (a deliberate cycle through the handlers it owns: the app lives exactly as long as the page).
//!
//! # Who owns each `Closure`
//!
//! * UI listeners (join form, buttons, overlay pointer events, window resize, hashchange) are
//!   `gloo_events::EventListener`s kept in `State::listeners` for the life of the page.
//! * The animation-frame callback that sends the agent's pointer is kept in `State::raf` and
//!   reused for every frame.
//! * Socket handlers are kept by the `cobrowse_web_glue::socket::Socket` in `State::conn`, which
//!   detaches them when it is replaced or the session ends (`link`).
//! * The reconnect timer is kept by the `Reconnect` in `State::reconnect`; cancelling it (every
//!   join, the end) drops it.

use super::dispatch;
use super::dom::WebDom;
use super::ink;
use super::link::{join, send};
use super::pointers;
use super::prefs::tr;
use super::state::{Shared, State};
use super::toolbar::{Ui, UiState, set_text};
use crate::error::AgentError;
use crate::params;
use crate::replica::Replica;
use cobrowse_protocol::{Message, ModeChange};
use gloo_events::{EventListener, EventListenerOptions};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{MouseEvent, Window};

/// Starts the agent page: reads the parameters, wires the UI, and joins when a session number
/// was given.
#[wasm_bindgen]
pub async fn start_agent() -> Result<(), JsValue> {
    console_error_panic_hook::set_once();
    let window = web_sys::window().ok_or(AgentError::NoDocument)?;
    let doc = window.document().ok_or(AgentError::NoDocument)?;
    let loc = window.location();
    let mut params = params::parse(
        &loc.search().unwrap_or_default(),
        &loc.hash().unwrap_or_default(),
    );
    // Before anything else: the credential leaves the address bar.
    params.auth = super::credential::take(&window);
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
    let state: Shared = Rc::new(RefCell::new(State::new(
        ui,
        params.clone(),
        replica,
        dispatch::handle,
    )));
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

/// Listens to the join form, `hashchange`, resize, the toolbar buttons and the overlay for the
/// life of the page.
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
            // A host may hand over a new credential (a fresh JWT) without reloading: the
            // current session is then joined again with it.
            let fresh = p.auth.is_some();
            let auth = super::credential::take(&w);
            let current = {
                let mut st = s.borrow_mut();
                st.params.auth = auth;
                st.token.clone()
            };
            let target = p.sid.or(if fresh { current.clone() } else { None });
            if let Some(sid) = target
                && (fresh || current.as_deref() != Some(sid.as_str()))
            {
                join(&s, sid);
            }
        }));
    }
    {
        let s = state.clone();
        ls.push(EventListener::new(window, "resize", move |_| {
            pointers::layout(&s)
        }));
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
    {
        let s = state.clone();
        let sender: super::agents::Sender = Rc::new(move |m: &Message| send(&s, m));
        ls.extend(super::agents::install(&st.ui.doc, sender));
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
            if let Some(e) = e.dyn_ref::<MouseEvent>() {
                pointers::on_move(&s, e);
            }
        }));
    }
    {
        let s = state.clone();
        ls.push(EventListener::new(
            &st.ui.overlay,
            "mouseleave",
            move |_| {
                pointers::on_leave(&s);
                ink::release(&s);
            },
        ));
    }
    {
        // A press draws when a pen is chosen (not prevented otherwise: focus and clicks stay).
        let s = state.clone();
        let opts = EventListenerOptions::enable_prevent_default();
        ls.push(EventListener::new_with_options(
            &st.ui.overlay,
            "mousedown",
            opts,
            move |e| {
                if let Some(m) = e.dyn_ref::<MouseEvent>()
                    && m.button() == 0
                    && ink::press(&s, pointers::overlay_point(&s, m))
                {
                    e.prevent_default();
                }
            },
        ));
    }
    {
        let s = state.clone();
        ls.push(EventListener::new(window, "mouseup", move |_| {
            ink::release(&s)
        }));
    }
    {
        // Escape leaves drawing mode.
        let s = state.clone();
        ls.push(EventListener::new(&st.ui.doc, "keydown", move |e| {
            if let Some(k) = e.dyn_ref::<web_sys::KeyboardEvent>()
                && k.key() == "Escape"
                && s.borrow().ink.active()
            {
                ink::set_tool(&s, None);
            }
        }));
    }
    {
        let s = state.clone();
        ls.push(EventListener::new(&st.ui.overlay, "click", move |e| {
            if let Some(e) = e.dyn_ref::<MouseEvent>() {
                pointers::on_click(&s, e);
            }
        }));
    }
    drop(st);
    ink::install(state);
    for (tool, b) in ink::buttons(state) {
        let s = state.clone();
        ls.push(EventListener::new(&b, "click", move |_| {
            ink::toggle(&s, tool)
        }));
    }
    let s = state.clone();
    let raf = Closure::<dyn FnMut()>::new(move || pointers::flush_pointer(&s));
    let mut st = state.borrow_mut();
    st.raf = Some(raf);
    st.listeners = ls;
}
