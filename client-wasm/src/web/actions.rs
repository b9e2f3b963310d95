//! Write mode: performing the agent's actions on the customer's page, after the customer
//! granted it in the consent dialog.
//!
//! Actions target nodes by id (never coordinates), so the agent acts on exactly what it saw.
//! Restrictions apply even in write mode: submit controls are disabled for the agent (the
//! customer submits their own forms), password fields cannot be typed into (the agent cannot see
//! them anyway), and navigation stays on the page's origin; site `restrict` rules refuse the
//! elements they match. The browser-free rules are in [`crate::actions`].
//!
//! `contenteditable` editors get [`AgentAction::Edit`] steps ([`edit`]): the caret goes where the
//! agent put it, a cancelable `beforeinput` announces the step (editors that handle it call
//! `preventDefault` and update their own model), and otherwise `document.execCommand` performs
//! it, which edits the DOM, keeps the undo stack and fires a trusted `input`. Masked or restricted
//! editors, and elements that are not editable here, are refused.

pub use crate::actions::{agent_may_click, agent_may_type, exec_command, same_origin};
use crate::mask::ElementFacts;
use crate::web::dom;
use cobrowse_protocol::{AgentAction, EditOp, NavAction, RefusalReason, ScrollTarget, modifiers};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    Element, Event, EventInit, HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement,
    KeyboardEvent, KeyboardEventInit, Node, Window,
};

fn fire(target: &Element, ty: &str) {
    let init = EventInit::new();
    init.set_bubbles(true);
    if let Ok(ev) = Event::new_with_event_init_dict(ty, &init) {
        let _ = target.dispatch_event(&ev);
    }
}

/// The element a click on `el` would activate, for the submit rule: the nearest control.
fn control_for(el: &Element) -> Element {
    el.closest("button, input")
        .ok()
        .flatten()
        .unwrap_or_else(|| el.clone())
}

fn in_form(el: &Element) -> bool {
    el.closest("form").ok().flatten().is_some()
        || el.get_attribute("form").is_some_and(|f| !f.is_empty())
}

/// Sets `value` through the element prototype's native `value` setter, not `el.value = …`:
/// React (and similar libraries) shadow `value` on the instance to track it, and an instance
/// assignment would make them think nothing changed and drop the following `input` event.
fn set_native_value(el: &Element, value: &str) -> bool {
    let mut proto = js_sys::Object::get_prototype_of(el.as_ref());
    while !proto.is_null() && !proto.is_undefined() {
        let desc = cobrowse_web_glue::realm::own_descriptor(proto.unchecked_ref(), "value");
        if !desc.is_undefined() {
            let setter = js_sys::Reflect::get(&desc, &"set".into()).unwrap_or_default();
            if let Some(f) = setter.dyn_ref::<js_sys::Function>() {
                return f.call1(el.as_ref(), &value.into()).is_ok();
            }
            return false;
        }
        proto = js_sys::Object::get_prototype_of(proto.as_ref());
    }
    false
}

/// Whether the action targets an element the agent may not touch (site `restrict` rules).
fn restricted(el: &Element, action: &AgentAction) -> bool {
    !matches!(action, AgentAction::Scroll(_) | AgentAction::Navigate(_))
        && crate::web::restrict::is_restricted(el)
}

/// The editing host of `el`: its outermost ancestor-or-self that is still content-editable.
fn editing_host(el: &Element) -> Option<web_sys::HtmlElement> {
    let mut host = dom::html_element(el)
        .filter(|h| h.is_content_editable())?
        .clone();
    while let Some(p) = host
        .parent_element()
        .and_then(|p| p.dyn_into::<web_sys::HtmlElement>().ok())
        .filter(|p| p.is_content_editable())
    {
        host = p;
    }
    Some(host)
}

/// The length of `node` as a selection offset: UTF-16 units for text, children for elements.
fn node_len(node: &Node) -> u32 {
    match node.node_type() {
        Node::TEXT_NODE | Node::COMMENT_NODE | Node::CDATA_SECTION_NODE => node
            .node_value()
            .map(|v| v.encode_utf16().count() as u32)
            .unwrap_or(0),
        _ => node.child_nodes().length(),
    }
}

