//! Whether the customer has a native `<select>` popup open. The popup is drawn by the browser
//! outside the page, so no DOM change tells; the page's events around a select do (a press on
//! it, keys, `change`, focus leaving), and browsers with `:open` say it outright. After each such
//! event the recorder asks at the next animation frame; while a popup is open it asks every frame
//! (so a close no event announces, such as Escape in the popup, is seen).
//!
//! Where `:open` is missing the answer is [`crate::paint::guess_select_open`]'s.

use crate::paint::{SelectEvent, SelectKey, guess_select_open};
use cobrowse_web_glue::realm::html_tag;
use std::cell::Cell;
use wasm_bindgen::JsCast;
use web_sys::{Document, Event, HtmlSelectElement, KeyboardEvent, MouseEvent, Node};

/// What is known about the customer's select popups.
pub(super) struct SelectWatch {
    /// `:open` works for `<select>` in this browser (else the events are used).
    supports_open: Cell<Option<bool>>,
    /// The select the events last concerned, and whether its popup is guessed open.
    guessed: Option<(HtmlSelectElement, bool)>,
}

impl Default for SelectWatch {
    fn default() -> Self {
        SelectWatch {
            supports_open: Cell::new(None),
            guessed: None,
        }
    }
}

/// `node` as a `<select>` that opens a popup (not a list box: `multiple` or `size` > 1).
fn popup_select(node: &Node) -> Option<HtmlSelectElement> {
    let s = html_tag::<HtmlSelectElement>(node, "select")?;
    (!s.multiple() && s.size() <= 1).then(|| s.clone())
}

/// The element an event started on (inside open shadow roots too).
fn origin(event: &Event) -> Option<Node> {
    event
        .composed_path()
        .get(0)
        .dyn_into::<Node>()
        .ok()
        .or_else(|| event.target().and_then(|t| t.dyn_into::<Node>().ok()))
}

fn key_of(e: &KeyboardEvent) -> SelectKey {
    match e.key().as_str() {
        " " => SelectKey::Space,
        "ArrowDown" | "ArrowUp" => SelectKey::Arrow,
        "F4" => SelectKey::F4,
        "Enter" => SelectKey::Enter,
        "Escape" => SelectKey::Escape,
        "Tab" => SelectKey::Tab,
        _ => SelectKey::Other,
    }
}

impl SelectWatch {
    /// Notes a page event; true when it may have opened or closed a popup (ask at the next
    /// frame).
    pub(super) fn on_event(&mut self, event: &Event) -> bool {
        let select = origin(event).as_ref().and_then(popup_select);
        let ty = event.type_();
        let ev = match ty.as_str() {
            "mousedown" => {
                let primary = event
                    .dyn_ref::<MouseEvent>()
                    .is_none_or(|m| m.button() == 0);
                match (&select, primary) {
                    (Some(_), true) => Some(SelectEvent::PressOnSelect),
                    (None, _) => Some(SelectEvent::PressElsewhere),
                    _ => None,
                }
            }
            "keydown" => event
                .dyn_ref::<KeyboardEvent>()
                .filter(|_| select.is_some())
                .map(|k| SelectEvent::Key(key_of(k), k.alt_key())),
            "change" if select.is_some() => Some(SelectEvent::Change),
            "focusout" if select.is_some() => Some(SelectEvent::Blur),
            // Seen by `:open` browsers at the next frame; no change to the guess.
            "mouseup" | "click" | "keyup" | "input" => None,
            _ => return false,
        };
        if let Some(ev) = ev {
            let was = match (&self.guessed, &select) {
                (Some((g, open)), Some(s)) if g == s => *open,
                (Some((_, open)), None) => *open,
                _ => false,
            };
            let open = guess_select_open(was, ev);
            match select {
                Some(s) => self.guessed = Some((s, open)),
                None => {
                    if let Some(g) = &mut self.guessed {
                        g.1 = open;
                    }
                }
            }
        }
        true
    }

    /// The select whose popup is open now, if any.
    pub(super) fn open_select(&self, doc: &Document) -> Option<HtmlSelectElement> {
        let candidate = deep_active(doc)
            .as_ref()
            .and_then(popup_select)
            .or_else(|| self.guessed.as_ref().map(|(s, _)| s.clone()))?;
        let open = if self.supports(&candidate) {
            candidate.matches(":open").unwrap_or(false)
        } else {
            self.guessed
                .as_ref()
                .is_some_and(|(s, open)| *open && *s == candidate)
        };
        open.then_some(candidate)
    }

    /// Whether `:open` works here (asked once: an unknown selector throws).
    fn supports(&self, probe: &HtmlSelectElement) -> bool {
        if let Some(s) = self.supports_open.get() {
            return s;
        }
        let s = probe.matches(":open").is_ok();
        self.supports_open.set(Some(s));
        s
    }
}

/// The focused element, looking into open shadow roots.
fn deep_active(doc: &Document) -> Option<Node> {
    let mut el = doc.active_element()?;
    while let Some(inner) = el.shadow_root().and_then(|r| r.active_element()) {
        el = inner;
    }
    Some(el.into())
}
