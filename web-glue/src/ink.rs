//! The annotation layer both pages draw: an `<svg>` over the page (the customer's UI overlay, the
//! agent's replica overlay) holding one `<path>` per stroke, in top-document CSS pixels under one
//! transform that follows scroll and scale. Strokes, their paths and their time are
//! `cobrowse_common::ink::Board`'s; this module only mirrors the board into elements and removes
//! a stroke's path when its time is up (one timer, set for the next stroke to go).
//!
//! Only numbers from the wire reach the DOM (path data written by `Board`, attribute values of
//! our own): no markup, no text. The layer never takes pointer events (`pointer-events: none`
//! on the `<svg>`), so everything under it stays clickable.
//!
//! Hooks (ARCHITECTURE.md, "Selectors"): each stroke is `path[data-cobrowse-ink="pen"|"highlight"]`
//! with `data-stroke` (its key) and `data-done` once the drawer let go.

use cobrowse_common::ink::{Added, Board};
use cobrowse_protocol::{Ink, InkTool};
use gloo_timers::callback::Timeout;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use web_sys::{Document, Element};

const SVG_NS: &str = "http://www.w3.org/2000/svg";

struct Inner {
    doc: Document,
    svg: Element,
    group: Element,
    board: Board,
    paths: Vec<(u64, Element)>,
    sweep: Option<Timeout>,
}

/// One page's annotation layer; dropping it removes its `<svg>`.
pub struct InkLayer(Rc<RefCell<Inner>>);

impl InkLayer {
    /// Creates the layer as the last child of `parent`, with class `class` (the page's CSS
    /// places it and styles the fade of `path[data-done]`).
    pub fn new(doc: &Document, parent: &Element, class: &str) -> Option<InkLayer> {
        let svg = doc.create_element_ns(Some(SVG_NS), "svg").ok()?;
        let group = doc.create_element_ns(Some(SVG_NS), "g").ok()?;
        let _ = svg.set_attribute("class", class);
        let _ = svg.set_attribute("aria-hidden", "true");
        let _ = svg.set_attribute("data-cobrowse-ink-layer", "");
        // Presentation attributes, not a `style` attribute: a strict `style-src` allows them.
        let _ = svg.set_attribute("pointer-events", "none");
        svg.append_child(&group).ok()?;
        parent.append_child(&svg).ok()?;
        Some(InkLayer(Rc::new(RefCell::new(Inner {
            doc: doc.clone(),
            svg,
            group,
            board: Board::default(),
            paths: Vec::new(),
            sweep: None,
        }))))
    }

    /// Shows the layer's document pixels scaled by `scale` and scrolled to (`x`, `y`): a point
    /// (px, py) of the document lands at ((px − x) · scale, (py − y) · scale) in the layer.
    pub fn set_view(&self, scale: f64, x: f64, y: f64) {
        set_view(&self.0.borrow(), scale, x, y);
    }

    /// A handle that moves the view (for a scroll listener) without keeping the layer alive.
    pub fn view_handle(&self) -> InkView {
        InkView(Rc::downgrade(&self.0))
    }

    /// Draws `ink` as stroke `key` (the page makes keys unique per drawer and stroke).
    pub fn draw(&self, key: u64, ink: &Ink) {
        let now = js_sys::Date::now();
        let mut guard = self.0.borrow_mut();
        let i = &mut *guard;
        let added = i
            .board
            .add(key, &ink.points(), ink.done, now, f64::from(Ink::FADE_MS));
        let Some(stroke) = i.board.get(key) else {
            return;
        };
        match added {
            Added::Ignored => return,
            Added::New { evicted } => {
                if let Some(old) = evicted {
                    remove_path(&mut i.paths, old);
                }
                let Ok(p) = i.doc.create_element_ns(Some(SVG_NS), "path") else {
                    return;
                };
                let tool = ink.tool.code();
                let _ = p.set_attribute("data-cobrowse-ink", tool);
                let _ = p.set_attribute("data-stroke", &key.to_string());
                let _ = p.set_attribute("fill", "none");
                let _ = p.set_attribute("stroke-linecap", "round");
                let _ = p.set_attribute("stroke-linejoin", "round");
                let (colour, width, opacity) = match ink.tool {
                    InkTool::Pen => ("#e6007e", "3", "1"),
                    InkTool::Highlight => ("#ffd400", "18", "0.4"),
                };
                let _ = p.set_attribute("stroke", colour);
                let _ = p.set_attribute("stroke-width", width);
                let _ = p.set_attribute("stroke-opacity", opacity);
                let _ = i.group.append_child(&p);
                i.paths.push((key, p));
            }
            Added::Extended => {}
        }
        if let Some((_, p)) = i.paths.iter().find(|(k, _)| *k == key) {
            let _ = p.set_attribute("d", &stroke.d);
            if stroke.done {
                let _ = p.set_attribute("data-done", "");
            }
        }
        if i.sweep.is_none() {
            schedule(&self.0, i);
        }
    }

    /// Removes every stroke at once (the session ended).
    pub fn clear(&self) {
        let mut i = self.0.borrow_mut();
        i.board.clear();
        for (_, p) in i.paths.drain(..) {
            p.remove();
        }
        i.sweep = None;
    }

    /// How many strokes are on screen.
    pub fn len(&self) -> usize {
        self.0.borrow().board.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.0.borrow().board.is_empty()
    }
}

impl Drop for InkLayer {
    fn drop(&mut self) {
        if let Ok(mut i) = self.0.try_borrow_mut() {
            i.sweep = None;
            i.svg.remove();
        }
    }
}

/// Moves an [`InkLayer`]'s view; does nothing once the layer is gone.
pub struct InkView(Weak<RefCell<Inner>>);

impl InkView {
    /// [`InkLayer::set_view`], if the layer still exists.
    pub fn set_view(&self, scale: f64, x: f64, y: f64) {
        if let Some(rc) = self.0.upgrade()
            && let Ok(i) = rc.try_borrow()
        {
            set_view(&i, scale, x, y);
        }
    }
}

fn set_view(i: &Inner, scale: f64, x: f64, y: f64) {
    let _ = i.group.set_attribute(
        "transform",
        &format!("scale({scale}) translate({} {})", -x, -y),
    );
}

fn remove_path(paths: &mut Vec<(u64, Element)>, key: u64) {
    if let Some(at) = paths.iter().position(|(k, _)| *k == key) {
        paths.remove(at).1.remove();
    }
}

/// Sets the timer for the next stroke to go (none when the board is empty).
fn schedule(rc: &Rc<RefCell<Inner>>, i: &mut Inner) {
    let Some(at) = i.board.next_expiry() else {
        i.sweep = None;
        return;
    };
    let ms = (at - js_sys::Date::now())
        .clamp(0.0, f64::from(u32::MAX))
        .ceil() as u32;
    let weak: Weak<RefCell<Inner>> = Rc::downgrade(rc);
    i.sweep = Some(Timeout::new(ms, move || {
        let Some(rc) = weak.upgrade() else { return };
        let Ok(mut guard) = rc.try_borrow_mut() else {
            return;
        };
        let i = &mut *guard;
        for key in i.board.expire(js_sys::Date::now()) {
            remove_path(&mut i.paths, key);
        }
        schedule(&rc, i);
    }));
}
