//! JSON's lexical pieces, found in place over bytes: whitespace, string literals,
//! numbers and the three words. Each function takes where a piece starts and returns
//! where it ends, or `None` when the bytes there are not that piece.
//!
//! Strict as RFC 8259 and `serde_json` are (escapes, raw control characters, the number
//! grammar), so the two walkers built on these pieces, the pass-through tap's check
//! (`openai::tap::is_json`) and the text walk (`text::raw::scalars`), refuse exactly
//! the same inputs. Like `serde_json`'s `IgnoredAny`, they do not check UTF-8 inside
//! strings nor pair `\u` surrogates.
//!
//! Hand-written and table-driven: they run over every byte of every streamed event,
//! twice when a stage reads the text (BENCHMARKS.md, "seventh pass": the byte-by-byte
//! versions cost about 20 instructions per byte of a chat chunk).
//!
//! Must never panic nor read past the slice, whatever the input.

/// Containers nested deeper than this are refused by both walkers (serde_json's own
/// limit for typed parsing; no real event comes near it, and it bounds the recursion).
pub const MAX_DEPTH: usize = 128;

/// Bytes that go on inside a string literal without a second look: not a quote, not a
/// backslash, not a control character.
static PLAIN: [bool; 256] = {
    let mut table = [true; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = false;
        b += 1;
    }
    table[b'"' as usize] = false;
    table[b'\\' as usize] = false;
    table
};

/// Past the whitespace that starts at `at` (`at` itself when there is none).
pub fn space(b: &[u8], at: usize) -> usize {
    let rest = b.get(at..).unwrap_or_default();
    at + rest
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        .unwrap_or(rest.len())
}

/// Past the closing quote of the string literal whose opening quote is at `at`, and
/// whether it holds an escape (its value then differs from its bytes).
pub fn string(b: &[u8], at: usize) -> Option<(usize, bool)> {
    let mut i = at + 1;
    let mut escaped = false;
    loop {
        let rest = b.get(i..)?;
        i += rest.iter().position(|&c| !PLAIN[usize::from(c)])?;
        match b[i] {
            b'"' => return Some((i + 1, escaped)),
            b'\\' => {
                escaped = true;
                i += 1 + escape(b.get(i + 1..)?)?;
            }
            // A raw control character.
            _ => return None,
        }
    }
}

/// The length of the escape after a backslash: one of JSON's letters, or `u` and four
/// hex digits.
fn escape(rest: &[u8]) -> Option<usize> {
    match rest.first()? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(1),
        b'u' => rest
            .get(1..5)
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .map(|_| 5),
        _ => None,
    }
}

/// Past the number that starts at `at`:
/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
pub fn number(b: &[u8], at: usize) -> Option<usize> {
    let mut i = at + usize::from(b.get(at) == Some(&b'-'));
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(b, i),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let end = digits(b, i + 1);
        if end == i + 1 {
            return None;
        }
        i = end;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let end = digits(b, i);
        if end == i {
            return None;
        }
        i = end;
    }
    Some(i)
}

fn digits(b: &[u8], at: usize) -> usize {
    let rest = b.get(at..).unwrap_or_default();
    at + rest
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(rest.len())
}

/// Past `word` (`true`, `false` or `null`) when it starts at `at`.
pub fn word(b: &[u8], at: usize, word: &[u8]) -> Option<usize> {
    (b.get(at..at + word.len())? == word).then_some(at + word.len())
}

/// What these pieces must agree with: whether serde takes `b` as one JSON value (for
/// the tests of every walker built on them).
#[cfg(test)]
pub(crate) fn serde_says(b: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(b).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn strings_end_after_their_quote_and_say_whether_they_hold_an_escape() {
        // Found by the property below: what follows the closing quote is not the string's.
        assert_eq!(string(b"\"\"\t", 0), Some((2, false)));
        assert_eq!(string(br#""abc" x"#, 0), Some((5, false)));
        assert_eq!(string(br#"x"a\"b""#, 1), Some((7, true)));
        assert_eq!(string(br#""\u00e9""#, 0), Some((8, true)));
        assert_eq!(string(br#""\u00g9""#, 0), None);
        assert_eq!(string(br#""\u00"#, 0), None);
        assert_eq!(string(b"\"a\tb\"", 0), None);
        assert_eq!(string(br#""\x""#, 0), None);
        assert_eq!(string(br#""open"#, 0), None);
        assert_eq!(string(br#""ends in \"#, 0), None);
        assert_eq!(string(b"\"caf\xc3\xa9\"", 0), Some((7, false)));
    }

    #[test]
    fn numbers_follow_the_grammar() {
        for (text, end) in [
            ("0", Some(1)),
            ("-0", Some(2)),
            ("01", Some(1)),
            ("12.5e-3,", Some(7)),
            ("1E+9", Some(4)),
            ("1.", None),
            ("1.5e", None),
            ("-", None),
            ("-a", None),
            (".5", None),
        ] {
            assert_eq!(number(text.as_bytes(), 0), end, "{text}");
        }
    }

    #[test]
    fn space_and_words_stop_where_they_should() {
        assert_eq!(space(b" \t\r\n x", 0), 5);
        assert_eq!(space(b"x", 0), 0);
        assert_eq!(space(b"  ", 0), 2);
        assert_eq!(space(b"", 3), 3);
        assert_eq!(word(b"null", 0, b"null"), Some(4));
        assert_eq!(word(b"nul", 0, b"null"), None);
    }

    proptest! {
        /// A string literal alone is JSON exactly when `string` takes all of it but
        /// trailing whitespace.
        #[test]
        fn string_agrees_with_serde(s in r#""[ -~\t\n\x00\x1f\\"é]{0,16}"#) {
            let b = s.as_bytes();
            let whole = string(b, 0).is_some_and(|(end, _)| space(b, end) == b.len());
            prop_assert_eq!(whole, serde_says(b), "{:?}", s);
        }

        /// A number alone is JSON exactly when `number` takes all of it.
        #[test]
        fn number_agrees_with_serde(s in r"-?[0-9]{0,4}\.?[0-9]{0,3}([eE][+-]?[0-9]{0,2})?") {
            let b = s.as_bytes();
            let whole = number(b, 0) == Some(b.len());
            prop_assert_eq!(whole, serde_says(b), "{:?}", s);
        }
    }
}
