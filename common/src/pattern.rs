//! Wildcard patterns of allow lists and query-value encoding.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Characters left as they are in a query value (RFC 3986 unreserved); everything else is
/// percent-encoded, so a URL carried in `?url=` survives intact.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes `s` as one query parameter value.
pub fn query_encode(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// Decodes one `application/x-www-form-urlencoded` value (a query or fragment parameter): `+` is
/// a space, `%XX` a byte, invalid UTF-8 is replaced; a `%` not followed by two hex digits stays.
pub fn form_decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// `*` glob match (any run of bytes, also none) of `text` against `pattern`, byte for byte.
/// Iterative with backtracking to the last star only, so it is linear in practice and cannot be
/// made to blow up by hostile input (allow lists are matched against customer-supplied URLs).
pub fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_match_any_run() {
        assert!(glob(b"https://*.example.com", b"https://a.b.example.com"));
        assert!(glob(b"*", b""));
        assert!(glob(b"a*b*c", b"axxbyyc"));
        assert!(!glob(b"https://*.example.com", b"https://example.com"));
        assert!(!glob(b"a*b", b"ac"));
        assert!(!glob(b"", b"x"));
    }

    #[test]
    fn hostile_patterns_stay_linear() {
        let text = vec![b'a'; 10_000];
        let mut pat = b"*a".repeat(50);
        pat.push(b'b');
        assert!(!glob(&pat, &text));
    }

    #[test]
    fn form_values_decode_like_url_search_params() {
        assert_eq!(form_decode("a+b%20c"), "a b c");
        assert_eq!(form_decode("%C3%BC%2B"), "ü+");
        assert_eq!(form_decode("100%"), "100%");
        assert_eq!(form_decode("%zz%4"), "%zz%4");
        assert_eq!(form_decode("%FF"), "\u{fffd}");
        assert_eq!(form_decode(&query_encode("x=1&y=ü z")), "x=1&y=ü z");
    }

    #[test]
    fn query_values_keep_only_unreserved_characters() {
        assert_eq!(
            query_encode("https://cdn.example.com/a b.css?x=1&y=ü"),
            "https%3A%2F%2Fcdn.example.com%2Fa%20b.css%3Fx%3D1%26y%3D%C3%BC"
        );
        assert_eq!(query_encode("A-z_0.9~"), "A-z_0.9~");
    }
}
