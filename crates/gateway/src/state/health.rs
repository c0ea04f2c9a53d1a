//! Live health per provider and per target (provider + upstream model), keyed by name
//! so that it survives a config reload (a reloaded provider or target of the same name
//! keeps its breaker, latency and counters). Plain atomics: updated on every attempt,
//! read by the routing strategies, the breakers, `/metrics` and `/admin/providers`.
//!
//! Must never block or allocate on the request path: the maps are touched only when a
//! snapshot is built, and each `Upstream` and route target keeps its own `Arc`.

use crate::config::BreakerConfig;
use crate::resilience::breaker::{Breaker, Pass};
use crate::resilience::latency::Latency;
use crate::resilience::now_ms;
use crate::resilience::quota::Quota;
use crate::resilience::retry::Budget;
use foldhash::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Live state of one provider. Lifetime success and failure counts are not kept here:
/// they are derived from the records (`sluice_upstream_attempts_total`).
#[derive(Debug, Default)]
pub struct ProviderHealth {
    /// Committed streams that broke afterwards (cut, stalled, malformed, error event).
    broken_streams: AtomicU64,
    /// Attempts sent and not yet over (for streams: until the relay ends).
    in_flight: AtomicU64,
    /// First tries and retries over the retry budget's window.
    pub budget: Budget,
    /// The last active health check failed.
    down: AtomicBool,
    /// Active health checks run, and how many failed.
    checks: AtomicU64,
    failed_checks: AtomicU64,
}

/// A snapshot of one provider's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HealthCounts {
    pub broken_streams: u64,
    pub in_flight: u64,
}

impl ProviderHealth {
    pub fn counts(&self) -> HealthCounts {
        HealthCounts {
            broken_streams: self.broken_streams.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
        }
    }

    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub fn broken_stream(&self) {
        self.broken_streams.fetch_add(1, Ordering::Relaxed);
    }

    /// The result of an active health check.
    pub fn checked(&self, ok: bool) {
        self.checks.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.failed_checks.fetch_add(1, Ordering::Relaxed);
        }
        if self.down.swap(!ok, Ordering::Relaxed) == ok {
            tracing::info!(up = ok, "provider health check changed");
        }
    }

    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    /// Active health checks run, and how many of them failed.
    pub fn check_counts(&self) -> (u64, u64) {
        (
            self.checks.load(Ordering::Relaxed),
            self.failed_checks.load(Ordering::Relaxed),
        )
    }
}

/// Live state of one target: its breaker, recent latency and reported quota.
#[derive(Debug, Default)]
pub struct TargetHealth {
    pub breaker: Breaker,
    pub latency: Latency,
    pub quota: Quota,
    in_flight: AtomicU64,
}

impl TargetHealth {
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }
}

/// One attempt at a target, from the breaker's admission to its verdict: counts the
/// attempt in flight at the target and its provider until dropped, and gives the
/// breaker exactly one verdict (or gives a probe slot back when there was none).
#[derive(Debug)]
pub struct Lease {
    provider: Arc<ProviderHealth>,
    target: Arc<TargetHealth>,
    breaker: BreakerConfig,
    pass: Pass,
    settled: bool,
}

impl Lease {
    /// Takes a place at the provider, if it has one under `cap` (checked and taken in
    /// one atomic step, so concurrent attempts never overshoot it). Without a place
    /// the breaker's pass is given back and there is no lease.
    pub fn try_new(
        provider: Arc<ProviderHealth>,
        target: Arc<TargetHealth>,
        breaker: BreakerConfig,
        pass: Pass,
        cap: Option<u64>,
    ) -> Option<Self> {
        let placed = match cap {
            None => {
                provider.in_flight.fetch_add(1, Ordering::Relaxed);
                true
            }
            Some(cap) => provider
                .in_flight
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < cap).then_some(n + 1)
                })
                .is_ok(),
        };
        if !placed {
            target.breaker.abandon(pass);
            return None;
        }
        target.in_flight.fetch_add(1, Ordering::Relaxed);
        Some(Self {
            provider,
            target,
            breaker,
            pass,
            settled: false,
        })
    }

    pub fn provider(&self) -> &ProviderHealth {
        &self.provider
    }

    pub fn target(&self) -> &TargetHealth {
        &self.target
    }

    /// The attempt reached its commit point after `elapsed`.
    pub fn committed(&self, elapsed: Duration) {
        self.target.latency.record(elapsed);
    }

    pub fn is_settled(&self) -> bool {
        self.settled
    }

    /// The attempt's verdict for the breaker: `ok = false` for a provider fault.
    /// Later calls are ignored.
    pub fn settle(&mut self, ok: bool) {
        if self.settled {
            return;
        }
        self.settled = true;
        self.target
            .breaker
            .record(&self.breaker, self.pass, ok, now_ms());
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.provider.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.target.in_flight.fetch_sub(1, Ordering::Relaxed);
        if !self.settled {
            self.target.breaker.abandon(self.pass);
        }
    }
}

/// Every provider's and target's health by name.
#[derive(Debug, Default)]
pub struct Health {
    providers: Mutex<HashMap<String, Arc<ProviderHealth>>>,
    targets: Mutex<HashMap<(String, String), Arc<TargetHealth>>>,
}

impl Health {
    /// The health of `provider`, created on first use.
    pub fn of(&self, provider: &str) -> Arc<ProviderHealth> {
        let mut map = self
            .providers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(map.entry(provider.to_owned()).or_default())
    }

    /// The health of the target `model` at `provider`, created on first use.
    pub fn of_target(&self, provider: &str, model: &str) -> Arc<TargetHealth> {
        let mut map = self
            .targets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(
            map.entry((provider.to_owned(), model.to_owned()))
                .or_default(),
        )
    }

    /// Counts for `provider`, if it was ever configured.
    pub fn counts(&self, provider: &str) -> Option<HealthCounts> {
        let map = self
            .providers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(provider).map(|h| h.counts())
    }
}
