//! The order a model's targets are tried in: the strategy picks the first (and sorts
//! the rest where it ranks all of them), then every target that is available now
//! (breaker not open, quota not used up, provider under its cap) goes before every
//! target that is not, each group keeping the strategy's order.
//!
//! Must never drop a target: an unavailable one stays at the back, where the attempt
//! loop skips it or, when nothing else is left, lets a half-open probe through.

use crate::config::Strategy;
use std::time::Duration;

/// What a strategy knows of one target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub weight: u32,
    pub price: Option<f64>,
    /// Moving average to the first content; `None` until measured.
    pub latency: Option<Duration>,
    pub in_flight: u64,
    pub available: bool,
}

/// Indices into `candidates` in the order to try them.
pub fn order(strategy: Strategy, candidates: &[Candidate]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    if candidates.len() > 1 {
        match strategy {
            Strategy::Priority => {}
            Strategy::Weighted => {
                let first = weighted_draw(candidates);
                order[..=first].rotate_right(1);
            }
            Strategy::LeastLatency => {
                // Unmeasured targets first, so each gets measured.
                order.sort_by_key(|&i| {
                    candidates[i]
                        .latency
                        .map_or((0, Duration::ZERO), |l| (1, l))
                });
            }
            Strategy::LeastBusy => {
                // Ties start at a random target, so equal load spreads.
                order.rotate_left(fastrand::usize(..candidates.len()));
                order.sort_by_key(|&i| candidates[i].in_flight);
            }
            Strategy::Cost => {
                order.sort_by(|&a, &b| {
                    let price = |i: usize| candidates[i].price.unwrap_or(f64::INFINITY);
                    price(a).total_cmp(&price(b))
                });
            }
        }
    }
    // Stable: each group keeps the strategy's order.
    order.sort_by_key(|&i| !candidates[i].available);
    order
}

fn weighted_draw(candidates: &[Candidate]) -> usize {
    // Draw among the available targets when there are any, so an open breaker does
    // not shift its share onto whichever target happens to follow it.
    let pool = |c: &Candidate| c.available || candidates.iter().all(|c| !c.available);
    let total: u64 = candidates
        .iter()
        .filter(|c| pool(c))
        .map(|c| u64::from(c.weight))
        .sum();
    let mut draw = fastrand::u64(0..total.max(1));
    for (i, c) in candidates.iter().enumerate() {
        if !pool(c) {
            continue;
        }
        let w = u64::from(c.weight);
        if draw < w {
            return i;
        }
        draw -= w;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(weight: u32) -> Candidate {
        Candidate {
            weight,
            price: None,
            latency: None,
            in_flight: 0,
            available: true,
        }
    }

    #[test]
    fn weighted_draw_follows_weights_and_keeps_all_targets() {
        let cands = [c(3), c(1)];
        let first_is_zero = (0..4000)
            .filter(|_| order(Strategy::Weighted, &cands)[0] == 0)
            .count();
        assert!((2700..3300).contains(&first_is_zero), "{first_is_zero}");
        assert_eq!(order(Strategy::Weighted, &cands).len(), 2);
    }

    #[test]
    fn unavailable_targets_go_last_in_strategy_order() {
        let mut cands = [c(1), c(1), c(1)];
        cands[0].available = false;
        assert_eq!(order(Strategy::Priority, &cands), [1, 2, 0]);
        // The weighted draw never picks the unavailable one first.
        for _ in 0..200 {
            assert_ne!(order(Strategy::Weighted, &cands)[0], 0);
        }
    }

    #[test]
    fn least_latency_measures_unknown_targets_first_then_picks_the_fastest() {
        let mut cands = [c(1), c(1), c(1)];
        cands[0].latency = Some(Duration::from_millis(50));
        cands[1].latency = Some(Duration::from_millis(5));
        assert_eq!(order(Strategy::LeastLatency, &cands), [2, 1, 0]);
        cands[2].latency = Some(Duration::from_millis(500));
        assert_eq!(order(Strategy::LeastLatency, &cands), [1, 0, 2]);
    }

    #[test]
    fn least_busy_and_cost() {
        let mut cands = [c(1), c(1), c(1)];
        cands[0].in_flight = 4;
        cands[1].in_flight = 1;
        cands[2].in_flight = 9;
        assert_eq!(order(Strategy::LeastBusy, &cands), [1, 0, 2]);
        cands[0].price = Some(2.5);
        cands[1].price = None;
        cands[2].price = Some(0.15);
        assert_eq!(order(Strategy::Cost, &cands), [2, 0, 1]);
    }
}
