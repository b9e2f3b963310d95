//! The customer UI: co-browse button, call confirmation, session number panel, exit button,
//! notices, and the overlay showing the agent's pointer and click rings.
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
//! Stable hooks for tests and hosts (ARCHITECTURE.md, "Selectors"): the host is `#cobrowse-ui`
//! with `data-state` (`idle|starting|waiting|active|ended`); buttons carry `data-cobrowse-action`
//! (`start`, `confirm-yes`, `confirm-no`, `copy`, `exit`, `close`, and for write mode `grant`,
//! `deny`, `revoke`); the number is
//! `[data-cobrowse-token]` (grouped `123 456 789`; the raw token is in its `data-token`); the
//! agent's pointer is `[data-cobrowse-pointer="agent"]` with `data-x`/`data-y`, `hidden` when
//! the agent's pointer is outside.
//!
//! # Who owns what
//!
//! [`Ui`] owns the click and key listeners of its controls (removed on drop) and removes its host
//! element on drop.

use crate::config::{ButtonPosition, Texts, group_token};
use crate::web::dom::UI_ATTR;
use gloo_events::{EventListener, EventListenerOptions};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Event, HtmlElement, KeyboardEvent, ShadowRoot};

/// A user action in our UI; the client decides what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiAction {
    /// The co-browse button.
    Start,
    /// "Yes, I am on a call or chat".
    ConfirmYes,
    /// "No".
    ConfirmNo,
    /// Copy the session number.
    Copy,
    /// Exit co-browsing.
    Exit,
    /// Close a notice or dialog.
    Close,
    /// Grant the agent control (write mode).
    Grant,
    /// Deny the agent control.
    Deny,
    /// Take control back (end write mode).
    Revoke,
}

