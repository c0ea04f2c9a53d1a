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
//! Must never retry a client error (a 400 is the client's problem on every target),
//! never retry after commit, and never sleep past the request's deadline.

use crate::error::{self, ErrorClass, GatewayError, Phase, Skipped, UpstreamError};
use crate::record::AttemptLog;
use crate::relay::{self, Choice, Needs, Opening, Path, Relay, RelayLimits, Resume, Transforms};
use crate::resilience::breaker::Pass;
use crate::resilience::retry::{self, Wait};
use crate::resilience::{hedge, now_ms};
use crate::routing::{Plan, Target};
use crate::state::Snapshot;
use crate::state::health::Lease;
use crate::trace_context::TraceContext;
use crate::upstream::{Endpoint, Outgoing, ReadError, Upstream};
use axum::http::{HeaderName, HeaderValue};
use bytes::Bytes;
use sluice_protocol::canonical::{ChatRequest, TranslateError, Usage};
use sluice_protocol::openai::rewrite::{Edits, rewrite};
use sluice_protocol::translate::{Ingress, Provider};
use std::sync::{Arc, OnceLock};
use tokio::time::Instant;

/// What the client sent, and what Sluice learnt of it so far.
pub struct Call<'a> {
    pub ingress: Ingress,
    pub endpoint: Endpoint,
    pub body: &'a Bytes,
    pub requested_model: &'a str,
    pub stream: bool,
    /// Client headers for providers of the ingress format (`anthropic-beta`).
    pub forward: &'a [(HeaderName, HeaderValue)],
    /// The client's headers, when some provider forwards some (`forward_headers`).
    pub client_headers: Option<&'a axum::http::HeaderMap>,
    /// The client asked for stream usage itself (OpenAI `stream_options.include_usage`).
    pub usage_requested: bool,
    /// The answer's transforms; each attempt runs a fresh copy.
    pub transforms: &'a Transforms,
    /// The canonical request, decoded on first need and shared by later attempts.
    pub canonical: Canonical,
    /// The request's trace, when tracing is on: each attempt sends `traceparent` with
    /// its own span id, so the provider's spans join the client's trace.
    pub trace: Option<TraceContext>,
    /// The whole attempt loop ends by then (`[server] request_timeout`, lowered by the
    /// client's `x-sluice-timeout`).
    pub deadline: Instant,
    /// What a broken stream needs to go on elsewhere, when the route resumes.
    pub resume: Option<ResumePlan>,
}

/// A resuming route's plan, owned: a stream's later legs run after dispatch returned.
pub struct ResumePlan {
    pub snapshot: Arc<Snapshot>,
    pub targets: Vec<Target>,
    pub config: crate::config::ResumeConfig,
}

/// The canonical form of a call's request, decoded at most once.
#[derive(Debug, Default)]
pub struct Canonical(OnceLock<Result<Arc<ChatRequest>, TranslateError>>);

impl Call<'_> {
    fn canonical(&self) -> Result<Arc<ChatRequest>, TranslateError> {
        self.canonical
            .0
            .get_or_init(|| self.ingress.decode_request(self.body).map(Arc::new))
            .clone()
    }

    fn needs(&self) -> Needs {
        // Resume reads the answer's text and keeps one encoder across legs.
        let resumes = self.resume.is_some() && self.stream;
        Needs {
            text: self.transforms.needs().text || resumes,
        }
    }
}

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
    provider: usize,
    model: String,
    notes: Vec<String>,
    log: AttemptLog,
    result: Result<Answer, UpstreamError>,
}

/// The other attempt of a hedge: cancelled when the winner committed (no error), or
/// failed first.
struct Loser {
    log: AttemptLog,
    error: Option<UpstreamError>,
}

