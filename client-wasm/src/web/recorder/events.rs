//! The recorder's page-event handlers: form input, scrolling, pointer and clicks, hover / focus /
//! active targets and resizes, each turned into a message or a frame-throttled slot.

use super::reads::viewport;
use super::state::{RecState, with_state};
use crate::capture::DomTree;
use crate::slots::{Slot, SlotValue};
use crate::web::dom::{UI_ATTR, control_state, element, html_tag};
use cobrowse_protocol::{Click, FormState, FormValue, Message, Party, PseudoState, ScrollTarget};
use cobrowse_web_glue::realm::{get, items};
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, MouseEvent, Node};

/// The element an event really started on (inside open shadow roots too).
fn event_origin(event: &Event) -> Option<Node> {
    event
        .composed_path()
        .get(0)
        .dyn_into::<Node>()
        .ok()
        .or_else(|| event.target().and_then(|t| t.dyn_into::<Node>().ok()))
}

/// True when the event concerns our own UI.
fn from_our_ui(event: &Event) -> bool {
    event
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|e| e.closest(&format!("[{UI_ATTR}]")).ok().flatten())
        .is_some()
}

impl RecState {
    /// The state of control `node` as it may leave the browser. Every form state the recorder
    /// sends after capture (input and change events, values set by script) comes through here,
    /// so [`crate::mask::mask_form_state`] decides for all of them.
    pub(super) fn form_value(&self, node: &Node) -> Option<FormValue> {
        let id = self.mirror.id(node)?;
        // A hidden control's value never leaves the browser (`hide` rules).
        let state = control_state(node)
            .filter(|_| !element(node).is_some_and(crate::web::restrict::is_hidden))?;
        let raw = self.dom.describe(node)?;
        let facts = crate::capture::facts_of(&self.dom, node, &raw)?;
        Some(FormValue {
            node: id,
            state: crate::mask::mask_form_state(self.policy.as_ref(), &facts, state)?,
        })
    }

    pub(super) fn on_input(&mut self, event: &Event) {
        if from_our_ui(event) {
            return;
        }
        self.flush_pending();
        let Some(node) = event_origin(event) else {
            return;
        };
        let values = self.control_values(&node);
        if let Some(hooks) = &self.values {
            hooks.reported(&node);
        }
        if !values.is_empty() {
            (self.sink)(Message::Form(values));
        }
    }

    /// Controls whose state script set (`web::values`): reported like an `input` event, in one
    /// message. An `<option>` stands for its `<select>`, a reset `<form>` for its controls.
    pub(super) fn on_script_values(&mut self, nodes: Vec<Node>) {
        self.flush_pending();
        let mut values: Vec<FormValue> = Vec::new();
        let add = |values: &mut Vec<FormValue>, control: &Node| {
            for v in self.control_values(control) {
                if !values.iter().any(|w| w.node == v.node) {
                    values.push(v);
                }
            }
        };
        for node in nodes {
            let name = node.node_name();
            if name.eq_ignore_ascii_case("form") {
                // Every control of a form that was reset.
                let elements = get(&node, "elements");
                for control in elements.iter().flat_map(items) {
                    add(&mut values, control.unchecked_ref());
                }
            } else if name.eq_ignore_ascii_case("option") {
                let parent = node.parent_node();
                let select = match parent {
                    Some(p) if p.node_name().eq_ignore_ascii_case("optgroup") => p.parent_node(),
                    p => p,
                };
                if let Some(select) = select {
                    add(&mut values, &select);
                }
            } else {
                add(&mut values, &node);
            }
        }
        if !values.is_empty() {
            (self.sink)(Message::Form(values));
        }
    }

    /// A form is being reset (a reset button, or `form.reset()`): `reset` fires before the
    /// controls change, so they are read in a task of their own, once they did.
    pub(super) fn on_reset(&mut self, event: &Event) {
        let Some(form) = event.target().and_then(|t| t.dyn_into::<Node>().ok()) else {
            return;
        };
        let weak = self.me.clone();
        cobrowse_web_glue::soon::soon(move || {
            if let Some(s) = weak.upgrade() {
                with_state(&s, |st| st.on_script_values(vec![form]));
            }
        });
    }

