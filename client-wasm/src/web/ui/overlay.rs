//! What the UI draws over the page on the agent's behalf: its pointer, click rings and
//! annotation ink. All of it lives in the UI's shadow-root overlay, which takes no pointer events.

use super::Ui;
use cobrowse_protocol::Ink;
use cobrowse_web_glue::ink::InkLayer;
use gloo_events::EventListener;
use wasm_bindgen::JsCast;
use web_sys::Element;

impl Ui {
    /// Draws the agent's pointer at viewport position `pos`, or hides it.
    pub fn draw_pointer(&self, pos: Option<(i32, i32)>) {
        let Some(p) = self.root.query_selector(".ptr").ok().flatten() else {
            return;
        };
        match pos {
            Some((x, y)) => {
                set_style(&p, "transform", &format!("translate({x}px,{y}px)"));
                let _ = p.set_attribute("data-x", &x.to_string());
                let _ = p.set_attribute("data-y", &y.to_string());
                let _ = p.remove_attribute("hidden");
            }
            None => {
                let _ = p.set_attribute("hidden", "");
            }
        }
    }

    pub(super) fn hide_pointer(&self) {
        self.draw_pointer(None);
    }

    /// Draws a click ring at viewport position (`x`, `y`).
    pub fn ring(&self, x: i32, y: i32) {
        let Some(r) = self.part(".ring") else { return };
        let _ = r.class_list().remove_1("go");
        set_style(&r, "left", &format!("{x}px"));
        set_style(&r, "top", &format!("{y}px"));
        // Reading layout restarts the CSS animation when the class comes back.
        let _ = r.offset_width();
        let _ = r.class_list().add_1("go");
    }

    /// Draws the agent's annotation `ink` (top-document pixels) over the page: in the overlay,
    /// which takes no pointer events, so the page stays clickable under it. Drawn in pointer and
    /// write mode alike (it is only ink: nothing to consent to), over masked and restricted
    /// areas too (it shows nothing of them and lives in this shadow root, which is never
    /// recorded).
    pub fn draw_ink(&mut self, key: u64, ink: &Ink) {
        if self.ink.is_none() {
            let Some(overlay) = self.root.query_selector(".overlay").ok().flatten() else {
                return;
            };
            let Some(layer) = InkLayer::new(&self.document, &overlay, "ink") else {
                return;
            };
            let Some(window) = cobrowse_web_glue::realm::window() else {
                return;
            };
            let view = layer.view_handle();
            let w = window.clone();
            let listener = EventListener::new(&window, "scroll", move |_| {
                view.set_view(1.0, scroll_x(&w), scroll_y(&w));
            });
            layer.set_view(1.0, scroll_x(&window), scroll_y(&window));
            self.ink = Some((layer, listener));
        }
        if let Some((layer, _)) = &self.ink {
            layer.draw(key, ink);
        }
    }

    /// Removes the annotations (the session ended).
    pub(super) fn clear_ink(&self) {
        if let Some((layer, _)) = &self.ink {
            layer.clear();
        }
    }
}

/// Sets one inline declaration through the CSSOM (`el.style`), which a strict `style-src`
/// allows, unlike a `style` attribute. Works for SVG elements too (they have `style` as well).
fn set_style(el: &Element, property: &str, value: &str) {
    if let Some(decl) = js_sys::Reflect::get(el, &"style".into())
        .ok()
        .and_then(|d| d.dyn_into::<web_sys::CssStyleDeclaration>().ok())
    {
        let _ = decl.set_property(property, value);
    }
}

/// The window's scroll offset (0 when the browser will not say).
fn scroll_x(w: &web_sys::Window) -> f64 {
    w.scroll_x().unwrap_or(0.0)
}

fn scroll_y(w: &web_sys::Window) -> f64 {
    w.scroll_y().unwrap_or(0.0)
}
