//! The customer's colour-scheme preference in the replica's styles.
//!
//! A browser evaluates `prefers-color-scheme` from its own user's settings, and picks the used
//! colour scheme of `color-scheme: light dark` (form controls, scrollbars, the canvas) the same
//! way. The replica is evaluated by the agent's browser, so an agent working in dark mode would see
//! the customer's light page dark. No web API lets a page set a frame's preference (Chromium does
//! not make a frame's `prefers-color-scheme` follow its `<iframe>`'s `color-scheme`), so the
//! renderer rewrites the replica's rules for the customer's preference instead:
//!
//! * [`rewrite_media`]: each `(prefers-color-scheme: …)` in a media query list becomes a condition
//!   that is always true or always false, so `@media (prefers-color-scheme: dark) and (…)` keeps
//!   its other conditions and negations work as before;
//! * [`used_color_scheme`]: a `color-scheme` value that offers both light and dark becomes the one
//!   the customer's browser picks.

use cssparser::{ParseError, Parser, ParserInput, Token};

/// A media condition that always holds.
pub const ALWAYS: &str = "(min-width: 0px)";
/// A media condition that never holds.
pub const NEVER: &str = "(not (min-width: 0px))";

/// `media` (a media query list, as `MediaList.mediaText` has it) with every
/// `(prefers-color-scheme: …)` evaluated for a customer who prefers dark (`dark`) or light, or
/// `None` when it does not mention the feature.
pub fn rewrite_media(media: &str, dark: bool) -> Option<String> {
    if !media.to_ascii_lowercase().contains("prefers-color-scheme") {
        return None;
    }
    let mut input = ParserInput::new(media);
    let mut parser = Parser::new(&mut input);
    let mut out = String::with_capacity(media.len() + 16);
    let mut changed = false;
    walk(&mut parser, &mut out, dark, &mut changed);
    changed.then_some(out)
}

fn walk(p: &mut Parser<'_, '_>, out: &mut String, dark: bool, changed: &mut bool) {
    loop {
        let start = p.position();
        let Ok(token) = p.next_including_whitespace_and_comments().cloned() else {
            return;
        };
        match token {
            Token::ParenthesisBlock => {
                let state = p.state();
                // `( prefers-color-scheme [: value] )` as a whole block, else recurse.
                let verdict = p
                    .parse_nested_block(|inner| {
                        Ok::<Option<bool>, ParseError<'_, ()>>(feature(inner, dark))
                    })
                    .ok()
                    .flatten();
                match verdict {
                    Some(holds) => {
                        out.push_str(if holds { ALWAYS } else { NEVER });
                        *changed = true;
                    }
                    None => {
                        p.reset(&state);
                        out.push('(');
                        let _ = p.parse_nested_block(|inner| {
                            walk(inner, out, dark, changed);
                            Ok::<(), ParseError<'_, ()>>(())
                        });
                        out.push(')');
                    }
                }
            }
            Token::Function(_) | Token::SquareBracketBlock | Token::CurlyBracketBlock => {
                let close = match token {
                    Token::SquareBracketBlock => ']',
                    Token::CurlyBracketBlock => '}',
                    _ => ')',
                };
                out.push_str(p.slice_from(start));
                let _ = p.parse_nested_block(|inner| {
                    walk(inner, out, dark, changed);
                    Ok::<(), ParseError<'_, ()>>(())
                });
                out.push(close);
            }
            _ => out.push_str(p.slice_from(start)),
        }
    }
}

/// Whether the inside of a parenthesis block, if it is a `prefers-color-scheme` feature, holds for
/// the customer (`None`: it is something else).
fn feature(p: &mut Parser<'_, '_>, dark: bool) -> Option<bool> {
    match p.next() {
        Ok(Token::Ident(name)) if name.eq_ignore_ascii_case("prefers-color-scheme") => {}
        _ => return None,
    }
    match p.next() {
        // Boolean context: light and dark are both "a preference".
        Err(_) => Some(true),
        Ok(Token::Colon) => match p.next() {
            Ok(Token::Ident(value)) => {
                let holds = if dark {
                    value.eq_ignore_ascii_case("dark")
                } else {
                    value.eq_ignore_ascii_case("light")
                };
                p.is_exhausted().then_some(holds)
            }
            _ => None,
        },
        _ => None,
    }
}

/// The `color-scheme` value the replica should use for `value` when the customer prefers dark
/// (`dark`) or light, or `None` when the preference does not change what `value` means (it does
/// not offer both schemes). `only` is kept.
pub fn used_color_scheme(value: &str, dark: bool) -> Option<String> {
    let words: Vec<String> = value
        .split_ascii_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let has = |w: &str| words.iter().any(|x| x == w);
    if !(has("light") && has("dark")) {
        return None;
    }
    let pick = if dark { "dark" } else { "light" };
    Some(if has("only") {
        format!("{pick} only")
    } else {
        pick.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_feature_is_evaluated_for_the_customer() {
        assert_eq!(
            rewrite_media("(prefers-color-scheme: dark)", false).as_deref(),
            Some(NEVER)
        );
        assert_eq!(
            rewrite_media("(prefers-color-scheme: dark)", true).as_deref(),
            Some(ALWAYS)
        );
        assert_eq!(
            rewrite_media("( PREFERS-COLOR-SCHEME : Light )", false).as_deref(),
            Some(ALWAYS)
        );
        assert_eq!(
            rewrite_media("(prefers-color-scheme)", false).as_deref(),
            Some(ALWAYS)
        );
    }

    #[test]
    fn other_conditions_and_lists_are_kept() {
        assert_eq!(
            rewrite_media(
                "screen and (prefers-color-scheme: dark) and (min-width: 600px), print",
                true
            )
            .as_deref(),
            Some("screen and (min-width: 0px) and (min-width: 600px), print")
        );
        assert_eq!(
            rewrite_media("not all and (prefers-color-scheme: light)", true).as_deref(),
            Some("not all and (not (min-width: 0px))")
        );
        assert_eq!(
            rewrite_media("((prefers-color-scheme: dark) or (hover))", true).as_deref(),
            Some("((min-width: 0px) or (hover))")
        );
        assert_eq!(rewrite_media("(min-width: 600px)", true), None);
        assert_eq!(rewrite_media("(prefers-reduced-motion)", true), None);
    }

    #[test]
    fn what_is_not_a_feature_is_left_alone() {
        // A value that is not an identifier, or more tokens: not ours to judge.
        assert_eq!(
            rewrite_media("(prefers-color-scheme: 1px)", true).as_deref(),
            None
        );
        assert_eq!(
            rewrite_media("(prefers-color-scheme: dark light)", true).as_deref(),
            None
        );
        for s in ["(", "(prefers-color-scheme:", "prefers-color-scheme", "((("] {
            let _ = rewrite_media(s, true);
        }
    }

    #[test]
    fn color_scheme_values_offering_both_follow_the_customer() {
        assert_eq!(
            used_color_scheme("light dark", true).as_deref(),
            Some("dark")
        );
        assert_eq!(
            used_color_scheme("dark light", false).as_deref(),
            Some("light")
        );
        assert_eq!(
            used_color_scheme("only light dark", true).as_deref(),
            Some("dark only")
        );
        assert_eq!(used_color_scheme("dark", false), None);
        assert_eq!(used_color_scheme("normal", true), None);
        assert_eq!(used_color_scheme("light", true), None);
    }
}
