//! From candidate matches to findings: each candidate checked by its kind's validator
//! (a key-value kind cut to its value), then overlaps resolved.
//!
//! Must never keep two findings over the same bytes: the earlier start wins, then the
//! longer, then the kind listed first in `Kind::BUILT_IN`.

use crate::{Finding, Kind, check, invisible};

/// A candidate as a finding, if its validator agrees; key-value kinds keep only the value.
pub(super) fn accept(kind: Kind, text: &str, start: usize, end: usize) -> Option<Finding> {
    let matched_at = start;
    let matched = &text[start..end];
    let grouped = match kind {
        Kind::Iban => Some(check::iban as fn(&str) -> bool),
        Kind::Card => Some(check::card as fn(&str) -> bool),
        Kind::Phone => Some(check::phone as fn(&str) -> bool),
        _ => None,
    };
    if let Some(valid) = grouped {
        let len = check::longest(matched, valid)?;
        return Some(Finding {
            kind,
            start,
            end: start + len,
            matched: start,
        });
    }
    let start = match kind {
        Kind::KeyValueSecret | Kind::AwsSecretKey => end - value_len(matched),
        _ => start,
    };
    let valid = match kind {
        Kind::Ssn => check::ssn(matched),
        Kind::Ipv4 => check::ipv4(text, start, end),
        Kind::Ipv6 => check::ipv6(matched),
        Kind::KeyValueSecret => check::entropy(&text[start..end]) >= 3.3,
        Kind::AwsSecretKey => check::entropy(&text[start..end]) >= 3.5,
        Kind::Invisible => !invisible::is_emoji_joiner(text, start, end),
        _ => true,
    };
    valid.then_some(Finding {
        kind,
        start,
        end,
        matched: matched_at,
    })
}

/// The length of the value at the end of a `key = value` match.
fn value_len(matched: &str) -> usize {
    matched
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric() || b"/+_.-".contains(b))
        .count()
}

/// Sorted by start, overlaps dropped (earlier start, then longer, then priority).
pub(super) fn resolve(mut found: Vec<Finding>) -> Vec<Finding> {
    if found.len() < 2 {
        return found;
    }
    found.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(b.end.cmp(&a.end))
            .then(priority(a.kind).cmp(&priority(b.kind)))
    });
    let mut out: Vec<Finding> = Vec::with_capacity(found.len());
    for f in found {
        if out.last().is_none_or(|last| f.start >= last.end) {
            out.push(f);
        }
    }
    out
}

fn priority(kind: Kind) -> usize {
    Kind::BUILT_IN
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(Kind::BUILT_IN.len())
}
