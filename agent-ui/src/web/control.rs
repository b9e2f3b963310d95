//! Write mode on the agent page: turns the agent's clicks, typing, option choices, wheel and
//! navigation into node-id targeted [`AgentAction`]s, and shows the write-mode controls.
//!
//! The replica never receives input itself (it is under the overlay, sandboxed, and activation
//! inside it is cancelled), so typing goes to a proxy `<input id="cobrowse-typing">` on the agent
//! page: a click on a text control in the replica focuses the proxy with that control's current
//! value; every `input` (not mid-composition, so IME text arrives composed) sends
//! `Input{node, value}`, special keys send `Key`. A click on an element that is contenteditable
//! in the replica (the customer's attribute, kept by the replica) focuses the same proxy, emptied,
//! in *editing* mode: each inserted text (typed, pasted, IME-composed) becomes
//! `Edit{node, op: Insert}` and the proxy empties again, Backspace/Delete/Enter become delete and
//! paragraph steps ([`edit_key`]), and the first step after the click carries the caret the click
//! put in the replica (`caretPositionFromPoint`, by node id), so the text lands where the agent
//! clicked; later steps continue where the previous one left the customer's caret. The replica
//! itself stays uneditable. A click on a `<select>` opens a proxy
//! `<select id="cobrowse-select">` over it. All of this only in write mode; in pointer mode clicks
//! only draw rings ([`on_click`] returns at once).
//!
//! Controls created here (ids are test contracts): `#cobrowse-release-control` (back to pointer
//! mode), `#cobrowse-nav` with `#cobrowse-back`, `#cobrowse-forward`, `#cobrowse-reload` and the
//! URL form `#cobrowse-nav-url`; shown only in write mode. `<html data-cobrowse-mode>` is
//! `pointer|write` (`Mode`'s codes).
//!
//! # Who owns each `Closure`
//!
//! The listeners live in the thread-local `CONTROL` for the life of the page.

use super::prefs::tr;
use cobrowse_protocol::{
    AgentAction, Caret, Code, EditOp, Message, Mode, ModeChange, NavAction, NodeId, Party,
    ScrollPosition, ScrollTarget, modifiers,
};
use gloo_events::{EventListener, EventListenerOptions};
use js_sys::Reflect;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlElement, HtmlInputElement, HtmlSelectElement};

/// Sends a frame to the server (the app's `send`).
pub type Sender = Rc<dyn Fn(&Message)>;

struct Control {
    doc: Document,
    send: Sender,
    write: bool,
    typing: HtmlInputElement,
    /// The replica node the proxy input types into.
    typing_node: Option<NodeId>,
    /// The contenteditable node the proxy edits, and the caret to send with its first step.
    editing: Option<(NodeId, Option<Caret>)>,
    select: Option<(HtmlSelectElement, NodeId)>,
    nav: Option<Element>,
    release: Option<HtmlElement>,
    request: Option<HtmlElement>,
    listeners: Vec<EventListener>,
}

thread_local! {
    static CONTROL: RefCell<Option<Control>> = const { RefCell::new(None) };
}

fn with<R>(f: impl FnOnce(&mut Control) -> R) -> Option<R> {
    CONTROL.with(|c| c.try_borrow_mut().ok()?.as_mut().map(f))
}

