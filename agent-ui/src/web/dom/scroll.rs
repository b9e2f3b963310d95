//! Scrolling the replica to the customer's positions, and retrying the ones it cannot reach yet
//! (content still shorter until images, fonts or frames load).

use std::cell::{Cell, RefCell};
use web_sys::{Element, HtmlIFrameElement};

/// Scrolls `w` to `(x, y)`; true when it got there (within a pixel).
pub(super) fn scroll_window(w: &web_sys::Window, x: f64, y: f64) -> bool {
    w.scroll_to_with_x_and_y(x, y);
    let (ax, ay) = (w.scroll_x().unwrap_or(x), w.scroll_y().unwrap_or(y));
    (ax - x).abs() <= 1.0 && (ay - y).abs() <= 1.0
}

/// Scrolls `el` to `(x, y)`; true when it got there (within a pixel).
pub(super) fn scroll_element(el: &Element, x: f64, y: f64) -> bool {
    el.scroll_to_with_x_and_y(x, y);
    (f64::from(el.scroll_left()) - x).abs() <= 1.0 && (f64::from(el.scroll_top()) - y).abs() <= 1.0
}

/// Tries the scrolls not reached yet again; keeps those still out of reach (and drops elements
/// no longer in the replica).
pub(super) fn retry_scrolls(
    pending: &Cell<Option<(f64, f64)>>,
    elements: &RefCell<Vec<(Element, f64, f64)>>,
    frame: &HtmlIFrameElement,
) {
    if let (Some((x, y)), Some(w)) = (pending.get(), frame.content_window())
        && scroll_window(&w, x, y)
    {
        pending.set(None);
    }
    if let Ok(mut list) = elements.try_borrow_mut() {
        list.retain(|(el, x, y)| el.is_connected() && !scroll_element(el, *x, *y));
    }
}
