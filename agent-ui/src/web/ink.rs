//! Annotations: the agent draws with a pen or a highlighter over the replica, and the customer
//! sees the same strokes over the real page (`Message::Ink`). Both fade out
//! `Ink::FADE_MS` after the stroke is finished.
//!
//! * The toolbar's pen and highlight buttons (`#cobrowse-ink-pen`, `#cobrowse-ink-highlight`,
//!   `aria-pressed`, shown while the replica is live) choose the tool; pressing the chosen one again, or Escape, goes back to
//!   the pointer. While a tool is chosen, a press on the overlay draws instead of clicking (in
//!   write mode too: a stroke never acts on the page, so it needs no consent; the mode only
//!   decides what a click does when no tool is chosen).
//! * Points are top-document CSS pixels of the customer's page: the overlay point in customer
//!   viewport pixels (`viewport::to_customer`) plus the replica window's scroll, which is the
//!   customer's. The customer adds nothing and subtracts its own scroll to draw, so both sides
//!   put a stroke on the same content, also after either scrolls.
//! * Points are sent once per animation frame (with the pointer), at most
//!   `Ink::MAX_FRAME_POINTS` a frame; a stroke ends by itself at `Ink::MAX_STROKE_POINTS`, and
//!   the page starts at most `Ink::MAX_STROKES_PER_SECOND` strokes a second (a press beyond it
//!   draws nothing), the bounds the relay enforces too.
//! * Strokes of other agents watching the same session arrive as `Ink` too and are drawn the
//!   same way (keys keep them apart from this page's own).

use super::link::send;
use super::state::Shared;
use cobrowse_protocol::{Ink, InkTool, Message};
use cobrowse_web_glue::ink::InkLayer;
use web_sys::{Element, HtmlElement};

/// A stroke this page is drawing.
struct Drawing {
    stroke: u32,
    tool: InkTool,
    /// Points sent so far.
    sent: u32,
    /// Points waiting for the next animation frame.
    pending: Vec<(i32, i32)>,
    /// The last point (sent again to finish a stroke when nothing else waits).
    last: (i32, i32),
    /// The press ended: the next flush finishes the stroke.
    done: bool,
}

/// The page's annotation state.
#[derive(Default)]
pub(super) struct InkState {
    /// The tool chosen in the toolbar (`None`: the pointer).
    tool: Option<InkTool>,
    drawing: Option<Drawing>,
    next_stroke: u32,
    /// When the last strokes began (for the strokes-per-second bound), newest last.
    starts: Vec<f64>,
    layer: Option<InkLayer>,
    buttons: Vec<(InkTool, HtmlElement)>,
    /// The replica scrolled: the strokes follow at the next animation frame.
    reposition_due: bool,
}

impl InkState {
    /// Whether a press on the overlay draws (a tool is chosen) instead of clicking.
    pub(super) fn active(&self) -> bool {
        self.tool.is_some()
    }
}

/// Key of a stroke: this page's own in the upper half, other agents' in the lower.
fn key(own: bool, stroke: u32) -> u64 {
    (u64::from(own) << 32) | u64::from(stroke)
}

