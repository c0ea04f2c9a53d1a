//! Where a match may still be open at the end of a text: the earliest offset from which
//! the rest of the text is the beginning of something a detector could match. A stream
//! holds back exactly that tail, so a value split across chunks is scanned whole,
//! and ordinary text (a finished word followed by a space) goes on at once.
//!
//! Each detector's regex is rewritten into the regex of its prefixes (every beginning
//! of every string it matches), look-around assertions dropped (which only widens what
//! is held), the union anchored at the end of the text; the meta engine then finds the
//! earliest start with a reverse search from the end, in time linear in the held tail.
//!
//! Must never report an offset after the start of a possible match: holding too much
//! only delays text, holding too little lets a split value through.

use regex_automata::Input;
use regex_automata::meta::{self, Regex};
use regex_syntax::hir::{Hir, HirKind, Look, Repetition};

/// Largest compiled prefix automaton; past it, a fixed window is held instead.
const SIZE_LIMIT: usize = 32 << 20;

/// The tail held when the prefix automaton could not be built (huge word lists).
const FALLBACK_WINDOW: usize = crate::rules::MAX_WORD_BYTES;

/// The open-end finder for a set of patterns.
#[derive(Debug)]
pub struct OpenEnd {
    regex: Option<Regex>,
    /// Bytes always held at the end, for patterns the automaton could not take.
    window: usize,
}

impl OpenEnd {
    pub fn new(sources: &[String]) -> Self {
        let mut window = 0;
        let mut alternatives = Vec::with_capacity(sources.len());
        for source in sources {
            match regex_syntax::Parser::new().parse(source) {
                Ok(hir) => alternatives.push(prefixes(&hir)),
                Err(_) => window = FALLBACK_WINDOW,
            }
        }
        if alternatives.is_empty() {
            return Self {
                regex: None,
                window,
            };
        }
        let anchored = Hir::concat(vec![Hir::alternation(alternatives), Hir::look(Look::End)]);
        let regex = meta::Builder::new()
            .configure(meta::Config::new().nfa_size_limit(Some(SIZE_LIMIT)))
            .build_from_hir(&anchored)
            .ok();
        if regex.is_none() {
            window = FALLBACK_WINDOW;
        }
        Self { regex, window }
    }

    /// The earliest offset of `text` from which a match may still be open; `text.len()`
    /// when nothing could go on. Always on a char boundary.
    pub fn find(&self, text: &str) -> usize {
        let mut at = text.len();
        if let Some(regex) = &self.regex
            && let Some(m) = regex.search(&Input::new(text))
        {
            at = m.start();
        }
        if self.window > 0 {
            let mut cut = text.len().saturating_sub(self.window);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            at = at.min(cut);
        }
        at
    }
}

/// The regex of every prefix of what `hir` matches (assertions dropped).
pub fn prefixes(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Hir::empty(),
        HirKind::Literal(literal) => literal_prefixes(&literal.0),
        HirKind::Class(_) => optional(hir.clone()),
        HirKind::Repetition(rep) => {
            // Up to max - 1 whole copies, then the beginning of one more.
            let whole = match rep.max {
                Some(0) => return Hir::empty(),
                Some(max) => Some(max - 1),
                None => None,
            };
            Hir::concat(vec![
                Hir::repetition(Repetition {
                    min: 0,
                    max: whole,
                    greedy: true,
                    sub: Box::new(without_looks(&rep.sub)),
                }),
                prefixes(&rep.sub),
            ])
        }
        HirKind::Capture(capture) => prefixes(&capture.sub),
        HirKind::Concat(subs) => concat_prefixes(subs),
        HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(prefixes).collect()),
    }
}

/// `a b c` begins as a beginning of `a`, or all of `a` then a beginning of `b c`.
fn concat_prefixes(subs: &[Hir]) -> Hir {
    match subs {
        [] => Hir::empty(),
        [only] => prefixes(only),
        [first, rest @ ..] => Hir::alternation(vec![
            prefixes(first),
            Hir::concat(vec![without_looks(first), concat_prefixes(rest)]),
        ]),
    }
}

/// Every beginning of a literal, cut at char boundaries: `(a(b(c)?)?)?`.
fn literal_prefixes(bytes: &[u8]) -> Hir {
    let chars: Vec<&[u8]> = match std::str::from_utf8(bytes) {
        Ok(text) => text
            .char_indices()
            .map(|(i, c)| &bytes[i..i + c.len_utf8()])
            .collect(),
        Err(_) => bytes.chunks(1).collect(),
    };
    chars.iter().rev().fold(Hir::empty(), |rest, c| {
        optional(Hir::concat(vec![Hir::literal(*c), rest]))
    })
}

fn optional(hir: Hir) -> Hir {
    Hir::repetition(Repetition {
        min: 0,
        max: Some(1),
        greedy: true,
        sub: Box::new(hir),
    })
}

/// The same expression with every assertion made empty (it then matches more).
fn without_looks(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Look(_) => Hir::empty(),
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) => hir.clone(),
        HirKind::Repetition(rep) => Hir::repetition(Repetition {
            sub: Box::new(without_looks(&rep.sub)),
            ..rep.clone()
        }),
        HirKind::Capture(capture) => without_looks(&capture.sub),
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(without_looks).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(without_looks).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(patterns: &[&str], text: &str) -> usize {
        let sources: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        OpenEnd::new(&sources).find(text)
    }

    #[test]
    fn holds_only_what_could_still_match() {
        let email =
            r"(?i)[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,8}\.[a-z]{2,24}";
        assert_eq!(open(&[email], "write to jane.do"), 9);
        assert_eq!(open(&[email], "write to jane@exa"), 9);
        assert_eq!(open(&[email], "write to jane@example.com"), 9);
        // A space ends every email: nothing is open.
        assert_eq!(open(&[email], "write to jane "), 14);
        let phrase = r"(?i)\bignore\s+(?:all\s+)?previous\s+instructions";
        assert_eq!(open(&[phrase], "now please ign"), 11);
        assert_eq!(open(&[phrase], "now ignore all prev"), 4);
        assert_eq!(open(&[phrase], "now ignore the cat"), 18);
        // A literal that is over is not held.
        assert_eq!(open(&["abc"], "xabcx"), 5);
        assert_eq!(open(&["abc"], "xab"), 1);
    }

    #[test]
    fn a_block_is_held_from_its_start_until_it_closes() {
        let pem = crate::detect::pattern(crate::Kind::PrivateKey);
        let text = "key: -----BEGIN PRIVATE KEY-----\nMIIE\nabc";
        assert_eq!(open(&[pem], text), 5);
        let closed = format!("{text}\n-----END PRIVATE KEY----- done");
        assert_eq!(open(&[pem], &closed), closed.len());
    }

    #[test]
    fn unicode_literals_are_cut_at_char_boundaries() {
        let at = open(&["(?i)grüße"], "viele grü");
        assert_eq!(at, 6);
        let long_word = "w".repeat(256);
        let text = format!("say {}", &long_word[..100]);
        assert_eq!(open(&[&regex_syntax::escape(&long_word)], &text), 4);
    }
}
