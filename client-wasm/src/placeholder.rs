//! The placeholders masked content becomes: as long as the original (in characters), so the
//! agent's layout keeps its width, and made of one character that says "hidden".

/// The character placeholders are made of.
pub const MASK_CHAR: char = '*';

/// A placeholder with as many characters as `value`, so layouts keep their width.
pub fn placeholder(value: &str) -> String {
    std::iter::repeat_n(MASK_CHAR, value.chars().count()).collect()
}

/// `text` with every non-whitespace character replaced, so line breaks and spacing stay.
pub fn masked_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_whitespace() { c } else { MASK_CHAR })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_keep_length_and_spacing() {
        assert_eq!(placeholder("ab ü"), "****");
        assert_eq!(masked_text("ab c\nd"), "** *\n*");
        assert_eq!(placeholder(""), "");
    }
}
