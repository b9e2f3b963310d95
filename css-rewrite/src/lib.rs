//! Rewrites user-action pseudo-classes in CSS selectors into attribute selectors.
//!
//! The agent's replica is a script-free copy of the customer's page: the customer's mouse is not
//! over it, so `:hover` (and `:focus`, `:active`, …) rules never match the customer's state there.
//! The renderer therefore adds, next to each such rule, a copy whose selector names an attribute
//! instead (`a:hover` → `a[data-cobrowse-hover]`) and sets that attribute on the element the
//! customer hovers and its ancestors. The original rules stay, so the agent's own pointer still
//! hovers natively. An attribute selector has the same specificity as a pseudo-class, so the
//! copies win and lose exactly where the originals would.
//!
//! Selectors are tokenised with `cssparser` (Servo's CSS tokenizer), never matched with regexes:
//! `[title=":hover"]`, `/* :hover */` and `.x\:hover` are left alone, and pseudo-classes nested in
//! `:not()`, `:is()`, `:where()`, `:has()` are rewritten too.
//!
//! Pure and allocation-light; used by the agent (wasm, rule by rule through the CSSOM) and by the
//! server's CSS proxy (whole sheets as text, [`rewrite_sheet`]).
//!
//! # Layout
//!
//! [`PseudoClass`] (the classes handled and their attributes) and [`rewrite_selector`] here;
//! [`sheet`] rewrites a whole stylesheet's text (URLs and pseudo-class copies); [`defined`] makes
//! `:defined` fail for the custom element names the customer has not defined; [`scheme`]
//! evaluates `prefers-color-scheme` and `color-scheme` for the customer's preference; `eof`
//! closes what a sheet leaves open at its end before [`sheet`] rewrites it.

use cssparser::{ParseError, Parser, ParserInput, Token};

pub mod defined;
mod eof;
pub mod scheme;
pub mod sheet;
pub use defined::rewrite_defined;
pub use sheet::{UrlKind, rewrite_sheet};

/// A user-action pseudo-class the renderer mirrors with an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PseudoClass {
    /// `:hover`: the hovered element and its ancestors.
    Hover,
    /// `:active`: the pressed element and its ancestors.
    Active,
    /// `:focus`: the focused element.
    Focus,
    /// `:focus-within`: the focused element and its ancestors.
    FocusWithin,
    /// `:focus-visible`: the focused element when focus came from the keyboard.
    FocusVisible,
}

impl PseudoClass {
    /// Every handled class.
    pub const ALL: [PseudoClass; 5] = [
        PseudoClass::Hover,
        PseudoClass::Active,
        PseudoClass::Focus,
        PseudoClass::FocusWithin,
        PseudoClass::FocusVisible,
    ];

    /// The pseudo-class name without the colon.
    pub fn name(self) -> &'static str {
        match self {
            PseudoClass::Hover => "hover",
            PseudoClass::Active => "active",
            PseudoClass::Focus => "focus",
            PseudoClass::FocusWithin => "focus-within",
            PseudoClass::FocusVisible => "focus-visible",
        }
    }

    /// The attribute the renderer sets (a `data-cobrowse-*` name, so DOM comparisons skip it).
    pub fn attr(self) -> &'static str {
        match self {
            PseudoClass::Hover => "data-cobrowse-hover",
            PseudoClass::Active => "data-cobrowse-active",
            PseudoClass::Focus => "data-cobrowse-focus",
            PseudoClass::FocusWithin => "data-cobrowse-focus-within",
            PseudoClass::FocusVisible => "data-cobrowse-focus-visible",
        }
    }

    /// The class named `name` (ASCII case-insensitive, as CSS is).
    pub fn from_name(name: &str) -> Option<PseudoClass> {
        PseudoClass::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }
}

/// Cheap pre-check: could `selector` contain a handled pseudo-class? Lets callers skip the
/// tokenizer for the vast majority of rules.
pub fn may_need_rewrite(selector: &str) -> bool {
    let b = selector.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b':'
            && matches!(
                b.get(i + 1).map(u8::to_ascii_lowercase),
                Some(b'h' | b'a' | b'f')
            )
    })
}

/// `selector` with every handled pseudo-class replaced by its attribute selector, or `None` when
/// it has none (the caller then adds no copy).
pub fn rewrite_selector(selector: &str) -> Option<String> {
    if !may_need_rewrite(selector) {
        return None;
    }
    let mut input = ParserInput::new(selector);
    let mut parser = Parser::new(&mut input);
    let mut out = String::with_capacity(selector.len() + 32);
    let mut changed = false;
    walk(&mut parser, &mut out, &mut changed);
    changed.then_some(out)
}

