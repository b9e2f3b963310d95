//! The faces a page added to `document.fonts` with the FontFace API, as [`ScriptFont`]s.
//!
//! A face does not say where its data came from. Faces made while capture runs are known from the
//! `FontFace` hook (`hooks`). A face made before (the page's own script usually runs before the
//! asynchronously loaded snippet) is matched with the page's font downloads that no readable
//! `@font-face` rule explains, by order and only when the counts agree
//! ([`crate::paint::pair_faces`]); such a match is remembered for the face's life. Faces of
//! `@font-face` rules are the stylesheets' business and are left out: their family names a rule.

use crate::paint::{family_name, is_font_download, pair_faces};
use cobrowse_protocol::{FontSource, NodeId, ScriptFont};
use cobrowse_web_glue::realm::{get, items};
use js_sys::{Uint8Array, WeakMap};
use std::collections::BTreeSet;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Window};

/// Font data above this is not sent (a frame must stay small enough for the relay).
const MAX_FONT_BYTES: u32 = 4 << 20;

/// FontFace attributes and their defaults: only values that differ are sent.
const DESCRIPTORS: &[(&str, &str)] = &[
    ("style", "normal"),
    ("weight", "normal"),
    ("stretch", "normal"),
    ("unicodeRange", "U+0-10FFFF"),
    ("featureSettings", "normal"),
    ("variationSettings", "normal"),
    ("display", "auto"),
    ("ascentOverride", "normal"),
    ("descentOverride", "normal"),
    ("lineGapOverride", "normal"),
];

/// What a face's source is known from.
pub(super) struct Sources<'a> {
    /// face → what the page passed the hooked constructor.
    pub(super) hooked: &'a WeakMap,
    /// face → the download matched to it.
    pub(super) paired: &'a WeakMap,
}

fn string(v: Option<JsValue>) -> String {
    v.and_then(|v| v.as_string()).unwrap_or_default()
}

/// A family name as CSS may quote it, compared without case.
fn family_key(family: &str) -> String {
    family_name(family).to_lowercase()
}

/// The `url(…)` targets of a `src` descriptor (a plain scan: only to recognise downloads).
fn src_urls(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(i) = rest.to_ascii_lowercase().find("url(") {
        rest = &rest[i + 4..];
        let end = rest.find(')').unwrap_or(rest.len());
        let inner = rest[..end]
            .trim()
            .trim_matches(|c| c == '"' || c == '\'')
            .to_owned();
        out.push(inner);
        rest = &rest[end..];
    }
    out
}

/// Families and absolute source URLs of the readable `@font-face` rules of `doc`.
fn css_faces(doc: &Document) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut families = BTreeSet::new();
    let mut urls = BTreeSet::new();
    let base = doc.base_uri().ok().flatten().unwrap_or_default();
    let doc_v: &JsValue = doc.as_ref();
    let mut sheets = get(doc_v, "styleSheets")
        .map(|l| items(&l))
        .unwrap_or_default();
    sheets.extend(
        get(doc_v, "adoptedStyleSheets")
            .map(|l| items(&l))
            .unwrap_or_default(),
    );
    let mut stack: Vec<(JsValue, String)> = sheets
        .into_iter()
        .filter_map(|s| {
            let href = string(get(&s, "href"));
            let rules = get(&s, "cssRules")?;
            Some((rules, if href.is_empty() { base.clone() } else { href }))
        })
        .collect();
    while let Some((rules, sheet_base)) = stack.pop() {
        for rule in items(&rules) {
            // CSSFontFaceRule
            if get(&rule, "type").and_then(|t| t.as_f64()) == Some(5.0)
                && let Some(style) = get(&rule, "style")
            {
                let read = |p: &str| {
                    string(
                        get(&style, "getPropertyValue")
                            .filter(JsValue::is_function)
                            .and_then(|f| {
                                f.unchecked_ref::<js_sys::Function>()
                                    .call1(&style, &p.into())
                                    .ok()
                            }),
                    )
                };
                families.insert(family_key(&read("font-family")));
                for u in src_urls(&read("src")) {
                    if let Ok(abs) = web_sys::Url::new_with_base(&u, &sheet_base) {
                        urls.insert(abs.href());
                    }
                }
            }
            if let Some(inner) = get(&rule, "cssRules") {
                stack.push((inner, sheet_base.clone()));
            }
        }
    }
    (families, urls)
}

