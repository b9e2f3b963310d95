//! The customer UI: co-browse button, call confirmation, session number panel, exit button,
//! notices, and the overlay showing the agent's pointer, click rings and annotations (ink).
//!
//! Everything lives in one open shadow root under a host element carrying `data-cobrowse-ui`, so
//! the page's CSS cannot break it and the recorder never captures it. Controls are real
//! `<button>`s; both dialogs (call confirmation, write-mode consent) are `role="dialog"` with
//! `aria-modal`, take focus when they open, keep Tab inside, answer Escape (close / deny) and give
//! focus back. Texts come from [`Texts`] (the locale files) through `data-t` / `data-t-label`
//! keys, so a language loaded later rewrites them in place; the UI's `lang` attribute names the
//! language. Colours follow `prefers-contrast: more` and `forced-colors`. axe-core checks every
//! state in the `accessibility` e2e case.
//!
//! Styles are one constructed sheet adopted by the shadow root, and positions are set through
//! the CSSOM, never as `<style>` elements or `style` attributes: a site whose
//! Content-Security-Policy has no `'unsafe-inline'` in `style-src` refuses those, but not a
//! constructed sheet or CSSOM writes (the `csp-strict` e2e case runs under such a policy).
//!
//! Stable hooks for tests and hosts (ARCHITECTURE.md, "Selectors"): the host is `#cobrowse-ui`
//! with `data-state` (`idle|starting|waiting|active|ended`); buttons carry `data-cobrowse-action`
//! (`start`, `confirm-yes`, `confirm-no`, `copy`, `exit`, `close`, and for write mode `grant`,
//! `deny`, `revoke`); the number is
//! `[data-cobrowse-token]` (grouped `123 456 789`; the raw token is in its `data-token`); the
//! agent's pointer is `[data-cobrowse-pointer="agent"]` with `data-x`/`data-y`, `hidden` when
//! the agent's pointer is outside; the agent's annotation strokes are
//! `path[data-cobrowse-ink="pen"|"highlight"]` in the overlay (`cobrowse_web_glue::ink`); who is
//! watching is `[data-cobrowse-watchers]`, one `[data-cobrowse-watcher]` item per agent with
//! `data-agent` (its verified identity) and `data-control` (`true` for the agent holding control).
//!
//! # Who owns what
//!
//! [`Ui`] owns the click and key listeners of its controls (removed on drop) and removes its host
//! element on drop.

use crate::config::{ButtonPosition, Texts, group_token};
use crate::ui::UI_ATTR;
pub use crate::ui::{UiAction, escape_html};
use cobrowse_web_glue::ink::InkLayer;
use gloo_events::{EventListener, EventListenerOptions};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Event, HtmlElement, KeyboardEvent, ShadowRoot};

/// The UI's styles; the loader (js-shim) bundles the same file for the button it draws before
/// the client is loaded, so both look alike.
mod overlay;

const CSS: &str = include_str!("ui.css");

/// The mounted UI.
pub struct Ui {
    document: Document,
    host: HtmlElement,
    root: ShadowRoot,
    texts: Texts,
    _listeners: Vec<EventListener>,
    /// The agent's annotations, and the scroll listener that keeps them on the content they
    /// were drawn over; made with the first stroke.
    ink: Option<(InkLayer, EventListener)>,
}

fn query(root: &ShadowRoot, sel: &str) -> Option<HtmlElement> {
    root.query_selector(sel)
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
}