fn get_str(v: &JsValue, key: &str) -> String {
    Reflect::get(v, &key.into())
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

fn get_bool(v: &JsValue, key: &str) -> bool {
    Reflect::get(v, &key.into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

fn get_f64(v: &JsValue, key: &str) -> f64 {
    Reflect::get(v, &key.into())
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0)
}

fn send(msg: &Message) {
    let s = with(|c| c.send.clone());
    if let Some(s) = s {
        s(msg);
    }
}

fn el(doc: &Document, tag: &str, id: &str, text: &str) -> Option<HtmlElement> {
    let e: HtmlElement = doc.create_element(tag).ok()?.unchecked_into();
    e.set_id(id);
    if !text.is_empty() {
        e.set_text_content(Some(text));
    }
    Some(e)
}

/// Keys sent as `Key` actions (text itself arrives as the proxy's value).
const SPECIAL_KEYS: &[&str] = &[
    "Enter",
    "Tab",
    "Escape",
    "ArrowUp",
    "ArrowDown",
    "ArrowLeft",
    "ArrowRight",
    "Home",
    "End",
    "PageUp",
    "PageDown",
];

/// Whether a key press is sent as a `Key` action rather than through the value.
pub fn is_special_key(key: &str, ctrl_or_meta: bool) -> bool {
    SPECIAL_KEYS.contains(&key) || (ctrl_or_meta && key.chars().count() == 1)
}

/// The modifier bits of a keyboard event.
fn mods(e: &JsValue) -> u8 {
    let mut m = 0;
    if get_bool(e, "shiftKey") {
        m |= modifiers::SHIFT;
    }
    if get_bool(e, "ctrlKey") {
        m |= modifiers::CTRL;
    }
    if get_bool(e, "altKey") {
        m |= modifiers::ALT;
    }
    if get_bool(e, "metaKey") {
        m |= modifiers::META;
    }
    m
}

/// The editing step a key press is in a contenteditable (others are text or `Key` actions).
/// Shortcuts (Ctrl/Meta/Alt) are not steps: they go as `Key` like elsewhere.
pub fn edit_key(key: &str, mods: u8) -> Option<EditOp> {
    if mods & (modifiers::CTRL | modifiers::META | modifiers::ALT) != 0 {
        return None;
    }
    match key {
        "Backspace" => Some(EditOp::DeleteBackward),
        "Delete" => Some(EditOp::DeleteForward),
        "Enter" if mods & modifiers::SHIFT != 0 => Some(EditOp::LineBreak),
        "Enter" => Some(EditOp::Paragraph),
        _ => None,
    }
}

/// Sends one editing step to the contenteditable being edited, with the pending caret.
fn send_edit(op: EditOp) {
    let v = with(|c| {
        let (node, caret) = c.editing.as_mut().filter(|_| c.write)?;
        Some((*node, caret.take()))
    })
    .flatten();
    if let Some((node, caret)) = v {
        send(&Message::Action(AgentAction::Edit { node, caret, op }));
    }
}

fn send_typed_value() {
    let editing = with(|c| c.editing.is_some()).unwrap_or(false);
    if editing {
        // The proxy holds exactly the text inserted since the last step.
        let text = with(|c| {
            let t = c.typing.value();
            c.typing.set_value("");
            t
        })
        .unwrap_or_default();
        if !text.is_empty() {
            send_edit(EditOp::Insert(text));
        }
        return;
    }
    let v = with(|c| (c.write, c.typing_node, c.typing.value()));
    if let Some((true, Some(node), value)) = v {
        send(&Message::Action(AgentAction::Input { node, value }));
    }
}

/// Creates the write-mode controls (hidden) and wires them. `doc` is the agent page.
pub fn install(doc: &Document, sender: Sender) {
    let Some(typing) = el(doc, "input", "cobrowse-typing", "") else {
        return;
    };
    let typing: HtmlInputElement = typing.unchecked_into();
    let _ = typing.set_attribute("aria-label", &tr("typingLabel"));
    let _ = typing.set_attribute("autocomplete", "off");
    let _ = typing.set_attribute("class", "cobrowse-typing");
    let _ = typing.set_attribute(
        "style",
        "position:fixed;left:0;bottom:0;width:1px;height:1px;opacity:0;border:0;padding:0",
    );
    let mut listeners = Vec::new();
    listeners.push(EventListener::new(&typing, "input", |e| {
        if !get_bool(e.as_ref(), "isComposing") {
            send_typed_value();
        }
    }));
    listeners.push(EventListener::new(&typing, "compositionend", |_| {
        send_typed_value()
    }));
    listeners.push(EventListener::new_with_options(
        &typing,
        "keydown",
        EventListenerOptions::enable_prevent_default(),
        |e| {
            let ev: &JsValue = e.as_ref();
            let key = get_str(ev, "key");
            let m = mods(ev);
            if get_bool(ev, "isComposing") {
                return;
            }
            if with(|c| c.editing.is_some()).unwrap_or(false)
                && let Some(op) = edit_key(&key, m)
            {
                e.prevent_default();
                send_edit(op);
                return;
            }
            if !is_special_key(&key, m & (modifiers::CTRL | modifiers::META) != 0) {
                return;
            }
            if key == "Tab" {
                e.prevent_default(); // keep typing into the customer's page
            }
            let node = with(|c| c.typing_node).flatten();
            send(&Message::Action(AgentAction::Key {
                node,
                key,
                code: get_str(ev, "code"),
                modifiers: m,
            }));
        },
    ));
    let body = doc.body();
    if let Some(b) = &body {
        let _ = b.append_child(&typing);
    }

    // Toolbar: release control + navigation, next to the request button.
    let actions = doc
        .get_element_by_id("cobrowse-request-control")
        .and_then(|r| r.parent_element())
        .or_else(|| body.clone().map(Element::from));
    let release = el(
        doc,
        "button",
        "cobrowse-release-control",
        &tr("releaseControl"),
    );
    let nav = build_nav(doc, &mut listeners);
    if let (Some(parent), Some(r)) = (&actions, &release) {
        let _ = r.set_attribute("type", "button");
        r.set_hidden(true);
        let _ = parent.insert_before(r, parent.first_child().as_ref());
        listeners.push(EventListener::new(r, "click", |_| {
            send(&Message::Mode(ModeChange::Revoked { by: Party::Agent }));
            set_write(false);
        }));
    }
    if let (Some(parent), Some(n)) = (&actions, &nav) {
        let _ = parent.insert_before(n, parent.first_child().as_ref());
    }
    if let Some(overlay) = doc.get_element_by_id("cobrowse-overlay") {
        listeners.push(EventListener::new_with_options(
            &overlay,
            "wheel",
            EventListenerOptions::enable_prevent_default(),
            |e| on_wheel(e.as_ref()),
        ));
    }
    let request = doc
        .get_element_by_id("cobrowse-request-control")
        .map(|r| r.unchecked_into::<HtmlElement>());
    let _ = doc
        .document_element()
        .map(|h| h.set_attribute("data-cobrowse-mode", Mode::Pointer.code()));
    CONTROL.with(|c| {
        *c.borrow_mut() = Some(Control {
            doc: doc.clone(),
            send: sender,
            write: false,
            typing,
            typing_node: None,
            editing: None,
            select: None,
            nav,
            release,
            request,
            listeners,
        })
    });
}

fn build_nav(doc: &Document, listeners: &mut Vec<EventListener>) -> Option<Element> {
    let nav = el(doc, "form", "cobrowse-nav", "")?;
    let _ = nav.set_attribute("aria-label", &tr("navLabel"));
    let _ = nav.set_attribute("class", "cobrowse-nav");
    nav.set_hidden(true);
    for (id, label, action) in [
        ("cobrowse-back", "navBack", NavAction::Back),
        ("cobrowse-forward", "navForward", NavAction::Forward),
        ("cobrowse-reload", "navReload", NavAction::Reload),
    ] {
        let b = el(doc, "button", id, &tr(label))?;
        let _ = b.set_attribute("type", "button");
        listeners.push(EventListener::new(&b, "click", move |_| {
            send(&Message::Action(AgentAction::Navigate(action.clone())));
        }));
        let _ = nav.append_child(&b);
    }
    let url: HtmlInputElement = el(doc, "input", "cobrowse-nav-url", "")?.unchecked_into();
    let _ = url.set_attribute("aria-label", &tr("navUrlLabel"));
    let _ = url.set_attribute("placeholder", &tr("navUrlPlaceholder"));
    let _ = nav.append_child(&url);
    let go = el(doc, "button", "cobrowse-nav-go", &tr("navGo"))?;
    let _ = go.set_attribute("type", "submit");
    let _ = nav.append_child(&go);
    listeners.push(EventListener::new_with_options(
        &nav,
        "submit",
        EventListenerOptions::enable_prevent_default(),
        move |e| {
            e.prevent_default();
            let u = url.value().trim().to_owned();
            if !u.is_empty() {
                // The customer's side resolves it against the page and refuses other origins.
                send(&Message::Action(AgentAction::Navigate(NavAction::Url(u))));
            }
        },
    ));
    Some(nav.into())
}

/// Write mode on or off (the customer granted, denied or revoked, or the agent released).
pub fn set_write(write: bool) {
    with(|c| {
        c.write = write;
        if let Some(n) = &c.nav {
            let _ = if write {
                n.remove_attribute("hidden")
            } else {
                n.set_attribute("hidden", "")
            };
        }
        if let Some(r) = &c.release {
            r.set_hidden(!write);
        }
        if let Some(r) = &c.request
            && r.is_connected()
        {
            r.set_hidden(write);
        }
        if !write {
            c.typing_node = None;
            c.editing = None;
            let _ = c.typing.blur();
            if let Some((s, _)) = c.select.take() {
                s.remove();
            }
        }
        if let Some(h) = c.doc.document_element() {
            let mode = if write { Mode::Write } else { Mode::Pointer };
            let _ = h.set_attribute("data-cobrowse-mode", mode.code());
        }
    });
}

/// Whether write mode is on.
pub fn is_write() -> bool {
    with(|c| c.write).unwrap_or(false)
}

fn is_text_control(e: &Element) -> bool {
    match e.local_name().as_str() {
        "textarea" => true,
        "input" => !matches!(
            e.get_attribute("type")
                .unwrap_or_default()
                .to_ascii_lowercase()
                .as_str(),
            "checkbox"
                | "radio"
                | "submit"
                | "button"
                | "image"
                | "reset"
                | "file"
                | "range"
                | "color"
                | "hidden"
        ),
        _ => false,
    }
}

/// Whether `e` is editable in the replica (`isContentEditable` follows the customer's
/// `contenteditable` attributes, which the replica keeps; its documents run no script).
fn is_editable(e: &Element) -> bool {
    get_bool(e.as_ref(), "isContentEditable")
}

/// The agent clicked the replica at `(x, y)` (customer viewport px) on `node`, the element
/// `target` of the replica document; `caret` is where the click puts a caret there (node id,
/// offset). In write mode: performs the click on the customer's side and starts typing, editing
/// or choosing when it is a text control, a contenteditable or a select.
pub fn on_click(
    target: Option<Element>,
    node: Option<NodeId>,
    caret: Option<(NodeId, u32)>,
    x: i32,
    y: i32,
) {
    if !is_write() {
        return;
    }
    let Some(node) = node else {
        crate::debug!("write-mode click on no replica node: nothing to act on");
        return;
    };
    let rect = target.as_ref().map(Element::get_bounding_client_rect);
    let (ox, oy) = rect
        .as_ref()
        .map(|r| (x - r.left() as i32, y - r.top() as i32))
        .unwrap_or((0, 0));
    let Some(target) = target else {
        send(&Message::Action(AgentAction::Click { node, x: ox, y: oy }));
        return;
    };
    if target.local_name() == "select" {
        open_select(&target, node);
        return;
    }
    send(&Message::Action(AgentAction::Click { node, x: ox, y: oy }));
    if is_text_control(&target) {
        let value = get_str(target.as_ref(), "value");
        with(|c| {
            c.typing_node = Some(node);
            c.editing = None;
            c.typing.set_value(&value);
            let _ = c.typing.focus();
        });
    } else if is_editable(&target) {
        with(|c| {
            c.typing_node = None;
            let caret = caret.map(|(node, offset)| Caret { node, offset });
            c.editing = Some((node, caret));
            c.typing.set_value("");
            let _ = c.typing.focus();
        });
    } else {
        with(|c| {
            c.typing_node = None;
            c.editing = None;
        });
    }
}

fn open_select(target: &Element, node: NodeId) {
    with(|c| {
        if let Some((s, _)) = c.select.take() {
            s.remove();
        }
        let Ok(sel) = c.doc.create_element("select") else {
            return;
        };
        let sel: HtmlSelectElement = sel.unchecked_into();
        sel.set_id("cobrowse-select");
        let _ = sel.set_attribute("aria-label", &tr("selectLabel"));
        let multiple = target.has_attribute("multiple");
        sel.set_multiple(multiple);
        let options = Reflect::get(target.as_ref(), &"options".into()).unwrap_or_default();
        let n = get_f64(&options, "length") as u32;
        for i in 0..n {
            let Ok(o) = Reflect::get_u32(&options, i) else {
                continue;
            };
            let Ok(opt) = c.doc.create_element("option") else {
                continue;
            };
            opt.set_text_content(Some(&get_str(&o, "text")));
            if get_bool(&o, "selected") {
                let _ = opt.set_attribute("selected", "");
            }
            let _ = sel.append_child(&opt);
        }
        let r = target.get_bounding_client_rect();
        let _ = sel.set_attribute(
            "style",
            &format!(
                "position:absolute;z-index:10;left:{}px;top:{}px;min-width:{}px",
                r.left(),
                r.bottom(),
                r.width().max(80.0)
            ),
        );
        let host = c
            .doc
            .get_element_by_id("cobrowse-frame-box")
            .or_else(|| c.doc.body().map(Element::from));
        if let Some(h) = host {
            let _ = h.append_child(&sel);
        }
        let _ = sel.focus();
        let l = EventListener::new(&sel, "change", move |e| {
            let Some(s) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
            else {
                return;
            };
            let opts = Reflect::get(s.as_ref(), &"options".into()).unwrap_or_default();
            let selected = (0..get_f64(&opts, "length") as u32)
                .filter(|i| Reflect::get_u32(&opts, *i).is_ok_and(|o| get_bool(&o, "selected")))
                .collect();
            send(&Message::Action(AgentAction::Select { node, selected }));
            if !s.multiple() {
                s.remove();
            }
        });
        c.listeners.push(l);
        c.select = Some((sel, node));
    });
}

fn on_wheel(e: &JsValue) {
    if !is_write() {
        return;
    }
    let doc = with(|c| c.doc.clone());
    let replica = doc
        .and_then(|d| d.get_element_by_id("cobrowse-replica"))
        .and_then(|f| Reflect::get(f.as_ref(), &"contentWindow".into()).ok())
        .filter(|w| w.is_object());
    let (sx, sy) = replica
        .as_ref()
        .map(|w| (get_f64(w, "scrollX"), get_f64(w, "scrollY")))
        .unwrap_or((0.0, 0.0));
    if let Some(ev) = e.dyn_ref::<web_sys::Event>() {
        ev.prevent_default();
    }
    let x = (sx + get_f64(e, "deltaX")).max(0.0) as i32;
    let y = (sy + get_f64(e, "deltaY")).max(0.0) as i32;
    send(&Message::Action(AgentAction::Scroll(ScrollPosition {
        target: ScrollTarget::Window,
        x,
        y,
    })));
}

#[cfg(test)]
mod tests {
    use super::*;
    // `web` is wasm-only, where plain `#[test]`s are not run by wasm-bindgen-test-runner.
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn special_keys_and_shortcuts_are_actions_text_is_not() {
        assert!(is_special_key("Enter", false));
        assert!(is_special_key("ArrowLeft", false));
        assert!(is_special_key("a", true), "Ctrl+A is a shortcut");
        assert!(!is_special_key("a", false), "text arrives as the value");
        assert!(!is_special_key("Shift", false));
        assert!(!is_special_key("Backspace", false), "changes the value");
    }

    #[test]
    fn editing_keys_become_edit_steps_shortcuts_do_not() {
        assert_eq!(edit_key("Backspace", 0), Some(EditOp::DeleteBackward));
        assert_eq!(edit_key("Delete", 0), Some(EditOp::DeleteForward));
        assert_eq!(edit_key("Enter", 0), Some(EditOp::Paragraph));
        assert_eq!(edit_key("Enter", modifiers::SHIFT), Some(EditOp::LineBreak));
        assert_eq!(edit_key("Backspace", modifiers::CTRL), None, "a shortcut");
        assert_eq!(edit_key("a", 0), None, "text arrives through the proxy");
        assert_eq!(edit_key("ArrowLeft", 0), None);
    }
}
