//! Live health per provider, keyed by provider name so that it survives a config reload
//! (a reloaded provider of the same name keeps its history). Plain atomics: updated on
//! every attempt, read by routing strategies, breakers and metrics as they land.
//!
//! Must never block or allocate on the request path: the map is touched only when a
//! snapshot is built, and each `Upstream` keeps its own `Arc<ProviderHealth>`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Live state of one provider. Lifetime success and failure counts are not kept here:
/// they are derived from the records (`sluice_upstream_attempts_total`); breakers will
/// keep their own windowed rates.
#[derive(Debug, Default)]
pub struct ProviderHealth {
    /// Committed streams that broke afterwards (cut, stalled, malformed, error event).
    broken_streams: AtomicU64,
    /// Attempts sent and not yet over (for streams: until the relay ends).
    in_flight: AtomicU64,
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

    /// Counts an attempt in flight until the returned guard is dropped.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(self))
    }

    pub fn broken_stream(&self) {
        self.broken_streams.fetch_add(1, Ordering::Relaxed);
    }
}

/// One attempt in flight at a provider; dropping it ends the attempt.
#[derive(Debug)]
pub struct InFlight(Arc<ProviderHealth>);

impl InFlight {
    pub fn health(&self) -> &ProviderHealth {
        &self.0
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Every provider's health by name.
#[derive(Debug, Default)]
pub struct Health {
    providers: Mutex<HashMap<String, Arc<ProviderHealth>>>,
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

    /// Counts for `provider`, if it was ever configured.
    pub fn counts(&self, provider: &str) -> Option<HealthCounts> {
        let map = self
            .providers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(provider).map(|h| h.counts())
    }
}
