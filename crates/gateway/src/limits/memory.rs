//! The memory limiter store: every counter in one map behind one lock, so a request's
//! checks and debits are one atomic step. Exact for a single replica; with Redis it is
//! the per-replica fallback while Redis is down.
//!
//! Must never hold the lock across an await, and never grow without bound: counters
//! that are full again (rates) or empty (slots) are forgotten by `sweep`.

use super::counters::{Ask, BackendError, Check, Counters, Settle, Verdict, refill, wait_ms};
use super::wall_ms as now_ms;
use foldhash::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy)]
enum Counter {
    Bucket {
        tokens: f64,
        at_ms: u64,
    },
    Slots {
        held: u64,
    },
    Budget {
        spent: i64,
        reserved: i64,
        expires_ms: Option<u64>,
    },
}

#[derive(Debug, Default)]
pub struct Memory {
    counters: Mutex<HashMap<String, Counter>>,
    /// The count past which the next sweep runs (0: `SWEEP_AT`). After a sweep it is
    /// twice what remained: counters that cannot be swept (budgets of a long period,
    /// held slots) made every reservation walk the whole map under the lock.
    sweep_at: std::sync::atomic::AtomicUsize,
}

/// Counters kept before idle ones are swept.
const SWEEP_AT: usize = 100_000;

impl Memory {
    /// The check-and-reserve, synchronous (also what the Redis fallback calls).
    pub fn reserve_now(&self, ask: &Ask) -> Verdict {
        self.reserve_at(ask, now_ms())
    }