/// An attempt ready to go: the target, its body, its place at the breaker.
struct Ready<'s> {
    index: usize,
    upstream: &'s Upstream,
    target: &'s Target,
    prepared: Prepared,
    lease: Lease,
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
            };
            let tried = match route.hedge.filter(|_| try_no == 0) {
                None => one(ready, call).await,
                Some(after) => {
                    let wait = hedge::threshold(after, &target.health.latency);
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
                            progress.last = Some(e);
                        }
                    }
                    winner
                }
            };
            log.push(tried.log);
            match tried.result {
                Ok(answer) => {
                    let upstream = snapshot.upstreams.get(tried.provider).unwrap_or(upstream);
                    return Ok(Committed {
                        upstream: Arc::clone(upstream),
                        model: tried.model,
                        attempts: u32::try_from(log.len()).unwrap_or(u32::MAX),
                        notes: tried.notes,
                        answer,
                    });
                }
                Err(e) => {
                    let class = e.class();
                    if class == ErrorClass::RateLimited {
                        target.health.quota.rate_limited(e.retry_after(), now_ms());
                    }
                    tracing::warn!(provider = %upstream.name, error = %e, class = class.as_str(), "attempt failed");
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

/// The attempt a hedge races against the first: the next unused own target that is
/// available now, prepared and admitted.
fn partner<'s>(
    snapshot: &'s Snapshot,
    plan: &'s Plan<'_>,
    from: usize,
    used: &[bool],
    call: &Call<'_>,
) -> Option<Ready<'s>> {
    let now = now_ms();
    plan.targets
        .iter()
        .enumerate()
        .skip(from + 1)
        .filter(|(j, t)| !used[*j] && !t.fallback)
        .find_map(|(index, target)| {
            let upstream = snapshot.upstreams.get(target.provider)?;
            if upstream.is_busy() || upstream.is_down() || target.health.quota.is_exhausted(now) {
                return None;
            }
            let prepared = prepare(upstream, target, call).ok()?;
            let pass = target.health.breaker.admit(&snapshot.breaker, now)?;
            Some(Ready {
                index,
                upstream,
                target,
                prepared,
                lease: lease(snapshot, upstream, target, pass)?,
            })
        })
}

/// Runs the first attempt; if it has not committed after `wait`, starts the second
/// (made only then, so a hedge that is not needed holds no place at its target) and
/// keeps whichever commits first, dropping (so cancelling) the other. Returns the
/// winner (or the last to fail) and, when a second was started, its plan index and
/// the other attempt.
async fn race<'s>(
    first: Ready<'s>,
    second: impl FnOnce() -> Option<Ready<'s>>,
    wait: std::time::Duration,
    call: &Call<'_>,
) -> (Tried, Option<(usize, Loser)>) {
    let (first_name, first_model) = (first.upstream.name.clone(), first.target.model.clone());
    let a = one(first, call);
    tokio::pin!(a);
    tokio::select! {
        done = &mut a => return (done, None),
        () = tokio::time::sleep(wait) => {}
    }
    let Some(second) = second() else {
        return (a.await, None);
    };
    let index = second.index;
    let (second_name, second_model) = (second.upstream.name.clone(), second.target.model.clone());
    tracing::info!(provider = %first_name, hedge = %second_name, "first attempt slow: hedging");
    let hedge_started = Instant::now();
    let b = one(second, call);
    tokio::pin!(b);
    let (winner, loser) = tokio::select! {
        done = &mut a => {
            if done.result.is_ok() {
                return (done, Some((index, cancelled(second_name, second_model, hedge_started))));
            }
            let loser = Loser { log: done.log, error: done.result.err() };
            (b.await, loser)
        }
        done = &mut b => {
            if done.result.is_ok() {
                return (done, Some((index, cancelled(first_name, first_model, hedge_started))));
            }
            let loser = Loser { log: done.log, error: done.result.err() };
            (a.await, loser)
        }
    };
    (winner, Some((index, loser)))
}

/// The record line of a hedge's losing attempt, dropped (and so cancelled upstream).
fn cancelled(provider: String, model: String, started: Instant) -> Loser {
    Loser {
        log: AttemptLog {
            provider,
            model,
            status: 0,
            error: Some("hedge_cancelled"),
            started: started.into_std(),
            latency: started.elapsed(),
            span_id: [0; 8],
        },
        error: None,
    }
}

