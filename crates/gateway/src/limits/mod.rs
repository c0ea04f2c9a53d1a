//! Limits, a stage of the pipeline: before any provider is called, every limit that
//! applies to the request (its key's, its team's, its model's, the global one) is
//! checked and reserved in one atomic step: a request, its estimated tokens (prompt
//! counted with the tokenizer plus `max_tokens`), a concurrency slot, and its estimated
//! cost at the most expensive of its targets' prices. When the interaction is over the
//! end stage settles the reservation on the provider's reported usage.
//!
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
pub mod seed;
mod settle;
mod tokenizer;

pub use backend::{Limiter, Placed};
pub use settle::settle;

use crate::auth::Principal;
use crate::config::{Limits, LimitsConfig, Price};
use crate::error::GatewayError;
use crate::header_number;
use axum::http::{HeaderMap, HeaderName};
use counters::{Ask, Check, Verdict};

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

/// One request as the limits see it.
pub struct Request<'a> {
    pub principal: Option<&'a Principal>,
    /// The `[[models]]` entry the request matched.
    pub route: &'a str,
    pub body: &'a [u8],
    /// The plan's targets: the reservation is at the dearest one's price.
    pub targets: &'a [crate::routing::Target],
    pub pricing: &'a std::collections::BTreeMap<String, Price>,
    /// Names the concurrency lease (the request id).
    pub lease: &'a str,
    /// A stream, which a budget may cut short.
    pub stream: bool,
}

struct Applied<'a> {
    scope: Scope,
    owner: &'a str,
    counter: &'a str,
    limits: &'a Limits,
}

