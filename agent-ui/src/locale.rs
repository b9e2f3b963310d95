//! The agent page's texts, language and theme choices (pure logic; the browser side is
//! `web::prefs`).
//!
//! The JSON files in `www/locales/agent/` are the source of truth: one flat object per language,
//! camelCase keys, `{placeholders}` the code fills in. English and German are compiled in
//! (`include_str!`); any other language is fetched from `locales/agent/<tag>.json` next to
//! `slave.html`, so operators add one by dropping a file into the static root. A key a language
//! lacks (or whose placeholders differ from English) shows the English text. `www/slave.html`
//! carries English in its markup only until the wasm starts; elements name their key in
//! `data-i18n` (text), `data-i18n-label` (aria-label), `data-i18n-title`, `data-i18n-placeholder`.
//!
//! The rules for reading and layering locale files are `cobrowse_common::locale`'s, shared
//! with the customer client.

use cobrowse_protocol::{EndReason, ErrorCode, RefusalReason};

/// English, the fallback for every missing key.
pub const ENGLISH: &str = include_str!("../../www/locales/agent/en.json");

/// Languages compiled into the agent page: `(file name, JSON)`.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("en", ENGLISH),
    ("de", include_str!("../../www/locales/agent/de.json")),
];

pub use cobrowse_common::locale::{TextMap, candidates, merge, placeholders};
pub use cobrowse_web_glue::json::parse_text_map as parse_map;

/// The compiled-in file for `tag` (`de-CH` → German), if there is one.
pub fn built_in(tag: &str) -> Option<&'static str> {
    cobrowse_common::locale::built_in(BUILT_IN, tag)
}

/// The first usable language tag of `choices` (page parameter, server default, browser), or `en`.
pub fn choose_language<'a>(choices: impl IntoIterator<Item = Option<&'a str>>) -> String {
    choices
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|t| !candidates(t).is_empty())
        .unwrap_or("en")
        .to_owned()
}

/// The agent page's texts: English with one language over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Texts {
    map: TextMap,
}

impl Default for Texts {
    fn default() -> Self {
        Texts::build(None)
    }
}

impl Texts {
    /// English, then `locale`'s non-empty texts for keys English has and with English's
    /// placeholders.
    pub fn build(locale: Option<&TextMap>) -> Texts {
        // English is checked by unit tests; a broken file shows keys, never panics.
        let mut map = parse_map(ENGLISH).unwrap_or_default();
        if let Some(layer) = locale {
            merge(&mut map, layer);
        }
        Texts { map }
    }

    /// The compiled-in texts for `tag` (English for languages that are not compiled in).
    pub fn for_locale(tag: &str) -> Texts {
        let map = built_in(tag).and_then(|j| parse_map(j).ok());
        Texts::build(map.as_ref())
    }

    /// The text for `key` (the key itself if no file has it, which a unit test rules out for
    /// every key the code uses).
    pub fn tr<'a>(&'a self, key: &'a str) -> &'a str {
        self.map.get(key).map_or(key, String::as_str)
    }

    /// The text for `key` with `{name}` placeholders filled from `args`.
    pub fn trf(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut out = self.tr(key).to_owned();
        for (name, value) in args {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }

    /// The status line's text for a session end.
    pub fn end_reason(&self, reason: &EndReason) -> String {
        let key = match reason {
            EndReason::CustomerExit => "endCustomer",
            EndReason::AgentExit => "endAgent",
            EndReason::ControllerStop => "endController",
            EndReason::ApiStop => "endApi",
            EndReason::InactivityTimeout => "endTimeout",
            EndReason::ConnectionLost => "endConnection",
            EndReason::ServerShutdown => "endServer",
            EndReason::Other(s) => return self.trf("endOther", &[("reason", s)]),
        };
        self.tr(key).to_owned()
    }

    /// What an error frame means for the agent: the text, and whether retrying can help.
    pub fn error(&self, code: ErrorCode) -> (String, bool) {
        let (key, retry) = match code {
            ErrorCode::UnknownSession => ("errUnknownSession", false),
            ErrorCode::SessionEnded => ("sessionEnded", false),
            ErrorCode::Unauthorized => ("errUnauthorized", false),
            // Refused for now, not for good: the close that follows is retried with backoff.
            ErrorCode::RateLimited => ("rateLimited", true),
            ErrorCode::AgentBusy => ("agentBusy", false),
            ErrorCode::OriginRefused => ("errOriginRefused", false),
            ErrorCode::UnsupportedVersion => ("errUnsupportedVersion", false),
            ErrorCode::ProtocolViolation | ErrorCode::BadFrame | ErrorCode::TooLarge => {
                ("errProtocol", true)
            }
            ErrorCode::CustomerPresent | ErrorCode::Internal => ("errServer", true),
        };
        (self.tr(key).to_owned(), retry)
    }

    /// The notice for a refused agent action.
    pub fn refusal(&self, reason: &RefusalReason) -> String {
        let key = match reason {
            RefusalReason::NotInWriteMode => "refusedNotInWriteMode",
            RefusalReason::Restricted => "refusedRestricted",
            RefusalReason::NoSuchNode => "refusedNoSuchNode",
            RefusalReason::OffOrigin => "refusedOffOrigin",
            RefusalReason::WriteModeDisabled => "refusedWriteModeDisabled",
            RefusalReason::NotEditable => "refusedNotEditable",
            RefusalReason::Undelivered => "refusedUndelivered",
            RefusalReason::NotInControl => "refusedNotInControl",
        };
        self.trf("refused", &[("reason", self.tr(key))])
    }
}

/// The agent page's colour theme. `Auto` follows the system (`prefers-color-scheme`,
/// `prefers-contrast: more`, `forced-colors`) through media queries in `slave.css`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    /// Follow the system.
    #[default]
    Auto,
    /// Light.
    Light,
    /// Dark.
    Dark,
    /// High contrast: text at least 7:1 (WCAG AAA).
    HighContrast,
}

