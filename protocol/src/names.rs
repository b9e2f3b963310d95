//! Interned tag and attribute names.
//!
//! A [`Name`] is a varint on the wire. Ids below [`STATIC_NAMES`]`.len()` refer to the static
//! dictionary (the most common names first, so most cost one byte); ids from
//! [`DYNAMIC_NAME_BASE`] on index the [`NameTable`] carried by the same message; ids in between are
//! invalid. The dynamic base is fixed (not "just after the dictionary") so that appending to the
//! dictionary never changes what a dynamic id means: a peer that lacks a newer dictionary entry
//! refuses the frame instead of silently resolving the id to a different name. Entries may only be
//! appended, never reordered or removed; using appended entries still needs a protocol version bump,
//! since older peers refuse them.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

/// An interned name: see the module docs for how ids map to strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Name(pub u32);

/// Common HTML and SVG tag and attribute names, most frequent first (ids 0..127 cost one byte).
/// Append only: reordering changes the meaning of frames already stored.
pub const STATIC_NAMES: &[&str] = &[
    // 0..: the most common tags
    "div",
    "span",
    "a",
    "p",
    "li",
    "ul",
    "img",
    "input",
    "button",
    "td",
    "tr",
    "path",
    "svg",
    "i",
    "label",
    "option",
    "script",
    "style",
    "link",
    "meta",
    "section",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "nav",
    "header",
    "footer",
    "main",
    "article",
    "aside",
    "form",
    "select",
    "textarea",
    "table",
    "tbody",
    "thead",
    "th",
    "ol",
    "strong",
    "em",
    "b",
    "br",
    "hr",
    "small",
    "iframe",
    "body",
    "head",
    "html",
    "title",
    "g",
    "use",
    "circle",
    "rect",
    "line",
    "polygon",
    "defs",
    // the most common attributes
    "class",
    "id",
    "style",
    "href",
    "src",
    "type",
    "name",
    "value",
    "alt",
    "title",
    "rel",
    "content",
    "role",
    "width",
    "height",
    "d",
    "fill",
    "viewBox",
    "xmlns",
    "stroke",
    "tabindex",
    "for",
    "placeholder",
    "target",
    "aria-label",
    "aria-hidden",
    "aria-expanded",
    "data-id",
    "lang",
    "charset",
    "action",
    "method",
    "checked",
    "selected",
    "disabled",
    "srcset",
    "sizes",
    "media",
    "colspan",
    "rowspan",
    "transform",
    "x",
    "y",
    "cx",
    "cy",
    "r",
    "points",
    "stroke-width",
    "xlink:href",
    "loading",
    "dir",
    "hidden",
    "open",
    "autocomplete",
    "readonly",
    "required",
    "maxlength",
    "min",
    "max",
    "step",
    "pattern",
    "multiple",
    // 121..: less common tags
    "picture",
    "source",
    "video",
    "audio",
    "canvas",
    "dialog",
    "details",
    "summary",
    "template",
    "slot",
    "figure",
    "figcaption",
    "blockquote",
    "pre",
    "code",
    "caption",
    "fieldset",
    "legend",
    "noscript",
    "time",
    "mark",
    "sup",
    "sub",
    "u",
    "s",
    "abbr",
    "cite",
    "dl",
    "dt",
    "dd",
    "progress",
    "meter",
    "output",
    "optgroup",
    "datalist",
    "base",
    "object",
    "embed",
    "track",
    "ellipse",
    "polyline",
    "text",
    "tspan",
    "symbol",
    "clipPath",
    "mask",
    "linearGradient",
    "radialGradient",
    "stop",
    "filter",
    "pattern",
    "image",
    "foreignObject",
    "tfoot",
    "col",
    "colgroup",
    "map",
    "area",
    "hgroup",
    "address",
    "wbr",
    "kbd",
    "var",
    "samp",
    "q",
    "bdi",
    "bdo",
    "ruby",
    "rt",
    "rp",
    "data",
    "math",
    // less common attributes
    "aria-describedby",
    "aria-labelledby",
    "aria-controls",
    "aria-selected",
    "aria-current",
    "aria-live",
    "aria-haspopup",
    "aria-checked",
    "aria-disabled",
    "aria-pressed",
    "contenteditable",
    "draggable",
    "spellcheck",
    "translate",
    "integrity",
    "crossorigin",
    "referrerpolicy",
    "decoding",
    "fetchpriority",
    "poster",
    "controls",
    "autoplay",
    "muted",
    "loop",
    "playsinline",
    "preload",
    "download",
    "hreflang",
    "ping",
    "accept",
    "autofocus",
    "form",
    "inputmode",
    "enterkeyhint",
    "list",
    "size",
    "wrap",
    "cols",
    "rows",
    "label",
    "datetime",
    "scope",
    "headers",
    "span",
    "start",
    "reversed",
    "nonce",
    "async",
    "defer",
    "http-equiv",
    "property",
    "itemprop",
    "itemscope",
    "itemtype",
    "sandbox",
    "allow",
    "frameborder",
    "allowfullscreen",
    "srcdoc",
    "usemap",
    "shape",
    "coords",
    "fill-rule",
    "clip-rule",
    "stroke-linecap",
    "stroke-linejoin",
    "opacity",
    "fill-opacity",
    "stroke-opacity",
    "offset",
    "stop-color",
    "gradientUnits",
    "gradientTransform",
    "x1",
    "x2",
    "y1",
    "y2",
    "rx",
    "ry",
    "dx",
    "dy",
    "preserveAspectRatio",
    "version",
    "xmlns:xlink",
    "focusable",
    "clip-path",
    "mask",
    "font-size",
    "font-family",
    "text-anchor",
    "is",
    "part",
    "exportparts",
    "slot",
    "popover",
    "inert",
    "data-testid",
];

