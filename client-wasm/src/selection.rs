//! Text selection offsets as they may leave the browser.
//!
//! The DOM counts selection offsets in UTF-16 code units. Masked text and masked values reach the
//! agent as placeholders with one `*` per character ([`crate::mask`]), so a raw offset inside a
//! masked node would be wrong there, and an offset past a character outside the Basic
//! Multilingual Plane would even reveal that the secret holds such a character. Offsets inside
//! masked content are therefore converted to the placeholder's own units: the number of whole
//! characters before the boundary, which is exactly what the placeholder already shows.

/// The number of whole characters of `text` before UTF-16 offset `utf16` (clamped to the text;
/// an offset inside a surrogate pair counts the pair as not yet passed).
pub fn chars_before(text: &str, utf16: u32) -> u32 {
    let mut units = 0u32;
    let mut chars = 0u32;
    for c in text.chars() {
        units += c.len_utf16() as u32;
        if units > utf16 {
            break;
        }
        chars += 1;
    }
    chars
}

/// The offset sent for a boundary at UTF-16 offset `utf16` in `text`: unchanged for plain text,
/// in placeholder characters when the text is masked (never past the placeholder's end).
pub fn wire_offset(text: &str, utf16: u32, masked: bool) -> u32 {
    if masked {
        chars_before(text, utf16)
    } else {
        utf16
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::{masked_text, placeholder};

    #[test]
    fn plain_offsets_are_unchanged() {
        assert_eq!(wire_offset("héllo 😀 x", 9, false), 9);
    }

    #[test]
    fn masked_offsets_count_placeholder_characters() {
        let secret = "a😀b𝄞c";
        // UTF-16: a=0, 😀=1..3, b=3, 𝄞=4..6, c=6, end=7.
        let wire: Vec<u32> = (0..=7).map(|u| wire_offset(secret, u, true)).collect();
        assert_eq!(wire, vec![0, 1, 1, 2, 3, 3, 4, 5]);
        // The whole secret selected is the whole placeholder, and no more.
        assert_eq!(
            wire_offset(secret, 7, true) as usize,
            placeholder(secret).encode_utf16().count()
        );
        assert_eq!(wire_offset(secret, 700, true), 5, "clamped");
    }

    #[test]
    fn masked_offsets_never_tell_astral_from_plain_characters() {
        // Two secrets of the same length in characters: a selection of all of either looks the
        // same on the wire, though their UTF-16 lengths differ.
        let a = "abcd";
        let b = "a😀😀d";
        let ua = a.encode_utf16().count() as u32;
        let ub = b.encode_utf16().count() as u32;
        assert_ne!(ua, ub);
        assert_eq!(wire_offset(a, ua, true), wire_offset(b, ub, true));
        assert_eq!(
            masked_text(b).chars().count() as u32,
            wire_offset(b, ub, true)
        );
    }
}