impl Ui {
    /// Builds the UI under `document.documentElement`. `on_action` receives every action.
    pub fn mount(
        document: &Document,
        texts: Texts,
        lang: &str,
        show_button: bool,
        position: ButtonPosition,
        on_action: Rc<dyn Fn(UiAction)>,
    ) -> Result<Ui, JsValue> {
        let host: HtmlElement = document.create_element("div")?.dyn_into()?;
        host.set_id("cobrowse-ui");
        host.set_attribute(UI_ATTR, "")?;
        host.set_attribute("data-state", "idle")?;
        let init = web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open);
        let root = host.attach_shadow(&init)?;
        style(&root, document)?;
        let pos = position.class();
        let lang = escape_html(lang);
        // Texts go in by `apply_texts` (also when a language file arrives later): each element
        // names its key in `data-t` (text) or `data-t-label` (aria-label).
        root.set_inner_html(&format!(
            r##"<div class="cb" lang="{lang}">
  <button class="launch primary {pos}" data-cobrowse-action="start" aria-describedby="cb-launch-desc" data-t="button"{hidden}></button>
  <span id="cb-launch-desc" class="sr" data-t="buttonLabel"></span>
  <section class="panel {pos}" data-t-label="panelLabel" hidden>
    <div data-part="number">
      <span id="cb-num-label" data-t="sessionNumber"></span>
      <output class="num" data-cobrowse-token aria-labelledby="cb-num-label"></output>
      <p class="hint" data-t="readToAgent"></p>
      <div class="row">
        <button data-cobrowse-action="copy" data-t="copy"></button>
        <button class="primary" data-cobrowse-action="exit" data-t="exit"></button>
      </div>
      <div class="row" data-part="revoke" hidden><button data-cobrowse-action="revoke" data-t="revoke"></button></div>
    </div>
    <p class="status" role="status" aria-live="polite"></p>
    <p class="status" data-part="connection" role="status" aria-live="polite"></p>
    <div data-part="watchers" hidden>
      <p id="cb-watchers" class="hint" data-t="watchersLabel"></p>
      <ul class="watchers" data-cobrowse-watchers aria-labelledby="cb-watchers"></ul>
    </div>
    <div class="row" data-part="close" hidden><button data-cobrowse-action="close" data-t="close"></button></div>
  </section>
  <div class="modal-bg" data-part="write" hidden>
    <div class="modal" role="dialog" aria-modal="true" aria-labelledby="cb-w">
      <p id="cb-w" data-t="writeRequest"></p>
      <div class="row">
        <button class="primary" data-cobrowse-action="grant" data-t="allow"></button>
        <button data-cobrowse-action="deny" data-t="deny"></button>
      </div>
    </div>
  </div>
  <div class="modal-bg" data-part="confirm" hidden>
    <div class="modal" role="dialog" aria-modal="true" aria-labelledby="cb-q">
      <p id="cb-q"></p>
      <div class="row" data-part="answers">
        <button class="primary" data-cobrowse-action="confirm-yes" data-t="yes"></button>
        <button data-cobrowse-action="confirm-no" data-t="no"></button>
      </div>
      <div class="row" data-part="dismiss" hidden><button data-cobrowse-action="close" data-t="close"></button></div>
    </div>
  </div>
  <div class="overlay" aria-hidden="true">
    <svg class="ptr" data-cobrowse-pointer="agent" viewBox="0 0 20 20" hidden><path d="M2 2 L2 17 L6.5 12.5 L9.5 19 L12 18 L9 11.5 L15 11.5 Z" fill="#e6007e" stroke="#fff" stroke-width="1.2"/></svg>
    <div class="ring"></div>
  </div>
</div>"##,
            hidden = if show_button { "" } else { " hidden" },
        ));
        apply_texts(&root, &texts);
        let target = document
            .document_element()
            .ok_or_else(|| JsValue::from_str("document has no root element"))?;
        target.append_child(&host)?;

