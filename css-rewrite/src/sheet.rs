//! Whole-stylesheet rewriting for the server's CSS proxy.
//!
//! The agent reads a sheet rule by rule through the CSSOM when it can; a sheet served by the CSS
//! proxy arrives as text instead, so this module does the same job on text, with `cssparser`'s
//! tokenizer (never regexes):
//!
//! * every `url(…)`, `src("…")`, `image-set("…")` string and `@import` target is handed to the
//!   caller's mapper (which resolves it against the sheet's original URL and decides what the
//!   replica may load) and written back as `url("…")`;
//! * every style rule whose selector has a handled pseudo-class ([`crate::PseudoClass`]) is
//!   followed by a copy with the pseudo-class turned into its attribute
//!   ([`crate::rewrite_selector`]), inside the same `@media`/`@supports`/`@layer`/`@container`
//!   block. The original rule stays, so the agent's own pointer still hovers natively, and the
//!   copy sits right after it, so it wins and loses the cascade exactly where the original would.
//!
//! Everything else (comments, whitespace, unknown at-rules, invalid input) is copied through
//! unchanged; `@namespace` URLs are names, not resources, and are never touched. Style rules
//! nested inside style rules (CSS nesting) get their URLs mapped but no pseudo-class copies.

use crate::rewrite_selector;
use cssparser::{ParseError, Parser, ParserInput, Token};

/// What a URL in a sheet is used for, so the mapper can treat imports differently (route them
/// through the proxy) from resources (images, fonts: loaded directly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlKind {
    /// The target of an `@import`.
    Import,
    /// Any other `url()` (images, fonts, cursors, masks…).
    Resource,
}

/// Rewrites a stylesheet: URLs through `map` (its answer is written as `url("…")`; `None` writes
/// `url("about:invalid")`, which loads nothing) and pseudo-class copies after their rules.
/// Fragment-only URLs (`url(#clip)`) point into the document and are left to `map` as well.
pub fn rewrite_sheet(css: &str, map: &mut dyn FnMut(&str, UrlKind) -> Option<String>) -> String {
    // Text is written after the end of the input (closing brackets, copies of rules); nothing
    // the input leaves open may run on into it.
    let css = &*crate::eof::close_open_token(css);
    let mut input = ParserInput::new(css);
    let mut parser = Parser::new(&mut input);
    let mut out = String::with_capacity(css.len() + css.len() / 4);
    rule_list(&mut parser, &mut out, map);
    out
}

/// Writes `url` as a quoted CSS `url()` with the characters a string cannot hold escaped.
fn push_url(out: &mut String, url: Option<String>) {
    let Some(url) = url else {
        out.push_str("url(\"about:invalid\")");
        return;
    };
    out.push_str("url(\"");
    for c in url.chars() {
        match c {
            '"' => out.push_str("\\22 "),
            '\\' => out.push_str("\\5c "),
            '\n' => out.push_str("\\a "),
            '\r' => out.push_str("\\d "),
            '\0'..='\u{1f}' | '\u{7f}' => out.push_str(&format!("\\{:x} ", c as u32)),
            c => out.push(c),
        }
    }
    out.push_str("\")");
}

/// At-rules whose block holds rules (so their style rules get pseudo-class copies).
fn holds_rules(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "media" | "supports" | "layer" | "container" | "document" | "-moz-document" | "scope"
    ) || n == "starting-style"
}

/// A list of rules (top level, or inside a grouping at-rule).
fn rule_list(
    p: &mut Parser<'_, '_>,
    out: &mut String,
    map: &mut dyn FnMut(&str, UrlKind) -> Option<String>,
) {
    loop {
        let start = p.position();
        let state = p.state();
        let Ok(token) = p.next_including_whitespace_and_comments().cloned() else {
            return;
        };
        match token {
            Token::WhiteSpace(_)
            | Token::Comment(_)
            | Token::CDO
            | Token::CDC
            | Token::Semicolon => {
                out.push_str(p.slice_from(start));
            }
            Token::AtKeyword(name) => {
                out.push_str(p.slice_from(start));
                at_rule(p, out, map, &name);
            }
            _ => {
                p.reset(&state);
                style_rule(p, out, map);
            }
        }
    }
}

