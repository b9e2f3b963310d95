//! The customer's open native `<select>` popup, drawn by the agent page. A browser paints that
//! popup outside the page (it is not in the DOM), so the replica cannot show it; when the customer
//! opens one, the agent page lays its own list over the replica's `<select>`:
//! `#cobrowse-select-popup[role=listbox]` with one `[role=option][data-index]` per option of the
//! *replica's* select (its texts are the replica's, masked as the replica has them), the
//! highlighted one `aria-selected="true"`. It is agent UI, outside the replica, styled by
//! `slave.css`; positions are set through the CSSOM (the page's CSP allows no inline styles).
//!
//! While it is shown, an animation-frame loop keeps it on the select (the customer scrolls, the
//! layout changes) and its options in step with the replica's.
//!
//! # Who owns what
//!
//! [`SelectOverlay`] lives in the page state; its animation-frame closure holds the state weakly,
//! so dropping the state frees it.

use super::prefs::tr;
use super::state::Shared;
use super::toolbar::set_style;
use crate::viewport::{self, Rect};
use cobrowse_protocol::SelectPopup;
use cobrowse_web_glue::realm::{get, items};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement};

/// The list as last drawn: option texts (with disabled flags), and which is highlighted.
type Drawn = (Vec<(String, bool)>, Option<u32>);

/// The overlay and what it shows.
#[derive(Default)]
pub(super) struct SelectOverlay {
    shown: Option<SelectPopup>,
    el: Option<HtmlElement>,
    drawn: Option<Drawn>,
    raf: Option<Closure<dyn FnMut()>>,
    scheduled: bool,
}

/// Shows (or, with `None`, hides) the customer's open popup.
pub(super) fn apply(state: &Shared, popup: Option<SelectPopup>) {
    {
        let mut s = state.borrow_mut();
        let o = &mut s.select_popup;
        if o.shown.map(|p| p.node) != popup.map(|p| p.node) {
            o.drawn = None;
        }
        o.shown = popup;
    }
    draw(state);
}

/// A new page: nothing of the old one is open.
pub(super) fn forget(state: &Shared) {
    apply(state, None);
}

/// The replica's option texts (and disabled flags) of `select`.
fn options(select: &JsValue) -> Vec<(String, bool)> {
    get(select, "options")
        .map(|o| items(&o))
        .unwrap_or_default()
        .iter()
        .map(|opt| {
            let text = get(opt, "text")
                .and_then(|t| t.as_string())
                .unwrap_or_default();
            let disabled = get(opt, "disabled")
                .and_then(|d| d.as_bool())
                .unwrap_or(false);
            (text, disabled)
        })
        .collect()
}

/// The overlay element, created on first use (after the replica's overlay, in the frame box).
fn element(state: &Shared) -> Option<HtmlElement> {
    let mut s = state.borrow_mut();
    if let Some(el) = &s.select_popup.el {
        return Some(el.clone());
    }
    let el: HtmlElement = s.ui.doc.create_element("div").ok()?.unchecked_into();
    el.set_id("cobrowse-select-popup");
    el.set_class_name("cobrowse-select-popup");
    let _ = el.set_attribute("role", "listbox");
    let _ = el.set_attribute("aria-label", &tr("selectPopupLabel"));
    el.set_hidden(true);
    s.ui.frame_box.append_child(&el).ok()?;
    s.select_popup.el = Some(el.clone());
    Some(el)
}

/// Draws the overlay as the state says, and keeps the loop going while it is shown.
fn draw(state: &Shared) {
    let Some(el) = element(state) else { return };
    let (shown, node, fit, height) = {
        let s = state.borrow();
        let shown = s.select_popup.shown;
        let node = shown.and_then(|p| s.replica.dom_node(p.node));
        (shown, node, s.fit, f64::from(s.viewport.height))
    };
    let (Some(popup), Some(node)) = (shown, node) else {
        el.set_hidden(true);
        let _ = el.remove_attribute("data-node");
        state.borrow_mut().select_popup.drawn = None;
        return;
    };
    let select: &JsValue = node.as_ref();
    let now: Drawn = (options(select), popup.highlighted);
    if state.borrow().select_popup.drawn.as_ref() != Some(&now) {
        fill(&el, &now);
        state.borrow_mut().select_popup.drawn = Some(now);
    }
    let _ = el.set_attribute("data-node", &popup.node.to_string());
    el.set_hidden(false);
    // A replica element: cast, its realm is not ours.
    let r = node.unchecked_ref::<Element>().get_bounding_client_rect();
    let anchor = Rect {
        x: r.left(),
        y: r.top(),
        width: r.width(),
        height: r.height(),
    };
    let (x, y) = viewport::popup_at(anchor, f64::from(el.offset_height()), height);
    let (ax, ay) = viewport::to_agent(&fit, x.round() as i32, y.round() as i32);
    set_style(&el, "left", &format!("{ax}px"));
    set_style(&el, "top", &format!("{ay}px"));
    set_style(&el, "min-width", &format!("{}px", anchor.width.max(0.0)));
    set_style(&el, "transform", &format!("scale({})", fit.scale));
    schedule(state);
}

/// Replaces the overlay's options with `drawn`'s.
fn fill(el: &HtmlElement, (options, highlighted): &Drawn) {
    el.set_text_content(None);
    let Some(doc) = el.owner_document() else {
        return;
    };
    for (i, (text, disabled)) in options.iter().enumerate() {
        let Ok(opt) = doc.create_element("div") else {
            continue;
        };
        opt.set_class_name("cobrowse-select-option");
        let _ = opt.set_attribute("role", "option");
        let _ = opt.set_attribute("data-index", &i.to_string());
        let on = *highlighted == Some(i as u32);
        let _ = opt.set_attribute("aria-selected", if on { "true" } else { "false" });
        if *disabled {
            let _ = opt.set_attribute("aria-disabled", "true");
        }
        // Text, never markup: the texts are the customer's.
        opt.set_text_content(Some(if text.is_empty() { "\u{a0}" } else { text }));
        let _ = el.append_child(&opt);
    }
}

/// Redraws at the next animation frame while the overlay is shown.
fn schedule(state: &Shared) {
    let mut s = state.borrow_mut();
    let o = &mut s.select_popup;
    if o.scheduled || o.shown.is_none() {
        return;
    }
    if o.raf.is_none() {
        let weak = Rc::downgrade(state);
        o.raf = Some(Closure::new(move || {
            if let Some(st) = weak.upgrade() {
                st.borrow_mut().select_popup.scheduled = false;
                draw(&st);
            }
        }));
    }
    if let (Some(w), Some(cb)) = (web_sys::window(), &o.raf)
        && w.request_animation_frame(cb.as_ref().unchecked_ref())
            .is_ok()
    {
        o.scheduled = true;
    }
}
