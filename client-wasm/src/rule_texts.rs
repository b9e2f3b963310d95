//! A stylesheet's rule texts as `dom_reader.js` (`ruleTexts`) packs them in one string, read
//! here so the rules are tested natively: one call per sheet instead of two per rule.

/// The texts of a packing: the count, then that many NUL-separated texts. `None` when the
/// string is not such a packing (the caller then reads the rules one by one).
pub fn unpack(packed: &str) -> Option<Vec<String>> {
    let (count, rest) = packed.split_once('\0').unwrap_or((packed, ""));
    let count: usize = count.parse().ok()?;
    let texts: Vec<String> = match count {
        0 if rest.is_empty() => Vec::new(),
        _ => rest.split('\0').map(str::to_owned).collect(),
    };
    (texts.len() == count).then_some(texts)
}

#[cfg(test)]
mod tests {
    use super::unpack;

    #[test]
    fn packed_rule_texts_round_trip_and_refuse_miscounts() {
        assert_eq!(unpack("0"), Some(vec![]));
        assert_eq!(unpack("1\0"), Some(vec![String::new()]));
        assert_eq!(
            unpack("2\0a { color: red; }\0@media print { b { x: y; } }"),
            Some(vec![
                "a { color: red; }".to_owned(),
                "@media print { b { x: y; } }".to_owned()
            ])
        );
        assert_eq!(unpack("2\0only one"), None);
        assert_eq!(unpack("0\0extra"), None);
        assert_eq!(unpack("x\0a"), None);
        assert_eq!(unpack(""), None);
    }
}
