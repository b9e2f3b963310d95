//! UI text files: one flat JSON object per language and UI (`www/locales/<ui>/<lang>.json`),
//! camelCase keys, values with `{placeholders}` the code fills in. Each UI compiles English (the
//! fallback) and German in and fetches others from the server's static root; the rules for
//! reading and layering them live here so the customer client and the agent page agree.

use std::collections::{BTreeMap, BTreeSet};

/// A flat key → text table, as one locale file holds it.
pub type TextMap = BTreeMap<String, String>;

/// Parses one locale file natively (serde_json). The pages parse through the browser
/// (`cobrowse-web-glue`), which keeps serde_json out of the wasm bundles and this crate free of
/// browser dependencies.
#[cfg(not(target_arch = "wasm32"))]
pub fn parse_map(json: &str) -> Result<TextMap, String> {
    serde_json::from_str(json).map_err(|e| format!("locale file: {e}"))
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

/// The file of `table` (`(file name, JSON)` pairs compiled into a UI) for `tag`, trying
/// [`candidates`] in order (`de-CH` → `de`), if there is one.
pub fn built_in(table: &'static [(&'static str, &'static str)], tag: &str) -> Option<&'static str> {
    candidates(tag)
        .iter()
        .find_map(|c| table.iter().find(|(name, _)| name == c).map(|(_, j)| *j))
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

/// Problems of a UI's compiled-in files (`(file name, JSON)`, English first), for that UI's unit
/// tests: a file that does not parse, keys other than English's, empty values, placeholders that
/// differ from English's. Empty when every language is complete. `parse` reads one file (the
/// UI's own parser, so the check reads the files the way the UI does).
pub fn check_translations(
    table: &[(&str, &str)],
    parse: impl Fn(&str) -> Result<TextMap, String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for (name, json) in table {
        match parse(json) {
            Ok(map) => files.push((*name, map)),
            Err(e) => problems.push(format!("{name}.json: {e}")),
        }
    }
    let Some((_, en)) = files.first() else {
        return problems;
    };
    for (name, map) in &files {
        for k in en.keys().filter(|k| !map.contains_key(*k)) {
            problems.push(format!("{name}.json: `{k}` is missing"));
        }
        for (k, v) in map {
            match en.get(k) {
                None => problems.push(format!("{name}.json: `{k}` is not an English key")),
                Some(_) if v.trim().is_empty() => {
                    problems.push(format!("{name}.json: `{k}` is empty"))
                }
                Some(e) if placeholders(v) != placeholders(e) => problems.push(format!(
                    "{name}.json: `{k}` placeholders differ from English"
                )),
                Some(_) => {}
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_become_safe_file_names() {
        assert_eq!(candidates("pt_BR"), ["pt-br", "pt"]);
        assert_eq!(candidates("de"), ["de"]);
        assert!(candidates("../x").is_empty());
        assert!(candidates("").is_empty());
        assert!(candidates("-x").is_empty());
    }

    #[test]
    fn built_in_tries_the_primary_language() {
        const TABLE: &[(&str, &str)] = &[("en", "{}"), ("de", "{\"a\":\"b\"}")];
        assert_eq!(built_in(TABLE, "de-CH"), Some("{\"a\":\"b\"}"));
        assert_eq!(built_in(TABLE, "fr"), None);
    }

    #[test]
    fn parse_map_wants_an_object_of_strings() {
        assert_eq!(parse_map("{\"a\":\"b\"}").unwrap()["a"], "b");
        assert!(parse_map("[1]").is_err());
        assert!(parse_map("{\"a\":1}").is_err());
    }

    #[test]
    fn placeholders_must_match_to_replace() {
        assert_eq!(
            placeholders("a {x} b {y}").into_iter().collect::<Vec<_>>(),
            ["x", "y"]
        );
        let mut base = TextMap::new();
        base.insert("k".into(), "n {number}".into());
        base.insert("e".into(), "kept".into());
        let mut layer = TextMap::new();
        layer.insert("k".into(), "n {nummer}".into());
        layer.insert("e".into(), "  ".into());
        layer.insert("new".into(), "x".into());
        merge(&mut base, &layer);
        assert_eq!(base["k"], "n {number}");
        assert_eq!(base["e"], "kept");
        assert!(!base.contains_key("new"));
        layer.insert("k".into(), "Nr. {number}".into());
        merge(&mut base, &layer);
        assert_eq!(base["k"], "Nr. {number}");
    }

    #[test]
    fn check_translations_names_every_kind_of_problem() {
        let en = r#"{"a":"A {n}","b":"B","c":"C"}"#;
        let de = r#"{"a":"A {m}","b":" ","d":"D"}"#;
        assert!(check_translations(&[("en", en), ("de", en)], parse_map).is_empty());
        let got = check_translations(&[("en", en), ("de", de), ("fr", "[")], parse_map);
        for want in [
            "fr.json: locale file",
            "de.json: `c` is missing",
            "de.json: `d` is not an English key",
            "de.json: `b` is empty",
            "de.json: `a` placeholders differ",
        ] {
            assert!(
                got.iter().any(|g| g.starts_with(want)),
                "{want} not in {got:?}"
            );
        }
    }
}