impl UiAction {
    fn from_attr(s: &str) -> Option<UiAction> {
        Some(match s {
            "start" => UiAction::Start,
            "confirm-yes" => UiAction::ConfirmYes,
            "confirm-no" => UiAction::ConfirmNo,
            "copy" => UiAction::Copy,
            "exit" => UiAction::Exit,
            "close" => UiAction::Close,
            "grant" => UiAction::Grant,
            "deny" => UiAction::Deny,
            "revoke" => UiAction::Revoke,
            _ => return None,
        })
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:host{all:initial}
*{box-sizing:border-box}
.cb{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1f}
button{font:inherit;cursor:pointer;border-radius:6px;border:1px solid #0b57d0;background:#fff;color:#0b57d0;padding:6px 12px}
button.primary{background:#0b57d0;color:#fff}
button:focus-visible{outline:3px solid #f4b400;outline-offset:2px}
.launch{position:fixed;z-index:2147483646;box-shadow:0 2px 8px rgba(0,0,0,.25);padding:10px 16px;border-radius:22px}
.panel{position:fixed;z-index:2147483646;background:#fff;border:1px solid #c4c7c5;border-radius:10px;box-shadow:0 4px 16px rgba(0,0,0,.2);padding:14px;width:260px}
[hidden]{display:none!important}
/* (!important: a `.row{display:flex}` below must not show a hidden row.) */
.num{display:block;font-size:26px;font-weight:700;letter-spacing:2px;margin:4px 0;font-variant-numeric:tabular-nums}
.row{display:flex;gap:8px;flex-wrap:wrap;margin-top:8px}
.hint,.status{margin:6px 0 0;color:#444}
.modal-bg{position:fixed;inset:0;z-index:2147483647;background:rgba(0,0,0,.35);display:flex;align-items:center;justify-content:center}
.modal{background:#fff;border-radius:10px;padding:18px;max-width:360px;box-shadow:0 6px 24px rgba(0,0,0,.3)}
.overlay{position:fixed;inset:0;pointer-events:none;z-index:2147483647;overflow:hidden}
.ptr{position:absolute;left:0;top:0;width:20px;height:20px;margin:-2px 0 0 -2px}
.ring{position:absolute;left:0;top:0;width:44px;height:44px;margin:-22px 0 0 -22px;border:3px solid #e6007e;border-radius:50%;opacity:0}
.ring.go{animation:cbring .8s ease-out}
@keyframes cbring{from{opacity:1;transform:scale(.3)}to{opacity:0;transform:scale(1.4)}}
.sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
@media (prefers-contrast:more){
.cb{color:#000}
button{border:2px solid #002e7a;color:#002e7a}
button.primary{background:#002e7a;color:#fff}
button:focus-visible{outline:3px solid #000;outline-offset:2px}
.panel,.modal{border:2px solid #000}
.hint,.status{color:#000}
.modal-bg{background:rgba(0,0,0,.6)}
}
@media (forced-colors:active){
button{border:2px solid ButtonText}
button:focus-visible{outline:3px solid Highlight}
.panel,.modal{border:2px solid CanvasText}
.ptr,.ring{forced-color-adjust:none}
}
@media (prefers-reduced-motion:reduce){.ring.go{animation-duration:1.5s}}
"#;

/// The mounted UI.
pub struct Ui {
    document: Document,
    host: HtmlElement,
    root: ShadowRoot,
    texts: Texts,
    _listeners: Vec<EventListener>,
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
        let pos = position.css();
        let lang = escape_html(lang);
        // Texts go in by `apply_texts` (also when a language file arrives later): each element
        // names its key in `data-t` (text) or `data-t-label` (aria-label).
        root.set_inner_html(&format!(
            r##"<style>{CSS}</style>
<div class="cb" lang="{lang}">
  <button class="launch primary" data-cobrowse-action="start" style="{pos}" aria-describedby="cb-launch-desc" data-t="button"{hidden}></button>
  <span id="cb-launch-desc" class="sr" data-t="buttonLabel"></span>
  <section class="panel" style="{pos}" data-t-label="panelLabel" hidden>
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
            let _ = b.focus();
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
            let _ = b.focus();
        }
    }

    /// Closes the dialog and gives focus back to the co-browse button.
    pub fn close_dialog(&self) {
        self.set_hidden("[data-part=confirm]", true);
        if let Some(b) = self.part(".launch")
            && !b.hidden()
        {
            let _ = b.focus();
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
            let _ = b.focus();
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
            let _ = b.focus();
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
            let _ = b.focus();
        }
    }

    /// A polite status line in the panel.
    pub fn status(&self, text: &str) {
        if let Some(s) = self.part(".status") {
            s.set_text_content(Some(text));
        }
    }

    /// The session ended: shows why, and a close button that brings the co-browse button back.
    pub fn show_ended(&self, reason_text: &str) {
        self.set_hidden(".panel", false);
        self.set_hidden("[data-part=number]", true);
        self.set_hidden("[data-part=close]", false);
        self.status(&format!("{} — {}", self.texts.ended, reason_text));
        self.hide_pointer();
        self.set_hidden("[data-part=write]", true);
        self.set_hidden("[data-part=revoke]", true);
        if let Some(b) = self.part("[data-part=close] button") {
            let _ = b.focus();
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
        if show_button && let Some(b) = self.part(".launch") {
            let _ = b.focus();
        }
    }

    /// Copies the session number to the clipboard (best effort) and says so.
    pub fn copy_token(&self) {
        let token = self
            .part("[data-cobrowse-token]")
            .and_then(|o| o.get_attribute("data-token"))
            .unwrap_or_default();
        // navigator.clipboard is reached dynamically: web-sys gates it behind unstable APIs.
        let copied = web_sys::window()
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

    /// Draws the agent's pointer at viewport position `pos`, or hides it.
    pub fn draw_pointer(&self, pos: Option<(i32, i32)>) {
        let Some(p) = self.root.query_selector(".ptr").ok().flatten() else {
            return;
        };
        match pos {
            Some((x, y)) => {
                let _ = p.set_attribute("style", &format!("transform:translate({x}px,{y}px)"));
                let _ = p.set_attribute("data-x", &x.to_string());
                let _ = p.set_attribute("data-y", &y.to_string());
                let _ = p.remove_attribute("hidden");
            }
            None => {
                let _ = p.set_attribute("hidden", "");
            }
        }
    }

    fn hide_pointer(&self) {
        self.draw_pointer(None);
    }

    /// Draws a click ring at viewport position (`x`, `y`).
    pub fn ring(&self, x: i32, y: i32) {
        let Some(r) = self.part(".ring") else { return };
        let _ = r.class_list().remove_1("go");
        let _ = r.set_attribute("style", &format!("left:{x}px;top:{y}px"));
        // Reading layout restarts the CSS animation when the class comes back.
        let _ = r.offset_width();
        let _ = r.class_list().add_1("go");
    }

    /// The document the UI lives in.
    pub fn document(&self) -> &Document {
        &self.document
    }
}

/// Writes `texts` into every element that names a key (`data-t`, `data-t-label`).
fn apply_texts(root: &ShadowRoot, texts: &Texts) {
    let t = texts;
    let by_key = |k: &str| -> Option<&str> {
        Some(match k {
            "button" => &t.button,
            "buttonLabel" => &t.button_label,
            "panelLabel" => &t.panel_label,
            "sessionNumber" => &t.session_number,
            "readToAgent" => &t.read_to_agent,
            "copy" => &t.copy,
            "exit" => &t.exit,
            "revoke" => &t.revoke,
            "close" => &t.close,
            "writeRequest" => &t.write_request,
            "allow" => &t.allow,
            "deny" => &t.deny,
            "yes" => &t.yes,
            "no" => &t.no,
            _ => return None,
        })
    };
    for (attr, label) in [("data-t", false), ("data-t-label", true)] {
        let Ok(list) = root.query_selector_all(&format!("[{attr}]")) else {
            continue;
        };
        for i in 0..list.length() {
            let Some(el) = list.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
                continue;
            };
            let Some(text) = el.get_attribute(attr).and_then(|k| by_key(&k)) else {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_html(r#"<img src=x onerror="a">&'"#),
            "&lt;img src=x onerror=&quot;a&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn actions_parse() {
        assert_eq!(UiAction::from_attr("exit"), Some(UiAction::Exit));
        assert_eq!(UiAction::from_attr("nope"), None);
    }
}
