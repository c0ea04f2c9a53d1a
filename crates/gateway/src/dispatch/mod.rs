//! The attempt loop: walk the plan's targets until one commits. An attempt commits when
//! its first decoded content event arrives (streams, see `relay`) or its whole valid
//! body is read and, if needed, translated (non-stream); before that, a failure may be
//! retried on the same target, fail over to the next, or move on to the fallback
//! models; after it, nothing is retried and a failure can only end the stream in-band.
//!
//! One loop for stream and non-stream. The policies are consulted, not copied: the
//! breaker admits or skips a target (`resilience::breaker`), the retry policy and the
//! provider's budget decide a same-target retry and its wait (`resilience::retry`),
//! the error's class decides failover and fallback (`ErrorClass`), the hedge policy
//! starts a racing attempt on the next target (`resilience::hedge`), and the request's
//! deadline bounds all of it.
//!
//! Each attempt prepares the body for its own target on the path `relay::choose` picks:
//! bytes pass through (model swapped if aliased) or the request is decoded once into
//! the canonical model (shared by later attempts) and encoded for the target.
//!
//! - [`call`]: what the client sent, as each attempt needs it.
//! - [`prepare`]: the body for one target, on the path its answer takes.
//! - [`attempt`]: one attempt at one target, up to its commit point.
//! - [`hedge`]: a second attempt racing a slow first one.
//!
//! Must never retry a client error (a 400 is the client's problem on every target),
//! never retry after commit, and never sleep past the request's deadline.

mod attempt;
mod call;
mod hedge;
mod prepare;

pub use call::{Call, Canonical, ResumePlan};

use crate::error::{self, ErrorClass, GatewayError, Skipped, UpstreamError};
use crate::record::AttemptLog;
use crate::relay::Relay;
use crate::resilience::breaker::Pass;
use crate::resilience::retry::{self, Wait};
use crate::resilience::{hedge as hedging, now_ms};
use crate::routing::{Plan, Target};
use crate::state::Snapshot;
use crate::state::health::Lease;
use crate::upstream::Upstream;
use attempt::one;
use bytes::Bytes;
use hedge::{partner, race};
use prepare::{Prepared, prepare};
use sluice_protocol::canonical::{TranslateError, Usage};
use std::sync::Arc;
use tokio::time::Instant;

/// A committed attempt.
pub struct Committed {
    pub upstream: Arc<Upstream>,
    pub model: String,
    /// Every attempt sent, retries and hedges included.
    pub attempts: u32,
    /// Features dropped while translating, for the record.
    pub notes: Vec<String>,
    pub answer: Answer,
}

pub enum Answer {
    /// The whole response, already in the ingress format.
    Full { bytes: Bytes, usage: Option<Usage> },
    /// A stream past its commit point.
    Stream(Box<Relay>),
}

/// How the loop stands between attempts.
#[derive(Default)]
struct Progress {
    last: Option<UpstreamError>,
    /// Targets passed over without a network call, for the final error.
    skipped: Vec<Skipped>,
    /// A context-window or content-policy error: only a fallback model may take it.
    fallbacks_only: bool,
    /// The shortest wait until a skipped target takes traffic again.
    retry_after_ms: Option<u64>,
    /// A translation failure, when no target could express the request at all.
    untranslatable: Option<TranslateError>,
}

impl Progress {
    fn skip(&mut self, provider: &str, reason: &'static str, retry_after_ms: Option<u64>) {
        self.skipped.push(Skipped {
            provider: provider.to_owned(),
            reason,
        });
        if let Some(ms) = retry_after_ms {
            self.retry_after_ms = Some(self.retry_after_ms.map_or(ms, |m| m.min(ms)));
        }
    }
}

/// One attempt's end: where it went, its record line and its result.
struct Tried {
    /// The plan's index of the target tried (a hedge's winner may be the partner).
    target: usize,
    model: String,
    notes: Vec<String>,
    log: AttemptLog,
    result: Result<Answer, UpstreamError>,
}

/// An attempt ready to go: the target, its body, its place at the breaker.
struct Ready<'s> {
    index: usize,
    upstream: &'s Upstream,
    target: &'s Target,
    prepared: Prepared,
    lease: Lease,
    /// The attempt's span id, sent upstream in `traceparent` and kept in its record
    /// line (a hedge's loser too).
    span_id: [u8; 8],
}

