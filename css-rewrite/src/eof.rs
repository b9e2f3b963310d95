//! Closing what a stylesheet leaves open at its end, before it is rewritten.
//!
//! CSS closes an unterminated string, comment or `url(` implicitly at the end of the input, and
//! the tokenizer reads them that way. The sheet rewriter copies tokens as their source text and
//! then writes more after the end of the input: the brackets the sheet left open and the
//! pseudo-class copies of the rules around it. Copied open, such a token would run on into that
//! text, and the browser would read the result differently from what was rewritten (found by the
//! `css` fuzz target: text the rewriter had read as a selector became a live `url()` in a
//! declaration). So the input gets the terminator its last token lacks first; the tokens stay
//! the same.

use cssparser::{Parser, ParserInput, Token};
use std::borrow::Cow;

/// What the input's last token needs at the end of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    Comment,
    String,
    Url,
    Other,
}

/// Where the last token of `p` starts and ends (byte offsets in the input) and its kind, looking
/// inside blocks.
fn last_token(p: &mut Parser<'_, '_>) -> Option<(usize, usize, Last)> {
    let mut last = None;
    loop {
        let start = p.position().byte_index();
        let Ok(token) = p.next_including_whitespace_and_comments().cloned() else {
            return last;
        };
        let end = p.position().byte_index();
        let kind = match token {
            Token::Comment(_) => Last::Comment,
            Token::QuotedString(_) => Last::String,
            Token::UnquotedUrl(_) | Token::BadUrl(_) => Last::Url,
            _ => Last::Other,
        };
        let opens_block = matches!(
            token,
            Token::Function(_)
                | Token::ParenthesisBlock
                | Token::SquareBracketBlock
                | Token::CurlyBracketBlock
        );
        last = Some((start, end, kind));
        if opens_block {
            let inner = p
                .parse_nested_block(|inner| {
                    Ok::<_, cssparser::ParseError<'_, ()>>(last_token(inner))
                })
                .ok()
                .flatten();
            // The block's contents come after its opening token (positions are the input's).
            if inner.is_some() {
                last = inner;
            }
        }
    }
}

/// Whether `s` ends with `c` that is not escaped by a backslash.
fn ends_unescaped(s: &str, c: char) -> bool {
    let Some(body) = s.strip_suffix(c) else {
        return false;
    };
    body.chars().rev().take_while(|&b| b == '\\').count() % 2 == 0
}

/// `s` without a backslash that escapes nothing at its end (CSS ignores it there, or reads it
/// as U+FFFD, and before a terminator it would escape the terminator instead).
fn without_dangling_escape(s: &str) -> (&str, bool) {
    let run = s.chars().rev().take_while(|&b| b == '\\').count();
    if run % 2 == 1 {
        (&s[..s.len() - 1], true)
    } else {
        (s, false)
    }
}

/// `css` with its last token closed explicitly when the end of the input closes it now.
pub(crate) fn close_open_token(css: &str) -> Cow<'_, str> {
    let mut input = ParserInput::new(css);
    let mut p = Parser::new(&mut input);
    // Only a token that runs to the end of the input can be open there.
    let Some((start, _, kind)) = last_token(&mut p).filter(|&(_, end, _)| end == css.len()) else {
        return Cow::Borrowed(css);
    };
    let tail = &css[start..];
    let suffix = match kind {
        Last::Comment if !(tail.len() >= 4 && tail.ends_with("*/")) => "*/",
        Last::String => {
            let quote = if tail.starts_with('\'') { '\'' } else { '"' };
            if tail.len() >= 2 && ends_unescaped(tail, quote) {
                return Cow::Borrowed(css);
            }
            if quote == '\'' { "'" } else { "\"" }
        }
        Last::Url if !ends_unescaped(tail, ')') => ")",
        Last::Comment | Last::Url => return Cow::Borrowed(css),
        Last::Other => {
            let (kept, dropped) = without_dangling_escape(css);
            return if dropped {
                Cow::Owned(format!("{kept}\u{fffd}"))
            } else {
                Cow::Borrowed(css)
            };
        }
    };
    // In a comment a backslash is just text; elsewhere a dangling one would escape the
    // terminator.
    let kept = if kind == Last::Comment {
        css
    } else {
        without_dangling_escape(css).0
    };
    Cow::Owned(format!("{kept}{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_end_leaves_open_is_closed() {
        for (open, closed) in [
            ("a { b: 'x", "a { b: 'x'"),
            ("a { b: \"x\\", "a { b: \"x\""),
            ("a { b: (c\"y", "a { b: (c\"y\""),
            ("a /* note", "a /* note*/"),
            ("/*/", "/*/*/"),
            ("a { b: url(x.png", "a { b: url(x.png)"),
            ("a { b: url(x\\)", "a { b: url(x\\))"),
            ("a { b: c\\", "a { b: c\u{fffd}"),
        ] {
            assert_eq!(close_open_token(open), closed, "{open:?}");
        }
    }

    #[test]
    fn closed_input_is_left_as_it_is() {
        for css in [
            "",
            "a { b: 'x' }",
            "a { b: url(x) } /* c */",
            "a { b: \"q\\\\\"",
            "a:hover {",
            "a { b: c\\\\",
            "@import \"x.css\";",
            "a { b: f('x')",
            "a { b: f(/* c */",
        ] {
            assert!(matches!(close_open_token(css), Cow::Borrowed(_)), "{css:?}");
        }
    }
}
