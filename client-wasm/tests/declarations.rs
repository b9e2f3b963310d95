//! The npm package's TypeScript declarations (`js-shim/src/index.d.ts`) name exactly what the
//! client reads: the configuration keys, the text keys of the English locale file, the restriction
//! rule's keys, the `inlineImages` and the `uploadBudget` keys. A field added on one side only fails here.
//!
//! Native only: it reads files from the repository.
#![cfg(not(target_arch = "wasm32"))]

use cobrowse_client::config::{Config, InlineImages, RESTRICTION_KEYS, UploadBudget};
use cobrowse_client::fields::fields_of;
use cobrowse_client::restrictions::Rule;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn file(rel: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", rel].iter().collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The member names of `export interface NAME { … }` (top-level members only).
fn interface_keys(dts: &str, name: &str) -> BTreeSet<String> {
    let start = dts
        .find(&format!("export interface {name} "))
        .unwrap_or_else(|| panic!("index.d.ts declares no interface {name}"));
    let body = &dts[start..];
    let body = &body[body.find('{').expect("interface body") + 1..];
    let mut depth = 0usize;
    let mut keys = BTreeSet::new();
    for line in body.lines() {
        let t = line.trim();
        if depth == 0 && t.starts_with('}') {
            break;
        }
        if depth == 0
            && let Some((key, _)) = t.split_once(':')
        {
            let key = key.trim_end_matches('?');
            if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric()) {
                keys.insert(key.to_owned());
            }
        }
        depth += t.matches('{').count();
        depth -= t.matches('}').count().min(depth);
    }
    keys
}

fn set(items: impl IntoIterator<Item = impl Into<String>>) -> BTreeSet<String> {
    items.into_iter().map(Into::into).collect()
}

#[test]
fn config_declaration_lists_every_key_the_client_reads() {
    let dts = file("js-shim/src/index.d.ts");
    let declared = interface_keys(&dts, "CobrowseConfig");
    let read = set(fields_of::<Config>()
        .iter()
        .chain(RESTRICTION_KEYS)
        .copied());
    assert_eq!(
        declared, read,
        "CobrowseConfig in index.d.ts vs the client's Config"
    );
}

/// The keys of a one-line object type declared for config key `name` (`name?: { a?: …; b?: … }`).
fn object_keys(dts: &str, name: &str) -> BTreeSet<String> {
    let line = dts
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{name}?:")))
        .unwrap_or_else(|| panic!("{name} is declared"));
    line.split(['{', ';', '}'])
        .filter_map(|part| part.split_once(':'))
        .map(|(k, _)| k.trim().trim_end_matches('?').to_owned())
        .filter(|k| k != name && !k.is_empty())
        .collect()
}

#[test]
fn restriction_inline_image_and_upload_budget_declarations_match_their_types() {
    let dts = file("js-shim/src/index.d.ts");
    assert_eq!(
        interface_keys(&dts, "CobrowseRestriction"),
        set(fields_of::<Rule>().iter().copied())
    );
    assert_eq!(
        object_keys(&dts, "inlineImages"),
        set(fields_of::<InlineImages>().iter().copied())
    );
    assert_eq!(
        object_keys(&dts, "uploadBudget"),
        set(fields_of::<UploadBudget>().iter().copied())
    );
}

#[test]
fn text_declaration_lists_every_key_of_the_english_locale() {
    let dts = file("js-shim/src/index.d.ts");
    let en: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&file("www/locales/customer/en.json")).expect("en.json");
    assert_eq!(
        interface_keys(&dts, "CobrowseTexts"),
        en.keys().cloned().collect::<BTreeSet<_>>()
    );
}
