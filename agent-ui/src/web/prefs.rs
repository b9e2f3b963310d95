//! Language and theme of the agent page in the browser (the choices themselves are pure logic in
//! [`crate::locale`]).
//!
//! Start-up ([`init`], awaited by `start_agent` before anything shows a text): the server's
//! defaults from `GET rest/ui.json` (`ui.locale`, `ui.theme`, and the desktops the page posts
//! its events to, so asked even when the page parameters give both), the language file (compiled in, or `locales/agent/<tag>.json` next to the page),
//! `<html lang>`, the static texts of `slave.html` (`data-i18n*` attributes), and the theme
//! (`<html data-theme>`, absent for "auto" so the CSS media queries decide) with its picker
//! `#cobrowse-theme`, whose choice is remembered in `localStorage`.
//!
//! # Who owns what
//!
//! The texts live in a thread-local for the page's life ([`tr`], [`trf`] read them). The picker's
//! `change` listener is forgotten deliberately: it lives as long as the page.

use crate::debug;
use crate::locale::{self, TextMap, Texts, Theme};
use crate::params::{self, PageParams};
use cobrowse_protocol::rest::{self, UiDefaults};
use gloo_events::EventListener;
use std::cell::RefCell;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Document, Element, HtmlSelectElement, Response, Window};

thread_local! {
    static TEXTS: RefCell<Texts> = RefCell::new(Texts::default());
}

/// `localStorage` key of the agent's own theme pick.
pub const THEME_KEY: &str = "cobrowse-agent-theme";

/// The text for `key` in the page's language.
pub fn tr(key: &str) -> String {
    TEXTS.with(|t| t.borrow().tr(key).to_owned())
}

/// The text for `key` with `{name}` placeholders filled.
pub fn trf(key: &str, args: &[(&str, &str)]) -> String {
    TEXTS.with(|t| t.borrow().trf(key, args))
}

/// Runs `f` with the page's texts (for the multi-key helpers of [`Texts`]).
pub fn with_texts<R>(f: impl FnOnce(&Texts) -> R) -> R {
    TEXTS.with(|t| f(&t.borrow()))
}

/// `GET rest/ui.json` relative to the page, read as [`UiDefaults`]; any failure (no answer, not
/// JSON, a field of the wrong type) means "no server defaults".
async fn server_defaults(window: &Window) -> UiDefaults {
    let Some(json) = fetch_json_text(window, params::page_relative(rest::UI_DEFAULTS_PATH)).await
    else {
        return UiDefaults::default();
    };
    let parsed = js_sys::JSON::parse(&json)
        .map_err(|e| format!("{e:?}"))
        .and_then(|v| serde_wasm_bindgen::from_value(v).map_err(|e| e.to_string()));
    parsed.unwrap_or_else(|e| {
        debug!("ui defaults ignored: {e}");
        UiDefaults::default()
    })
}

async fn fetch_json_text(window: &Window, url: &str) -> Option<String> {
    let resp = JsFuture::from(window.fetch_with_str(url)).await.ok()?;
    let resp: Response = resp.dyn_into().ok()?;
    if !resp.ok() {
        return None;
    }
    JsFuture::from(resp.text().ok()?).await.ok()?.as_string()
}

/// The language's table: compiled in, or `locales/agent/<name>.json` (most specific first).
async fn load_language(window: &Window, tag: &str) -> Option<TextMap> {
    if let Some(json) = locale::built_in(tag) {
        return locale::parse_map(json).ok();
    }
    for name in locale::candidates(tag) {
        let url = format!("locales/agent/{name}.json");
        if let Some(text) = fetch_json_text(window, &url).await {
            match locale::parse_map(&text) {
                Ok(map) => return Some(map),
                Err(e) => web_sys::console::warn_1(&format!("{url}: {e}").into()),
            }
        }
    }
    None
}

/// Chooses and applies the language and the theme (see the module doc).
pub async fn init(doc: &Document, params: &PageParams) {
    let Some(window) = web_sys::window() else {
        return;
    };
    // Always asked: besides language and theme it names the desktops the page posts to.
    let server = server_defaults(&window).await;
    super::desktop::set_origins(&server.desktop_origins);
    let browser = window.navigator().language();
    let lang = locale::choose_language([
        params.lang.as_deref(),
        server.locale.as_deref(),
        browser.as_deref(),
    ]);
    let map = load_language(&window, &lang).await;
    // `<html lang>` names the language actually shown.
    let shown = if map.is_some() { lang.as_str() } else { "en" };
    TEXTS.with(|t| *t.borrow_mut() = Texts::build(map.as_ref()));
    if let Some(html) = doc.document_element() {
        let _ = html.set_attribute("lang", shown);
    }
    doc.set_title(&tr("pageTitle"));
    apply_static_texts(doc);

    let storage = window.local_storage().ok().flatten();
    let stored = storage
        .as_ref()
        .and_then(|s| s.get_item(THEME_KEY).ok().flatten());
    let theme = Theme::choose(
        params.theme.as_deref(),
        stored.as_deref(),
        server.theme.as_deref(),
    );
    apply_theme(doc, theme);
    if let Some(picker) = doc
        .get_element_by_id("cobrowse-theme")
        .and_then(|e| e.dyn_into::<HtmlSelectElement>().ok())
    {
        picker.set_value(theme.as_str());
        let d = doc.clone();
        let p = picker.clone();
        EventListener::new(&picker, "change", move |_| {
            let Some(t) = Theme::parse(&p.value()) else {
                return;
            };
            apply_theme(&d, t);
            if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
                let _ = s.set_item(THEME_KEY, t.as_str());
            }
        })
        .forget();
    }
}

/// Sets `<html data-theme>` (removed for `Auto`, so the system preference applies).
pub fn apply_theme(doc: &Document, theme: Theme) {
    let Some(html) = doc.document_element() else {
        return;
    };
    let _ = match theme {
        Theme::Auto => html.remove_attribute("data-theme"),
        t => html.set_attribute("data-theme", t.as_str()),
    };
}

/// Writes the texts into `slave.html`'s marked elements.
fn apply_static_texts(doc: &Document) {
    for (attr, target) in [
        ("data-i18n", None),
        ("data-i18n-label", Some("aria-label")),
        ("data-i18n-title", Some("title")),
        ("data-i18n-placeholder", Some("placeholder")),
    ] {
        let Ok(list) = doc.query_selector_all(&format!("[{attr}]")) else {
            continue;
        };
        for i in 0..list.length() {
            let Some(el) = list.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
                continue;
            };
            let Some(key) = el.get_attribute(attr) else {
                continue;
            };
            let text = tr(&key);
            match target {
                None => el.set_text_content(Some(&text)),
                Some(a) => {
                    let _ = el.set_attribute(a, &text);
                }
            }
        }
    }
}
