//! What the agent's browser cannot answer for the customer, applied in place to the replica's
//! readable rules: `:defined` (the replica runs no scripts, so it defines no custom element) and
//! the customer's colour-scheme preference (`prefers-color-scheme` in media queries, `color-scheme`
//! values that offer both schemes, the page's `<meta name="color-scheme">`). The rewrites are
//! `cobrowse_css_rewrite`'s (`defined`, `scheme`).
//!
//! Rules are changed through the CSSOM (`selectorText`, `media.mediaText`,
//! `style.setProperty`), never in the DOM, so the replica's DOM stays the customer's. Each rule's
//! original text is kept in a `WeakMap`, so a changed preference rewrites from the original, and a
//! sheet is walked again only when its rule count or the preferences changed. Sheets the replica
//! cannot read (cross-origin, not through the CSS proxy) keep the agent's answers.

use super::js::call;
use cobrowse_css_rewrite::rewrite_defined;
use cobrowse_css_rewrite::scheme::{rewrite_media, used_color_scheme};
use cobrowse_web_glue::realm::{get, length};
use js_sys::{Array, Object, Reflect, WeakMap};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::Document;

#[wasm_bindgen(module = "/src/web/styles/rules.js")]
extern "C" {
    #[wasm_bindgen(js_name = prefsCandidates)]
    fn prefs_candidates_js(
        list: &JsValue,
        originals: &WeakMap,
        defined: bool,
        scheme: bool,
        out: &Array,
    );
}

/// The customer's answers, and what was rewritten with them.
pub(super) struct Prefs {
    /// The customer prefers dark (`None`: not told yet; the agent's own preference applies).
    dark: Option<bool>,
    /// Custom element names the customer has not defined (`None`: not told yet).
    undefined: Option<Vec<String>>,
    /// Bumped on every change of either, so every sheet is walked again.
    generation: u32,
    /// rule (or sheet) → `{ s: selectorText, m: mediaText, c: [color-scheme, priority] }` as the
    /// customer's page has them.
    originals: WeakMap,
    /// sheet → `[rule count, generation]` when last walked.
    done: WeakMap,
}

impl Prefs {
    /// Nothing known yet.
    pub(super) fn new() -> Self {
        Prefs {
            dark: None,
            undefined: None,
            generation: 0,
            originals: WeakMap::new(),
            done: WeakMap::new(),
        }
    }

    /// The customer's preference; true when it changed.
    pub(super) fn set_dark(&mut self, dark: bool) -> bool {
        if self.dark == Some(dark) {
            return false;
        }
        self.dark = Some(dark);
        self.generation += 1;
        true
    }

    /// The names the customer has not defined; true when they changed.
    pub(super) fn set_undefined(&mut self, names: Vec<String>) -> bool {
        if self.undefined.as_ref() == Some(&names) {
            return false;
        }
        self.undefined = Some(names);
        self.generation += 1;
        true
    }

    /// The CSSOM changed in place (a rule inserted or deleted somewhere inside a sheet): walk
    /// every sheet again.
    pub(super) fn forget_walks(&mut self) {
        self.done = WeakMap::new();
    }

    /// Rewrites `sheet` (and its imports) for the customer's answers, unless nothing changed
    /// since the last walk.
    pub(super) fn adjust(&self, sheet: &JsValue) {
        if (self.dark.is_none() && self.undefined.is_none()) || !sheet.is_object() {
            return;
        }
        // Cross-origin sheets throw on `cssRules`: nothing to rewrite.
        let Some(rules) = get(sheet, "cssRules") else {
            return;
        };
        let n = length(&rules);
        let key: &Object = sheet.unchecked_ref();
        let hit = self.done.get(key);
        let gen_of = |i| Reflect::get_u32(&hit, i).ok().and_then(|v| v.as_f64());
        if gen_of(0) == Some(f64::from(n)) && gen_of(1) == Some(f64::from(self.generation)) {
            return;
        }
        self.done.set(
            key,
            &Array::of2(&JsValue::from(n), &JsValue::from(self.generation)),
        );
        if let Some(media) = get(sheet, "media") {
            self.media(sheet, &media);
        }
        // Only the rules the preferences may touch cross into wasm (`rules.js` applies the same
        // pre-checks as the rewrites below); nested lists come flattened.
        let wanted = Array::new();
        prefs_candidates_js(
            &rules,
            &self.originals,
            self.undefined.is_some(),
            self.dark.is_some(),
            &wanted,
        );
        for rule in wanted.iter() {
            if get(&rule, "selectorText").is_some() {
                self.style_rule(&rule);
            }
            if let Some(media) = get(&rule, "media") {
                self.media(&rule, &media);
            }
            // `@import`: its own sheet, when readable.
            if let Some(sheet) = get(&rule, "styleSheet") {
                self.adjust(&sheet);
            }
        }
    }