    fn reserve_at(&self, ask: &Ask, now: u64) -> Verdict {
        let Ok(mut counters) = self.counters.lock() else {
            return Verdict::Refused {
                index: 0,
                retry_after_ms: 1000,
            };
        };
        let sweep_at = self
            .sweep_at
            .load(std::sync::atomic::Ordering::Relaxed)
            .max(SWEEP_AT);
        if counters.len() > sweep_at {
            sweep(&mut counters, now);
            self.sweep_at.store(
                (counters.len() * 2).max(SWEEP_AT),
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        let mut remaining = Vec::with_capacity(ask.checks.len());
        // First pass: every check, nothing written.
        for (index, check) in ask.checks.iter().enumerate() {
            let counter = counters.get(check.key()).copied();
            let left = match check {
                Check::Rate { capacity, cost, .. } => {
                    let tokens = match counter {
                        Some(Counter::Bucket { tokens, at_ms }) => {
                            refill(tokens, at_ms, now, *capacity)
                        }
                        _ => *capacity as f64,
                    };
                    let need = (*cost).min(*capacity) as f64;
                    if tokens < need {
                        return Verdict::Refused {
                            index,
                            retry_after_ms: wait_ms(tokens, *cost, *capacity),
                        };
                    }
                    (tokens - *cost as f64).floor() as i64
                }
                Check::Concurrency { max, .. } => {
                    let held = match counter {
                        Some(Counter::Slots { held }) => held,
                        _ => 0,
                    };
                    if held >= *max {
                        return Verdict::Refused {
                            index,
                            retry_after_ms: 1000,
                        };
                    }
                    i64::try_from(*max - held - 1).unwrap_or(i64::MAX)
                }
                Check::Budget {
                    limit_micros,
                    cost_micros,
                    expires_ms,
                    ..
                } => {
                    let (spent, reserved) = match counter {
                        Some(Counter::Budget {
                            spent, reserved, ..
                        }) => (spent, reserved),
                        _ => (0, 0),
                    };
                    let left = limit_micros - spent - reserved;
                    if left <= 0 || *cost_micros > left {
                        return Verdict::Refused {
                            index,
                            retry_after_ms: expires_ms
                                .map_or(86_400_000, |at| at.saturating_sub(now).max(1000)),
                        };
                    }
                    left - cost_micros
                }
            };
            remaining.push(left);
        }
        // Second pass: debit them all.
        for check in &ask.checks {
            let entry = counters.get(check.key()).copied();
            let next = match check {
                Check::Rate { capacity, cost, .. } => {
                    let tokens = match entry {
                        Some(Counter::Bucket { tokens, at_ms }) => {
                            refill(tokens, at_ms, now, *capacity)
                        }
                        _ => *capacity as f64,
                    };
                    Counter::Bucket {
                        tokens: tokens - *cost as f64,
                        at_ms: now,
                    }
                }
                Check::Concurrency { .. } => Counter::Slots {
                    held: match entry {
                        Some(Counter::Slots { held }) => held + 1,
                        _ => 1,
                    },
                },
                Check::Budget {
                    cost_micros,
                    expires_ms,
                    ..
                } => match entry {
                    Some(Counter::Budget {
                        spent, reserved, ..
                    }) => Counter::Budget {
                        spent,
                        reserved: reserved + cost_micros,
                        expires_ms: *expires_ms,
                    },
                    _ => Counter::Budget {
                        spent: 0,
                        reserved: *cost_micros,
                        expires_ms: *expires_ms,
                    },
                },
            };
            match counters.get_mut(check.key()) {
                Some(counter) => *counter = next,
                None => {
                    counters.insert(check.key().to_owned(), next);
                }
            }
        }
        Verdict::Admitted { remaining }
    }

    /// The settle, synchronous.
    pub fn settle_now(&self, adjustments: &[Settle]) {
        let now = now_ms();
        let Ok(mut counters) = self.counters.lock() else {
            return;
        };
        for adjustment in adjustments {
            match adjustment {
                Settle::Rate {
                    key,
                    capacity,
                    delta,
                } => {
                    if let Some(Counter::Bucket { tokens, at_ms }) = counters.get(key).copied() {
                        let level = refill(tokens, at_ms, now, *capacity) - *delta as f64;
                        counters.insert(
                            key.clone(),
                            Counter::Bucket {
                                tokens: level.min(*capacity as f64),
                                at_ms: now,
                            },
                        );
                    }
                }
                Settle::Release { key } => {
                    if let Some(Counter::Slots { held }) = counters.get_mut(key) {
                        *held = held.saturating_sub(1);
                    }
                }
                Settle::Budget {
                    key,
                    reserved_micros,
                    spent_micros,
                    expires_ms,
                } => {
                    let entry = counters.entry(key.clone()).or_insert(Counter::Budget {
                        spent: 0,
                        reserved: 0,
                        expires_ms: *expires_ms,
                    });
                    if let Counter::Budget {
                        spent, reserved, ..
                    } = entry
                    {
                        *reserved = (*reserved - reserved_micros).max(0);
                        *spent += spent_micros;
                    }
                }
            }
        }
    }

    /// Adds spend recorded elsewhere (the journal, at start-up) to a budget counter.
    pub fn seed_spend(&self, key: &str, spent_micros: i64, expires_ms: Option<u64>) {
        self.settle_now(&[Settle::Budget {
            key: key.to_owned(),
            reserved_micros: 0,
            spent_micros,
            expires_ms,
        }]);
    }

    pub fn len(&self) -> usize {
        self.counters.lock().map_or(0, |c| c.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Longest a bucket in debt is kept idle (a debt is repaid at the bucket's capacity per
/// window, which the counter does not hold).
const DEBT_KEPT_MS: u64 = 24 * 60 * 60 * 1000;

fn sweep(counters: &mut HashMap<String, Counter>, now: u64) {
    counters.retain(|_, counter| match *counter {
        // Idle a window, a bucket is full again, unless it was in debt: dropping that
        // one would forgive the debt (a request larger than the bucket).
        Counter::Bucket { at_ms, tokens } => {
            let idle = now.saturating_sub(at_ms);
            idle < super::counters::WINDOW_MS || (tokens < 0.0 && idle < DEBT_KEPT_MS)
        }
        Counter::Slots { held } => held > 0,
        Counter::Budget { expires_ms, .. } => expires_ms.is_none_or(|at| at > now),
    });
}

impl Counters for Memory {
    async fn reserve(&self, ask: &Ask) -> Result<Verdict, BackendError> {
        Ok(self.reserve_now(ask))
    }

    async fn settle(&self, _lease: &str, adjustments: &[Settle]) -> Result<(), BackendError> {
        self.settle_now(adjustments);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(checks: Vec<Check>) -> Ask {
        Ask {
            checks,
            lease: "r1".into(),
            lease_ttl_ms: 60_000,
            key_id: None,
        }
    }

    fn rate(key: &str, capacity: u64, cost: u64) -> Check {
        Check::Rate {
            key: key.into(),
            capacity,
            cost,
        }
    }

    #[test]
    fn a_rate_admits_its_capacity_then_refuses_with_the_wait() {
        let m = Memory::default();
        for left in (0..3).rev() {
            assert_eq!(
                m.reserve_at(&ask(vec![rate("k", 3, 1)]), 1000),
                Verdict::Admitted {
                    remaining: vec![left]
                }
            );
        }
        assert_eq!(
            m.reserve_at(&ask(vec![rate("k", 3, 1)]), 1000),
            Verdict::Refused {
                index: 0,
                retry_after_ms: 20_000
            }
        );
        // A third of a minute later one request's worth has come back.
        assert!(matches!(
            m.reserve_at(&ask(vec![rate("k", 3, 1)]), 21_000),
            Verdict::Admitted { .. }
        ));
    }

    #[test]
    fn a_sweep_keeps_a_bucket_in_debt_and_runs_again_only_when_the_map_doubled() {
        let m = Memory::default();
        // Larger than the bucket: admitted when full, leaving 200 tokens of debt, which
        // takes three windows to repay.
        assert!(matches!(
            m.reserve_at(&ask(vec![rate("debt", 100, 300)]), 0),
            Verdict::Admitted { .. }
        ));
        assert!(matches!(
            m.reserve_at(&ask(vec![rate("paid", 100, 1)]), 0),
            Verdict::Admitted { .. }
        ));
        let later = 61_000;
        if let Ok(mut counters) = m.counters.lock() {
            sweep(&mut counters, later);
        }
        // The full bucket went; the one in debt stayed, and still refuses.
        assert_eq!(m.len(), 1);
        assert!(matches!(
            m.reserve_at(&ask(vec![rate("debt", 100, 1)]), later),
            Verdict::Refused { index: 0, .. }
        ));
        // Past SWEEP_AT counters that cannot be swept (held slots), the next sweep waits
        // until the map has doubled instead of running on every reservation.
        let slot = |i: usize| Check::Concurrency {
            key: format!("slot-{i}"),
            max: 1,
        };
        for i in 0..=SWEEP_AT {
            let _ = m.reserve_at(&ask(vec![slot(i)]), later);
        }
        let _ = m.reserve_at(&ask(vec![slot(SWEEP_AT + 1)]), later);
        let next = m.sweep_at.load(std::sync::atomic::Ordering::Relaxed);
        assert!(next > 2 * SWEEP_AT, "{next}");
    }

    #[test]
    fn a_refusal_debits_nothing_and_names_the_check_that_refused() {
        let m = Memory::default();
        let both = || ask(vec![rate("a", 10, 1), rate("b", 1, 1)]);
        assert!(matches!(m.reserve_at(&both(), 0), Verdict::Admitted { .. }));
        assert!(matches!(
            m.reserve_at(&both(), 0),
            Verdict::Refused { index: 1, .. }
        ));
        // `a` was debited once, not twice.
        assert_eq!(
            m.reserve_at(&ask(vec![rate("a", 10, 1)]), 0),
            Verdict::Admitted { remaining: vec![8] }
        );
    }

    #[test]
    fn slots_come_back_on_release_and_budgets_settle_to_the_real_cost() {
        let m = Memory::default();
        let slot = || {
            ask(vec![Check::Concurrency {
                key: "c".into(),
                max: 1,
            }])
        };
        assert!(matches!(m.reserve_at(&slot(), 0), Verdict::Admitted { .. }));
        assert!(matches!(m.reserve_at(&slot(), 0), Verdict::Refused { .. }));
        m.settle_now(&[Settle::Release { key: "c".into() }]);
        assert!(matches!(m.reserve_at(&slot(), 0), Verdict::Admitted { .. }));

        let budget = |cost| {
            ask(vec![Check::Budget {
                key: "b".into(),
                limit_micros: 100,
                cost_micros: cost,
                expires_ms: None,
            }])
        };
        assert!(matches!(
            m.reserve_at(&budget(80), 0),
            Verdict::Admitted { .. }
        ));
        // 80 reserved: 30 more does not fit while the first is in flight.
        assert!(matches!(
            m.reserve_at(&budget(30), 0),
            Verdict::Refused { .. }
        ));
        m.settle_now(&[Settle::Budget {
            key: "b".into(),
            reserved_micros: 80,
            spent_micros: 10,
            expires_ms: None,
        }]);
        assert_eq!(
            m.reserve_at(&budget(30), 0),
            Verdict::Admitted {
                remaining: vec![60]
            }
        );
    }
}
