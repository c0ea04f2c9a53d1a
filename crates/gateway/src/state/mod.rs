//! What every request reads: the config [`Snapshot`] it runs on, swapped atomically on
//! reload, and the long-lived [`Shared`] state that outlives any one config.
//!
//! - [`snapshot`]: the immutable state one config becomes (provider clients, models,
//!   server limits). A request loads it once and keeps it until its response ends, so
//!   a reload never changes the rules under an in-flight request.
//! - [`shared`]: state that must survive a reload: in-flight permits, the draining flag,
//!   provider health, the end-of-interaction queue, the in-process mock; and the homes
//!   the limiter store, journal queue and metrics registry will take.
//!
//! Must never put config-derived rules in `Shared` nor live counters in `Snapshot`:
//! a reload replaces the one and keeps the other.

pub mod health;
pub mod shared;
pub mod snapshot;

pub use health::{Health, ProviderHealth};
pub use shared::Shared;
pub use snapshot::{BuildError, Snapshot};

use arc_swap::ArcSwap;
use std::sync::Arc;

/// The gateway as handlers see it: the current snapshot and the shared state.
pub struct Gateway {
    snapshot: ArcSwap<Snapshot>,
    pub shared: Shared,
}

impl Gateway {
    pub fn new(snapshot: Snapshot, shared: Shared) -> Self {
        Self {
            snapshot: ArcSwap::from_pointee(snapshot),
            shared,
        }
    }

    /// The config a new request runs on; keep the `Arc` for the request's whole life.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Installs a new, fully validated config; requests already running keep theirs.
    pub fn swap(&self, next: Snapshot) {
        self.snapshot.store(Arc::new(next));
    }
}
