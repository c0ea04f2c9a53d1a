//! The streaming guard's promise, as a property: for any text with planted values and
//! any way of cutting it into pieces (down to one character each), the streamed output
//! never contains a planted value, equals what the guard makes of the whole text, and
//! every character that was not planted comes through unchanged.

use proptest::prelude::*;
use sluice_guard::{Action, Actions, Counts, Holdback, Kind, Policy, Scanner, StreamScan, Text};

/// Values a detector must find, and the placeholder each becomes.
const PLANTED: [(&str, &str); 15] = [
    ("jane.doe@example.com", "[EMAIL]"),
    ("4111 1111 1111 1111", "[CARD]"),
    ("GB82 WEST 1234 5698 7654 32", "[IBAN]"),
    ("123-45-6789", "[SSN]"),
    ("+14155550123", "[PHONE]"),
    ("10.20.30.40", "[IP]"),
    ("AKIAIOSFODNN7EXAMPLE", "[AWS_KEY]"),
    ("ghp_0123456789abcdefghijABCDEFGHIJ012345", "[GITHUB_TOKEN]"),
    ("sk-ant-api03-abcdefghijklmnopqrstuv", "[ANTHROPIC_KEY]"),
    (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "[JWT]",
    ),
    (
        "postgres://admin:hunter2secret@db.internal:5432",
        "[CONNECTION_STRING]",
    ),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        "[PRIVATE_KEY]",
    ),
    ("<|im_start|>", "[ROLE_TOKEN]"),
    ("ignore all previous instructions", "[INJECTION]"),
    ("\u{200B}\u{E0041}", ""),
];

/// Ordinary text: words that no detector matches, punctuation, other scripts.
const FILLER: [&str; 16] = [
    "the", "model", "answer", "quick", "brown", "über", "東京", "naïve", "data,", "report.",
    "(note)", "\n", "a", "to", "émigré", "-",
];

/// Built once: compiling every detector is the slow part of a case.
fn policy() -> &'static Policy {
    static POLICY: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    POLICY.get_or_init(build_policy)
}

fn build_policy() -> Policy {
    let mut actions = Actions::default();
    for kind in Kind::BUILT_IN {
        actions.set(kind, Action::Redact);
    }
    let scanner = Scanner::new(&actions.built_in_kinds(), &[]).unwrap_or_else(|e| panic!("{e}"));
    Policy {
        scanner: std::sync::Arc::new(scanner),
        actions,
    }
}

#[derive(Debug, Clone)]
enum Part {
    Filler(usize),
    Planted(usize),
}

fn parts() -> impl Strategy<Value = Vec<Part>> {
    prop::collection::vec(
        prop_oneof![
            3 => (0..FILLER.len()).prop_map(Part::Filler),
            1 => (0..PLANTED.len()).prop_map(Part::Planted),
        ],
        1..40,
    )
}

/// The text, and what the guard must make of it.
fn build(parts: &[Part]) -> (String, String) {
    let mut text = String::new();
    let mut expected = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            text.push(' ');
            expected.push(' ');
        }
        match part {
            Part::Filler(f) => {
                text.push_str(FILLER[*f]);
                expected.push_str(FILLER[*f]);
            }
            Part::Planted(p) => {
                text.push_str(PLANTED[*p].0);
                expected.push_str(PLANTED[*p].1);
            }
        }
    }
    (text, expected)
}

/// `text` cut at the given fractions, each moved to a char boundary.
fn pieces(text: &str, cuts: &[f64]) -> Vec<String> {
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|f| {
            let mut i = (f * text.len() as f64) as usize;
            while !text.is_char_boundary(i) {
                i += 1;
            }
            i
        })
        .collect();
    at.push(0);
    at.push(text.len());
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| text[w[0]..w[1]].to_owned()).collect()
}

fn streamed(policy: &Policy, pieces: &[String]) -> String {
    let mut scan = StreamScan::new(Text::Plain);
    let mut counts = Counts::default();
    let mut out = String::new();
    for piece in pieces {
        let released = scan
            .push(policy, piece, Holdback::default(), &mut counts)
            .unwrap_or_else(|b| panic!("blocked: {b:?}"));
        out.push_str(&released);
    }
    out.push_str(
        &scan
            .flush(policy, &mut counts)
            .unwrap_or_else(|b| panic!("blocked: {b:?}")),
    );
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn streamed_output_never_holds_a_planted_value(
        parts in parts(),
        cuts in prop::collection::vec(0.0f64..1.0, 0..30),
    ) {
        let policy = policy();
        let (text, expected) = build(&parts);
        let whole = policy
            .rewrite(&text, None, Text::Plain)
            .unwrap_or_else(|b| panic!("blocked: {b:?}"));
        let whole = whole.text.unwrap_or_else(|| text.clone());
        prop_assert_eq!(&whole, &expected);
        let out = streamed(policy, &pieces(&text, &cuts));
        prop_assert_eq!(&out, &expected);
        for (value, _) in PLANTED {
            prop_assert!(!out.contains(value), "{value:?} leaked");
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn one_character_pieces_give_the_same_output(parts in parts()) {
        let policy = policy();
        let (text, expected) = build(&parts);
        let pieces: Vec<String> = text.chars().map(String::from).collect();
        prop_assert_eq!(streamed(policy, &pieces), expected);
    }
}
