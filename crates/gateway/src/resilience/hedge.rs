//! Hedging: when the first attempt has not reached its first content within a
//! threshold, a second attempt starts on another target and whichever commits first
//! wins. This module only says when; `dispatch` runs the race.
//!
//! Must never hedge without a recent measurement when asked for `p95`: until the
//! target has samples, its `min` is the threshold.

use super::latency::Latency;
use crate::config::HedgeAfter;
use std::time::Duration;

/// How long to wait for the first attempt before starting the second.
pub fn threshold(after: HedgeAfter, first: &Latency) -> Duration {
    match after {
        HedgeAfter::Fixed(d) => d,
        HedgeAfter::P95 { min } => first.p95().map_or(min, |p| p.max(min)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p95_threshold_never_drops_below_min() {
        let l = Latency::default();
        let after = HedgeAfter::P95 {
            min: Duration::from_millis(200),
        };
        assert_eq!(threshold(after, &l), Duration::from_millis(200));
        for _ in 0..10 {
            l.record(Duration::from_millis(900));
        }
        assert_eq!(threshold(after, &l), Duration::from_millis(900));
        let fixed = HedgeAfter::Fixed(Duration::from_secs(1));
        assert_eq!(threshold(fixed, &l), Duration::from_secs(1));
    }
}