/// Performs one [`AgentAction::Edit`] step on the contenteditable `el`, at `caret` (a node inside
/// the editing host and an offset) or, without one, where the customer's caret already is in the
/// host (its end when the caret is elsewhere).
pub fn edit(
    window: &Window,
    el: &Element,
    caret: Option<(Node, u32)>,
    op: &EditOp,
) -> Result<(), RefusalReason> {
    let host = editing_host(el).ok_or(RefusalReason::NotEditable)?;
    let caret_el = caret
        .as_ref()
        .and_then(|(n, _)| dom::element(n).cloned().or_else(|| n.parent_element()));
    if crate::web::restrict::is_restricted(&host)
        || crate::web::restrict::has_masked(&host)
        || caret_el.as_ref().is_some_and(|e| {
            crate::web::restrict::is_restricted(e) || crate::web::restrict::is_masked(e)
        })
    {
        return Err(RefusalReason::Restricted);
    }
    let selection = window
        .get_selection()
        .ok()
        .flatten()
        .ok_or(RefusalReason::NotEditable)?;
    let host_node: &Node = host.as_ref();
    // Where to type: the agent's caret, else the customer's caret if it is in this editor.
    let at = match caret {
        Some((n, off)) if host_node.contains(Some(&n)) => {
            let off = off.min(node_len(&n));
            Some((n, off))
        }
        _ => selection
            .anchor_node()
            .filter(|n| host_node.contains(Some(n)))
            .map(|n| (n, selection.anchor_offset())),
    };
    // Focus first: focusing an editor that was not focused moves the caret to its start.
    let _ = host.focus();
    match at {
        Some((n, off)) => selection
            .collapse_with_offset(Some(&n), off)
            .map_err(|_| RefusalReason::NoSuchNode)?,
        None => selection
            .collapse_with_offset(Some(host_node), node_len(host_node))
            .map_err(|_| RefusalReason::NoSuchNode)?,
    }
    let (command, data) = exec_command(op);
    if !announce(window, &host, op.input_type(), data) {
        return Ok(()); // the editor handled the step itself (preventDefault on beforeinput)
    }
    let doc = window.document().ok_or(RefusalReason::NoSuchNode)?;
    let exec = js_sys::Reflect::get(doc.as_ref(), &"execCommand".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or(RefusalReason::NotEditable)?;
    let done = exec
        .call3(
            doc.as_ref(),
            &command.into(),
            &false.into(),
            &data.map(JsValue::from).unwrap_or(JsValue::UNDEFINED),
        )
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if done {
        Ok(())
    } else {
        Err(RefusalReason::NotEditable)
    }
}

/// Dispatches a cancelable `beforeinput` (`inputType`, `data`) at the editing host, as the
/// browser does before its own typing (`execCommand` does not). False when a listener called
/// `preventDefault`, i.e. the editor performed the step itself.
fn announce(window: &Window, host: &Element, input_type: &str, data: Option<&str>) -> bool {
    let Some(ctor) = js_sys::Reflect::get(window.as_ref(), &"InputEvent".into())
        .ok()
        .and_then(|c| c.dyn_into::<js_sys::Function>().ok())
    else {
        return true;
    };
    let init = js_sys::Object::new();
    for (k, v) in [
        ("bubbles", JsValue::TRUE),
        ("cancelable", JsValue::TRUE),
        ("composed", JsValue::TRUE),
        ("inputType", input_type.into()),
        ("data", data.map(JsValue::from).unwrap_or(JsValue::NULL)),
    ] {
        let _ = js_sys::Reflect::set(&init, &k.into(), &v);
    }
    let args = js_sys::Array::of2(&"beforeinput".into(), &init);
    match js_sys::Reflect::construct(&ctor, &args) {
        Ok(ev) => host.dispatch_event(ev.unchecked_ref()).unwrap_or(true),
        Err(_) => true,
    }
}

/// Performs `action`; `node` is the element its id names (None when unknown). An
/// [`AgentAction::Edit`] with a caret needs [`perform_at`].
pub fn perform(
    window: &Window,
    node: Option<Node>,
    action: &AgentAction,
) -> Result<(), RefusalReason> {
    perform_at(window, node, None, action)
}

/// [`perform`], with `caret` the node an [`AgentAction::Edit`]'s caret names (None when unknown
/// or when the action has no caret).
pub fn perform_at(
    window: &Window,
    node: Option<Node>,
    caret: Option<Node>,
    action: &AgentAction,
) -> Result<(), RefusalReason> {
    if let Some(el) = node.as_ref().and_then(dom::element)
        && restricted(el, action)
    {
        return Err(RefusalReason::Restricted);
    }
    let element = || -> Result<Element, RefusalReason> {
        node.as_ref()
            .and_then(dom::element)
            .cloned()
            .ok_or(RefusalReason::NoSuchNode)
    };
    match action {
        AgentAction::Click { .. } => {
            let el = element()?;
            let control = control_for(&el);
            let (tag, ty) = (control.local_name(), control.get_attribute("type"));
            let facts = ElementFacts {
                tag: &tag,
                input_type: ty.as_deref(),
                ..ElementFacts::default()
            };
            if !agent_may_click(&facts, in_form(&control)) {
                return Err(RefusalReason::Restricted);
            }
            dom::html_element(&el)
                .ok_or(RefusalReason::NoSuchNode)?
                .click();
        }
        AgentAction::Input { value, .. } => {
            let el = element()?;
            if !agent_may_type(&crate::web::facts::of(&el).facts()) {
                return Err(RefusalReason::Restricted);
            }
            if let Some(i) = dom::html_tag::<HtmlInputElement>(&el, "input") {
                if !set_native_value(&el, value) {
                    i.set_value(value);
                }
            } else if let Some(t) = dom::html_tag::<HtmlTextAreaElement>(&el, "textarea") {
                if !set_native_value(&el, value) {
                    t.set_value(value);
                }
            } else if dom::html_element(&el).is_some_and(|h| h.is_content_editable()) {
                el.set_text_content(Some(value));
            } else {
                return Err(RefusalReason::NoSuchNode);
            }
            fire(&el, "input");
            fire(&el, "change");
        }
        AgentAction::Check { checked, .. } => {
            let el = element()?;
            let input =
                dom::html_tag::<HtmlInputElement>(&el, "input").ok_or(RefusalReason::NoSuchNode)?;
            if input.checked() != *checked {
                // click() toggles and fires the events a person's click would.
                input.click();
            }
        }
        AgentAction::Select { selected, .. } => {
            let el = element()?;
            let select = dom::html_tag::<HtmlSelectElement>(&el, "select")
                .ok_or(RefusalReason::NoSuchNode)?;
            let options = select.options();
            for i in 0..options.length() {
                if let Some(o) = options
                    .item(i)
                    .map(|o| o.unchecked_into::<web_sys::HtmlOptionElement>())
                {
                    o.set_selected(selected.contains(&i));
                }
            }
            fire(&el, "input");
            fire(&el, "change");
        }
        AgentAction::Focus { .. } => {
            let el = element()?;
            let _ = dom::html_element(&el)
                .ok_or(RefusalReason::NoSuchNode)?
                .focus();
        }
        AgentAction::Key {
            key,
            code,
            modifiers: m,
            ..
        } => {
            let target: Element = match element() {
                Ok(el) => el,
                Err(_) => window
                    .document()
                    .and_then(|d| d.active_element())
                    .ok_or(RefusalReason::NoSuchNode)?,
            };
            if crate::web::restrict::is_restricted(&target) {
                return Err(RefusalReason::Restricted);
            }
            for ty in ["keydown", "keyup"] {
                let init = KeyboardEventInit::new();
                init.set_bubbles(true);
                init.set_key(key);
                init.set_code(code);
                init.set_shift_key(m & modifiers::SHIFT != 0);
                init.set_ctrl_key(m & modifiers::CTRL != 0);
                init.set_alt_key(m & modifiers::ALT != 0);
                init.set_meta_key(m & modifiers::META != 0);
                if let Ok(ev) = KeyboardEvent::new_with_keyboard_event_init_dict(ty, &init) {
                    let _ = target.dispatch_event(&ev);
                }
            }
        }
        AgentAction::Scroll(pos) => match pos.target {
            ScrollTarget::Window => window.scroll_to_with_x_and_y(pos.x.into(), pos.y.into()),
            ScrollTarget::Node(_) => {
                let el = element()?;
                el.set_scroll_left(pos.x);
                el.set_scroll_top(pos.y);
            }
        },
        AgentAction::Edit { caret: c, op, .. } => {
            let el = element()?;
            let caret = match (c, caret) {
                (Some(c), Some(n)) => Some((n, c.offset)),
                (Some(_), None) => return Err(RefusalReason::NoSuchNode),
                (None, _) => None,
            };
            edit(window, &el, caret, op)?;
        }
        AgentAction::Navigate(nav) => {
            let history = window.history().map_err(|_| RefusalReason::NoSuchNode)?;
            match nav {
                NavAction::Back => {
                    let _ = history.back();
                }
                NavAction::Forward => {
                    let _ = history.forward();
                }
                NavAction::Reload => {
                    let _ = window.location().reload();
                }
                NavAction::Url(u) => {
                    let here = window.location().href().unwrap_or_default();
                    let target = web_sys::Url::new_with_base(u, &here)
                        .map_err(|_| RefusalReason::OffOrigin)?;
                    let origin = window.location().origin().unwrap_or_default();
                    if !same_origin(&origin, &target.origin()) {
                        return Err(RefusalReason::OffOrigin);
                    }
                    let _ = window.location().set_href(&target.href());
                }
            }
        }
    }
    Ok(())
}