/// The rest of an at-rule after its keyword: prelude, then `;` or a block.
fn at_rule(
    p: &mut Parser<'_, '_>,
    out: &mut String,
    map: &mut dyn FnMut(&str, UrlKind) -> Option<String>,
    name: &str,
) {
    let lower = name.to_ascii_lowercase();
    let kind = match lower.as_str() {
        "import" => Some(UrlKind::Import),
        // `@namespace svg url(http://www.w3.org/2000/svg)` names a namespace; loading nothing.
        "namespace" => None,
        _ => Some(UrlKind::Resource),
    };
    // Only an `@import`'s first component is its target (`@import [<url> | <string>] …`); a
    // prelude starting with anything else is invalid and loads nothing. Any other `url()` in a
    // prelude is mapped too (as a resource), so no URL leaves the rewriter unmapped.
    let mut first_component = true;
    loop {
        let start = p.position();
        let Ok(token) = p.next_including_whitespace_and_comments().cloned() else {
            return;
        };
        let first = first_component;
        first_component = first && matches!(token, Token::WhiteSpace(_) | Token::Comment(_));
        let url_kind = match kind {
            Some(UrlKind::Import) if first => UrlKind::Import,
            _ => UrlKind::Resource,
        };
        match token {
            Token::Semicolon => {
                out.push(';');
                return;
            }
            Token::CurlyBracketBlock => {
                out.push('{');
                let _ = p.parse_nested_block(|inner| {
                    if holds_rules(name) {
                        rule_list(inner, out, map);
                    } else {
                        values(inner, out, map, false);
                    }
                    Ok::<(), ParseError<'_, ()>>(())
                });
                out.push('}');
                return;
            }
            // `@import "x.css"`: the string is the URL.
            Token::QuotedString(s) if kind == Some(UrlKind::Import) && first => {
                push_url(out, map(&s, UrlKind::Import));
            }
            Token::UnquotedUrl(u) if kind.is_some() => push_url(out, map(&u, url_kind)),
            Token::Function(f) if kind.is_some() && f.eq_ignore_ascii_case("url") => {
                let url = url_function_arg(p);
                push_url(out, map(&url, url_kind));
            }
            Token::Function(_) | Token::ParenthesisBlock | Token::SquareBracketBlock => {
                out.push_str(p.slice_from(start));
                nested(p, out, map, &token);
            }
            _ => out.push_str(p.slice_from(start)),
        }
    }
}

/// The string inside `url("…")` / `src("…")` (the function token already consumed).
fn url_function_arg(p: &mut Parser<'_, '_>) -> String {
    p.parse_nested_block(|inner| {
        let mut url = String::new();
        while let Ok(t) = inner.next() {
            if let Token::QuotedString(s) = t {
                url = s.to_string();
                break;
            }
        }
        while inner.next_including_whitespace_and_comments().is_ok() {}
        Ok::<String, ParseError<'_, ()>>(url)
    })
    .unwrap_or_default()
}

/// Copies the inside of a function or bracket block (its opening token already written),
/// mapping URLs, then writes the closing character.
fn nested(
    p: &mut Parser<'_, '_>,
    out: &mut String,
    map: &mut dyn FnMut(&str, UrlKind) -> Option<String>,
    opener: &Token<'_>,
) {
    let (close, strings_are_urls) = match opener {
        Token::SquareBracketBlock => (']', false),
        Token::CurlyBracketBlock => ('}', false),
        Token::Function(f) => (
            ')',
            f.eq_ignore_ascii_case("image-set") || f.eq_ignore_ascii_case("-webkit-image-set"),
        ),
        _ => (')', false),
    };
    let _ = p.parse_nested_block(|inner| {
        values(inner, out, map, strings_are_urls);
        Ok::<(), ParseError<'_, ()>>(())
    });
    out.push(close);
}

/// Copies component values (declarations, nested rules' text), mapping every URL.
fn values(
    p: &mut Parser<'_, '_>,
    out: &mut String,
    map: &mut dyn FnMut(&str, UrlKind) -> Option<String>,
    strings_are_urls: bool,
) {
    loop {
        let start = p.position();
        let Ok(token) = p.next_including_whitespace_and_comments().cloned() else {
            return;
        };
        match token {
            Token::UnquotedUrl(u) => push_url(out, map(&u, UrlKind::Resource)),
            Token::Function(f)
                if f.eq_ignore_ascii_case("url") || f.eq_ignore_ascii_case("src") =>
            {
                let url = url_function_arg(p);
                push_url(out, map(&url, UrlKind::Resource));
            }
            Token::QuotedString(s) if strings_are_urls => {
                push_url(out, map(&s, UrlKind::Resource));
            }
            Token::Function(_)
            | Token::ParenthesisBlock
            | Token::SquareBracketBlock
            | Token::CurlyBracketBlock => {
                out.push_str(p.slice_from(start));
                nested(p, out, map, &token);
            }
            _ => out.push_str(p.slice_from(start)),
        }
    }
}

