//! Keeping the replica frame inert: the sandbox it must have from birth, and capture-phase guards
//! that cancel activation (link clicks, Enter, form submission), edits and the agent's own focus
//! inside its documents; the one focus the replica takes itself, to paint the customer's
//! selection in a text control; a replica document URL that carries nothing of the agent page's.

use gloo_events::{EventListener, EventListenerOptions, EventListenerPhase};
use js_sys::Reflect;
use std::cell::Cell;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlIFrameElement};

/// Events whose default action could navigate the replica, submit a form or edit a control.
const GUARDED_EVENTS: &[&str] = &["click", "auxclick", "submit", "keydown", "beforeinput"];

thread_local! {
    /// Set while [`focus_for_selection`] focuses a replica control, so the focus guard keeps it.
    static OWN_FOCUS: Cell<bool> = const { Cell::new(false) };
}

/// Focuses replica control `el` so its selection is painted (a browser paints a text control's
/// selection only while it is focused), unless the agent page is in use: only when that page has
/// focus and nothing on it is focused but the replica frame itself, so a field the agent types
/// into, the toolbar or another frame of the agent's desktop never loses focus. Keys then reach
/// the replica, where the guards let none of them edit or activate anything. True when focused.
pub(super) fn focus_for_selection(frame: &HtmlIFrameElement, el: &Element) -> bool {
    let Some(page) = frame.owner_document() else {
        return false;
    };
    let idle = page.active_element().is_none_or(|a| {
        a.is_same_node(Some(frame))
            || page.body().is_some_and(|b| a.is_same_node(Some(&b)))
            || page
                .document_element()
                .is_some_and(|h| a.is_same_node(Some(&h)))
    });
    if !page.has_focus().unwrap_or(false) || !idle {
        return false;
    }
    let opts = js_sys::Object::new();
    let _ = Reflect::set(&opts, &"preventScroll".into(), &JsValue::TRUE);
    OWN_FOCUS.with(|f| f.set(true));
    let focused = Reflect::get(el, &"focus".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .is_some_and(|f| f.call1(el, &opts).is_ok());
    OWN_FOCUS.with(|f| f.set(false));
    focused
}

/// Takes the focus [`focus_for_selection`] gave `el` away again (the customer's selection moved
/// on), and the replica frame's focus on the agent page with it.
pub(super) fn release_focus(frame: &HtmlIFrameElement, el: &Element) {
    if let Some(doc) = el.owner_document()
        && doc
            .active_element()
            .is_some_and(|a| a.is_same_node(Some(el)))
        && let Ok(blur) = Reflect::get(el, &"blur".into())
        && let Some(blur) = blur.dyn_ref::<js_sys::Function>()
    {
        let _ = blur.call0(el);
        // The document's selection stays inside the blurred control otherwise (and would still
        // read as selected text there).
        if let Ok(Some(sel)) = doc.get_selection() {
            let _ = sel.remove_all_ranges();
        }
    }
    if frame
        .owner_document()
        .and_then(|d| d.active_element())
        .is_some_and(|a| a.is_same_node(Some(frame)))
    {
        let _ = frame.blur();
    }
}

/// Cancels activation behaviour in a replica document. The overlay already keeps the agent's
/// mouse off the replica, but keyboard focus can still reach a link (Enter follows it, and a
/// sandbox without `allow-scripts` still lets a frame navigate itself). The listener runs in the
/// agent page's realm, so the replica's disabled scripting does not stop it.
pub(super) fn guard(doc: &Document) -> Vec<EventListener> {
    // Focus the agent's keyboard gives a replica element would show the agent's own focus
    // ring and the page's `:focus` rules, which the customer does not see: the replica shows
    // the customer's focus only (mirrored by `web::styles`), so its own is taken away at once.
    let no_focus = EventListener::new_with_options(
        doc,
        "focusin",
        EventListenerOptions {
            phase: EventListenerPhase::Capture,
            passive: true,
        },
        |e| {
            if OWN_FOCUS.with(Cell::get) {
                return;
            }
            if let Some(t) = e.target()
                && let Ok(blur) = Reflect::get(&t, &"blur".into())
                && let Some(blur) = blur.dyn_ref::<js_sys::Function>()
            {
                let _ = blur.call0(&t);
            }
        },
    );
    std::iter::once(no_focus)
        .chain(GUARDED_EVENTS.iter().map(|ev| {
            let opts = EventListenerOptions {
                phase: EventListenerPhase::Capture,
                passive: false,
            };
            let is_key = *ev == "keydown";
            EventListener::new_with_options(doc, *ev, opts, move |e| {
                if is_key {
                    // Keys that activate (Enter, Space); in a text control (focused to show the
                    // customer's selection) every key but Tab, which moves a caret or selection.
                    let key = Reflect::get(e, &"key".into())
                        .ok()
                        .and_then(|k| k.as_string())
                        .unwrap_or_default();
                    let in_text = e
                        .target()
                        .and_then(|t| Reflect::get(&t, &"localName".into()).ok())
                        .and_then(|n| n.as_string())
                        .is_some_and(|n| n == "input" || n == "textarea");
                    if key != "Enter" && key != " " && !(in_text && key != "Tab") {
                        return;
                    }
                }
                e.prevent_default();
            })
        }))
        .collect()
}

/// The sandbox the replica frame must have: same origin (so the agent page can build into it),
/// nothing else (no scripts, forms, popups, top navigation).
pub const REPLICA_SANDBOX: &str = "allow-same-origin";

/// `frame` if it has exactly [`REPLICA_SANDBOX`], else a fresh frame with it that takes its place
/// (sandbox flags only take effect when a frame navigates).
pub(super) fn ensure_sandboxed(frame: HtmlIFrameElement) -> HtmlIFrameElement {
    if frame.get_attribute("sandbox").as_deref() == Some(REPLICA_SANDBOX) {
        return frame;
    }
    let fresh = frame
        .owner_document()
        .and_then(|d| d.create_element("iframe").ok())
        .and_then(|e| e.dyn_into::<HtmlIFrameElement>().ok());
    let Some(fresh) = fresh else {
        // Cannot build a replacement: at least never leave scripts allowed on a later load.
        let _ = frame.set_attribute("sandbox", REPLICA_SANDBOX);
        return frame;
    };
    let _ = fresh.set_attribute("sandbox", REPLICA_SANDBOX);
    for name in ["id", "class", "title", "style"] {
        if let Some(v) = frame.get_attribute(name) {
            let _ = fresh.set_attribute(name, &v);
        }
    }
    if let Some(parent) = frame.parent_node() {
        let _ = parent.replace_child(&fresh, &frame);
    }
    fresh
}

/// Gives a replica document the agent page's path as its URL, without query or fragment.
/// `document.open()` made it the agent page's full URL, which may carry the session number or a
/// credential (`?sid=…&auth=…`), and a document's URL is what its requests send as `Referer`
/// where a referrer is sent at all (Chromium sends the origin with style-sheet image loads
/// whatever the referrer policy says). The replica resolves the customer's URLs against its own
/// `<base>`, so nothing else depends on it.
pub(super) fn scrub_url(doc: &Document) {
    let Some(w) = doc.default_view() else { return };
    let path = w.location().pathname().unwrap_or_default();
    let clean = doc.url().is_ok_and(|u| {
        u.split_once(['?', '#'])
            .is_none_or(|(_, rest)| rest.is_empty())
    });
    if clean {
        return;
    }
    // Through `Reflect`: a throwing call (a browser that refuses it) must not unwind into wasm.
    let replaced = Reflect::get(&w, &"history".into())
        .ok()
        .and_then(|h| {
            let f: js_sys::Function = Reflect::get(&h, &"replaceState".into())
                .ok()
                .filter(JsValue::is_function)?
                .unchecked_into();
            f.call3(&h, &JsValue::NULL, &"".into(), &path.into()).ok()
        })
        .is_some();
    if !replaced {
        crate::debug!("the replica's URL could not be cleared");
    }
}
