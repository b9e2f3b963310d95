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

/// Declares [`Texts`] with the locale files' key of each field, so the fields, the keys and the
/// lookups have one definition. Hand-written rather than serde-derived: a derived `Deserialize`
/// of 35 fields was 17 KB of the customer's wasm.
macro_rules! texts {
    ($($(#[$doc:meta])* $field:ident = $key:literal,)*) => {
        /// Texts of the customer UI (keys as in the locale files).
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct Texts {
            $($(#[$doc])* pub $field: String,)*
        }

        impl Texts {
            /// Every key, as in the locale files.
            pub const KEYS: &[&str] = &[$($key),*];

            /// The text of `key`, if it is one.
            pub fn get(&self, key: &str) -> Option<&str> {
                match key {
                    $($key => Some(&self.$field),)*
                    _ => None,
                }
            }

            /// The texts of a complete map; a missing key gives an empty text.
            fn from_map(mut m: TextMap) -> Texts {
                Texts { $($field: m.remove($key).unwrap_or_default(),)* }
            }
        }
    };
}

texts! {
    /// The co-browse button.
    button = "button",
    /// Accessible label of the button.
    button_label = "buttonLabel",
    /// Accessible name of the panel (session number, status, exit).
    panel_label = "panelLabel",
    /// "Are you on a call or chat with an agent?"
    confirm_question = "confirmQuestion",
    /// Confirmation "yes".
    yes = "yes",
    /// Confirmation "no".
    no = "no",
    /// Shown after "no": start a call or chat first.
    need_agent = "needAgent",
    /// Close a notice or dialog.
    close = "close",
    /// Label before the session number.
    session_number = "sessionNumber",
    /// Hint under the number.
    read_to_agent = "readToAgent",
    /// Copy button.
    copy = "copy",
    /// After copying.
    copied = "copied",
    /// Exit button.
    exit = "exit",
    /// Session is being created.
    connecting = "connecting",
    /// The connection dropped; it is being restored.
    reconnecting = "reconnecting",
    /// An agent joined.
    agent_joined = "agentJoined",
    /// The agent left.
    agent_left = "agentLeft",
    /// The session ended (followed by the reason).
    ended = "ended",
    /// Reason: the customer ended it.
    reason_customer = "reasonCustomer",
    /// Reason: the agent ended it.
    reason_agent = "reasonAgent",
    /// Reason: ended by the site or an integration.
    reason_stopped = "reasonStopped",
    /// Reason: nobody joined in time.
    reason_timeout = "reasonTimeout",
    /// Reason: the connection was lost.
    reason_connection = "reasonConnection",
    /// Reason: the server shut down.
    reason_server = "reasonServer",
    /// The agent is busy with another session.
    agent_busy = "agentBusy",
    /// Starting failed.
    error = "error",
    /// The agent asks for write mode.
    write_request = "writeRequest",
    /// Allow write mode.
    allow = "allow",
    /// Deny write mode.
    deny = "deny",
    /// Take control back from the agent (ends write mode).
    revoke = "revoke",
    /// Write mode is on.
    control_granted = "controlGranted",
    /// Write mode is off again.
    control_revoked = "controlRevoked",
    /// Heading of the list of agents watching.
    watchers_label = "watchersLabel",
    /// An agent in the list that holds control (`{name}`).
    watcher_in_control = "watcherInControl",
    /// An agent in the list that only watches (`{name}`).
    watcher_observing = "watcherObserving",
    /// The name of an agent that gave none.
    watcher_unnamed = "watcherUnnamed",
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
        Texts::from_map(m)
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
        let en = parse_map(ENGLISH).expect("en.json");
        let keys: Vec<&str> = en.keys().map(String::as_str).collect();
        let mut fields = Texts::KEYS.to_vec();
        fields.sort_unstable();
        assert_eq!(keys, fields, "en.json keys vs Texts fields");
        let t = Texts::build(None, None);
        for k in Texts::KEYS {
            assert_eq!(t.get(k), Some(en[*k].as_str()), "{k}");
        }
        assert_eq!(t.button, "Co-browse");
        assert_eq!(t.watcher_unnamed, en["watcherUnnamed"]);
        assert_eq!(t.get("unknown"), None);
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