        let mut listeners = Vec::new();
        let buttons = root.query_selector_all("[data-cobrowse-action]")?;
        for i in 0..buttons.length() {
            let Some(b) = buttons.item(i) else { continue };
            let Some(action) = b
                .dyn_ref::<Element>()
                .and_then(|el| el.get_attribute("data-cobrowse-action"))
                .and_then(|a| UiAction::from_attr(&a))
            else {
                continue;
            };
            let cb = Rc::clone(&on_action);
            listeners.push(EventListener::new(&b, "click", move |_e: &Event| {
                cb(action)
            }));
        }
        // Escape closes the dialog; Tab stays inside it while it is open.
        let root_for_keys = root.clone();
        let cb = Rc::clone(&on_action);
        // Not passive (gloo's default): the trap must be able to cancel the browser's own Tab move.
        let opts = EventListenerOptions::enable_prevent_default();
        listeners.push(EventListener::new_with_options(
            &root,
            "keydown",
            opts,
            move |e: &Event| {
                let Some(k) = e.dyn_ref::<KeyboardEvent>() else {
                    return;
                };
                let open = |part: &str| {
                    query(&root_for_keys, &format!("[data-part={part}]"))
                        .is_some_and(|b| !b.hidden())
                };
                let (write, confirm) = (open("write"), open("confirm"));
                if !write && !confirm {
                    return;
                }
                if k.key() == "Escape" {
                    cb(if write {
                        UiAction::Deny
                    } else {
                        UiAction::Close
                    });
                } else if k.key() == "Tab" {
                    trap_tab(&root_for_keys, k);
                }
            },
        ));

