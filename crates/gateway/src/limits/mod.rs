//! Limits, a stage of the pipeline: before any provider is called, every limit that
//! applies to the request (its key's, its team's, its model's, the global one) is
//! checked and reserved in one atomic step: a request, its estimated tokens (prompt
//! counted with the tokenizer plus `max_tokens`), a concurrency slot, and its estimated
//! cost at the most expensive of its targets' prices. When the interaction is over the
//! end stage settles the reservation on the provider's reported usage.
//!
//! - `reserve`: which limits apply to a request, and their one atomic reservation.
//! - [`counters`]: the store contract and the bucket arithmetic both stores share.
//! - [`backend`]: the configured store and the policy for a Redis that is down.
//! - [`estimate`]: prompt tokens with the tokenizer, `max_tokens` in every format.
//! - `tokenizer`: the o200k token counter `estimate` uses (compact, linear time).
//! - [`pricing`]: the shipped price table and `[pricing]` overrides.
//! - [`period`]: budget periods (daily, monthly, total) in UTC.
//! - [`seed`]: the memory store's budgets read back from the journal at start-up.
//!
//! Must never call a provider for a refused request, never report a limit other than
//! the one that refused (the 429 names its scope, limit and wait), and never estimate
//! tokens for a request no token-counting limit applies to.

pub mod backend;
pub mod counters;
pub mod estimate;
mod memory;
pub mod period;
pub mod pricing;
pub mod redis;
mod reserve;
pub mod seed;
mod settle;
mod tokenizer;

pub use backend::{Limiter, Placed};
pub use reserve::{Request, reserve};
pub use settle::settle;

use crate::header_number;
use axum::http::{HeaderMap, HeaderName};

/// The wall clock (`journal::now_ms`) as the counters' `u64`: budget periods are calendar
/// facts every replica must agree on, unlike the breakers' monotonic clock.
pub fn wall_ms() -> u64 {
    u64::try_from(crate::journal::now_ms()).unwrap_or(0)
}

/// A Redis limiter store on its own (for `sluice keys revoke`).
pub fn redis_store(
    url: &str,
    timeout: std::time::Duration,
) -> Result<redis::Redis, counters::BackendError> {
    redis::Redis::new(url, timeout)
}

/// Whose limit it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Key,
    Team,
    Model,
    Global,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Key => "key",
            Self::Team => "team",
            Self::Model => "model",
            Self::Global => "global",
        }
    }
}

/// Which limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Rpm,
    Tpm,
    Concurrency,
    Budget,
}

impl Limit {
    /// The `x-ratelimit-scope` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rpm => "rpm",
            Self::Tpm => "tpm",
            Self::Concurrency => "concurrency",
            Self::Budget => "budget",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A refused request: the limit that refused it and when to come back.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub scope: Scope,
    /// The key's or team's or model's name (`all` for the global scope).
    pub owner: String,
    pub limit: Limit,
    /// The limit in words: `5 requests per minute`, `$1.00 per day`.
    pub value: String,
    pub retry_after_ms: u64,
    /// The refusing rate with nothing left, so a 429 carries the rate-limit headers too.
    pub headers: RateHeaders,
}

/// The rate-limit headers every response carries: the tightest request and token
/// limits that applied, after this request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateHeaders {
    pub requests: Option<(u64, i64)>,
    pub tokens: Option<(u64, i64)>,
}

// Names made once: a `&str` name is copied into a new allocation on every insert.
const LIMIT_REQUESTS: HeaderName = HeaderName::from_static("x-ratelimit-limit-requests");
const REMAINING_REQUESTS: HeaderName = HeaderName::from_static("x-ratelimit-remaining-requests");
const LIMIT_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-limit-tokens");
const REMAINING_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-remaining-tokens");

impl RateHeaders {
    pub fn apply(&self, headers: &mut HeaderMap) {
        if let Some((limit, remaining)) = self.requests {
            headers.insert(LIMIT_REQUESTS, header_number::of(limit));
            headers.insert(
                REMAINING_REQUESTS,
                header_number::of(remaining.max(0) as u64),
            );
        }
        if let Some((limit, remaining)) = self.tokens {
            headers.insert(LIMIT_TOKENS, header_number::of(limit));
            headers.insert(REMAINING_TOKENS, header_number::of(remaining.max(0) as u64));
        }
    }
}

/// What was reserved, for the settle.
#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    pub placed: Placed,
    pub lease: String,
    /// Tokens taken from each token bucket (prompt estimate plus output allowance).
    pub tokens: u64,
    pub token_buckets: Vec<(String, u64)>,
    pub slots: Vec<String>,
    /// Budget counters: key, micro-dollars reserved, when the period ends.
    pub budgets: Vec<(String, i64, Option<u64>)>,
}

/// A streamed answer's spending allowance: past it the stream is ended with an error
/// event, because the budget cannot pay for more.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetCut {
    /// What the request may cost in all: its reservation plus what the tightest budget
    /// had left beyond it.
    pub allowance_micros: i64,
    pub input_micros: i64,
    /// Micro-dollars per output token.
    pub output_price: f64,
}

impl BudgetCut {
    /// Whether an answer of `chars` characters so far costs more than the allowance.
    /// Output tokens are estimated as characters over four while streaming (the
    /// tokenizer per delta would cost more than the answer); the provider's usage
    /// settles the real figure afterwards.
    pub fn exceeded_by(&self, chars: u64) -> bool {
        let tokens = chars.div_ceil(4) as f64;
        self.input_micros as f64 + tokens * self.output_price > self.allowance_micros as f64
    }
}

/// What the stage admitted.
#[derive(Debug, Default)]
pub struct Admitted {
    pub reservation: Option<Reservation>,
    pub headers: RateHeaders,
    pub cut: Option<BudgetCut>,
}

/// The counter of a scope's budget in the period containing `now`, and the period's end.
pub fn budget_key(
    scope: Scope,
    counter: &str,
    period: crate::config::Period,
    now: u64,
) -> (String, Option<u64>) {
    let mut key = counter_key(scope, counter, "budget:");
    let ends = period::push_window(period, now, &mut key);
    (key, ends)
}

/// `sluice:{scope}:{counter}:{what}`, the name of one counter (a Redis key, or the
/// memory backend's). Pushed into one string: four `format!` calls per request cost
/// about 2,500 instructions (callgrind).
fn counter_key(scope: Scope, counter: &str, what: &str) -> String {
    let scope = scope.as_str();
    let mut key = String::with_capacity(16 + scope.len() + counter.len() + what.len());
    for part in ["sluice:", scope, ":", counter, ":", what] {
        key.push_str(part);
    }
    key
}
