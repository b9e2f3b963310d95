//! `:defined` as the customer's page has it.
//!
//! The replica runs no scripts, so no custom element is ever defined there and `:defined` fails
//! for every element with a custom element name — where the customer's page, which defined most of
//! them, shows them (the common `:not(:defined) { visibility: hidden }` guard hides whole apps).
//! The customer tells which names in its page are *not* defined; the renderer rewrites each
//! `:defined` into a selector that fails for exactly those names:
//!
//! `:defined` → `:not(late-tile, x-b, [data-cobrowse-defined-never])`
//!
//! `:not()` takes the specificity of its most specific argument, and the attribute selector (on an
//! attribute no element has) makes that (0,1,0), the specificity of `:defined` itself, so the
//! rewritten rule wins and loses the cascade exactly where the original would.

use cssparser::{ParseError, Parser, ParserInput, Token, serialize_identifier};

/// An attribute no element carries: it fixes the rewritten selector's specificity.
pub const NEVER_ATTR: &str = "data-cobrowse-defined-never";

/// The selector that stands for `:defined` when the elements named `undefined` are not defined.
/// Names are written as escaped identifiers, so any string is safe here.
pub fn defined_replacement(undefined: &[String]) -> String {
    let mut out = String::from(":not(");
    for name in undefined {
        // Writing into a String cannot fail.
        let _ = serialize_identifier(name, &mut out);
        out.push_str(", ");
    }
    out.push('[');
    out.push_str(NEVER_ATTR);
    out.push_str("])");
    out
}

/// `selector` with every `:defined` replaced by [`defined_replacement`] of `undefined`, or `None`
/// when it has none. Pseudo-classes inside `:not()`, `:is()`, `:where()`, `:has()`, `:host()` are
/// rewritten too; strings, comments, attribute selectors and escapes are left alone.
pub fn rewrite_defined(selector: &str, undefined: &[String]) -> Option<String> {
    if !selector.to_ascii_lowercase().contains(":defined") {
        return None;
    }
    let replacement = defined_replacement(undefined);
    let mut input = ParserInput::new(selector);
    let mut parser = Parser::new(&mut input);
    let mut out = String::with_capacity(selector.len() + replacement.len());
    let mut changed = false;
    walk(&mut parser, &mut out, &replacement, &mut changed);
    changed.then_some(out)
}

fn walk(p: &mut Parser<'_, '_>, out: &mut String, replacement: &str, changed: &mut bool) {
    loop {
        let start = p.position();
        let Ok(token) = p.next_including_whitespace_and_comments().cloned() else {
            return;
        };
        match token {
            Token::Colon => {
                let after_colon = p.state();
                let is_defined = matches!(
                    p.next_including_whitespace_and_comments(),
                    Ok(Token::Ident(name)) if name.eq_ignore_ascii_case("defined")
                );
                if is_defined {
                    out.push_str(replacement);
                    *changed = true;
                } else {
                    p.reset(&after_colon);
                    out.push(':');
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
                let _ = p.parse_nested_block(|inner| {
                    if close == ']' {
                        // Attribute selectors are copied verbatim: `[title=":defined"]`.
                        let s = inner.position();
                        while inner.next_including_whitespace_and_comments().is_ok() {}
                        out.push_str(inner.slice_from(s));
                    } else {
                        walk(inner, out, replacement, changed);
                    }
                    Ok::<(), ParseError<'_, ()>>(())
                });
                out.push(close);
            }
            _ => out.push_str(p.slice_from(start)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn defined_fails_for_exactly_the_undefined_names() {
        let u = names(&["late-tile", "x-b"]);
        assert_eq!(
            rewrite_defined(":not(:defined)", &u).as_deref(),
            Some(":not(:not(late-tile, x-b, [data-cobrowse-defined-never]))")
        );
        assert_eq!(
            rewrite_defined("shop-card:DEFINED > p", &u).as_deref(),
            Some("shop-card:not(late-tile, x-b, [data-cobrowse-defined-never]) > p")
        );
    }

    #[test]
    fn with_nothing_undefined_every_element_is_defined() {
        assert_eq!(
            rewrite_defined("late-tile:not(:defined)", &[]).as_deref(),
            Some("late-tile:not(:not([data-cobrowse-defined-never]))")
        );
    }

    #[test]
    fn nested_functions_are_rewritten_and_other_classes_kept() {
        let u = names(&["a-b"]);
        assert_eq!(
            rewrite_defined(":host(:not(:defined)) .x:hover", &u).as_deref(),
            Some(":host(:not(:not(a-b, [data-cobrowse-defined-never]))) .x:hover")
        );
        assert_eq!(rewrite_defined("a:hover, b::before", &u), None);
        assert_eq!(rewrite_defined("a:defined-ish", &u), None);
    }

    #[test]
    fn strings_comments_attributes_and_escapes_are_not_touched() {
        let u = names(&["a-b"]);
        assert_eq!(rewrite_defined(r#"[title=":defined"]"#, &u), None);
        assert_eq!(rewrite_defined("a /* :defined */", &u), None);
        assert_eq!(rewrite_defined(r".x\:defined", &u), None);
    }

    #[test]
    fn names_are_escaped_identifiers() {
        // A hostile name cannot close the selector or add rules.
        let u = names(&["a-b){}*{x:y", "1-x", "é-ü"]);
        let r = defined_replacement(&u);
        assert_eq!(
            r,
            r":not(a-b\)\{\}\*\{x\:y, \31 -x, é-ü, [data-cobrowse-defined-never])"
        );
        assert_eq!(rewrite_defined(":defined", &u).as_deref(), Some(r.as_str()));
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            ":",
            ":defined(",
            "[:defined",
            "\\:defined",
            ":defined{",
            "::defined",
        ] {
            let _ = rewrite_defined(s, &names(&["a-b"]));
        }
    }
}