fn span_id() -> [u8; 8] {
    fastrand::u64(1..).to_be_bytes()
}

/// Runs the plan. Every attempt is logged into `log`, whatever its end; when every
/// target failed the error names what was tried.
pub async fn dispatch(
    snapshot: &Snapshot,
    plan: &Plan<'_>,
    call: &Call<'_>,
    log: &mut Vec<AttemptLog>,
) -> Result<Committed, GatewayError> {
    let route = plan.route;
    let mut progress = Progress::default();
    // Targets a hedge already used up.
    let mut used = vec![false; plan.targets.len()];
    for (i, target) in plan.targets.iter().enumerate() {
        if used[i] {
            continue;
        }
        if target.fallback {
            let moves_on = progress
                .last
                .as_ref()
                .is_none_or(|e| route.fallback_on.contains(e.class()));
            if !moves_on {
                break;
            }
        } else if progress.fallbacks_only {
            continue;
        }
        let Some(upstream) = snapshot.upstreams.get(target.provider) else {
            continue;
        };
        let prepared = match prepare(upstream, target, call) {
            Ok(p) => p,
            // A target that cannot express the request is skipped; another may.
            Err(e @ TranslateError::Unsupported { .. }) => {
                tracing::info!(provider = %upstream.name, error = %e, "target cannot express the request");
                progress.untranslatable = Some(e);
                continue;
            }
            Err(e) => return Err(GatewayError::Translate(e)),
        };
        let retry = &route.retry;
        for try_no in 0..retry.attempts {
            if try_no == 0 {
                upstream.health.budget.first_try(retry, now_ms());
            } else if !may_retry(upstream, route, call, &progress, try_no).await {
                break;
            }
            let Some(lease) = admit(snapshot, upstream, target, &mut progress) else {
                break;
            };
            let ready = Ready {
                index: i,
                upstream,
                target,
                prepared: prepared.clone(),
                lease,
                span_id: span_id(),
            };
            let tried = match route.hedge.filter(|_| try_no == 0) {
                None => one(ready, call).await,
                Some(after) => {
                    let wait = hedging::threshold(after, &target.health.latency);
                    let used_now = &used;
                    let second = || partner(snapshot, plan, i, used_now, call);
                    // Boxed: the race holds two attempts, and inline it would double the
                    // size of every request's future, hedged or not (measured: +8.5k
                    // instructions of memcpy per request).
                    let (winner, loser) = Box::pin(race(ready, second, wait, call)).await;
                    if let Some((other, loser)) = loser {
                        used[other] = true;
                        log.push(loser.log);
                        if let Some(e) = loser.error {
                            // Each error is its own target's: a 429 marks that
                            // target's quota, and the first target's own error, not
                            // its partner's, decides whether it is retried.
                            note_rate_limit(&plan.targets[loser.target], &e);
                            progress.last = Some(e);
                        }
                    }
                    winner
                }
            };
            log.push(tried.log);
            // A hedge's winner may be the partner: its own target and provider.
            let tried_target = &plan.targets[tried.target];
            let tried_upstream = snapshot
                .upstreams
                .get(tried_target.provider)
                .unwrap_or(upstream);
            match tried.result {
                Ok(answer) => {
                    return Ok(Committed {
                        upstream: Arc::clone(tried_upstream),
                        model: tried.model,
                        attempts: u32::try_from(log.len()).unwrap_or(u32::MAX),
                        notes: tried.notes,
                        answer,
                    });
                }
                Err(e) => {
                    let class = e.class();
                    note_rate_limit(tried_target, &e);
                    tracing::warn!(provider = %tried_upstream.name, error = %e, class = class.as_str(), "attempt failed");
                    if Instant::now() >= call.deadline {
                        return Err(GatewayError::Deadline);
                    }
                    match class {
                        ErrorClass::ContextWindow | ErrorClass::ContentPolicy => {
                            progress.fallbacks_only = true;
                            progress.last = Some(e);
                            break;
                        }
                        ErrorClass::Client => return Err(exhausted(progress, Some(e), log)),
                        // The partner of a hedge failed last: the first target's own
                        // error (the race's loser, kept above) stays the one its retry
                        // is decided on.
                        _ if tried.target != i => {}
                        _ => progress.last = Some(e),
                    }
                }
            }
        }
    }
    if progress.last.is_none() && progress.skipped.is_empty() {
        return Err(match progress.untranslatable.take() {
            Some(e) => GatewayError::Translate(e),
            None => GatewayError::ModelNotFound {
                model: call.requested_model.to_owned(),
            },
        });
    }
    let last = progress.last.take();
    Err(exhausted(progress, last, log))
}