/// Copies tokens from `p` to `out`, substituting handled pseudo-classes; recurses into blocks.
fn walk(p: &mut Parser<'_, '_>, out: &mut String, changed: &mut bool) {
    loop {
        let start = p.position();
        let Ok(token) = p.next_including_whitespace_and_comments().cloned() else {
            return;
        };
        match token {
            Token::Colon => {
                let after_colon = p.state();
                let class = match p.next_including_whitespace_and_comments() {
                    Ok(Token::Ident(name)) => PseudoClass::from_name(name),
                    _ => None,
                };
                match class {
                    Some(c) => {
                        out.push('[');
                        out.push_str(c.attr());
                        out.push(']');
                        *changed = true;
                    }
                    None => {
                        p.reset(&after_colon);
                        out.push(':');
                    }
                }
            }
            Token::Function(_)
            | Token::ParenthesisBlock
            | Token::SquareBracketBlock
            | Token::CurlyBracketBlock => {
                let close = match token {
                    Token::SquareBracketBlock => ']',
                    Token::CurlyBracketBlock => '}',
                    _ => ')',
                };
                out.push_str(p.slice_from(start));
                let inside = p.parse_nested_block(|inner| {
                    if matches!(close, ']') {
                        // Attribute selectors are copied verbatim: `[title=":hover"]`.
                        let s = inner.position();
                        while inner.next_including_whitespace_and_comments().is_ok() {}
                        out.push_str(inner.slice_from(s));
                    } else {
                        walk(inner, out, changed);
                    }
                    Ok::<(), ParseError<'_, ()>>(())
                });
                let _ = inside;
                out.push(close);
            }
            _ => out.push_str(p.slice_from(start)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(s: &str) -> Option<String> {
        rewrite_selector(s)
    }

    #[test]
    fn plain_hover_becomes_an_attribute() {
        assert_eq!(rw("a:hover").as_deref(), Some("a[data-cobrowse-hover]"));
        assert_eq!(
            rw(".menu li:HOVER > ul").as_deref(),
            Some(".menu li[data-cobrowse-hover] > ul")
        );
    }

    #[test]
    fn every_class_is_mapped() {
        for c in PseudoClass::ALL {
            let sel = format!("b:{}", c.name());
            assert_eq!(rw(&sel), Some(format!("b[{}]", c.attr())), "{sel}");
        }
    }

    #[test]
    fn lists_and_nested_functions_are_rewritten() {
        assert_eq!(
            rw("a:hover, button:focus-visible").as_deref(),
            Some("a[data-cobrowse-hover], button[data-cobrowse-focus-visible]")
        );
        assert_eq!(
            rw("li:not(:hover) .x:is(:active, .y)").as_deref(),
            Some("li:not([data-cobrowse-hover]) .x:is([data-cobrowse-active], .y)")
        );
        assert_eq!(
            rw("form:has(input:focus)").as_deref(),
            Some("form:has(input[data-cobrowse-focus])")
        );
    }

    #[test]
    fn pseudo_elements_and_other_classes_are_kept() {
        assert_eq!(
            rw("a:hover::after").as_deref(),
            Some("a[data-cobrowse-hover]::after")
        );
        assert_eq!(rw("a::after"), None);
        assert_eq!(rw("a:first-child"), None);
        assert_eq!(rw("a:hovering"), None);
        assert_eq!(rw("input:checked"), None);
        assert_eq!(
            rw("li:nth-child(2n+1):hover").as_deref(),
            Some("li:nth-child(2n+1)[data-cobrowse-hover]")
        );
    }

    #[test]
    fn strings_comments_attributes_and_escapes_are_not_touched() {
        assert_eq!(rw(r#"[title=":hover"]"#), None);
        assert_eq!(rw("a /* :hover */"), None);
        assert_eq!(rw(r".x\:hover"), None);
        assert_eq!(
            rw(r#"[data-x=":hover"] a:hover"#).as_deref(),
            Some(r#"[data-x=":hover"] a[data-cobrowse-hover]"#)
        );
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            ":",
            "::",
            ":(",
            "a:hover(",
            "[",
            "a:hover[",
            "\\",
            "\"",
            "a:hover{",
            "\u{0}:hover",
        ] {
            let _ = rw(s);
        }
        // Deterministic pseudo-random selectors over a small alphabet.
        let alphabet: Vec<char> = ":hover()[]{}\"'\\/* ,.#>~+aæ-".chars().collect();
        let mut x: u32 = 12345;
        for _ in 0..5000 {
            let mut s = String::new();
            for _ in 0..(x % 24) {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                s.push(alphabet[(x >> 16) as usize % alphabet.len()]);
            }
            if let Some(out) = rw(&s) {
                assert!(out.contains("data-cobrowse-"), "{s:?} → {out:?}");
            }
        }
    }
}
