//! The limiter as the pipeline sees it: the configured store (memory, or Redis with the
//! memory store as its per-replica fallback) and the policy for a Redis that does not
//! answer. Lives in `Shared`, so counters survive config reloads.
//!
//! Must never let a dead Redis stall requests: after a failure the backend counts as
//! down for `RETRY_AFTER_DOWN`, requests meanwhile go straight to the policy, and the
//! first request after that tries Redis again (so shared limits come back by themselves).

use super::counters::{Ask, BackendError, Counters, Settle, Verdict};
use super::memory::Memory;
use super::redis::Redis;
use crate::config::{Backend, LimitsConfig, OnBackendError};
use crate::resilience::now_ms;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// How long a failed Redis is left alone before the next request tries it again.
const RETRY_AFTER_DOWN: u64 = 1000;

/// Where a reservation was made, so its settle goes to the same counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    Local,
    Shared,
}

/// Counts for `/metrics`.
#[derive(Debug, Default)]
pub struct LimiterStats {
    pub backend_errors: AtomicU64,
    pub local_fallbacks: AtomicU64,
    pub denied_backend_down: AtomicU64,
    /// Refusals by limit: rpm, tpm, concurrency, budget.
    pub refused: [AtomicU64; 4],
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("shared", &self.redis.is_some())
            .finish_non_exhaustive()
    }
}

pub struct Limiter {
    local: Memory,
    redis: Option<Redis>,
    policy: OnBackendError,
    down_until: AtomicU64,
    down: AtomicBool,
    pub stats: LimiterStats,
}

/// The outcome of a reservation attempt.
pub enum Reserved {
    Verdict(Verdict, Placed),
    /// Redis is down and the policy is `deny`.
    Unavailable,
}

impl Limiter {
    pub fn new(config: &LimitsConfig) -> Result<Self, BackendError> {
        let redis = match &config.backend {
            Backend::Memory => None,
            Backend::Redis { url } => Some(Redis::new(url.expose(), config.redis_timeout)?),
        };
        Ok(Self {
            local: Memory::default(),
            redis,
            policy: config.on_backend_error,
            down_until: AtomicU64::new(0),
            down: AtomicBool::new(false),
            stats: LimiterStats::default(),
        })
    }

    pub fn is_shared(&self) -> bool {
        self.redis.is_some()
    }

    /// Whether the shared backend answered the last time it was asked (always, for memory).
    pub fn backend_up(&self) -> bool {
        !self.down.load(Ordering::Relaxed)
    }

    pub fn local(&self) -> &Memory {
        &self.local
    }

    pub fn redis(&self) -> Option<&Redis> {
        self.redis.as_ref()
    }

    pub async fn reserve(&self, ask: &Ask) -> Reserved {
        let Some(redis) = &self.redis else {
            return Reserved::Verdict(self.local.reserve_now(ask), Placed::Local);
        };
        if now_ms() >= self.down_until.load(Ordering::Relaxed) {
            // Boxed: the Redis round trip's future is large, and inline it would
            // grow every request's future, memory backend or not.
            match Box::pin(redis.reserve(ask)).await {
                Ok(verdict) => {
                    if self.down.swap(false, Ordering::Relaxed) {
                        tracing::info!("limits: Redis answers again; limits are shared again");
                    }
                    return Reserved::Verdict(verdict, Placed::Shared);
                }
                Err(e) => self.mark_down(&e),
            }
        }
        match self.policy {
            OnBackendError::Local => {
                self.stats.local_fallbacks.fetch_add(1, Ordering::Relaxed);
                Reserved::Verdict(self.local.reserve_now(ask), Placed::Local)
            }
            OnBackendError::Deny => {
                self.stats
                    .denied_backend_down
                    .fetch_add(1, Ordering::Relaxed);
                Reserved::Unavailable
            }
        }
    }

    fn mark_down(&self, error: &BackendError) {
        self.stats.backend_errors.fetch_add(1, Ordering::Relaxed);
        self.down_until
            .store(now_ms() + RETRY_AFTER_DOWN, Ordering::Relaxed);
        if !self.down.swap(true, Ordering::Relaxed) {
            let policy = match self.policy {
                OnBackendError::Local => "each replica enforces the limits on its own",
                OnBackendError::Deny => "requests under limits are refused with 503",
            };
            tracing::warn!(error = %error, "limits: Redis is unreachable; {policy} until it answers");
        }
    }

    /// Settles where the reservation was made. A shared settle runs in the background,
    /// retried for a while if Redis is down (a lost settle leaves slots to expire with
    /// their lease and reserved money counted as spent: never an overspend).
    pub fn settle(self: &Arc<Self>, placed: Placed, lease: String, adjustments: Vec<Settle>) {
        if adjustments.is_empty() {
            return;
        }
        match placed {
            Placed::Local => self.local.settle_now(&adjustments),
            Placed::Shared => {
                let limiter = Arc::clone(self);
                tokio::spawn(async move {
                    let Some(redis) = &limiter.redis else { return };
                    for attempt in 0..30u64 {
                        match redis.settle(&lease, &adjustments).await {
                            Ok(()) => return,
                            Err(e) => {
                                limiter.mark_down(&e);
                                tokio::time::sleep(std::time::Duration::from_millis(
                                    200 * (attempt + 1).min(10),
                                ))
                                .await;
                            }
                        }
                    }
                    tracing::warn!(
                        lease,
                        "limits: a settle could not reach Redis and was given up"
                    );
                });
            }
        }
    }
}