/// The page's font downloads (resource timing) no stylesheet rule names, in load order.
fn unexplained_downloads(window: &Window, css_urls: &BTreeSet<String>) -> Vec<String> {
    let Some(perf) = get(window.as_ref(), "performance") else {
        return Vec::new();
    };
    let entries = get(&perf, "getEntriesByType")
        .filter(JsValue::is_function)
        .and_then(|f| {
            f.unchecked_ref::<js_sys::Function>()
                .call1(&perf, &"resource".into())
                .ok()
        })
        .map(|l| items(&l))
        .unwrap_or_default();
    let mut seen = BTreeSet::new();
    entries
        .iter()
        .filter_map(|e| {
            let url = string(get(e, "name"));
            let ct = string(get(e, "contentType"));
            (is_font_download(&url, &ct) && !css_urls.contains(&url) && seen.insert(url.clone()))
                .then_some(url)
        })
        .collect()
}

/// `face`'s descriptors that differ from their defaults.
fn descriptors(face: &JsValue) -> Vec<(String, String)> {
    DESCRIPTORS
        .iter()
        .filter_map(|(k, default)| {
            let v = string(get(face, k));
            (!v.is_empty() && v != *default).then(|| ((*k).to_owned(), v))
        })
        .collect()
}

/// The data of a binary source, when it is small enough to send.
fn bytes_of(source: &JsValue) -> Option<Vec<u8>> {
    let len = get(source, "byteLength").and_then(|l| l.as_f64())? as u32;
    if len == 0 || len > MAX_FONT_BYTES {
        return None;
    }
    // An `ArrayBuffer` or a view of one (`Uint8Array`, `DataView`…).
    let view = match get(source, "buffer") {
        Some(buffer) => {
            let offset = get(source, "byteOffset")
                .and_then(|o| o.as_f64())
                .unwrap_or(0.0);
            Uint8Array::new_with_byte_offset_and_length(&buffer, offset as u32, len)
        }
        None => Uint8Array::new(source),
    };
    Some(view.to_vec())
}

/// The script-made faces of `doc` (captured as node `doc_id`).
pub(super) fn read(
    window: &Window,
    doc: &Document,
    doc_id: NodeId,
    src: &Sources<'_>,
) -> Vec<ScriptFont> {
    let Some(fonts) = get(doc.as_ref(), "fonts") else {
        return Vec::new();
    };
    let faces: Vec<JsValue> = js_sys::try_iter(&fonts)
        .ok()
        .flatten()
        .map(|it| it.filter_map(Result::ok).collect())
        .unwrap_or_default();
    let base = doc.base_uri().ok().flatten().unwrap_or_default();
    let known = |f: &JsValue| {
        let key = f.unchecked_ref();
        !src.hooked.get(key).is_undefined() || !src.paired.get(key).is_undefined()
    };
    if faces.iter().any(|f| f.is_object() && !known(f)) {
        let (families, css_urls) = css_faces(doc);
        let unknown: Vec<JsValue> = faces
            .iter()
            .filter(|f| f.is_object() && !known(f))
            .filter(|f| !families.contains(&family_key(&string(get(f, "family")))))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            let taken: BTreeSet<String> = faces
                .iter()
                .filter_map(|f| src.paired.get(f.unchecked_ref()).as_string())
                .collect();
            let downloads: Vec<String> = unexplained_downloads(window, &css_urls)
                .into_iter()
                .filter(|u| !taken.contains(u))
                .collect();
            for (face, url) in pair_faces(&unknown, &downloads) {
                src.paired.set(face.unchecked_ref(), &url.into());
            }
        }
    }
    let mut out = Vec::new();
    for face in faces.iter().filter(|f| f.is_object()) {
        let key = face.unchecked_ref();
        let hooked = src.hooked.get(key);
        let (source, base_url) = if let Some(text) = hooked.as_string() {
            (FontSource::Css(text), base.clone())
        } else if hooked.is_object() {
            match bytes_of(&hooked) {
                Some(b) => (FontSource::Data(b), base.clone()),
                None => continue,
            }
        } else if let Some(url) = src.paired.get(key).as_string() {
            let quoted = url.replace('\\', "\\\\").replace('"', "\\\"");
            (FontSource::Css(format!("url(\"{quoted}\")")), url)
        } else {
            continue;
        };
        out.push(ScriptFont {
            doc: doc_id,
            family: family_name(&string(get(face, "family"))),
            source,
            base_url,
            descriptors: descriptors(face),
        });
    }
    out
}
