//! What the guard found in one interaction, as the record, the journal and the metrics
//! keep it: direction, category, detector (or rule, or the hook's category), action and
//! count. Never a matched value: the guard crate's counts hold none to give.
//!
//! Must never grow a field that could carry scanned text.

use serde::{Deserialize, Serialize};
use sluice_guard::{Counts, Scanner};

/// Where a finding was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The prompt, before it went upstream.
    Input,
    /// The answer, before it reached the client.
    Output,
    /// The external classifier's verdict on the prompt.
    Hook,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::Output => "output",
            Self::Hook => "hook",
        }
    }
}

/// One line of findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub direction: Direction,
    pub category: String,
    /// The detector's or rule's name (`email`, `codename`), or the hook's category.
    pub detector: String,
    pub action: String,
    pub count: u32,
}

/// Adds the guard crate's counts, named with the scanner that made them.
pub fn add(out: &mut Vec<Finding>, direction: Direction, scanner: &Scanner, counts: &Counts) {
    for (kind, action, n) in &counts.0 {
        let detector = scanner.name(*kind);
        match out.iter_mut().find(|f| {
            f.direction == direction && f.detector == detector && f.action == action.as_str()
        }) {
            Some(f) => f.count += n,
            None => out.push(Finding {
                direction,
                category: kind.category().as_str().to_owned(),
                detector: detector.to_owned(),
                action: action.as_str().to_owned(),
                count: *n,
            }),
        }
    }
}
