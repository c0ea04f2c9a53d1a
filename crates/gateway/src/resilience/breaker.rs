//! A circuit breaker per target: closed (counting results over a sliding window),
//! open (refusing every attempt until the cooldown passes), half-open (letting a
//! bounded number of probes through; enough successes close it, one failure opens it
//! again). Each half-open spell is a round: a probe's verdict counts only in the round
//! that let it through, so a slow probe of a round a failure already ended neither
//! closes nor reopens the next one.
//!
//! Lock-free: state, timestamps and counts are atomics, so the hot path never waits.
//! Must never keep a probe slot forever: a probe that ends without a verdict (the
//! client left) gives its slot back.

use super::window::Window;
use crate::config::BreakerConfig;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};

const CLOSED: u8 = 0;
const OPEN: u8 = 1;
const HALF_OPEN: u8 = 2;

/// What a breaker shows to `/metrics` and `/admin/providers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Closed,
    Open,
    HalfOpen,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }

    /// The gauge value: 0 closed, 1 open, 2 half-open.
    pub fn gauge(self) -> u8 {
        match self {
            Self::Closed => CLOSED,
            Self::Open => OPEN,
            Self::HalfOpen => HALF_OPEN,
        }
    }
}

/// How an attempt got past the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// The breaker is closed (or disabled).
    Normal,
    /// One of the half-open probes, of the numbered round that let it through.
    Probe { round: u32 },
}

#[derive(Debug, Default)]
pub struct Breaker {
    state: AtomicU8,
    opened_at_ms: AtomicU64,
    probes_in_flight: AtomicU32,
    probe_successes: AtomicU32,
    /// The current (or next) half-open round: one per opening.
    round: AtomicU32,
    /// Successes (a) and failures (b) while closed.
    window: Window,
    /// Times this breaker opened, for the metric.
    opened: AtomicU64,
}

impl Breaker {
    pub fn state(&self, config: &BreakerConfig, now_ms: u64) -> State {
        match self.state.load(Ordering::Acquire) {
            OPEN if self.cooled(config, now_ms) => State::HalfOpen,
            OPEN => State::Open,
            HALF_OPEN => State::HalfOpen,
            _ => State::Closed,
        }
    }

    /// Times the breaker opened since start.
    pub fn times_opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// How long an open breaker still refuses, for `retry-after`.
    pub fn remaining_cooldown_ms(&self, config: &BreakerConfig, now_ms: u64) -> u64 {
        if self.state.load(Ordering::Acquire) != OPEN {
            return 0;
        }
        let until = self
            .opened_at_ms
            .load(Ordering::Acquire)
            .saturating_add(millis(config.cooldown));
        until.saturating_sub(now_ms)
    }

    /// Whether the target would be let through now, without taking a probe slot.
    pub fn is_available(&self, config: &BreakerConfig, now_ms: u64) -> bool {
        if !config.enabled {
            return true;
        }
        match self.state(config, now_ms) {
            State::Closed => true,
            State::Open => false,
            State::HalfOpen => {
                self.probes_in_flight.load(Ordering::Acquire) < config.half_open_probes
            }
        }
    }

    /// Lets an attempt through, or refuses it without a network call.
    pub fn admit(&self, config: &BreakerConfig, now_ms: u64) -> Option<Pass> {
        if !config.enabled {
            return Some(Pass::Normal);
        }
        match self.state.load(Ordering::Acquire) {
            CLOSED => return Some(Pass::Normal),
            OPEN => {
                if !self.cooled(config, now_ms) {
                    return None;
                }
                if self
                    .state
                    .compare_exchange(OPEN, HALF_OPEN, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    self.probe_successes.store(0, Ordering::Release);
                }
            }
            _ => {}
        }
        let taken = self.probes_in_flight.fetch_add(1, Ordering::AcqRel);
        if taken < config.half_open_probes {
            Some(Pass::Probe {
                round: self.round.load(Ordering::Acquire),
            })
        } else {
            self.probes_in_flight.fetch_sub(1, Ordering::AcqRel);
            None
        }
    }