    /// The state of `node` as it may leave the browser, plus the other radios of its group
    /// (checking one silently unchecks the others). Empty for anything not captured.
    fn control_values(&self, node: &Node) -> Vec<FormValue> {
        let mut values: Vec<FormValue> = self.form_value(node).into_iter().collect();
        if let Some(input) = html_tag::<web_sys::HtmlInputElement>(node, "input")
            && input.type_().eq_ignore_ascii_case("radio")
            && !input.name().is_empty()
        {
            let group = self.dom.document().get_elements_by_name(&input.name());
            for i in 0..group.length() {
                if let Some(other) = group.item(i)
                    && !other.is_same_node(Some(node))
                    && let Some(v) = self.form_value(&other)
                    && matches!(v.state, FormState::Checked(_))
                {
                    values.push(v);
                }
            }
        }
        values
    }

    pub(super) fn on_scroll(&mut self, event: &Event) {
        let Some(node) = event.target().and_then(|t| t.dyn_into::<Node>().ok()) else {
            // Scroll events of the window itself have the window as target.
            self.queue_window_scroll();
            return;
        };
        if node.node_type() == Node::DOCUMENT_NODE {
            self.queue_window_scroll();
            return;
        }
        let Some(el) = element(&node) else {
            return;
        };
        let Some(id) = self.mirror.id(&node) else {
            return;
        };
        self.queue(
            Slot::Scroll(ScrollTarget::Node(id)),
            SlotValue::Scroll(el.scroll_left(), el.scroll_top()),
        );
    }

    pub(super) fn queue_window_scroll(&mut self) {
        let x = self.window.scroll_x().unwrap_or(0.0) as i32;
        let y = self.window.scroll_y().unwrap_or(0.0) as i32;
        self.queue(Slot::Scroll(ScrollTarget::Window), SlotValue::Scroll(x, y));
    }

    pub(super) fn on_pointer(&mut self, event: &Event) {
        if let Some(m) = event.dyn_ref::<MouseEvent>() {
            self.queue(
                Slot::Pointer,
                SlotValue::Pointer(Some((m.client_x(), m.client_y()))),
            );
        }
    }

    pub(super) fn on_pointer_out(&mut self, event: &Event) {
        if let Some(m) = event.dyn_ref::<MouseEvent>()
            && m.related_target().is_none()
        {
            self.queue(Slot::Pointer, SlotValue::Pointer(None));
        }
    }

    pub(super) fn on_click(&mut self, event: &Event) {
        if from_our_ui(event) {
            return;
        }
        let Some(m) = event.dyn_ref::<MouseEvent>() else {
            return;
        };
        self.flush_pending();
        let node = event_origin(event).and_then(|n| self.mirror.id(&n));
        (self.sink)(Message::Click(Click {
            party: Party::Customer,
            x: m.client_x(),
            y: m.client_y(),
            node,
        }));
    }

    /// The captured element an event concerns (None over our UI or unknown nodes).
    pub(super) fn event_element_id(&self, event: &Event) -> Option<u32> {
        if from_our_ui(event) {
            return None;
        }
        let node = event_origin(event)?;
        let el = if element(&node).is_some() {
            node
        } else {
            node.parent_node()?
        };
        self.mirror.id(&el)
    }

    pub(super) fn update_pseudo(&mut self, change: impl FnOnce(&mut PseudoState)) {
        let before = self.pseudo;
        change(&mut self.pseudo);
        if self.pseudo != before {
            let p = self.pseudo;
            self.queue(Slot::Pseudo, SlotValue::Pseudo(p));
        }
    }

    pub(super) fn on_hover(&mut self, event: &Event) {
        let id = self.event_element_id(event);
        self.update_pseudo(|p| p.hover = id);
    }

    pub(super) fn on_focus_in(&mut self, event: &Event) {
        let id = self.event_element_id(event);
        let visible = event_origin(event)
            .as_ref()
            .and_then(element)
            .and_then(|e| e.matches(":focus-visible").ok())
            .unwrap_or(false);
        self.update_pseudo(|p| {
            p.focus = id;
            p.focus_visible = visible && id.is_some();
        });
    }

    pub(super) fn on_focus_out(&mut self, _event: &Event) {
        self.update_pseudo(|p| {
            p.focus = None;
            p.focus_visible = false;
        });
    }

    pub(super) fn on_press(&mut self, event: &Event) {
        let id = self.event_element_id(event);
        self.update_pseudo(|p| p.active = id);
    }

    pub(super) fn on_release(&mut self, _event: &Event) {
        self.update_pseudo(|p| p.active = None);
    }

    pub(super) fn on_resize(&mut self) {
        let v = viewport(&self.window);
        self.queue(Slot::Viewport, SlotValue::Viewport(v));
    }
}
