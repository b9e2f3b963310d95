//! Render latency for the server's metrics: how long page changes take from their frame's arrival
//! to the screen. After a page-state message is applied, the next animation frame is awaited and
//! then a zero-delay task (it runs once that frame has painted); the time from the earliest
//! unpainted arrival to then is one sample. Samples go to the server in a `RenderReport` at
//! most once a second (`crate::render_sample` decides what and when). Never used for anything
//! on this page.

use super::clock::now;
use super::link::send;
use super::state::Shared;
use crate::render_sample::{Due, RenderSample};
use cobrowse_protocol::Message;
use gloo_timers::callback::Timeout;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// The page's render timing, in `State::render`.
#[derive(Default)]
pub(super) struct RenderTiming {
    sample: RenderSample,
    /// The arrival of the earliest page change not painted yet (a paint is awaited meanwhile).
    unpainted: Option<f64>,
    /// The timer that sends a report held back by the interval.
    flush: Option<Timeout>,
}

/// A page change that arrived at `received_at` (`clock::now()`) was applied: time its paint.
pub(super) fn applied(state: &Shared, received_at: f64) {
    let mut s = state.borrow_mut();
    if s.render.unpainted.is_some() {
        return; // The paint already awaited shows this change too.
    }
    let Some(w) = web_sys::window() else { return };
    let st = state.clone();
    let after_frame = Closure::once_into_js(move || {
        let st2 = st.clone();
        let after_paint = Closure::once_into_js(move || painted(&st2));
        let queued = web_sys::window().is_some_and(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(after_paint.unchecked_ref(), 0)
                .is_ok()
        });
        if !queued {
            st.borrow_mut().render.unpainted = None;
        }
    });
    if w.request_animation_frame(after_frame.unchecked_ref())
        .is_ok()
    {
        s.render.unpainted = Some(received_at);
    }
}

/// The awaited frame painted: one sample, and a report when one is due.
fn painted(state: &Shared) {
    let Ok(mut s) = state.try_borrow_mut() else {
        return;
    };
    let Some(since) = s.render.unpainted.take() else {
        return;
    };
    if s.ended {
        return;
    }
    s.render.sample.add(now() - since, js_sys::Math::random());
    drop(s);
    report(state);
}

/// Sends the report when it is due, or sets the timer that asks again.
fn report(state: &Shared) {
    let due = {
        let Ok(mut s) = state.try_borrow_mut() else {
            return;
        };
        let due = s.render.sample.poll(now());
        if let Due::Wait(ms) = due
            && s.render.flush.is_none()
        {
            let st = state.clone();
            s.render.flush = Some(Timeout::new(ms, move || {
                if let Ok(mut s) = st.try_borrow_mut() {
                    s.render.flush = None;
                }
                report(&st);
            }));
        }
        due
    };
    if let Due::Send(r) = due {
        send(state, &Message::Render(r));
    }
}