/// Finds the toolbar buttons and makes the layer over the replica.
pub(super) fn install(state: &Shared) {
    let mut s = state.borrow_mut();
    let st = &mut *s;
    for tool in [InkTool::Pen, InkTool::Highlight] {
        let id = format!("cobrowse-ink-{}", tool.code());
        if let Some(b) = st.ui.doc.get_element_by_id(&id) {
            let b: HtmlElement = wasm_bindgen::JsCast::unchecked_into(b);
            let _ = b.set_attribute("aria-pressed", "false");
            st.ink.buttons.push((tool, b));
        }
    }
    let overlay: &Element = st.ui.overlay.as_ref();
    st.ink.layer = InkLayer::new(&st.ui.doc, overlay, "cobrowse-ink");
    // Random start: strokes of two agents on one customer page rarely share a number.
    st.ink.next_stroke = (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
}

/// The toolbar buttons, for `app` to listen to.
pub(super) fn buttons(state: &Shared) -> Vec<(InkTool, HtmlElement)> {
    state.borrow().ink.buttons.clone()
}

/// Chooses `tool` (`None`: back to the pointer); the buttons and the overlay say which.
pub(super) fn set_tool(state: &Shared, tool: Option<InkTool>) {
    let mut s = state.borrow_mut();
    s.ink.tool = tool;
    for (t, b) in &s.ink.buttons {
        let on = Some(*t) == tool;
        let _ = b.set_attribute("aria-pressed", if on { "true" } else { "false" });
    }
    match tool {
        Some(t) => {
            let _ = s.ui.overlay.set_attribute("data-ink", t.code());
        }
        None => {
            let _ = s.ui.overlay.remove_attribute("data-ink");
        }
    }
    drop(s);
    if tool.is_none() {
        release(state); // A stroke being drawn ends here.
    }
}

/// A toolbar button was pressed: its tool, or the pointer when it was already chosen.
pub(super) fn toggle(state: &Shared, tool: InkTool) {
    let now = state.borrow().ink.tool;
    set_tool(state, if now == Some(tool) { None } else { Some(tool) });
}

/// The replica window's scroll offset (the customer's), in CSS pixels.
fn scroll(state: &Shared) -> (f64, f64) {
    let s = state.borrow();
    let Some(w) = s.replica.backend().frame().content_window() else {
        return (0.0, 0.0);
    };
    (w.scroll_x().unwrap_or(0.0), w.scroll_y().unwrap_or(0.0))
}

/// The overlay point (customer viewport pixels) as a top-document point.
fn doc_point(state: &Shared, (x, y): (i32, i32)) -> (i32, i32) {
    let (sx, sy) = scroll(state);
    (
        x.saturating_add(sx.round() as i32),
        y.saturating_add(sy.round() as i32),
    )
}

/// A press on the overlay at `pos` (customer viewport pixels): starts a stroke when a tool is
/// chosen. Returns whether it did (the press is then not a click).
pub(super) fn press(state: &Shared, pos: (i32, i32)) -> bool {
    let Some(tool) = state.borrow().ink.tool else {
        return false;
    };
    let now = js_sys::Date::now();
    let p = doc_point(state, pos);
    let mut s = state.borrow_mut();
    let ink = &mut s.ink;
    ink.starts.retain(|t| now - t < 1000.0);
    if ink.starts.len() >= Ink::MAX_STROKES_PER_SECOND as usize {
        return true; // Over the bound the relay enforces: this press draws nothing.
    }
    ink.starts.push(now);
    ink.next_stroke = ink.next_stroke.wrapping_add(1);
    ink.drawing = Some(Drawing {
        stroke: ink.next_stroke,
        tool,
        sent: 0,
        pending: vec![p],
        last: p,
        done: false,
    });
    drop(s);
    super::pointers::schedule_frame(state);
    true
}

/// The pointer moved to `pos` while pressed: the stroke goes on.
pub(super) fn extend(state: &Shared, pos: (i32, i32)) {
    if state.borrow().ink.drawing.is_none() {
        return;
    }
    let p = doc_point(state, pos);
    let mut s = state.borrow_mut();
    if let Some(d) = &mut s.ink.drawing
        && !d.done
        && d.last != p
    {
        d.pending.push(p);
        d.last = p;
    }
}

/// The press ended (or the pointer left the overlay): the stroke is finished at the next frame.
pub(super) fn release(state: &Shared) {
    let mut s = state.borrow_mut();
    let Some(d) = &mut s.ink.drawing else { return };
    d.done = true;
    drop(s);
    super::pointers::schedule_frame(state);
}

/// The replica was told to scroll: the strokes move with it at the next animation frame, when
/// the scroll is applied (reading the position now would force a layout pass per message).
pub(super) fn reposition_soon(state: &Shared) {
    state.borrow_mut().ink.reposition_due = true;
    super::pointers::schedule_frame(state);
}

/// Sends the points gathered since the last animation frame (and draws them here).
pub(super) fn flush(state: &Shared) {
    if std::mem::take(&mut state.borrow_mut().ink.reposition_due) {
        // Whichever animation-frame callback runs first applies the scroll.
        state.borrow().replica.backend().settle_scrolls();
        reposition(state);
    }
    let frames = {
        let mut s = state.borrow_mut();
        let Some(d) = &mut s.ink.drawing else { return };
        let mut frames = Vec::new();
        let room = Ink::MAX_STROKE_POINTS.saturating_sub(d.sent) as usize;
        if d.pending.len() >= room {
            d.pending.truncate(room);
            d.done = true;
        }
        if d.pending.is_empty() && d.done {
            d.pending.push(d.last);
        }
        let pending = std::mem::take(&mut d.pending);
        let chunks: Vec<&[(i32, i32)]> = pending.chunks(Ink::MAX_FRAME_POINTS).collect();
        for (i, c) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len();
            if let Some(ink) = Ink::from_points(d.stroke, d.tool, c, d.done && last) {
                d.sent += c.len() as u32;
                frames.push(ink);
            }
        }
        if d.done {
            s.ink.drawing = None;
        }
        frames
    };
    for ink in frames {
        draw(state, true, &ink);
        send(state, &Message::Ink(ink));
    }
}

/// Draws `ink`: this page's own (`own`) or another agent's.
pub(super) fn draw(state: &Shared, own: bool, ink: &Ink) {
    reposition(state);
    let s = state.borrow();
    if let Some(layer) = &s.ink.layer {
        layer.draw(key(own, ink.stroke), ink);
    }
}

/// Moves the strokes with the replica's scroll and scale.
pub(super) fn reposition(state: &Shared) {
    let (sx, sy) = scroll(state);
    let s = state.borrow();
    if let Some(layer) = &s.ink.layer {
        layer.set_view(s.fit.scale, sx, sy);
    }
}

/// Removes every stroke, stops drawing and goes back to the pointer (the session ended).
pub(super) fn clear(state: &Shared) {
    state.borrow_mut().ink.drawing = None;
    set_tool(state, None);
    let s = state.borrow();
    if let Some(layer) = &s.ink.layer {
        layer.clear();
    }
}
