//! The limits' check before dispatch: which limits apply to a request (its key's, its
//! team's, its model's, the global ones), and one atomic reservation of all of them.
//!
//! Must never estimate tokens when no token-counting limit applies, and never name a
//! limit other than the one that refused.

use super::counters::{Ask, Check, Verdict};
use super::{
    Admitted, BudgetCut, Limit, Limiter, RateHeaders, Refusal, Reservation, Scope, backend,
    budget_key, counter_key, estimate, period, pricing, wall_ms,
};
use crate::auth::Principal;
use crate::config::{Limits, LimitsConfig, Price};
use crate::error::GatewayError;

/// One request as the limits see it.
pub struct Request<'a> {
    pub principal: Option<&'a Principal>,
    /// The `[[models]]` entry the request matched.
    pub route: &'a str,
    pub body: &'a [u8],
    /// The plan's targets: the reservation is at the dearest one's price.
    pub targets: &'a [crate::routing::Target],
    pub pricing: &'a std::collections::BTreeMap<String, Price>,
    /// Names the concurrency lease (the request id, made unique per reservation).
    pub lease: &'a str,
    /// A stream, which a budget may cut short.
    pub stream: bool,
    /// The endpoint answers with generated text (chat, messages, responses, ...); an
    /// embedding does not, so it reserves no output tokens.
    pub generates: bool,
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
        // A request that names no output limit reserves `default_max_tokens` until its
        // usage settles it; an embedding has no output to reserve for.
        let output = match (asked, req.generates) {
            (Some(asked), _) => asked,
            (None, true) => config.default_max_tokens,
            (None, false) => 0,
        };
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
    // Only a concurrency slot is named by the lease. The client's request id alone
    // would name one slot for every request that reuses it (a constant
    // `x-request-id`): Redis's set of leases would count them once, and the first to
    // end would free the slot of all. Made unique here, and only when a slot is taken
    // (a `format!` on every limited request otherwise).
    let lease = if checks
        .iter()
        .any(|c| matches!(c, Check::Concurrency { .. }))
    {
        format!("{}/{:016x}", req.lease, fastrand::u64(..))
    } else {
        String::new()
    };
    let ask = Ask {
        checks,
        lease,
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