    /// The rule that stands for the page's `<meta name="color-scheme">` under the customer's
    /// preference (zero specificity: any rule of the page about the root's scheme still wins).
    pub(super) fn root_rule(&self, doc: &Document) -> Option<String> {
        let dark = self.dark?;
        let content = doc
            .query_selector("meta[name=\"color-scheme\" i][content]")
            .ok()??
            .get_attribute("content")?;
        let used = used_color_scheme(&content, dark)?;
        Some(format!(":where(:root) {{ color-scheme: {used}; }}\n"))
    }

    /// The original of `what` for `owner`, remembering `current` as it when first seen.
    fn original(&self, owner: &JsValue, what: &str, current: &JsValue) -> JsValue {
        let key: &Object = owner.unchecked_ref();
        let mut rec = self.originals.get(key);
        if !rec.is_object() {
            rec = Object::new().into();
            self.originals.set(key, &rec);
        }
        match Reflect::get(&rec, &what.into()) {
            Ok(v) if !v.is_undefined() => v,
            _ => {
                let _ = Reflect::set(&rec, &what.into(), current);
                current.clone()
            }
        }
    }

    fn style_rule(&self, rule: &JsValue) {
        let Some(current) = get(rule, "selectorText").and_then(|s| s.as_string()) else {
            return;
        };
        if let Some(undefined) = &self.undefined {
            let original = self
                .original(rule, "s", &JsValue::from_str(&current))
                .as_string()
                .unwrap_or_default();
            let want = rewrite_defined(&original, undefined).unwrap_or(original);
            if want != current {
                let _ = Reflect::set(rule, &"selectorText".into(), &want.into());
            }
        }
        let Some(dark) = self.dark else { return };
        let Some(style) = get(rule, "style") else {
            return;
        };
        let value = call(&style, "getPropertyValue", &["color-scheme".into()])
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        if value.is_empty() {
            return;
        }
        let priority = call(&style, "getPropertyPriority", &["color-scheme".into()])
            .unwrap_or_else(|_| "".into());
        let original = self.original(rule, "c", &Array::of2(&value.as_str().into(), &priority));
        let (Some(orig), prio) = (
            Reflect::get_u32(&original, 0)
                .ok()
                .and_then(|v| v.as_string()),
            Reflect::get_u32(&original, 1).unwrap_or_else(|_| "".into()),
        ) else {
            return;
        };
        let want = used_color_scheme(&orig, dark).unwrap_or(orig);
        if want != value {
            let _ = call(
                &style,
                "setProperty",
                &["color-scheme".into(), want.into(), prio],
            );
        }
    }

    /// Rewrites a `MediaList` (of a media or import rule, or of a sheet) for the preference.
    fn media(&self, owner: &JsValue, media: &JsValue) {
        let Some(dark) = self.dark else { return };
        let Some(current) = get(media, "mediaText").and_then(|m| m.as_string()) else {
            return;
        };
        let original = self
            .original(owner, "m", &JsValue::from_str(&current))
            .as_string()
            .unwrap_or_default();
        let want = rewrite_media(&original, dark).unwrap_or(original);
        if want != current {
            let _ = Reflect::set(media, &"mediaText".into(), &want.into());
        }
    }
}
