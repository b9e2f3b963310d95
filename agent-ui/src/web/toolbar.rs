//! The elements of `slave.html` the app drives, and what the status line and toolbar show: status
//! and error code, page URL, write-mode state and refusals, the request-control button, and
//! whether the annotation tools show (only while the replica is live).

use super::prefs::{tr, with_texts};
use crate::error::AgentError;
use cobrowse_protocol::{Code, Mode, RefusalReason, SessionState};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, HtmlElement, HtmlIFrameElement, HtmlInputElement};

/// What the page shows in `#cobrowse-status[data-state]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiState {
    /// Not yet showing the customer's page (looking up, connecting, waiting for the snapshot,
    /// reconnecting).
    Waiting,
    /// The replica is live.
    Active,
    /// Over (or refused); no reconnects.
    Ended,
}

impl UiState {
    /// `active` and `ended` are [`SessionState`]'s codes; `waiting` is the page's own (looking
    /// up, connecting, reconnecting: states the session itself does not have).
    fn as_str(self) -> &'static str {
        match self {
            UiState::Waiting => "waiting",
            UiState::Active => SessionState::Active.code(),
            UiState::Ended => SessionState::Ended.code(),
        }
    }
}

/// Elements of `slave.html` the app drives. Missing optional ones are simply not updated.
pub(super) struct Ui {
    pub(super) doc: Document,
    status: Element,
    pub(super) join_form: Option<Element>,
    pub(super) sid_input: Option<HtmlInputElement>,
    url: Option<Element>,
    pub(super) scale: Option<Element>,
    pub(super) mode: Option<Element>,
    pub(super) request: Option<HtmlElement>,
    pub(super) exit: Option<HtmlElement>,
    pub(super) stage: HtmlElement,
    pub(super) frame_box: HtmlElement,
    pub(super) frame: HtmlIFrameElement,
    pub(super) overlay: HtmlElement,
    pub(super) customer_pointer: HtmlElement,
}

fn by_id<T: JsCast>(doc: &Document, id: &str) -> Option<T> {
    doc.get_element_by_id(id)?.dyn_into::<T>().ok()
}

fn required<T: JsCast>(doc: &Document, id: &'static str) -> Result<T, AgentError> {
    by_id(doc, id).ok_or(AgentError::MissingElement(id))
}

fn dom_err(e: JsValue) -> AgentError {
    AgentError::Dom(format!("{e:?}"))
}

impl Ui {
    /// Finds the page's elements (creating the customer pointer when the page has none).
    pub(super) fn find(doc: &Document) -> Result<Ui, AgentError> {
        let overlay: HtmlElement = required(doc, "cobrowse-overlay")?;
        let customer_pointer = match by_id(doc, "cobrowse-pointer-customer") {
            Some(p) => p,
            None => {
                let p: HtmlElement = doc.create_element("div").map_err(dom_err)?.unchecked_into();
                p.set_id("cobrowse-pointer-customer");
                p.set_class_name("cobrowse-pointer cobrowse-pointer-customer");
                p.set_hidden(true);
                overlay.append_child(&p).map_err(dom_err)?;
                p
            }
        };
        Ok(Ui {
            doc: doc.clone(),
            status: required(doc, "cobrowse-status")?,
            join_form: by_id(doc, "cobrowse-join"),
            sid_input: by_id(doc, "cobrowse-sid"),
            url: by_id(doc, "cobrowse-url"),
            scale: by_id(doc, "cobrowse-scale"),
            mode: by_id(doc, "cobrowse-mode"),
            request: by_id(doc, "cobrowse-request-control"),
            exit: by_id(doc, "cobrowse-exit"),
            stage: required(doc, "cobrowse-stage")?,
            frame_box: required(doc, "cobrowse-frame-box")?,
            frame: required(doc, "cobrowse-replica")?,
            overlay,
            customer_pointer,
        })
    }

    /// The status line: `data-state`, its text, and `<html data-cobrowse-state>`.
    pub(super) fn set_status(&self, state: UiState, text: &str) {
        let s = state.as_str();
        // The annotation tools only mean something over a live replica.
        for id in ["cobrowse-ink-pen", "cobrowse-ink-highlight"] {
            if let Some(b) = by_id::<HtmlElement>(&self.doc, id) {
                b.set_hidden(state != UiState::Active);
            }
        }
        let _ = self.status.set_attribute("data-state", s);
        self.status.set_text_content(Some(text));
        if let Some(root) = self.doc.document_element() {
            let _ = root.set_attribute("data-cobrowse-state", s);
        }
    }

    /// Whether the page is connected (`online`) or restoring a lost connection: the status
    /// line's `data-connection` and `<html data-cobrowse-connection>` (`online` |
    /// `reconnecting`), for hosts and tests; the text says it through `set_status`.
    pub(super) fn set_connection(&self, online: bool) {
        let v = if online { "online" } else { "reconnecting" };
        let _ = self.status.set_attribute("data-connection", v);
        if let Some(root) = self.doc.document_element() {
            let _ = root.set_attribute("data-cobrowse-connection", v);
        }
    }

    /// The status line's `data-error` code (`None`: removed).
    pub(super) fn set_error(&self, code: Option<&str>) {
        match code {
            Some(c) => {
                let _ = self.status.set_attribute("data-error", c);
            }
            None => {
                let _ = self.status.remove_attribute("data-error");
            }
        }
    }

    /// The customer's page URL and title, shown in the toolbar.
    pub(super) fn show_page(&self, url: &str, title: Option<&str>) {
        set_text(&self.url, url);
        if let (Some(u), Some(t)) = (&self.url, title) {
            let _ = u.set_attribute("title", t);
        }
    }

    /// Shows the request-control button, or removes it when the server does not allow write mode.
    pub(super) fn allow_write_requests(&mut self, allowed: bool) {
        if allowed {
            if let Some(r) = &self.request {
                r.set_hidden(false);
            }
        } else if let Some(r) = self.request.take() {
            // `writeModeAllowed=false` removes the request entirely (ARCHITECTURE.md: absent);
            // the server setting does not change during a session.
            r.remove();
        }
    }

    /// The session's mode, as `Welcome` tells it.
    pub(super) fn show_mode(&self, mode: Mode) {
        set_text(
            &self.mode,
            &tr(match mode {
                Mode::Pointer => "modePointer",
                Mode::Write => "modeWrite",
            }),
        );
    }

    /// A mode change's text (clearing an earlier refusal).
    pub(super) fn show_mode_change(&self, text: &str) {
        if let Some(el) = &self.mode {
            let _ = el.remove_attribute("data-refusal");
        }
        set_text(&self.mode, text);
    }

    /// A refused agent action: its text, and the reason as a stable code in `data-refusal`.
    pub(super) fn show_refusal(&self, reason: &RefusalReason) {
        set_text(&self.mode, &with_texts(|t| t.refusal(reason)));
        // The reason as a stable code, for hosts and tests (the text is localized).
        if let Some(el) = &self.mode {
            let _ = el.set_attribute("data-refusal", reason.code());
        }
    }
}

/// Sets the text of an optional element.
pub(super) fn set_text(el: &Option<Element>, text: &str) {
    if let Some(e) = el {
        e.set_text_content(Some(text));
    }
}

/// Sets one inline style property.
pub(super) fn set_style(el: &HtmlElement, prop: &str, value: &str) {
    let _ = el.style().set_property(prop, value);
}
