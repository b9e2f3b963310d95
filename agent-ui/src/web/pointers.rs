//! Both pointers on the scaled replica: the agent's (sent once per animation frame, shown as its
//! own hover in the replica, clicks with rings) and the customer's (drawn over the replica), and
//! the layout that scales the customer-sized frame into the stage and gives the mapping both use
//! (the annotations of `ink` map through it too, and are sent in the same animation frame).

use super::link::send;
use super::prefs::trf;
use super::state::Shared;
use super::toolbar::{set_style, set_text};
use crate::debug;
use crate::viewport::{self, Size};
use cobrowse_protocol::{Click, Message, Party, Pointer};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, MouseEvent};

/// The agent's pointer moved over the overlay.
pub(super) fn on_move(state: &Shared, e: &MouseEvent) {
    let pos = overlay_point(state, e);
    queue_pointer(state, Some(pos));
    agent_hover(state, Some(pos));
    super::ink::extend(state, pos);
}

/// The agent's pointer left the overlay.
pub(super) fn on_leave(state: &Shared) {
    queue_pointer(state, None);
    agent_hover(state, None);
}

/// The agent clicked the overlay: write mode acts on the node under it, the customer sees the
/// click, and a ring shows it here.
pub(super) fn on_click(state: &Shared, e: &MouseEvent) {
    if state.borrow().ink.active() {
        return; // The press drew a stroke (`ink`); it is not a click.
    }
    let (x, y) = overlay_point(state, e);
    let node = state
        .borrow()
        .replica
        .backend()
        .id_at(f64::from(x), f64::from(y));
    debug!("agent click at {x},{y} on node {node:?}");
    let target = state
        .borrow()
        .replica
        .backend()
        .document()
        .and_then(|d| d.element_from_point(x as f32, y as f32));
    let caret = state
        .borrow()
        .replica
        .backend()
        .caret_at(f64::from(x), f64::from(y));
    super::control::on_click(target, node, caret, x, y);
    send(
        state,
        &Message::Click(Click {
            party: Party::Agent,
            x,
            y,
            node,
        }),
    );
    ring(state, Party::Agent, x, y);
}

/// The agent's pointer moved to `pos` (customer viewport px) or left: the agent sees its own
/// hover in the replica (the overlay above it keeps the replica from getting real pointer events).
fn agent_hover(state: &Shared, pos: Option<(i32, i32)>) {
    let mut s = state.borrow_mut();
    let st = &mut *s;
    let node = pos.and_then(|(x, y)| {
        let doc = st.replica.backend().document()?;
        doc.element_from_point(x as f32, y as f32)
            .map(web_sys::Node::from)
    });
    st.styles.set_agent_hover(node, &st.replica);
}

/// The overlay point under `e` in customer viewport pixels.
pub(super) fn overlay_point(state: &Shared, e: &MouseEvent) -> (i32, i32) {
    let s = state.borrow();
    let rect = s.ui.overlay.get_bounding_client_rect();
    let ax = f64::from(e.client_x()) - rect.left();
    let ay = f64::from(e.client_y()) - rect.top();
    viewport::to_customer(&s.fit, ax, ay)
}

/// Remembers the latest agent pointer and sends it at the next animation frame (latest wins).
fn queue_pointer(state: &Shared, pos: Option<(i32, i32)>) {
    state.borrow_mut().pending_pointer = Some(pos);
    schedule_frame(state);
}

/// Asks for the animation frame that sends the pointer and ink (once per frame).
pub(super) fn schedule_frame(state: &Shared) {
    let mut s = state.borrow_mut();
    if s.raf_scheduled {
        return;
    }
    let Some(w) = web_sys::window() else { return };
    if let Some(cb) = &s.raf
        && w.request_animation_frame(cb.as_ref().unchecked_ref())
            .is_ok()
    {
        s.raf_scheduled = true;
    }
}

/// Sends the queued agent pointer and ink points (the animation-frame callback).
pub(super) fn flush_pointer(state: &Shared) {
    super::ink::flush(state);
    let pos = {
        let mut s = state.borrow_mut();
        s.raf_scheduled = false;
        s.pending_pointer.take()
    };
    if let Some(pos) = pos {
        send(
            state,
            &Message::Pointer(Pointer {
                party: Party::Agent,
                pos,
                frame: None,
            }),
        );
    }
}

