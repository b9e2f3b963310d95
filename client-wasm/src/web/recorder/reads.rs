//! What the recorder reads from the page outside a snapshot: the viewport, the observer's
//! options, and which control a mutation record changed the default state of.

use crate::record::Record;
use cobrowse_protocol::Viewport;
use wasm_bindgen::prelude::*;
use web_sys::{MutationObserverInit, Node, Window};

/// Reads the customer's viewport.
pub fn viewport(window: &Window) -> Viewport {
    let num = |v: Result<JsValue, JsValue>| v.ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
    Viewport {
        width: num(window.inner_width()).max(0.0) as u32,
        height: num(window.inner_height()).max(0.0) as u32,
        dpr_centi: (window.device_pixel_ratio() * 100.0)
            .round()
            .clamp(0.0, 65_535.0) as u16,
    }
}

pub(super) fn observer_options() -> MutationObserverInit {
    let o = MutationObserverInit::new();
    o.set_child_list(true);
    o.set_attributes(true);
    o.set_attribute_old_value(true);
    o.set_character_data(true);
    o.set_character_data_old_value(true);
    o.set_subtree(true);
    o
}

/// The control whose default state `record` changed, if any: a `value`, `checked`, `selected`
/// or `type` attribute of a control or option, or the text inside a `<textarea>`.
pub(super) fn default_changed(record: &Record<Node>) -> Option<Node> {
    const CONTROLS: [&str; 4] = ["input", "textarea", "select", "option"];
    let is = |n: &Node, names: &[&str]| {
        let name = n.node_name();
        names.iter().any(|t| name.eq_ignore_ascii_case(t))
    };
    match record {
        Record::Attribute { target, name, .. }
            if ["value", "checked", "selected", "type"]
                .iter()
                .any(|a| name.eq_ignore_ascii_case(a))
                && is(target, &CONTROLS) =>
        {
            Some(target.clone())
        }
        Record::Text { target, .. } => target.parent_node().filter(|p| is(p, &["textarea"])),
        Record::ChildList { added, .. } => added
            .iter()
            .filter_map(Node::parent_node)
            .find(|p| is(p, &["textarea", "select"])),
        _ => None,
    }
}
