//! The scanner: every chosen detector in one pass of one multi-pattern regex (which
//! kind, where), each candidate kept only if its validator agrees; operators' regex
//! rules in a second pass of their own (so a slow rule slows only configs that have
//! one), word lists by Aho-Corasick.
//!
//! Must never report overlapping findings: where two kinds claim the same bytes, the
//! earlier start wins, then the longer, then the kind listed first in
//! `Kind::BUILT_IN` (a connection string over the email inside it). Must never use a
//! Unicode word boundary in a built-in pattern: on non-ASCII text it turns the lazy
//! DFA off and the scan becomes a hundred times slower.

mod findings;

pub use crate::patterns::pattern;
use crate::rules::{Matcher, REGEX_SIZE_LIMIT, Rule};
use crate::{Finding, Kind, prefix};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use findings::{accept, resolve};
use regex_automata::meta::{self, Regex};
use regex_automata::{Anchored, Input};
use std::sync::OnceLock;

/// Why a scanner could not be built: a rule past its bounds, or a regex that does not
/// compile or is too large (the message names the rule).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScannerError(pub String);

/// One multi-pattern pass: the regex over every pattern, the kind of each, and each
/// pattern alone (to try the others where a candidate fails its validator), compiled
/// the first time a candidate fails: most texts never need them, and start-up should
/// not pay for them.
struct Pass {
    all: Regex,
    kinds: Vec<Kind>,
    sources: Vec<String>,
    single: Vec<OnceLock<Option<Regex>>>,
}

/// Word-list rules sharing one case setting, in one automaton.
struct Words {
    automaton: AhoCorasick,
    /// Per automaton pattern: the rule (its `Custom` index) and whether whole words only.
    rule: Vec<(u16, bool)>,
}

/// The detectors for a set of kinds and rules, compiled once and shared.
pub struct Scanner {
    built_in: Option<Pass>,
    custom: Option<Pass>,
    words: Vec<Words>,
    /// Rule names and placeholder labels, by `Kind::Custom` index.
    names: Vec<String>,
    labels: Vec<String>,
    /// Where a match may still be open at the end of a text (streams' holdback): built
    /// on first use or by `prepare_streams`, since only answers' scanners need it.
    open: OnceLock<prefix::OpenEnd>,
    open_sources: Vec<String>,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("kinds", &self.built_in.as_ref().map(|p| &p.kinds))
            .field("rules", &self.names)
            .finish_non_exhaustive()
    }
}

impl Scanner {
    /// A scanner for the built-in `kinds` and every rule in `rules`.
    pub fn new(kinds: &[Kind], rules: &[Rule]) -> Result<Self, ScannerError> {
        crate::rules::check_all(rules).map_err(ScannerError)?;
        let chosen: Vec<Kind> = Kind::BUILT_IN
            .into_iter()
            .filter(|k| kinds.contains(k))
            .collect();
        let built_in = build_pass(
            chosen
                .iter()
                .map(|k| (*k, pattern(*k).to_owned()))
                .collect(),
            None,
        )?;
        let regex_rules: Vec<(Kind, String)> = rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match &r.matcher {
                Matcher::Regex(p) => Some((Kind::Custom(index(i)), p.clone())),
                Matcher::Words { .. } => None,
            })
            .collect();
        let custom = build_pass(regex_rules, Some(rules))?;
        let words = build_words(rules)?;
        let mut open_sources: Vec<String> = chosen.iter().map(|k| pattern(*k).to_owned()).collect();
        open_sources.extend(rules.iter().map(rule_source));
        Ok(Self {
            built_in,
            custom,
            words,
            names: rules.iter().map(|r| r.name.clone()).collect(),
            labels: rules.iter().map(Rule::label).collect(),
            open: OnceLock::new(),
            open_sources,
        })
    }

    /// Whether the scanner has nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.built_in.is_none() && self.custom.is_none() && self.words.is_empty()
    }

    /// The config name of a kind: the detector's, or the rule's.
    pub fn name(&self, kind: Kind) -> &str {
        match kind {
            Kind::Custom(i) => self.names.get(usize::from(i)).map_or("custom", |s| s),
            _ => kind.name(),
        }
    }

    /// The placeholder label of a kind (`EMAIL`, a rule's name upper-cased).
    pub fn label(&self, kind: Kind) -> &str {
        match kind {
            Kind::Custom(i) => self.labels.get(usize::from(i)).map_or("CUSTOM", |s| s),
            _ => kind.label(),
        }
    }

    /// Every finding in `text`, in order, none overlapping.
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        self.scan_from(text, 0)
    }

    /// Every finding that starts at or after `from` (a char boundary): what comes
    /// before is context only, seen by word boundaries but never part of a match, so
    /// it cannot start a candidate that hides a real one behind it.
    pub fn scan_from(&self, text: &str, from: usize) -> Vec<Finding> {
        let mut found = Vec::new();
        if let Some(pass) = &self.built_in {
            pass.run(text, from, &mut found);
        }
        if let Some(pass) = &self.custom {
            pass.run(text, from, &mut found);
        }
        for words in &self.words {
            words.run(text, from, &mut found);
        }
        resolve(found)
    }

    /// The earliest byte offset in `text` from which the rest could still grow into a
    /// match (or a longer one) as more text arrives; `text.len()` when none could.
    pub fn open_from(&self, text: &str) -> usize {
        self.prepare_streams().find(text)
    }

    /// Builds what streamed text needs (the prefix automaton) now rather than on the
    /// first stream; a caller may run it off the request path.
    pub fn prepare_streams(&self) -> &prefix::OpenEnd {
        self.open
            .get_or_init(|| prefix::OpenEnd::new(&self.open_sources))
    }
}

