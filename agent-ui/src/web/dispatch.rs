//! What each message from the server does to the page: replica updates, status, mode, pointers,
//! session events. Reached only through `State::on_message`, so the socket code stays apart.

use super::link::{end, send};
use super::pointers::{draw_pointer, layout, ring};
use super::prefs::{tr, with_texts};
use super::state::Shared;
use super::toolbar::UiState;
use crate::debug;
use cobrowse_protocol::rest;
use cobrowse_protocol::{
    Code, ControlChange, ErrorCode, Message, Mode, ModeChange, Paint, Party, SessionEvent,
    SessionState,
};

/// Applies one message from the server (the link's `on_message`) whose frame arrived at
/// `received_at`; a page change's paint is timed (`render`).
pub(super) fn handle(state: &Shared, msg: Message, received_at: f64) {
    let page_change = msg.is_page_state();
    apply(state, msg);
    if page_change && !state.borrow().ended {
        super::render::applied(state, received_at);
    }
}

/// What `msg` does to the page (the replay page applies recorded page state through it too).
pub(super) fn apply(state: &Shared, msg: Message) {
    match msg {
        Message::Welcome(w) => {
            if let Some(c) = &mut state.borrow_mut().conn {
                c.welcomed = true;
            }
            super::link::on_welcome(state, w.link);
            // After a reconnect: reopened if it closed meanwhile (else nothing).
            let auth = state.borrow().params.auth.clone();
            let token = w.token.clone();
            wasm_bindgen_futures::spawn_local(async move {
                super::desktop::follow(&token, auth).await;
            });
            let mut s = state.borrow_mut();
            s.was_live = true;
            if let Some(c) = &mut s.conn {
                c.welcomed = true;
            }
            s.reconnect.reset();
            s.ui.allow_write_requests(w.write_mode_allowed);
            super::control::set_write(w.mode == Mode::Write);
            s.ui.show_mode(w.mode);
            if w.state == SessionState::Ended {
                drop(s);
                end(
                    state,
                    &tr("sessionEnded"),
                    Some(ErrorCode::SessionEnded.code()),
                );
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
            if let Some(u) = s.replica.page_url() {
                s.ui.show_page(u, None);
            }
            s.ui.set_status(UiState::Active, &tr("live"));
            drop(s);
            super::select_popup::forget(state);
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
            super::ink::reposition_soon(state);
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
            state.borrow().ui.show_page(&n.url, Some(&n.title));
        }
        Message::Paint(Paint::SelectPopup(p)) => super::select_popup::apply(state, p),
        Message::Paint(p) => {
            let mut s = state.borrow_mut();
            let st = &mut *s;
            if !st.styles.apply_paint(&p) {
                st.replica.apply_paint(&p);
            }
        }
        Message::Pointer(p) if p.party == Party::Customer => draw_pointer(state, &p),
        Message::Click(c) if c.party == Party::Customer => ring(state, Party::Customer, c.x, c.y),
        // Another agent watching the same session draws (the relay echoes agents' ink).
        Message::Ink(ink) => super::ink::draw(state, false, &ink),
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
            s.ui.show_mode_change(&text);
        }
        Message::Refused(r) => state.borrow().ui.show_refusal(&r.reason),
        Message::Roster(r) => super::agents::show_roster(&state.borrow().ui.doc, r),
        Message::Control(ControlChange::Requested { seat }) => {
            super::agents::show_request(&state.borrow().ui.doc, seat)
        }
        Message::Ping(v) => send(state, &Message::Pong(v)),
        Message::Error(e) => {
            if let Some(c) = &mut state.borrow_mut().conn {
                c.last_error = Some(e.code);
            }
            let (text, retry) = with_texts(|t| t.error(e.code));
            debug!("server error {:?}: {}", e.code, e.message);
            if retry {
                state.borrow().ui.set_status(UiState::Waiting, &text);
            } else {
                state.borrow_mut().refused = true;
                end(state, &text, Some(e.code.code()));
            }
        }
        other => debug!("ignoring message tag {}", other.tag()),
    }
}

fn session_event(state: &Shared, ev: SessionEvent) {
    match ev {
        SessionEvent::Ended(reason) => {
            // The text carries an `Other` reason's detail; the code is one of a fixed set.
            let text = with_texts(|t| t.end_reason(&reason));
            end(state, &text, Some(reason.code()));
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
        SessionEvent::AgentBusy => end(state, &tr("agentBusy"), Some(ErrorCode::AgentBusy.code())),
        SessionEvent::OwnerChanged { server_url } => {
            state.borrow_mut().ws_override = rest::ws_url(&server_url);
        }
        SessionEvent::AgentJoined { .. }
        | SessionEvent::AgentLeft { .. }
        | SessionEvent::ServerGoingAway => {}
    }
}
