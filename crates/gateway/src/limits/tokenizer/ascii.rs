//! The pre-split pattern's match on ASCII text, by hand: on ASCII, o200k's classes are
//! plain byte tests (letters are `A-Z` and `a-z` and nothing else is a mark, digits are
//! `0-9`, `\s` is `\t \n \v \f \r` and space), so the leftmost-first match of each
//! alternative is a few byte runs.
//!
//! Why by hand: the lazy DFA walks a transition table built for the pattern's Unicode
//! classes, memory that a gateway idle between requests finds cold every time (the
//! estimate measured 10–20 µs per request on the first-token path, several times its
//! instruction count). Most prompts are ASCII, and these are loops over the bytes.
//!
//! Must never be used on text with a byte above 0x7F (a letter class there depends on
//! Unicode tables: the regex answers), and must return exactly the regex's match end;
//! the tests compare both on random ASCII.

/// `\s` on ASCII.
fn is_space(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ')
}

/// `[^\r\n\p{L}\p{N}]`: the one character a word may take before it.
fn is_prefix(c: u8) -> bool {
    !(c == b'\r' || c == b'\n' || c.is_ascii_alphanumeric())
}

/// `[^\s\p{L}\p{N}]`: punctuation, symbols and control characters.
fn is_other(c: u8) -> bool {
    !(c.is_ascii_alphanumeric() || is_space(c))
}

/// Where the run of bytes passing `test` from `from` ends.
fn run(b: &[u8], from: usize, test: fn(u8) -> bool) -> usize {
    from + b[from..].iter().take_while(|&&c| test(c)).count()
}

/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)?` at `at`: where the word ends with it.
fn contraction(b: &[u8], at: usize) -> usize {
    if b.get(at) != Some(&b'\'') {
        return at;
    }
    let lower = |k: usize| b.get(k).map(u8::to_ascii_lowercase);
    match (lower(at + 1), lower(at + 2)) {
        (Some(b's' | b't' | b'm' | b'd'), _) => at + 2,
        (Some(b'r' | b'v'), Some(b'e')) | (Some(b'l'), Some(b'l')) => at + 3,
        _ => at,
    }
}

/// The end of the pattern's match at `i` (`i < b.len()`, `b` all ASCII), before the
/// `\s+(?!\S)` adjustment `pieces` makes to a whitespace run. Every byte starts a match.
pub(super) fn match_end(b: &[u8], i: usize) -> usize {
    let c = b[i];
    // `P? U* L+ C?`, then `P? U+ L* C?`: on ASCII the two letter classes are disjoint,
    // so each run is taken whole and the first alternative needs a lower-case letter.
    let word = if is_prefix(c) { i + 1 } else { i };
    if b.get(word).is_some_and(u8::is_ascii_alphabetic) {
        let upper = run(b, word, |c| c.is_ascii_uppercase());
        let lower = run(b, upper, |c| c.is_ascii_lowercase());
        return contraction(b, lower);
    }
    // `\p{N}{1,3}`
    if c.is_ascii_digit() {
        return run(b, i, |c| c.is_ascii_digit()).min(i + 3);
    }
    // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
    let symbols = if c == b' ' { i + 1 } else { i };
    if b.get(symbols).copied().is_some_and(is_other) {
        let end = run(b, symbols, is_other);
        return run(b, end, |c| matches!(c, b'\r' | b'\n' | b'/'));
    }
    // `\s*[\r\n]+`: up to the run's last line break; else `\s+`.
    let end = run(b, i, is_space);
    match b[i..end].iter().rposition(|&c| c == b'\r' || c == b'\n') {
        Some(last) => i + last + 1,
        None => end,
    }
}