fn applied<'a>(config: &'a LimitsConfig, req: &Request<'a>) -> Vec<Applied<'a>> {
    let mut out = Vec::new();
    if let Some(p) = req.principal {
        if !p.limits.is_empty() {
            out.push(Applied {
                scope: Scope::Key,
                owner: &p.name,
                counter: &p.id,
                limits: &p.limits,
            });
        }
        if let Some(team) = &p.team
            && let Some(limits) = config.teams.get(team)
        {
            out.push(Applied {
                scope: Scope::Team,
                owner: team,
                counter: team,
                limits,
            });
        }
    }
    if let Some((name, limits)) = config.models.get_key_value(req.route) {
        out.push(Applied {
            scope: Scope::Model,
            owner: name,
            counter: name,
            limits,
        });
    }
    if !config.global.is_empty() {
        out.push(Applied {
            scope: Scope::Global,
            owner: "all",
            counter: "all",
            limits: &config.global,
        });
    }
    out
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

/// Checks and reserves every limit that applies to `req`; a refusal is a 429 naming
/// the limit, a Redis down under `on_backend_error = "deny"` a 503.
pub async fn reserve(
    limiter: &Limiter,
    config: &LimitsConfig,
    req: Request<'_>,
) -> Result<Admitted, GatewayError> {
    let scopes = applied(config, &req);
    if scopes.is_empty() {
        return Ok(Admitted::default());
    }
    let counts_tokens = scopes.iter().any(|s| s.limits.counts_tokens());
    let (prompt, output) = if counts_tokens {
        let (prompt, asked) = estimate::request(req.body);
        let output = asked.unwrap_or(config.default_max_tokens);
        (prompt, output)
    } else {
        (0, 0)
    };
    let tokens = prompt.saturating_add(output);
    // Only a budget needs the price: rates alone skip the lookups.
    let price = scopes
        .iter()
        .any(|s| s.limits.budget_usd.is_some())
        .then(|| pricing::dearest(req.pricing, req.targets.iter().map(|t| t.model.as_str())))
        .flatten()
        .unwrap_or(Price {
            input: 0.0,
            output: 0.0,
            cached_input: 0.0,
        });
    let input_micros = pricing::cost_micros(&price, prompt, 0, 0);
    let cost_micros = pricing::cost_micros(&price, prompt, 0, output);
    let now = wall_ms();
    let mut checks = Vec::new();
    // Which scope and limit each check is; the words for a 429 are made only on refusal.
    let mut meta: Vec<(usize, Limit)> = Vec::new();
    for (i, s) in scopes.iter().enumerate() {
        if let Some(rpm) = s.limits.rpm {
            checks.push(Check::Rate {
                key: counter_key(s.scope, s.counter, "rpm"),
                capacity: rpm,
                cost: 1,
            });
            meta.push((i, Limit::Rpm));
        }
        if let Some(tpm) = s.limits.tpm {
            checks.push(Check::Rate {
                key: counter_key(s.scope, s.counter, "tpm"),
                capacity: tpm,
                cost: tokens,
            });
            meta.push((i, Limit::Tpm));
        }
        if let Some(max) = s.limits.max_concurrent {
            checks.push(Check::Concurrency {
                key: counter_key(s.scope, s.counter, "concurrency"),
                max,
            });
            meta.push((i, Limit::Concurrency));
        }
        if let Some(usd) = s.limits.budget_usd {
            let (key, ends) = budget_key(s.scope, s.counter, s.limits.budget_period, now);
            checks.push(Check::Budget {
                key,
                limit_micros: (usd * 1e6).round() as i64,
                cost_micros,
                expires_ms: ends,
            });
            meta.push((i, Limit::Budget));
        }
    }
    let ask = Ask {
        checks,
        lease: req.lease.to_owned(),
        lease_ttl_ms: u64::try_from(config.lease_ttl.as_millis()).unwrap_or(u64::MAX),
        key_id: req.principal.map(|p| p.id.clone()),
    };
    let (verdict, placed) = match limiter.reserve(&ask).await {
        backend::Reserved::Verdict(verdict, placed) => (verdict, placed),
        backend::Reserved::Unavailable => return Err(GatewayError::LimiterUnavailable),
    };
    let remaining = match verdict {
        Verdict::Admitted { remaining } => remaining,
        Verdict::Revoked => {
            return Err(GatewayError::KeyRefused(crate::auth::Refused::Revoked));
        }
        Verdict::Refused {
            index,
            retry_after_ms,
        } => {
            let (scope_index, limit) = meta.get(index).copied().unwrap_or((0, Limit::Rpm));
            let scope = &scopes[scope_index.min(scopes.len() - 1)];
            let l = scope.limits;
            let value = match limit {
                Limit::Rpm => format!("{} requests per minute", l.rpm.unwrap_or(0)),
                Limit::Tpm => format!("{} tokens per minute", l.tpm.unwrap_or(0)),
                Limit::Concurrency => {
                    format!("{} requests at once", l.max_concurrent.unwrap_or(0))
                }
                Limit::Budget => format!(
                    "${:.2} {}",
                    l.budget_usd.unwrap_or(0.0),
                    period::describe(l.budget_period)
                ),
            };
            limiter.stats.refused[limit.index()].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let headers = match (limit, l.rpm, l.tpm) {
                (Limit::Rpm, Some(rpm), _) => RateHeaders {
                    requests: Some((rpm, 0)),
                    tokens: None,
                },
                (Limit::Tpm, _, Some(tpm)) => RateHeaders {
                    requests: None,
                    tokens: Some((tpm, 0)),
                },
                _ => RateHeaders::default(),
            };
            return Err(GatewayError::RateLimited(Box::new(Refusal {
                scope: scope.scope,
                owner: scope.owner.to_owned(),
                limit,
                value,
                retry_after_ms,
                headers,
            })));
        }
    };
    let mut admitted = Admitted::default();
    let mut reservation = Reservation {
        placed,
        lease: ask.lease,
        tokens,
        token_buckets: Vec::new(),
        slots: Vec::new(),
        budgets: Vec::new(),
    };
    let mut allowance: Option<i64> = None;
    for ((check, (_, limit)), left) in ask.checks.into_iter().zip(&meta).zip(remaining) {
        match check {
            Check::Rate { key, capacity, .. } => {
                let slot = if *limit == Limit::Rpm {
                    &mut admitted.headers.requests
                } else {
                    reservation.token_buckets.push((key, capacity));
                    &mut admitted.headers.tokens
                };
                if slot.is_none_or(|(_, seen)| left < seen) {
                    *slot = Some((capacity, left));
                }
            }
            Check::Concurrency { key, .. } => reservation.slots.push(key),
            Check::Budget {
                key, expires_ms, ..
            } => {
                reservation.budgets.push((key, cost_micros, expires_ms));
                let total = left.saturating_add(cost_micros);
                allowance = Some(allowance.map_or(total, |a| a.min(total)));
            }
        }
    }
    // A whole answer is settled as it is; only a stream can be cut short.
    admitted.cut = allowance
        .filter(|_| req.stream)
        .map(|allowance_micros| BudgetCut {
            allowance_micros,
            input_micros,
            output_price: price.output,
        });
    admitted.reservation = Some(reservation);
    Ok(admitted)
}
