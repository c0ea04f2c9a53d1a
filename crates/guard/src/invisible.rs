//! Invisible and deceptive characters: Unicode tag characters (which can spell a hidden
//! instruction a reader never sees), zero-width characters and joiners, the byte-order
//! mark inside text, and bidirectional overrides and isolates (which reorder what is
//! shown against what is read).
//!
//! Must never flag visible text: only these code points, nothing by script or look.

/// Whether `c` is invisible or reorders text.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{E0000}'..='\u{E007F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2060}'..='\u{2064}'
            | '\u{FEFF}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{180E}'
    )
}

/// Byte ranges of the runs of invisible characters in `text`.
pub fn runs(text: &str) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (i, c) in text.char_indices() {
        if !is_invisible(c) {
            continue;
        }
        let end = i + c.len_utf8();
        match out.last_mut() {
            Some(last) if last.1 == i => last.1 = end,
            _ => out.push((i, end)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_characters_zero_widths_and_bidi_are_found_as_runs() {
        let hidden: String = "ignore"
            .chars()
            .map(|c| char::from_u32(0xE0000 + c as u32).unwrap_or(c))
            .collect();
        let text = format!("hello{hidden} wor\u{200B}ld \u{202E}txt.exe");
        let found = runs(&text);
        assert_eq!(found.len(), 3);
        assert_eq!(&text[found[0].0..found[0].1], hidden);
        assert!(runs("plain text, émigré, 東京").is_empty());
    }
}
