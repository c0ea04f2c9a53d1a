//! The resilience policies the attempt loop (`dispatch`) consults: none of them sends
//! a request or loops over targets itself.
//!
//! - [`strategy`]: the order of a model's targets (priority, weighted, least-latency,
//!   least-busy, cost), healthy targets first.
//! - [`breaker`]: a circuit breaker per target.
//! - [`retry`]: backoff, `Retry-After` and the per-provider retry budget.
//! - [`deadline`]: the request's total deadline, lowerable by the client.
//! - [`hedge`]: when a second attempt races a slow first one.
//! - [`latency`]: recent time to first content per target.
//! - [`quota`]: providers' rate-limit headers as a capacity estimate per target.
//! - [`window`]: the lock-free sliding window breakers and budgets count in.
//!
//! Must never take a lock on the request path: every piece of live state is atomics,
//! reached through the `Arc`s a snapshot resolved when it was built.

pub mod breaker;
pub mod deadline;
pub mod hedge;
pub mod latency;
pub mod quota;
pub mod retry;
pub mod strategy;
pub mod window;

use std::sync::OnceLock;
use std::time::Instant;

/// Milliseconds on the process's monotonic clock, the time base of every breaker,
/// budget and quota (so a config reload never resets their clocks).
pub fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}
