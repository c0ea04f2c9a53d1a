//! The streaming holdback on any text cut anywhere: never panics, never holds more than
//! its bound, and (while the bound was never hit) gives exactly what the guard makes of
//! the whole text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_guard::{Action, Actions, Counts, Holdback, Kind, Policy, Scanner, StreamScan, Text};
use std::sync::OnceLock;

fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let mut actions = Actions::default();
        for kind in Kind::BUILT_IN {
            actions.set(kind, Action::Redact);
        }
        let scanner = Scanner::new(&actions.built_in_kinds(), &[]).unwrap_or_else(|e| panic!("{e}"));
        Policy { scanner: std::sync::Arc::new(scanner), actions }
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (cuts, body) = data.split_at(usize::from(data[0] % 16).min(data.len()));
    let text = String::from_utf8_lossy(body);
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|c| {
            let mut i = usize::from(*c) * text.len() / 256;
            while !text.is_char_boundary(i) {
                i += 1;
            }
            i
        })
        .collect();
    at.extend([0, text.len()]);
    at.sort_unstable();
    at.dedup();
    let policy = policy();
    let limit = Holdback { max_bytes: 1 << 16 };
    let mut scan = StreamScan::new(Text::Plain);
    let mut counts = Counts::default();
    let mut out = String::new();
    for w in at.windows(2) {
        out.push_str(&scan.push(policy, &text[w[0]..w[1]], limit, &mut counts).unwrap_or_default());
    }
    out.push_str(&scan.flush(policy, &mut counts).unwrap_or_default());
    if text.len() < limit.max_bytes {
        let whole = policy.rewrite(&text, None, Text::Plain).map(|r| r.text.unwrap_or_else(|| text.to_string()));
        assert_eq!(Ok(out), whole.map_err(|_| ()));
    }
});