/// Whether the last failure may be retried on the same target, after waiting its
/// backoff (or `Retry-After`) here: the class is one `[retry] on` names, the wait fits
/// the cap and the deadline, and the provider's retry budget has room.
async fn may_retry(
    upstream: &Upstream,
    route: &crate::routing::Route,
    call: &Call<'_>,
    progress: &Progress,
    try_no: u32,
) -> bool {
    let retry = &route.retry;
    let Some(last) = &progress.last else {
        return false;
    };
    if !retry.on.contains(last.class()) {
        return false;
    }
    let left = call.deadline.saturating_duration_since(Instant::now());
    let Wait::Sleep(pause) = retry::wait(retry, try_no, last.retry_after(), left) else {
        return false;
    };
    if !upstream.health.budget.try_spend(retry, now_ms()) {
        tracing::info!(provider = %upstream.name, "retry budget spent; moving on");
        return false;
    }
    tokio::time::sleep(pause).await;
    true
}

/// The target's place for one attempt: refused without a network call when its
/// provider is at `max_in_flight` or its breaker is open.
fn admit(
    snapshot: &Snapshot,
    upstream: &Arc<Upstream>,
    target: &Target,
    progress: &mut Progress,
) -> Option<Lease> {
    if upstream.is_busy() {
        progress.skip(&upstream.name, "busy", Some(1000));
        return None;
    }
    if upstream.is_down() {
        let interval = upstream.health_check.unwrap_or_default();
        let wait = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
        progress.skip(&upstream.name, "health_check_failed", Some(wait.max(1)));
        return None;
    }
    let breaker = &target.health.breaker;
    let Some(pass) = breaker.admit(&snapshot.breaker, now_ms()) else {
        let wait = breaker.remaining_cooldown_ms(&snapshot.breaker, now_ms());
        progress.skip(&upstream.name, "circuit_open", Some(wait.max(1)));
        return None;
    };
    let lease = lease(snapshot, upstream, target, pass);
    if lease.is_none() {
        // Another request took the provider's last place since `is_busy` looked.
        progress.skip(&upstream.name, "busy", Some(1000));
    }
    lease
}

fn lease(
    snapshot: &Snapshot,
    upstream: &Arc<Upstream>,
    target: &Target,
    pass: Pass,
) -> Option<Lease> {
    Lease::try_new(
        Arc::clone(&upstream.health),
        Arc::clone(&target.health),
        snapshot.breaker,
        pass,
        upstream.max_in_flight,
    )
}

/// A provider's 429 marks its target's quota (until its `Retry-After`).
fn note_rate_limit(target: &Target, error: &UpstreamError) {
    if error.class() == ErrorClass::RateLimited {
        target
            .health
            .quota
            .rate_limited(error.retry_after(), now_ms());
    }
}

/// The error once the loop gave up: the last failure alone when it was the only thing
/// tried, otherwise that failure with a summary of every attempt and skipped target.
fn exhausted(progress: Progress, last: Option<UpstreamError>, log: &[AttemptLog]) -> GatewayError {
    match last {
        Some(e) if progress.skipped.is_empty() && log.len() <= 1 => GatewayError::Upstream(e),
        last => GatewayError::Exhausted {
            last: last.map(Box::new),
            tried: log
                .iter()
                .map(|a| error::Tried {
                    provider: a.provider.clone(),
                    error: a.error.unwrap_or("ok"),
                    status: a.status,
                })
                .collect(),
            skipped: progress.skipped,
            retry_after_ms: progress.retry_after_ms,
        },
    }
}
