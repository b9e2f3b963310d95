//! `<canvas>` frames from the customer shown in the replica.
//!
//! The replica document runs without scripts, and there a `<canvas>` is not a replaced element:
//! it renders its fallback content and nothing drawn into it would show. So a frame (an encoded
//! image, `Message::Canvas`, at most a few per second) is shown as the canvas's background image
//! instead, sized like the customer's canvas, through a rule of the replica's own adopted sheet
//! (`web::styles`) keyed by a `data-cobrowse-canvas` attribute (DOM comparisons skip it). The bytes
//! are only ever used as an image `data:` URL of an image MIME type.

use crate::replica::Replica;
use crate::web::dom::WebDom;
use crate::web::styles::Styles;
use cobrowse_protocol::CanvasFrame;
use wasm_bindgen::JsCast;
use web_sys::Element;

/// Image types a frame may carry; anything else is ignored.
const MIMES: [&str; 3] = ["image/png", "image/webp", "image/jpeg"];

/// Shows `frame` on its replica canvas.
pub fn show(frame: &CanvasFrame, replica: &Replica<WebDom>, styles: &mut Styles) {
    let Some(node) = replica.dom_node(frame.node) else {
        return;
    };
    if !node.node_name().eq_ignore_ascii_case("canvas") || !MIMES.contains(&frame.mime.as_str()) {
        crate::debug!(
            "canvas frame for a {} ({}) ignored",
            node.node_name(),
            frame.mime
        );
        return;
    }
    let el: &Element = node.unchecked_ref();
    let size = |name: &str, default: u32| {
        el.get_attribute(name)
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(default)
    };
    let url = format!(
        "data:{};base64,{}",
        frame.mime,
        crate::encode::base64(&frame.data)
    );
    styles.canvas_frame(
        frame.node,
        el,
        &url,
        size("width", 300),
        size("height", 150),
    );
}
