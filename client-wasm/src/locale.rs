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
use std::collections::{BTreeMap, BTreeSet};

/// English, the fallback for every missing key.
pub const ENGLISH: &str = include_str!("../../www/locales/customer/en.json");

/// Languages compiled into the client: `(file name, JSON)`.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("en", ENGLISH),
    ("de", include_str!("../../www/locales/customer/de.json")),
];

/// A flat key → text table, as one locale file holds it.
pub type TextMap = BTreeMap<String, String>;

/// Parses one locale file: a JSON object whose values are all strings.
pub fn parse_map(json: &str) -> Result<TextMap, String> {
    #[cfg(target_arch = "wasm32")]
    {
        parse_in_browser(json)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        serde_json::from_str(json).map_err(|e| format!("locale file: {e}"))
    }
}

/// The browser's `JSON.parse`: serde_json would add about 20 KB (gzip) to the wasm for two small
/// files. (Native builds and unit tests use serde_json; the e2e cases exercise this path.)
#[cfg(target_arch = "wasm32")]
fn parse_in_browser(json: &str) -> Result<TextMap, String> {
    use wasm_bindgen::JsCast;
    let v = js_sys::JSON::parse(json).map_err(|_| "locale file: not JSON".to_string())?;
    if !v.is_object() || js_sys::Array::is_array(&v) {
        return Err("locale file: not a JSON object".into());
    }
    let mut out = TextMap::new();
    for entry in js_sys::Object::entries(v.unchecked_ref()).iter() {
        let pair: js_sys::Array = entry.unchecked_into();
        match (pair.get(0).as_string(), pair.get(1).as_string()) {
            (Some(k), Some(text)) => {
                out.insert(k, text);
            }
            _ => return Err("locale file: every value must be a string".into()),
        }
    }
    Ok(out)
}

/// File names to try for a language tag, most specific first: `de-AT` → `de-at`, `de`.
/// Tags with anything but ASCII letters, digits and `-`/`_` give none (they become file names).
pub fn candidates(tag: &str) -> Vec<String> {
    let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
    if tag.is_empty()
        || tag.len() > 35
        || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        || tag.starts_with('-')
    {
        return Vec::new();
    }
    let mut out = vec![tag.clone()];
    if let Some((primary, _)) = tag.split_once('-')
        && !primary.is_empty()
    {
        out.push(primary.to_owned());
    }
    out
}

/// The compiled-in file for `tag` (`de-CH` → German), if there is one.
pub fn built_in(tag: &str) -> Option<&'static str> {
    candidates(tag)
        .iter()
        .find_map(|c| BUILT_IN.iter().find(|(name, _)| name == c).map(|(_, j)| *j))
}

/// The `{name}` placeholders of a text.
pub fn placeholders(s: &str) -> BTreeSet<&str> {
    let mut out = BTreeSet::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        out.insert(&after[..close]);
        rest = &after[close + 1..];
    }
    out
}

/// Writes `layer` over `base`: only keys `base` has, only non-empty texts, only with the same
/// placeholders (a translation cannot drop or invent a value the code fills in).
pub fn merge(base: &mut TextMap, layer: &TextMap) {
    for (k, v) in layer {
        if let Some(slot) = base.get_mut(k)
            && !v.trim().is_empty()
            && placeholders(slot) == placeholders(v)
        {
            slot.clone_from(v);
        }
    }
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

    fn files() -> Vec<(&'static str, TextMap)> {
        BUILT_IN
            .iter()
            .map(|(n, j)| (*n, parse_map(j).unwrap_or_else(|e| panic!("{n}.json: {e}"))))
            .collect()
    }

    #[test]
    fn every_language_has_the_same_keys_no_empty_values_and_the_same_placeholders() {
        let all = files();
        let en = &all[0].1;
        for (name, map) in &all {
            let a: Vec<_> = en.keys().collect();
            let b: Vec<_> = map.keys().collect();
            assert_eq!(a, b, "{name}.json must have exactly English's keys");
            for (k, v) in map {
                assert!(!v.trim().is_empty(), "{name}.json: `{k}` is empty");
                assert_eq!(
                    placeholders(v),
                    placeholders(&en[k]),
                    "{name}.json: `{k}` placeholders differ from English"
                );
            }
        }
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

    #[test]
    fn language_tags_become_safe_file_names() {
        assert_eq!(candidates("pt_BR"), ["pt-br", "pt"]);
        assert_eq!(candidates("de"), ["de"]);
        assert!(candidates("../x").is_empty());
        assert!(candidates("").is_empty());
        assert!(candidates("-x").is_empty());
    }

    #[test]
    fn placeholders_must_match_to_replace() {
        assert_eq!(
            placeholders("a {x} b {y}").into_iter().collect::<Vec<_>>(),
            ["x", "y"]
        );
        let mut base = TextMap::new();
        base.insert("k".into(), "n {number}".into());
        let mut bad = TextMap::new();
        bad.insert("k".into(), "n {nummer}".into());
        merge(&mut base, &bad);
        assert_eq!(base["k"], "n {number}");
    }
}