impl Theme {
    /// Every theme, in the picker's order.
    pub const ALL: [Theme; 4] = [Theme::Auto, Theme::Light, Theme::Dark, Theme::HighContrast];

    /// Reads a theme name (`auto`, `light`, `dark`, `high-contrast`; `contrast` too).
    pub fn parse(s: &str) -> Option<Theme> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "auto" | "system" => Theme::Auto,
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            "high-contrast" | "contrast" | "hc" => Theme::HighContrast,
            _ => return None,
        })
    }

    /// The name used in `<html data-theme>`, the picker and `localStorage`.
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
            Theme::HighContrast => "high-contrast",
        }
    }

    /// The text key of the theme's name in the picker.
    pub fn label_key(self) -> &'static str {
        match self {
            Theme::Auto => "themeAuto",
            Theme::Light => "themeLight",
            Theme::Dark => "themeDark",
            Theme::HighContrast => "themeHighContrast",
        }
    }

    /// The page parameter wins (a host embedding the page decides), then the agent's own pick
    /// (remembered in `localStorage`), then the server default; else `Auto`.
    pub fn choose(param: Option<&str>, stored: Option<&str>, server: Option<&str>) -> Theme {
        [param, stored, server]
            .into_iter()
            .flatten()
            .find_map(Theme::parse)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_the_same_keys_no_empty_values_and_the_same_placeholders() {
        let problems = cobrowse_common::locale::check_translations(BUILT_IN, parse_map);
        assert!(problems.is_empty(), "{problems:#?}");
    }

    /// Every key the code and `slave.html` use exists in English (and so, by the test above, in
    /// every language): the literal keys of `tr`/`trf` calls in the sources and the `data-i18n*`
    /// attributes of `slave.html`.
    #[test]
    fn every_key_the_page_uses_exists() {
        let en = parse_map(ENGLISH).unwrap_or_default();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut sources = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{d:?}: {e}")) {
                let p = e.unwrap_or_else(|e| panic!("{e}")).path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    sources.push(std::fs::read_to_string(&p).unwrap_or_default());
                }
            }
        }
        let html = include_str!("../../www/slave.html");
        let mut used = Vec::new();
        // `open` must start a word: a call named tr, not attr.
        let grab = |text: &str, open: &str, close: char, used: &mut Vec<String>| {
            for (at, _) in text.match_indices(open) {
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let part = &text[at + open.len()..];
                if let Some(end) = part.find(close) {
                    used.push(part[..end].to_owned());
                }
            }
        };
        for s in &sources {
            grab(s, "tr(\"", '"', &mut used);
            grab(s, "trf(\"", '"', &mut used);
        }
        for attr in ["i18n", "i18n-label", "i18n-title", "i18n-placeholder"] {
            grab(html, &format!(" data-{attr}=\""), '"', &mut used);
        }
        assert!(used.len() > 40, "found only {} uses", used.len());
        for key in &used {
            assert!(
                en.contains_key(key),
                "key `{key}` is used but not in en.json"
            );
        }
        for t in Theme::ALL {
            assert!(en.contains_key(t.label_key()));
        }
    }

    #[test]
    fn texts_fall_back_to_english_and_fill_placeholders() {
        let de = Texts::for_locale("de-CH");
        assert_eq!(de.tr("join"), "Beitreten");
        assert_eq!(Texts::for_locale("fr").tr("join"), "Join");
        assert_eq!(
            de.trf("lookingUp", &[("sid", "123")]),
            "Sitzung 123 wird gesucht …"
        );
        let mut partial = TextMap::new();
        partial.insert("join".into(), "Rejoindre".into());
        partial.insert("lookingUp".into(), "Session {numero}".into());
        let t = Texts::build(Some(&partial));
        assert_eq!(t.tr("join"), "Rejoindre");
        assert_eq!(t.trf("lookingUp", &[("sid", "1")]), "Looking up session 1…");
        let missing = "noSuchKey";
        assert_eq!(t.tr(missing), missing);
    }

    #[test]
    fn end_error_and_refusal_texts() {
        let t = Texts::default();
        assert!(t.end_reason(&EndReason::CustomerExit).contains("customer"));
        assert!(t.end_reason(&EndReason::Other("x".into())).ends_with('x'));
        assert!(!t.error(ErrorCode::UnknownSession).1);
        assert!(t.error(ErrorCode::Internal).1);
        // A refused credential is final; rate limiting only says "not now".
        assert!(!t.error(ErrorCode::Unauthorized).1);
        assert!(t.error(ErrorCode::RateLimited).1);
        assert!(
            t.refusal(&RefusalReason::OffOrigin)
                .starts_with("Action refused: ")
        );
    }

    #[test]
    fn language_and_theme_choices() {
        assert_eq!(choose_language([None, Some("de"), Some("fr")]), "de");
        assert_eq!(
            choose_language([Some("../x"), None, Some("fr-CA")]),
            "fr-CA"
        );
        assert_eq!(choose_language([None, None, None]), "en");
        assert_eq!(
            Theme::choose(Some("dark"), Some("light"), None),
            Theme::Dark
        );
        assert_eq!(
            Theme::choose(Some("bogus"), None, Some("high-contrast")),
            Theme::HighContrast
        );
        assert_eq!(Theme::choose(None, Some("auto"), Some("dark")), Theme::Auto);
        assert_eq!(Theme::choose(None, None, None), Theme::Auto);
        for t in Theme::ALL {
            assert_eq!(Theme::parse(t.as_str()), Some(t));
        }
    }
}