        Ok(Ui {
            document: document.clone(),
            host,
            root,
            texts,
            _listeners: listeners,
            ink: None,
        })
    }

    fn part(&self, sel: &str) -> Option<HtmlElement> {
        query(&self.root, sel)
    }

    fn set_hidden(&self, sel: &str, hidden: bool) {
        if let Some(el) = self.part(sel) {
            el.set_hidden(hidden);
        }
    }

    /// Replaces the texts (a language file arrived from the server) and rewrites every static
    /// label; status lines change at their next update.
    pub fn set_texts(&mut self, texts: Texts) {
        apply_texts(&self.root, &texts);
        self.texts = texts;
    }

    /// Mirrors the client's phase on the host (`data-state`) for tests and host pages.
    pub fn set_state(&self, state: &str) {
        let _ = self.host.set_attribute("data-state", state);
    }

    /// Shows the "are you on a call or chat?" dialog and focuses "yes".
    pub fn show_confirm(&self) {
        if let Some(q) = self.part("#cb-q") {
            q.set_text_content(Some(&self.texts.confirm_question));
        }
        self.set_hidden("[data-part=answers]", false);
        self.set_hidden("[data-part=dismiss]", true);
        self.set_hidden("[data-part=confirm]", false);
        if let Some(b) = self.part("[data-cobrowse-action=confirm-yes]") {
            focus(&b);
        }
    }

    /// Replaces the question with the "start a call or chat first" explanation.
    pub fn show_need_agent(&self) {
        if let Some(q) = self.part("#cb-q") {
            q.set_text_content(Some(&self.texts.need_agent));
        }
        self.set_hidden("[data-part=answers]", true);
        self.set_hidden("[data-part=dismiss]", false);
        if let Some(b) = self.part("[data-part=dismiss] button") {
            focus(&b);
        }
    }

    /// Closes the dialog and gives focus back to the co-browse button.
    pub fn close_dialog(&self) {
        self.set_hidden("[data-part=confirm]", true);
        if let Some(b) = self.part(".launch")
            && !b.hidden()
        {
            focus(&b);
        }
    }

    /// True while the call confirmation dialog is open.
    pub fn dialog_open(&self) -> bool {
        self.part("[data-part=confirm]")
            .is_some_and(|b| !b.hidden())
    }

    /// Asks the customer whether the agent may take control; focuses "deny" (the safe answer).
    pub fn show_write_request(&self) {
        self.set_hidden("[data-part=write]", false);
        if let Some(b) = self.part("[data-cobrowse-action=deny]") {
            focus(&b);
        }
    }

    /// Closes the control request without an answer (the agent withdrew it).
    pub fn close_write_request(&self) {
        self.set_hidden("[data-part=write]", true);
    }

    /// Shows or hides the "take back control" button, with a status line.
    pub fn set_write_mode(&self, on: bool) {
        self.close_write_request();
        self.set_hidden("[data-part=revoke]", !on);
        let text = if on {
            self.texts.control_granted.clone()
        } else {
            self.texts.control_revoked.clone()
        };
        self.status(&text);
        if let Some(b) = self.part(if on {
            "[data-cobrowse-action=revoke]"
        } else {
            "[data-cobrowse-action=exit]"
        }) {
            focus(&b);
        }
    }

    /// Shows the panel with a status line (no number yet).
    pub fn show_connecting(&self) {
        self.set_hidden(".launch", true);
        self.set_hidden(".panel", false);
        self.set_hidden("[data-part=number]", true);
        self.set_hidden("[data-part=close]", true);
        self.status(&self.texts.connecting.clone());
    }

    /// Shows the session number (grouped), the copy and exit buttons, and moves focus to the
    /// number's panel so screen readers announce it.
    pub fn show_session(&self, token: &str) {
        self.set_hidden(".launch", true);
        self.set_hidden(".panel", false);
        self.set_hidden("[data-part=number]", false);
        self.set_hidden("[data-part=close]", true);
        if let Some(out) = self.part("[data-cobrowse-token]") {
            out.set_text_content(Some(&group_token(token)));
            let _ = out.set_attribute("data-token", token);
        }
        self.status("");
        if let Some(b) = self.part("[data-cobrowse-action=copy]") {
            focus(&b);
        }
    }

    /// Says (politely, in its own status line) that the connection is being restored, or that
    /// it is back (the line empties). The host's `data-connection` is `reconnecting` or
    /// `online`, for the page and tests.
    pub fn set_reconnecting(&self, on: bool) {
        let _ = self.host.set_attribute(
            "data-connection",
            if on { "reconnecting" } else { "online" },
        );
        if let Some(s) = self.part("[data-part=connection]") {
            let text = if on {
                self.texts.reconnecting.as_str()
            } else {
                ""
            };
            s.set_text_content(Some(text));
        }
    }

    /// A polite status line in the panel.
    pub fn status(&self, text: &str) {
        if let Some(s) = self.part(".status") {
            s.set_text_content(Some(text));
        }
    }

    /// Lists the agents watching (`(identity, holds control)`, in seat order; hidden when none):
    /// the customer always sees who sees the page. Names are set as text, never as markup.
    pub fn show_watchers(&self, agents: &[(Option<String>, bool)]) {
        let Some(list) = self.part("[data-cobrowse-watchers]") else {
            return;
        };
        list.set_text_content(None);
        for (id, control) in agents {
            let Ok(li) = self.document.create_element("li") else {
                continue;
            };
            let _ = li.set_attribute("data-cobrowse-watcher", "");
            let _ = li.set_attribute("data-agent", id.as_deref().unwrap_or(""));
            let _ = li.set_attribute("data-control", if *control { "true" } else { "false" });
            let name = id
                .as_deref()
                .filter(|s| !s.is_empty())
                .unwrap_or(&self.texts.watcher_unnamed);
            let template = if *control {
                &self.texts.watcher_in_control
            } else {
                &self.texts.watcher_observing
            };
            li.set_text_content(Some(&template.replace("{name}", name)));
            let _ = list.append_child(&li);
        }
        self.set_hidden("[data-part=watchers]", agents.is_empty());
    }

    /// The session ended: shows why, and a close button that brings the co-browse button back.
    pub fn show_ended(&self, reason_text: &str) {
        self.set_hidden(".panel", false);
        self.set_hidden("[data-part=number]", true);
        self.set_hidden("[data-part=close]", false);
        self.status(&format!("{} — {}", self.texts.ended, reason_text));
        self.hide_pointer();
        self.clear_ink();
        self.set_hidden("[data-part=write]", true);
        self.set_hidden("[data-part=revoke]", true);
        self.set_hidden("[data-part=watchers]", true);
        if let Some(b) = self.part("[data-part=close] button") {
            focus(&b);
        }
    }

    /// Starting failed: shows the error with a close button.
    pub fn show_error(&self, detail: &str) {
        self.set_hidden(".panel", false);
        self.set_hidden("[data-part=number]", true);
        self.set_hidden("[data-part=close]", false);
        self.status(&format!("{} {}", self.texts.error, detail));
    }

    /// Back to the resting state: only the co-browse button (if configured).
    pub fn reset(&self, show_button: bool) {
        self.set_hidden(".panel", true);
        self.set_hidden("[data-part=confirm]", true);
        self.set_hidden("[data-part=write]", true);
        self.set_hidden(".launch", !show_button);
        self.hide_pointer();
        self.clear_ink();
        if show_button && let Some(b) = self.part(".launch") {
            focus(&b);
        }
    }

    /// Copies the session number to the clipboard (best effort) and says so.
    pub fn copy_token(&self) {
        let token = self
            .part("[data-cobrowse-token]")
            .and_then(|o| o.get_attribute("data-token"))
            .unwrap_or_default();
        // navigator.clipboard is reached dynamically: web-sys gates it behind unstable APIs.
        let copied = cobrowse_web_glue::realm::window()
            .and_then(|w| js_sys::Reflect::get(&w, &"navigator".into()).ok())
            .and_then(|n| js_sys::Reflect::get(&n, &"clipboard".into()).ok())
            .filter(|c| !c.is_undefined())
            .and_then(|c| {
                let write = js_sys::Reflect::get(&c, &"writeText".into()).ok()?;
                write
                    .dyn_into::<js_sys::Function>()
                    .ok()?
                    .call1(&c, &token.into())
                    .ok()
            })
            .is_some();
        if copied {
            self.status(&self.texts.copied.clone());
        }
    }

    /// The document the UI lives in.
    pub fn document(&self) -> &Document {
        &self.document
    }
}

