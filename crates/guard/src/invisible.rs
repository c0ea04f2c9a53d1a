//! Invisible and deceptive characters: Unicode tag characters (which can spell a hidden
//! instruction a reader never sees), supplementary variation selectors (which can
//! smuggle bytes), zero-width characters and joiners, the soft hyphen and the combining
//! grapheme joiner (which split a word so a filter misses it), the byte-order mark
//! inside text, and bidirectional overrides and isolates (which reorder what is shown
//! against what is read).
//!
//! Must never flag visible text: only these code points, nothing by script or look; and
//! never a zero-width joiner inside an emoji sequence, where it is how the emoji is
//! written.

/// The scanner's pattern: a run of invisible characters.
pub const PATTERN: &str = r"[\x{AD}\x{34F}\x{180E}\x{200B}-\x{200F}\x{202A}-\x{202E}\x{2060}-\x{2064}\x{2066}-\x{2069}\x{FEFF}\x{E0000}-\x{E007F}\x{E0100}-\x{E01EF}]+";

/// Whether `c` is one of the invisible or reordering characters.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{34F}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{E0000}'..='\u{E007F}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

/// Whether `text[start..end]` is a lone zero-width joiner between two pictographs
/// (👨‍👩‍👧): how such emoji are written, not a hiding place.
pub fn is_emoji_joiner(text: &str, start: usize, end: usize) -> bool {
    let pictograph =
        |c: char| matches!(c, '\u{1F000}'..='\u{1FAFF}' | '\u{2600}'..='\u{27BF}' | '\u{FE0F}');
    &text[start..end] == "\u{200D}"
        && text[..start].chars().next_back().is_some_and(pictograph)
        && text[end..].chars().next().is_some_and(pictograph)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_and_the_predicate_agree() {
        let regex = regex_automata::meta::Regex::new(PATTERN).unwrap_or_else(|e| panic!("{e}"));
        for c in (0u32..0x10FFFF).filter_map(char::from_u32) {
            let text = c.to_string();
            assert_eq!(regex.is_match(&text), is_invisible(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn joiners_in_emoji_are_kept() {
        let family = "\u{1F468}\u{200D}\u{1F469}";
        let at = "\u{1F468}".len();
        assert!(is_emoji_joiner(family, at, at + 3));
        let word = "ig\u{200D}nore";
        assert!(!is_emoji_joiner(word, 2, 5));
    }
}
