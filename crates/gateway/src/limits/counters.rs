//! The limiter store's contract: one atomic check-and-reserve per request over every
//! counter that applies to it, and one settle when the request is over. The memory store
//! and the Redis store implement the same arithmetic, so a limit means the same thing on
//! one replica and on many.
//!
//! - A rate (`rpm`, `tpm`) is a token bucket holding `capacity` that refills
//!   `capacity` per minute: a full minute's allowance may be spent at once, then it
//!   comes back continuously (no window edge where twice the limit gets through).
//! - Concurrency is a set of leases, each freed by its settle or, if the replica holding
//!   it died, after `lease_ttl`.
//! - A budget is micro-dollars spent plus micro-dollars reserved by requests in flight,
//!   per period; a request is admitted only if its reservation fits.
//!
//! Must never admit part of a request: either every counter is debited or none is.

/// One minute: the refill period of every rate.
pub const WINDOW_MS: u64 = 60_000;

/// One counter a request is checked against.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// Takes `cost` from a bucket of `capacity` refilled per minute. A cost above the
    /// capacity is admitted only when the bucket is full, and leaves it in debt.
    Rate {
        key: String,
        capacity: u64,
        cost: u64,
    },
    /// Takes one of `max` slots, as the lease named in the `Ask`.
    Concurrency { key: String, max: u64 },
    /// Reserves `cost_micros` if spent plus reserved stays within `limit_micros`.
    /// `expires_ms` is when the period's counter may be forgotten.
    Budget {
        key: String,
        limit_micros: i64,
        cost_micros: i64,
        expires_ms: Option<u64>,
    },
}

impl Check {
    pub fn key(&self) -> &str {
        match self {
            Self::Rate { key, .. } | Self::Concurrency { key, .. } | Self::Budget { key, .. } => {
                key
            }
        }
    }
}

/// A request's check-and-reserve.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    pub checks: Vec<Check>,
    /// Names this request's concurrency leases (its request id).
    pub lease: String,
    pub lease_ttl_ms: u64,
    /// The key's id, refused if it was revoked since this replica last looked.
    pub key_id: Option<String>,
}

/// The store's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Every counter was debited; what each has left (tokens, slots, micro-dollars), in
    /// the order of the checks.
    Admitted { remaining: Vec<i64> },
    /// `index` is the check that refused (the first one, in order); nothing was debited.
    Refused { index: usize, retry_after_ms: u64 },
    /// The key was revoked on some replica.
    Revoked,
}

/// One correction when a request is over.
#[derive(Debug, Clone, PartialEq)]
pub enum Settle {
    /// Gives back (`delta < 0`) or takes more (`delta > 0`) tokens than were reserved.
    Rate {
        key: String,
        capacity: u64,
        delta: i64,
    },
    /// Frees the request's slot.
    Release { key: String },
    /// Turns the reservation into what was really spent.
    Budget {
        key: String,
        reserved_micros: i64,
        spent_micros: i64,
        expires_ms: Option<u64>,
    },
}

/// Why the shared store could not answer.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("limits backend unreachable: {0}")]
    Unreachable(String),
    #[error("limits backend timed out")]
    Timeout,
    #[error("limits backend answered unexpectedly: {0}")]
    Protocol(String),
}

/// What a limiter store does; the memory store never fails.
pub trait Counters: Send + Sync {
    fn reserve(
        &self,
        ask: &Ask,
    ) -> impl std::future::Future<Output = Result<Verdict, BackendError>> + Send;

    fn settle(
        &self,
        lease: &str,
        adjustments: &[Settle],
    ) -> impl std::future::Future<Output = Result<(), BackendError>> + Send;
}

/// A token bucket's level after refilling from `at_ms` to `now_ms`.
pub fn refill(tokens: f64, at_ms: u64, now_ms: u64, capacity: u64) -> f64 {
    let rate = capacity as f64 / WINDOW_MS as f64;
    let elapsed = now_ms.saturating_sub(at_ms) as f64;
    (tokens + elapsed * rate).min(capacity as f64)
}

/// How long until a bucket at `tokens` holds `need` (capped at its capacity).
pub fn wait_ms(tokens: f64, need: u64, capacity: u64) -> u64 {
    let need = need.min(capacity) as f64;
    if tokens >= need {
        return 0;
    }
    let rate = capacity as f64 / WINDOW_MS as f64;
    ((need - tokens) / rate).ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_refills_its_capacity_in_a_minute_and_no_further() {
        assert_eq!(refill(0.0, 0, 30_000, 10), 5.0);
        assert_eq!(refill(0.0, 0, 120_000, 10), 10.0);
        assert_eq!(refill(-4.0, 0, 0, 10), -4.0);
    }

    #[test]
    fn the_wait_is_for_the_missing_part_only() {
        assert_eq!(wait_ms(10.0, 1, 10), 0);
        assert_eq!(wait_ms(0.0, 1, 10), 6_000);
        // A cost above the capacity waits for a full bucket, not forever.
        assert_eq!(wait_ms(0.0, 100, 10), 60_000);
    }
}