/// Styles the UI's shadow root with [`CSS`]: a constructed sheet where the browser has them
/// (allowed under any `style-src`), else a `<style>` element (older browsers, which then need
/// `'unsafe-inline'` for it).
fn style(root: &ShadowRoot, document: &Document) -> Result<(), JsValue> {
    if let Ok(sheet) = web_sys::CssStyleSheet::new()
        && sheet.replace_sync(CSS).is_ok()
    {
        root.set_adopted_style_sheets(&js_sys::Array::of1(&sheet));
        return Ok(());
    }
    let el = document.create_element("style")?;
    el.set_text_content(Some(CSS));
    root.append_child(&el)?;
    Ok(())
}

/// Writes `texts` into every element that names a key (`data-t`, `data-t-label`).
fn apply_texts(root: &ShadowRoot, texts: &Texts) {
    for (attr, label) in [("data-t", false), ("data-t-label", true)] {
        let Ok(list) = root.query_selector_all(&format!("[{attr}]")) else {
            continue;
        };
        for i in 0..list.length() {
            let Some(el) = list.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
                continue;
            };
            let Some(text) = el.get_attribute(attr).and_then(|k| texts.get(&k)) else {
                continue;
            };
            if label {
                let _ = el.set_attribute("aria-label", text);
            } else {
                el.set_text_content(Some(text));
            }
        }
    }
}

fn trap_tab(root: &ShadowRoot, k: &KeyboardEvent) {
    let Ok(list) = root.query_selector_all(".modal button") else {
        return;
    };
    let visible: Vec<HtmlElement> = (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
        .filter(|b| b.offset_parent().is_some())
        .collect();
    let (Some(first), Some(last)) = (visible.first(), visible.last()) else {
        return;
    };
    let active = root.active_element();
    let at = |b: &HtmlElement| active.as_ref().is_some_and(|a| a.is_same_node(Some(b)));
    if k.shift_key() && at(first) {
        k.prevent_default();
        let _ = last.focus();
    } else if !k.shift_key() && at(last) {
        k.prevent_default();
        let _ = first.focus();
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        self.host.remove();
    }
}

/// Moves focus to one of our controls without scrolling it into view: the UI is fixed in the
/// viewport, and the scroll check would force a layout of the customer's whole page.
fn focus(el: &HtmlElement) {
    let opts = web_sys::FocusOptions::new();
    opts.set_prevent_scroll(true);
    let _ = el.focus_with_options(&opts);
}