/// Sizes the replica frame to the customer's viewport and scales it into the stage.
pub(super) fn layout(state: &Shared) {
    let mut s = state.borrow_mut();
    let v = s.viewport;
    if v.width == 0 || v.height == 0 {
        return;
    }
    let avail = Size {
        width: f64::from(s.ui.stage.client_width()),
        height: f64::from(s.ui.stage.client_height()),
    };
    let customer = Size {
        width: f64::from(v.width),
        height: f64::from(v.height),
    };
    let fit = viewport::fit(customer, avail);
    s.fit = fit;
    let frame: &HtmlElement = s.replica.backend().frame().unchecked_ref();
    set_style(frame, "width", &format!("{}px", v.width));
    set_style(frame, "height", &format!("{}px", v.height));
    set_style(frame, "transform", &format!("scale({})", fit.scale));
    set_style(&s.ui.frame_box, "width", &format!("{}px", fit.shown.width));
    set_style(
        &s.ui.frame_box,
        "height",
        &format!("{}px", fit.shown.height),
    );
    let text = trf(
        "scale",
        &[
            ("width", &v.width.to_string()),
            ("height", &v.height.to_string()),
            ("zoom", &viewport::percent(&fit)),
        ],
    );
    set_text(&s.ui.scale, &text);
    drop(s);
    super::ink::reposition(state);
}

/// Draws the customer's pointer (hidden when it left the page).
pub(super) fn draw_pointer(state: &Shared, p: &Pointer) {
    let el = state.borrow().ui.customer_pointer.clone();
    draw_pointer_on(state, &el, p);
}

/// Draws `p` with the pointer element `el` (the replay page draws the agent's pointer too).
pub(super) fn draw_pointer_on(state: &Shared, el: &HtmlElement, p: &Pointer) {
    let s = state.borrow();
    let Some((x, y)) = p.pos else {
        el.set_hidden(true);
        return;
    };
    // Customer viewport pixels before scaling, for hosts and tests (ARCHITECTURE.md selectors).
    let _ = el.set_attribute("data-x", &x.to_string());
    let _ = el.set_attribute("data-y", &y.to_string());
    // Positions inside an iframe are relative to that frame's viewport: add the frame's offset.
    let (mut fx, mut fy) = (0.0, 0.0);
    if let Some(doc) = p.frame
        && let Some(frame) = s.replica.dom_frame_of(doc)
    {
        // (A replica node: from the iframe's realm, so cast rather than `dyn_ref`.)
        let el: &Element = frame.unchecked_ref();
        let r = el.get_bounding_client_rect();
        fx = r.left();
        fy = r.top();
    }
    let (ax, ay) = viewport::to_agent(&s.fit, x, y);
    let (ax, ay) = (ax + fx * s.fit.scale, ay + fy * s.fit.scale);
    set_style(el, "transform", &format!("translate({ax}px, {ay}px)"));
    el.set_hidden(false);
}

/// Draws a click ring; old rings (finished animating) are removed when new ones come.
pub(super) fn ring(state: &Shared, party: Party, x: i32, y: i32) {
    let mut s = state.borrow_mut();
    let now = js_sys::Date::now();
    while let Some((t, _)) = s.rings.front() {
        if now - *t < 1500.0 && s.rings.len() < 16 {
            break;
        }
        if let Some((_, el)) = s.rings.pop_front() {
            el.remove();
        }
    }
    let Ok(el) = s.ui.doc.create_element("div") else {
        return;
    };
    let class = match party {
        Party::Customer => "cobrowse-ring cobrowse-ring-customer",
        Party::Agent => "cobrowse-ring cobrowse-ring-agent",
    };
    el.set_class_name(class);
    let (ax, ay) = viewport::to_agent(&s.fit, x, y);
    let h: &HtmlElement = el.unchecked_ref();
    set_style(h, "left", &format!("{ax}px"));
    set_style(h, "top", &format!("{ay}px"));
    if s.ui.overlay.append_child(&el).is_ok() {
        s.rings.push_back((now, el));
    }
}