/// Id of the first dynamic name. Ids from here up to 16,383 cost two bytes, like the upper part of
/// the dictionary; the dictionary may grow up to this size.
pub const DYNAMIC_NAME_BASE: u32 = 1024;

// The dictionary must end below the dynamic base, and dynamic ids should start at two bytes.
const _: () = assert!(STATIC_NAMES.len() <= DYNAMIC_NAME_BASE as usize);
const _: () = assert!(DYNAMIC_NAME_BASE < 16_384);

fn static_index() -> &'static HashMap<&'static str, u32> {
    static INDEX: OnceLock<HashMap<&'static str, u32>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut map = HashMap::with_capacity(STATIC_NAMES.len());
        for (i, name) in STATIC_NAMES.iter().enumerate() {
            // A name listed twice (e.g. "style" as tag and attribute) keeps its first id.
            map.entry(*name).or_insert(i as u32);
        }
        map
    })
}

/// Per-message table of names that are not in the static dictionary.
///
/// Encoders call [`NameTable::intern`] while building a message; decoders call
/// [`NameTable::resolve`]. The table travels inside the message it belongs to.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct NameTable {
    /// Names in the order they were interned; entry `i` has id [`DYNAMIC_NAME_BASE`]` + i`.
    pub names: Vec<String>,
    #[serde(skip)]
    #[cfg_attr(feature = "arbitrary", arbitrary(default))]
    lookup: HashMap<String, u32>,
}

// Equality is about the names only; the lookup map is a cache.
impl PartialEq for NameTable {
    fn eq(&self, other: &Self) -> bool {
        self.names == other.names
    }
}
impl Eq for NameTable {}

impl NameTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the id for `name`, adding it to this table if it is neither static nor known yet.
    pub fn intern(&mut self, name: &str) -> Name {
        if let Some(&id) = static_index().get(name) {
            return Name(id);
        }
        if self.lookup.len() != self.names.len() {
            // Decoded tables arrive without the lookup map; rebuild it on first intern.
            self.lookup = self
                .names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i as u32))
                .collect();
        }
        if let Some(&i) = self.lookup.get(name) {
            return Name(DYNAMIC_NAME_BASE + i);
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.lookup.insert(name.to_owned(), i);
        Name(DYNAMIC_NAME_BASE + i)
    }

    /// The string for `name`, or `None` when the id is outside both dictionaries (a malformed
    /// frame; [`crate::decode`] rejects such frames before anyone resolves them).
    pub fn resolve(&self, name: Name) -> Option<&str> {
        match name.0.checked_sub(DYNAMIC_NAME_BASE) {
            Some(i) => self.names.get(i as usize).map(String::as_str),
            None => STATIC_NAMES.get(name.0 as usize).copied(),
        }
    }

    /// True when `name` resolves in this table.
    pub fn contains(&self, name: Name) -> bool {
        self.resolve(name).is_some()
    }

    /// Number of dynamic (non-static) names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when the table holds no dynamic names.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_cost_one_byte() {
        let mut t = NameTable::new();
        for n in [
            "div", "span", "class", "id", "style", "href", "src", "multiple",
        ] {
            let id = t.intern(n);
            assert!(id.0 < 128, "{n} has id {}", id.0);
            assert_eq!(t.resolve(id), Some(n));
        }
        assert!(t.is_empty());
    }

    #[test]
    fn dynamic_names_are_reused() {
        let mut t = NameTable::new();
        let a = t.intern("data-my-widget");
        let b = t.intern("data-other");
        assert_eq!(t.intern("data-my-widget"), a);
        assert_ne!(a, b);
        assert_eq!(t.len(), 2);
        assert_eq!(t.resolve(b), Some("data-other"));
        assert_eq!(t.resolve(Name(a.0 + 5)), None);
        // Between the dictionary and the dynamic base: nothing.
        assert_eq!(t.resolve(Name(STATIC_NAMES.len() as u32)), None);
        assert!(!t.contains(Name(DYNAMIC_NAME_BASE - 1)));
        assert_eq!(a, Name(DYNAMIC_NAME_BASE));
    }

    #[test]
    fn decoded_table_interns_consistently() {
        let mut t = NameTable::new();
        let a = t.intern("x-custom");
        let bytes = postcard::to_stdvec(&t).unwrap();
        let mut d: NameTable = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(d.intern("x-custom"), a);
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn dynamic_ids_cost_two_bytes() {
        let mut t = NameTable::new();
        let id = t.intern("x-first");
        assert_eq!(postcard::to_stdvec(&id).unwrap().len(), 2);
    }
}
