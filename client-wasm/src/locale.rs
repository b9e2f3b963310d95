//! The customer UI's texts and how a language is chosen.
//!
//! The JSON files in `www/locales/customer/` are the source of truth: one flat object per
//! language, camelCase keys (the same names `cobrowseConfig.texts` overrides use), values may
//! contain `{placeholders}`. English and German are compiled in (`include_str!`), so the usual
//! case needs no extra request; any other language is fetched from the server's static root
//! (`/cobrowse/locales/customer/<tag>.json`), so operators add a language by dropping a file there.
//!
//! Layers, each over the one before: English, the chosen language, the site's overrides. A key
//! a layer lacks (or whose placeholders differ from English) keeps the value below it, so a
//! partial translation still shows every text. Nothing here touches the DOM (native tests).

use serde::Deserialize;

/// English, the fallback for every missing key.
pub const ENGLISH: &str = include_str!("../../www/locales/customer/en.json");

/// Languages compiled into the client: `(file name, JSON)`.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("en", ENGLISH),
    ("de", include_str!("../../www/locales/customer/de.json")),
];

pub use cobrowse_common::locale::{TextMap, candidates, merge, placeholders};
pub use cobrowse_web_glue::json::parse_text_map as parse_map;

/// The compiled-in file for `tag` (`de-CH` → German), if there is one.
pub fn built_in(tag: &str) -> Option<&'static str> {
    cobrowse_common::locale::built_in(BUILT_IN, tag)
}

/// The language tag to use: the first of `choices` (in the browser: `cobrowseConfig.locale`, the
/// page's `<html lang>`, `navigator.language`) that names a language once trimmed, else `en`.
pub fn choose(choices: impl IntoIterator<Item = Option<String>>) -> String {
    choices
        .into_iter()
        .flatten()
        .map(|s| s.trim().to_owned())
        .find(|s| !candidates(s).is_empty())
        .unwrap_or_else(|| "en".into())
}

/// Texts of the customer UI (keys as in the locale files).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Texts {
    /// The co-browse button.
    pub button: String,
    /// Accessible label of the button.
    pub button_label: String,
    /// Accessible name of the panel (session number, status, exit).
    pub panel_label: String,
    /// "Are you on a call or chat with an agent?"
    pub confirm_question: String,
    /// Confirmation "yes".
    pub yes: String,
    /// Confirmation "no".
    pub no: String,
    /// Shown after "no": start a call or chat first.
    pub need_agent: String,
    /// Close a notice or dialog.
    pub close: String,
    /// Label before the session number.
    pub session_number: String,
    /// Hint under the number.
    pub read_to_agent: String,
    /// Copy button.
    pub copy: String,
    /// After copying.
    pub copied: String,
    /// Exit button.
    pub exit: String,
    /// Session is being created.
    pub connecting: String,
    /// The connection dropped; it is being restored.
    pub reconnecting: String,
    /// An agent joined.
    pub agent_joined: String,
    /// The agent left.
    pub agent_left: String,
    /// The session ended (followed by the reason).
    pub ended: String,
    /// Reason: the customer ended it.
    pub reason_customer: String,
    /// Reason: the agent ended it.
    pub reason_agent: String,
    /// Reason: ended by the site or an integration.
    pub reason_stopped: String,
    /// Reason: nobody joined in time.
    pub reason_timeout: String,
    /// Reason: the connection was lost.
    pub reason_connection: String,
    /// Reason: the server shut down.
    pub reason_server: String,
    /// The agent is busy with another session.
    pub agent_busy: String,
    /// Starting failed.
    pub error: String,
    /// The agent asks for write mode.
    pub write_request: String,
    /// Allow write mode.
    pub allow: String,
    /// Deny write mode.
    pub deny: String,
    /// Take control back from the agent (ends write mode).
    pub revoke: String,
    /// Write mode is on.
    pub control_granted: String,
    /// Write mode is off again.
    pub control_revoked: String,
    /// Heading of the list of agents watching.
    pub watchers_label: String,
    /// An agent in the list that holds control (`{name}`).
    pub watcher_in_control: String,
    /// An agent in the list that only watches (`{name}`).
    pub watcher_observing: String,
    /// The name of an agent that gave none.
    pub watcher_unnamed: String,
}

impl Texts {
    /// English, then `locale`, then the site's `overrides` (see the module doc for the rules).
    pub fn build(locale: Option<&TextMap>, overrides: Option<&TextMap>) -> Texts {
        // English is checked complete by a unit test; a broken build gives empty texts, never a
        // panic on a customer's page.
        let mut m = parse_map(ENGLISH).unwrap_or_default();
        for layer in [locale, overrides].into_iter().flatten() {
            merge(&mut m, layer);
        }
        Texts::deserialize(serde::de::value::MapDeserializer::<
            _,
            serde::de::value::Error,
        >::new(m.into_iter()))
        .unwrap_or_default()
    }

    /// The compiled-in texts for `tag` (English for languages that are not compiled in).
    pub fn for_locale(tag: &str) -> Texts {
        let map = built_in(tag).and_then(|j| parse_map(j).ok());
        Texts::build(map.as_ref(), None)
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

    #[test]
    fn english_fills_every_field_and_nothing_else() {
        // `Texts` denies unknown fields and has no defaults: this parse fails on a missing or an
        // extra key.
        let strict: Result<Texts, _> = serde_json::from_str(ENGLISH);
        let t = strict.unwrap_or_else(|e| panic!("en.json vs Texts: {e}"));
        assert_eq!(t, Texts::build(None, None));
        assert_eq!(t.button, "Co-browse");
    }

    #[test]
    fn the_first_usable_language_wins() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(choose([some(""), some(" de-CH "), some("fr")]), "de-CH");
        assert_eq!(choose([None, some("bad tag!"), some("pt_BR")]), "pt_BR");
        assert_eq!(choose([some("  "), None, None]), "en");
    }

    #[test]
    fn german_and_fallbacks() {
        assert_eq!(Texts::for_locale("de").yes, "Ja");
        assert_eq!(Texts::for_locale("de-AT").yes, "Ja");
        assert_eq!(Texts::for_locale("fr").yes, "Yes");
        let mut partial = TextMap::new();
        partial.insert("yes".into(), "Oui".into());
        partial.insert("no".into(), "  ".into());
        partial.insert("unknown".into(), "x".into());
        let t = Texts::build(Some(&partial), None);
        assert_eq!((t.yes.as_str(), t.no.as_str()), ("Oui", "No"));
    }
}