/// A style rule: selector up to `{`, its block; then the pseudo-class copy when one is needed.
fn style_rule(
    p: &mut Parser<'_, '_>,
    out: &mut String,
    map: &mut dyn FnMut(&str, UrlKind) -> Option<String>,
) {
    let start = p.position();
    let mut prelude = String::new();
    loop {
        let before = p.position();
        let Ok(token) = p.next_including_whitespace_and_comments().cloned() else {
            // No block: invalid rule at the end of the sheet; copy it as it was.
            out.push_str(p.slice_from(start));
            return;
        };
        match token {
            Token::CurlyBracketBlock => break,
            Token::Function(_) | Token::ParenthesisBlock | Token::SquareBracketBlock => {
                // Selectors hold no URLs; copy the block verbatim.
                let _ = p.parse_nested_block(|inner| {
                    while inner.next_including_whitespace_and_comments().is_ok() {}
                    Ok::<(), ParseError<'_, ()>>(())
                });
                prelude.push_str(p.slice_from(before));
            }
            _ => prelude.push_str(p.slice_from(before)),
        }
    }
    let mut block = String::new();
    let _ = p.parse_nested_block(|inner| {
        values(inner, &mut block, map, false);
        Ok::<(), ParseError<'_, ()>>(())
    });
    out.push_str(&prelude);
    out.push('{');
    out.push_str(&block);
    out.push('}');
    // Only leading CSS whitespace is trimmed (`str::trim` would also take U+000B or U+00A0,
    // which CSS reads as part of the selector: a prelude that began with `\u{b}@import url(…)`
    // must not become an `@import` the mapper never saw), and nothing at the end (a newline
    // there may be what ends a bad string; without it the string would swallow the `{`).
    let css_whitespace = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c');
    if let Some(copy) = rewrite_selector(prelude.trim_start_matches(css_whitespace)) {
        out.push('\n');
        out.push_str(&copy);
        if !copy.ends_with(css_whitespace) {
            out.push(' ');
        }
        out.push('{');
        out.push_str(&block);
        out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn abs(u: &str, k: UrlKind) -> Option<String> {
        if u.starts_with('#') {
            return Some(u.to_string());
        }
        if u.starts_with("javascript:") {
            return None;
        }
        Some(match k {
            UrlKind::Import => format!("proxy?url=https://s.example/{u}"),
            UrlKind::Resource => format!("https://s.example/{u}"),
        })
    }

    fn rw(css: &str) -> String {
        rewrite_sheet(css, &mut abs)
    }

    #[test]
    fn hover_rules_get_a_copy_right_after_them() {
        assert_eq!(
            rw(".menu:hover > ul { display: block }\np { color: red }"),
            ".menu:hover > ul { display: block }\n.menu[data-cobrowse-hover] > ul { display: block }\np { color: red }"
        );
    }

    #[test]
    fn copies_stay_inside_their_conditions() {
        assert_eq!(
            rw("@media (min-width: 1px) { a:focus-visible { outline: 0 } }"),
            "@media (min-width: 1px) { a:focus-visible { outline: 0 }\na[data-cobrowse-focus-visible] { outline: 0 } }"
        );
        assert_eq!(
            rw("@supports (display:grid){@layer x{b:active{c:d}}}"),
            "@supports (display:grid){@layer x{b:active{c:d}\nb[data-cobrowse-active] {c:d}}}"
        );
    }

    #[test]
    fn urls_are_mapped_everywhere() {
        assert_eq!(
            rw("a { background: url(i.png) no-repeat, url( 'j k.png' ) }"),
            "a { background: url(\"https://s.example/i.png\") no-repeat, url(\"https://s.example/j k.png\") }"
        );
        assert_eq!(
            rw("@font-face { src: url(\"f.woff2\") format(\"woff2\") }"),
            "@font-face { src: url(\"https://s.example/f.woff2\") format(\"woff2\") }"
        );
        assert_eq!(
            rw("a { background: image-set(\"a.png\" 1x, url(b.png) 2x) }"),
            "a { background: image-set(url(\"https://s.example/a.png\") 1x, url(\"https://s.example/b.png\") 2x) }"
        );
        assert_eq!(
            rw("a:hover { cursor: url(c.cur), auto }"),
            "a:hover { cursor: url(\"https://s.example/c.cur\"), auto }\na[data-cobrowse-hover] { cursor: url(\"https://s.example/c.cur\"), auto }"
        );
    }

    #[test]
    fn imports_go_to_the_mapper_as_imports() {
        assert_eq!(
            rw("@import \"base.css\" screen;\n@import url(x.css) layer(l);"),
            "@import url(\"proxy?url=https://s.example/base.css\") screen;\n@import url(\"proxy?url=https://s.example/x.css\") layer(l);"
        );
    }

    #[test]
    fn an_import_target_is_its_first_component_only() {
        // Found by the `css` fuzz target: the first string anywhere in the prelude was taken as
        // the target, and later `url()`s were copied unmapped, so rewriting the output again
        // found a URL its mapper never wrote (`@import x"a" y"b"` → `@import xurl("…") y"b"`:
        // the second pass took `"b"`).
        assert_eq!(
            rw("@import x\"a.css\" \"b.css\";"),
            "@import x\"a.css\" \"b.css\";"
        );
        assert_eq!(
            rw("@import /* c */ \"a.css\" screen;"),
            "@import /* c */ url(\"proxy?url=https://s.example/a.css\") screen;"
        );
        assert_eq!(
            rw("@import url(a.css) url(b.png);"),
            "@import url(\"proxy?url=https://s.example/a.css\") url(\"https://s.example/b.png\");"
        );
        assert_eq!(
            rw("@font-feature-values url(a) url(b) {}"),
            "@font-feature-values url(\"https://s.example/a\") url(\"https://s.example/b\") {}"
        );
    }

    #[test]
    fn a_sheet_ending_inside_a_token_does_not_swallow_what_is_written_after_it() {
        // Found by the `css` fuzz target: the open string ran on into the closing brackets and
        // the hover copy, so the copy's selector (`url(evil.png)` in it) became a declaration
        // value with a URL the mapper never saw.
        assert_eq!(
            rw("x url(evil.png), a:hover { b: (c'"),
            "x url(evil.png), a:hover { b: (c'')}\nx url(evil.png), a[data-cobrowse-hover] { b: (c'')}"
        );
        assert_eq!(
            rw("a:hover { b: c /* open"),
            "a:hover { b: c /* open*/}\na[data-cobrowse-hover] { b: c /* open*/}"
        );
        let mut seen = Vec::new();
        let out = rw("x url(evil.png), a:hover { b: (c'");
        rewrite_sheet(&out, &mut |u, _| {
            seen.push(u.to_owned());
            None
        });
        assert!(seen.is_empty(), "{seen:?}");
    }

    #[test]
    fn a_copy_keeps_what_css_does_not_count_as_whitespace() {
        // Found by the `css` fuzz target: the selector `\u{b}@import url(…) x; a:hover` was
        // trimmed of its U+000B for the copy, which then began with a real `@import`.
        let out = rw("\u{b}@import url(evil.css) x; a:hover { b: c }");
        assert_eq!(
            out,
            "\u{b}@import url(evil.css) x; a:hover { b: c }\n\u{b}@import url(evil.css) x; a[data-cobrowse-hover] { b: c }"
        );
        let mut seen = Vec::new();
        rewrite_sheet(&out, &mut |u, _| {
            seen.push(u.to_owned());
            None
        });
        assert!(seen.is_empty(), "{seen:?}");
    }

    #[test]
    fn a_copy_keeps_the_newline_that_ends_a_bad_string() {
        // Found by the `css` fuzz target: the copy's selector lost its trailing newline, so the
        // bad string before it ran on over the copy's `{` and the block's `url()` came loose.
        let out = rw("a:hover '\n{ b: url(x.png) }");
        assert_eq!(
            out,
            "a:hover '\n{ b: url(\"https://s.example/x.png\") }\na[data-cobrowse-hover] '\n{ b: url(\"https://s.example/x.png\") }"
        );
        let mut seen = Vec::new();
        rewrite_sheet(&out, &mut |u, _| {
            seen.push(u.to_owned());
            Some(u.to_owned())
        });
        assert_eq!(seen, ["https://s.example/x.png", "https://s.example/x.png"]);
    }

    #[test]
    fn namespaces_strings_comments_and_fragments_are_left_alone() {
        let css = "@namespace svg url(http://www.w3.org/2000/svg);\n/* url(no.png) a:hover{} */\na[title=\"url(x)\"] { content: \"url(y)\"; clip-path: url(#c) }";
        assert_eq!(
            rw(css),
            "@namespace svg url(http://www.w3.org/2000/svg);\n/* url(no.png) a:hover{} */\na[title=\"url(x)\"] { content: \"url(y)\"; clip-path: url(\"#c\") }"
        );
    }

    #[test]
    fn refused_urls_load_nothing_and_quotes_are_escaped() {
        assert_eq!(
            rw("a { b: url(javascript:void) }"),
            "a { b: url(\"about:invalid\") }"
        );
        assert_eq!(
            rw("a { b: url('q\"\\\\.png') }"),
            "a { b: url(\"https://s.example/q\\22 \\5c .png\") }"
        );
    }

    #[test]
    fn keyframes_get_no_copies_and_garbage_survives() {
        let css = "@keyframes k { from { opacity: 0 } to { opacity: 1 } }";
        assert_eq!(rw(css), css);
        for bad in [
            "a:hover {",
            "a:hover",
            "@media {",
            "}}}",
            "{",
            "@import",
            "url(",
            "a{b:url(",
        ] {
            let _ = rw(bad);
        }
        assert_eq!(rw("a:hover"), "a:hover");
    }
}