/// One attempt at one target, with its record line and its breaker verdict (for a
/// stream that commits, the relay gives the verdict when the stream ends).
async fn one(ready: Ready<'_>, call: &Call<'_>) -> Tried {
    let Ready {
        index,
        upstream,
        target,
        prepared,
        lease,
    } = ready;
    let started = Instant::now();
    let span_id = fastrand::u64(1..).to_be_bytes();
    let notes = prepared.notes.clone();
    let mut lease = Some(lease);
    let result = attempt(upstream, target, index, call, prepared, span_id, &mut lease).await;
    if let (Err(e), Some(mut lease)) = (&result, lease) {
        // When the client's deadline ran out, that says nothing of the provider: no
        // verdict (the lease gives a probe slot back).
        if Instant::now() < call.deadline || e.class() != ErrorClass::Timeout {
            lease.settle(!e.class().is_provider_fault());
        }
    }
    Tried {
        provider: target.provider,
        model: target.model.clone(),
        notes,
        log: AttemptLog {
            provider: upstream.name.clone(),
            model: target.model.clone(),
            status: result
                .as_ref()
                .map_or_else(UpstreamError::upstream_status, |_| 200),
            error: result.as_ref().err().map(UpstreamError::kind),
            started: started.into_std(),
            latency: started.elapsed(),
            span_id,
        },
        result,
    }
}

/// The resume state a stream starts with, when its route resumes and its answer is
/// translated (the client's encoder must outlive the leg).
fn resume_for(call: &Call<'_>, index: usize, path: &Path) -> Option<Resume> {
    let plan = call.resume.as_ref()?;
    let Path::Translate { request, .. } = path else {
        return None;
    };
    Some(Resume::new(
        Arc::clone(&plan.snapshot),
        plan.targets.clone(),
        index,
        Arc::clone(request),
        plan.config.clone(),
        call.trace,
    ))
}

#[derive(Clone)]
struct Prepared {
    body: Bytes,
    path: Path,
    /// Features dropped while translating, for the record.
    notes: Vec<String>,
}

/// The body for this target, and the path its answer will take.
fn prepare(
    upstream: &Upstream,
    target: &Target,
    call: &Call<'_>,
) -> Result<Prepared, TranslateError> {
    let provider = upstream.format();
    if !upstream.serves(call.endpoint) {
        let what = match call.endpoint {
            Endpoint::Embeddings => "embeddings",
            Endpoint::Completions => "completions (legacy text completions)",
            Endpoint::ChatCompletions => "chat",
        };
        return Err(TranslateError::unsupported(
            what,
            provider.format().as_str(),
        ));
    }
    match relay::choose(call.ingress, call.endpoint, provider, call.needs()) {
        Choice::PassThrough => pass_through(provider, target, call),
        Choice::Translate => translate(provider, target, call),
    }
}

fn pass_through(
    provider: Provider,
    target: &Target,
    call: &Call<'_>,
) -> Result<Prepared, TranslateError> {
    // Usage is part of every interaction record: ask an OpenAI-format provider for it
    // on streams, and hide the extra chunk from a client that did not ask.
    let include_usage = provider == Provider::OpenAiChat
        && matches!(
            call.endpoint,
            Endpoint::ChatCompletions | Endpoint::Completions
        )
        && call.stream
        && !call.usage_requested;
    let edits = Edits {
        model: (target.model != call.requested_model).then_some(target.model.as_str()),
        include_usage,
    };
    let body = if edits.model.is_none() && !edits.include_usage {
        call.body.clone()
    } else {
        let rewritten = rewrite(call.body, edits)
            .map_err(|e| TranslateError::invalid(format!("request body: {e}"), None))?;
        Bytes::from(rewritten)
    };
    Ok(Prepared {
        body,
        path: Path::PassThrough {
            provider,
            hide_usage_chunk: include_usage,
            probe: call.endpoint == Endpoint::ChatCompletions,
        },
        notes: Vec::new(),
    })
}