    /// The verdict of an attempt that got `pass`; `ok = false` for a provider fault.
    pub fn record(&self, config: &BreakerConfig, pass: Pass, ok: bool, now_ms: u64) {
        if !config.enabled {
            return;
        }
        match pass {
            Pass::Probe { round } => {
                self.release_probe();
                if self.state.load(Ordering::Acquire) != HALF_OPEN
                    || round != self.round.load(Ordering::Acquire)
                {
                    return;
                }
                if !ok {
                    self.trip(HALF_OPEN, now_ms);
                } else if self.probe_successes.fetch_add(1, Ordering::AcqRel) + 1
                    >= config.half_open_probes
                    && self
                        .state
                        .compare_exchange(HALF_OPEN, CLOSED, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                {
                    self.window.clear();
                    tracing::info!("circuit breaker closed after successful probes");
                }
            }
            Pass::Normal => {
                let width = Window::width(millis(config.window));
                self.window
                    .add(now_ms, width, u32::from(ok), u32::from(!ok));
                if ok || self.state.load(Ordering::Acquire) != CLOSED {
                    return;
                }
                let totals = self.window.totals(now_ms, width);
                let total = totals.a + totals.b;
                if total >= config.min_requests
                    && f64::from(totals.b) >= config.failure_rate * f64::from(total)
                {
                    self.trip(CLOSED, now_ms);
                }
            }
        }
    }

    /// A probe that ended without a verdict (the client left) frees its slot.
    pub fn abandon(&self, pass: Pass) {
        if let Pass::Probe { .. } = pass {
            self.release_probe();
        }
    }

    fn release_probe(&self) {
        let _ = self
            .probes_in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    fn trip(&self, from: u8, now_ms: u64) {
        if self
            .state
            .compare_exchange(from, OPEN, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            // The next half-open round is numbered as the breaker opens, so every probe
            // of it reads the same number however admissions race the switch to it.
            self.round.fetch_add(1, Ordering::AcqRel);
            self.opened_at_ms.store(now_ms, Ordering::Release);
            self.opened.fetch_add(1, Ordering::Relaxed);
            self.window.clear();
            tracing::warn!("circuit breaker opened");
        }
    }

    fn cooled(&self, config: &BreakerConfig, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.opened_at_ms.load(Ordering::Acquire)) >= millis(config.cooldown)
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn config() -> BreakerConfig {
        BreakerConfig {
            enabled: true,
            failure_rate: 0.5,
            min_requests: 4,
            window: Duration::from_secs(10),
            cooldown: Duration::from_secs(5),
            half_open_probes: 2,
        }
    }

    /// A breaker opened at time 0 by `min_requests` failures.
    fn tripped() -> (Breaker, BreakerConfig) {
        let (b, c) = (Breaker::default(), config());
        for _ in 0..c.min_requests {
            b.record(&c, Pass::Normal, false, 0);
        }
        (b, c)
    }

    #[test]
    fn opens_at_the_failure_rate_once_enough_requests_were_seen() {
        let (b, c) = (Breaker::default(), config());
        for ok in [false, false, false] {
            b.record(&c, Pass::Normal, ok, 100);
        }
        // Three failures are below min_requests: still closed.
        assert_eq!(b.state(&c, 100), State::Closed);
        b.record(&c, Pass::Normal, true, 100);
        assert_eq!(b.state(&c, 100), State::Closed, "a success never trips it");
        b.record(&c, Pass::Normal, false, 200);
        assert_eq!(b.state(&c, 200), State::Open);
        assert_eq!(b.admit(&c, 300), None);
        assert_eq!(b.remaining_cooldown_ms(&c, 1200), 4000);
        assert_eq!(b.times_opened(), 1);
    }

    #[test]
    fn half_open_lets_bounded_probes_through_and_closes_on_their_success() {
        let (b, c) = tripped();
        assert_eq!(b.state(&c, 4999), State::Open);
        let probe = Pass::Probe { round: 1 };
        assert_eq!(b.admit(&c, 5000), Some(probe));
        assert_eq!(b.admit(&c, 5000), Some(probe));
        assert_eq!(b.admit(&c, 5000), None, "only two probes at once");
        b.record(&c, probe, true, 5100);
        assert_eq!(b.state(&c, 5100), State::HalfOpen);
        b.record(&c, probe, true, 5200);
        assert_eq!(b.state(&c, 5200), State::Closed);
        assert_eq!(b.admit(&c, 5200), Some(Pass::Normal));
    }

    #[test]
    fn a_failed_probe_opens_it_again_for_a_full_cooldown() {
        let (b, c) = tripped();
        let probe = b.admit(&c, 6000);
        assert_eq!(probe, Some(Pass::Probe { round: 1 }));
        b.record(&c, Pass::Probe { round: 1 }, false, 6000);
        assert_eq!(b.state(&c, 6000), State::Open);
        assert_eq!(b.admit(&c, 10_999), None);
        assert_eq!(b.admit(&c, 11_000), Some(Pass::Probe { round: 2 }));
        assert_eq!(b.times_opened(), 2);
    }

    #[test]
    fn a_probe_counts_only_in_the_round_that_let_it_through() {
        let (b, c) = tripped();
        let (first, slow) = (b.admit(&c, 5000), b.admit(&c, 5000));
        let Some(slow) = slow else {
            panic!("two probes in the first round")
        };
        // The first probe fails: the round is over, the breaker opens again.
        if let Some(first) = first {
            b.record(&c, first, false, 5100);
        }
        assert_eq!(b.state(&c, 5100), State::Open);
        // The next round; the first round's slow probe answers well during it.
        let Some(next) = b.admit(&c, 10_100) else {
            panic!("a probe in the second round")
        };
        b.record(&c, slow, true, 10_200);
        b.record(&c, next, true, 10_300);
        assert_eq!(
            b.state(&c, 10_300),
            State::HalfOpen,
            "a probe of the round before counted toward closing"
        );
        let Some(last) = b.admit(&c, 10_400) else {
            panic!("a second probe in the second round")
        };
        b.record(&c, last, true, 10_500);
        assert_eq!(b.state(&c, 10_500), State::Closed);
        // A slow failure of an ended round does not reopen it either.
        let (b, c) = tripped();
        let (first, slow) = (b.admit(&c, 5000), b.admit(&c, 5000));
        if let Some(first) = first {
            b.record(&c, first, false, 5100);
        }
        let next = b.admit(&c, 10_100);
        if let Some(slow) = slow {
            b.record(&c, slow, false, 10_200);
        }
        assert_eq!(b.state(&c, 10_200), State::HalfOpen);
        assert!(next.is_some());
    }

    #[test]
    fn an_abandoned_probe_frees_its_slot() {
        let (b, c) = tripped();
        for _ in 0..2 {
            let pass = b.admit(&c, 5000);
            assert_eq!(pass, Some(Pass::Probe { round: 1 }));
            if let Some(p) = pass {
                b.abandon(p);
            }
        }
        assert_eq!(b.admit(&c, 5000), Some(Pass::Probe { round: 1 }));
    }

    #[test]
    fn disabled_breaker_always_admits() {
        let b = Breaker::default();
        let c = BreakerConfig {
            enabled: false,
            ..config()
        };
        for _ in 0..100 {
            b.record(&c, Pass::Normal, false, 0);
        }
        assert_eq!(b.admit(&c, 0), Some(Pass::Normal));
    }
}