fn index(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// A rule as a regex source, for the holdback's prefix automaton.
fn rule_source(rule: &Rule) -> String {
    match &rule.matcher {
        Matcher::Regex(p) => p.clone(),
        Matcher::Words {
            words,
            case_insensitive,
            ..
        } => {
            let flags = if *case_insensitive { "(?i)" } else { "" };
            let alternatives: Vec<String> = words
                .iter()
                .map(|w| regex_syntax::escape(w.trim()))
                .collect();
            format!("{flags}(?:{})", alternatives.join("|"))
        }
    }
}

fn build_pass(
    patterns: Vec<(Kind, String)>,
    rules: Option<&[Rule]>,
) -> Result<Option<Pass>, ScannerError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let named = |kind: Kind, e: &dyn std::fmt::Display| match (kind, rules) {
        (Kind::Custom(i), Some(rules)) => {
            let name = rules.get(usize::from(i)).map_or("?", |r| r.name.as_str());
            ScannerError(format!("rule `{name}`: {e}"))
        }
        _ => ScannerError(format!("detector {}: {e}", kind.name())),
    };
    let config = || {
        meta::Config::new()
            .nfa_size_limit(Some(REGEX_SIZE_LIMIT * 8))
            .utf8_empty(true)
    };
    // Operators' rules are checked alone here (bound and syntax, named in the error);
    // the built-ins are known good, and each compiles alone only when needed.
    for (kind, source) in &patterns {
        if let Kind::Custom(_) = kind {
            single(source, REGEX_SIZE_LIMIT).map_err(|e| named(*kind, &e))?;
        }
    }
    let sources: Vec<&str> = patterns.iter().map(|(_, p)| p.as_str()).collect();
    let all = meta::Builder::new()
        .configure(config())
        .build_many(&sources)
        .map_err(|e| ScannerError(format!("the detectors together: {e}")))?;
    Ok(Some(Pass {
        all,
        kinds: patterns.iter().map(|(k, _)| *k).collect(),
        single: patterns.iter().map(|_| OnceLock::new()).collect(),
        sources: patterns.into_iter().map(|(_, p)| p).collect(),
    }))
}

/// One pattern alone, within `limit` (a rule's bound, or a built-in's larger one).
fn single(source: &str, limit: usize) -> Result<Regex, String> {
    meta::Builder::new()
        .configure(
            meta::Config::new()
                .nfa_size_limit(Some(limit))
                .utf8_empty(true),
        )
        .build(source)
        .map_err(|e| e.to_string())
}

fn build_words(rules: &[Rule]) -> Result<Vec<Words>, ScannerError> {
    let mut out = Vec::new();
    for insensitive in [true, false] {
        let mut patterns: Vec<String> = Vec::new();
        let mut rule = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            if let Matcher::Words {
                words,
                case_insensitive,
                whole_words,
            } = &r.matcher
                && *case_insensitive == insensitive
            {
                for w in words {
                    patterns.push(w.trim().to_owned());
                    rule.push((index(i), *whole_words));
                }
            }
        }
        if patterns.is_empty() {
            continue;
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(insensitive)
            .build(&patterns)
            .map_err(|e| ScannerError(format!("word lists: {e}")))?;
        out.push(Words { automaton, rule });
    }
    Ok(out)
}

impl Pass {
    fn run(&self, text: &str, from: usize, out: &mut Vec<Finding>) {
        let mut at = from;
        while at < text.len() {
            let Some(m) = self.all.search(&Input::new(text).range(at..)) else {
                break;
            };
            if m.is_empty() {
                at = next_char(text, m.start());
                continue;
            }
            let kind = self.kinds[m.pattern().as_usize()];
            let found = accept(kind, text, m.start(), m.end())
                .or_else(|| self.retry(text, m.start(), m.pattern().as_usize()));
            match found {
                Some(f) => {
                    at = f.end.max(next_char(text, m.start()));
                    out.push(f);
                }
                None => at = next_char(text, m.start()),
            }
        }
    }

    /// Where the winning candidate at `start` failed its validator, another pattern
    /// may still match there (a number that is no card but is a phone number).
    fn retry(&self, text: &str, start: usize, failed: usize) -> Option<Finding> {
        self.single.iter().enumerate().find_map(|(i, regex)| {
            if i == failed {
                return None;
            }
            let source = &self.sources[i];
            let regex = regex
                .get_or_init(|| single(source, REGEX_SIZE_LIMIT * 8).ok())
                .as_ref()?;
            let input = Input::new(text).range(start..).anchored(Anchored::Yes);
            let m = regex.search(&input)?;
            (!m.is_empty())
                .then(|| accept(self.kinds[i], text, m.start(), m.end()))
                .flatten()
        })
    }
}

impl Words {
    fn run(&self, text: &str, from: usize, out: &mut Vec<Finding>) {
        let input = aho_corasick::Input::new(text).span(from..text.len());
        for m in self.automaton.find_iter(input) {
            let (rule, whole) = self.rule[m.pattern().as_usize()];
            if whole && !whole_word(text, m.start(), m.end()) {
                continue;
            }
            out.push(Finding {
                kind: Kind::Custom(rule),
                start: m.start(),
                end: m.end(),
                matched: m.start(),
            });
        }
    }
}

/// Whether `text[start..end]` is not glued to a word character on either side.
fn whole_word(text: &str, start: usize, end: usize) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let first = text[start..end].chars().next();
    let last = text[start..end].chars().next_back();
    let glued_before = before.is_some_and(word) && first.is_some_and(word);
    let glued_after = after.is_some_and(word) && last.is_some_and(word);
    !(glued_before || glued_after)
}

fn next_char(text: &str, at: usize) -> usize {
    text[at..]
        .chars()
        .next()
        .map_or(text.len(), |c| at + c.len_utf8())
}