fn translate(
    provider: Provider,
    target: &Target,
    call: &Call<'_>,
) -> Result<Prepared, TranslateError> {
    let mut notes = Vec::new();
    let request = call.canonical()?;
    let encoded = if request.model == target.model {
        provider.encode_request(&request, &mut notes)?
    } else {
        let mut renamed = (*request).clone();
        renamed.model.clone_from(&target.model);
        provider.encode_request(&renamed, &mut notes)?
    };
    if !call.forward.is_empty() {
        notes.push(format!(
            "dropped client headers for a {} provider",
            provider.format().as_str()
        ));
    }
    Ok(Prepared {
        body: Bytes::from(encoded),
        path: Path::Translate { provider, request },
        notes,
    })
}

#[allow(
    clippy::too_many_arguments,
    reason = "one attempt's inputs, each distinct"
)]
async fn attempt(
    upstream: &Upstream,
    target: &Target,
    index: usize,
    call: &Call<'_>,
    prepared: Prepared,
    span_id: [u8; 8],
    lease: &mut Option<Lease>,
) -> Result<Answer, UpstreamError> {
    let start = Instant::now();
    let stream_deadline = start + upstream.timeouts.total;
    // Up to the commit point the request's deadline bounds the attempt too; a stream
    // past it runs to its own total deadline.
    let deadline = stream_deadline.min(call.deadline);
    let first_byte_deadline = (start + upstream.timeouts.first_byte).min(deadline);
    let same_format = match prepared.path {
        Path::PassThrough { .. } => call.forward,
        Path::Translate { .. } => &[],
    };
    // The provider's own allow-list applies on either path.
    let listed = call
        .client_headers
        .map(|h| crate::upstream::forward::select(&upstream.forward_headers, h))
        .unwrap_or_default();
    let combined: Vec<(HeaderName, HeaderValue)>;
    let forward = if listed.is_empty() {
        same_format
    } else {
        combined = same_format.iter().cloned().chain(listed).collect();
        &combined
    };
    let traceparent = call.trace.and_then(|t| t.traceparent(span_id));
    let out = Outgoing {
        endpoint: call.endpoint,
        model: &target.model,
        stream: call.stream,
        body: prepared.body,
        forward,
        traceparent,
        quota: &target.health.quota,
    };
    let body = upstream.send(out, first_byte_deadline).await?;
    if call.stream {
        let resume = resume_for(call, index, &prepared.path);
        let opening = Opening {
            codec: relay::codec::Codec::new(prepared.path, call.ingress),
            transforms: call.transforms.fresh(),
            ingress: call.ingress,
            provider: upstream.name.clone(),
            limits: RelayLimits {
                idle: upstream.timeouts.idle,
                deadline: stream_deadline,
                max_bytes: upstream.max_response_bytes,
                max_event_bytes: relay::MAX_EVENT_BYTES,
            },
            first_byte_deadline,
            resume,
        };
        let mut relay = Relay::open(body, opening).await?;
        if let Some(lease) = lease.take() {
            lease.committed(start.elapsed());
            relay.hold(lease);
        }
        return Ok(Answer::Stream(Box::new(relay)));
    }
    let bytes = body
        .read_all(
            upstream.max_response_bytes,
            deadline,
            upstream.timeouts.idle,
        )
        .await
        .map_err(|e| match e {
            ReadError::Idle => upstream.timeout(Phase::Idle),
            ReadError::Timeout => upstream.timeout(Phase::Total),
            ReadError::TooLarge => UpstreamError::TooLarge {
                provider: upstream.name.clone(),
                limit: upstream.max_response_bytes,
            },
            ReadError::Transport => upstream.protocol_error(),
        })?;
    let mut transforms = call.transforms.fresh();
    let (bytes, usage) = prepared
        .path
        .full_body(call.ingress, bytes, &mut transforms)
        .map_err(|what| {
            tracing::warn!(provider = %upstream.name, "upstream sent an invalid body: {what}");
            upstream.protocol_error()
        })?;
    if let Some(lease) = lease {
        lease.committed(start.elapsed());
        lease.settle(true);
    }
    Ok(Answer::Full { bytes, usage })
}
