//! The attempt loop: walk the plan's targets until one commits. An attempt commits when
//! its first decoded content event arrives (streams, see `relay`) or its whole valid
//! body is read and, if needed, translated (non-stream); before that, a retryable
//! failure moves on to the next target; after it, nothing is retried and a failure can
//! only end the stream in-band.
//!
//! Each attempt prepares the body for its own target on the path `relay::choose` picks:
//! bytes pass through (model swapped if aliased) or the request is decoded once into
//! the canonical model (shared by later attempts) and encoded for the target. Written
//! once for stream and non-stream.
//!
//! Must never retry a non-retryable error (a 400 is the client's problem on every
//! target) nor retry after commit.

use crate::error::{GatewayError, Phase, UpstreamError};
use crate::record::AttemptLog;
use crate::relay::{self, Choice, Needs, Opening, Path, Relay, RelayLimits, Transforms};
use crate::routing::Target;
use crate::state::Snapshot;
use crate::trace_context::TraceContext;
use crate::upstream::{Endpoint, Outgoing, ReadError, Upstream};
use axum::http::{HeaderName, HeaderValue};
use bytes::Bytes;
use sluice_protocol::canonical::{ChatRequest, TranslateError, Usage};
use sluice_protocol::openai::rewrite::{Edits, rewrite};
use sluice_protocol::translate::{Ingress, Provider};
use std::sync::{Arc, OnceLock};
use tokio::time::Instant;

/// Largest single SSE event accepted from an upstream (tool arguments can be large).
const MAX_EVENT_BYTES: usize = 4 << 20;

/// What the client sent, and what Sluice learnt of it so far.
pub struct Call<'a> {
    pub ingress: Ingress,
    pub endpoint: Endpoint,
    pub body: &'a Bytes,
    pub requested_model: &'a str,
    pub stream: bool,
    /// Client headers for providers of the ingress format (`anthropic-beta`).
    pub forward: &'a [(HeaderName, HeaderValue)],
    /// The client asked for stream usage itself (OpenAI `stream_options.include_usage`).
    pub usage_requested: bool,
    /// The answer's transforms; each attempt runs a fresh copy.
    pub transforms: &'a Transforms,
    /// The canonical request, decoded on first need and shared by later attempts.
    pub canonical: Canonical,
    /// The request's trace, when tracing is on: each attempt sends `traceparent` with
    /// its own span id, so the provider's spans join the client's trace.
    pub trace: Option<TraceContext>,
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
        self.transforms.needs()
    }
}

/// A committed attempt.
pub struct Committed {
    pub upstream: Arc<Upstream>,
    pub model: String,
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

/// Runs the plan; the error is the last attempt's when every target failed.
/// Every attempt is logged into `log`, whatever its end.
pub async fn dispatch(
    snapshot: &Snapshot,
    plan: &[Target],
    call: &Call<'_>,
    log: &mut Vec<AttemptLog>,
) -> Result<Committed, GatewayError> {
    let mut last: Option<GatewayError> = None;
    let mut attempts = 0u32;
    for (i, target) in plan.iter().enumerate() {
        let Some(upstream) = snapshot.upstreams.get(target.provider) else {
            continue;
        };
        let more = i + 1 < plan.len();
        let mut notes = Vec::new();
        let prepared = match prepare(upstream, target, call, &mut notes) {
            Ok(p) => p,
            // A target that cannot express the request is skipped; another may.
            Err(e @ TranslateError::Unsupported { .. }) => {
                tracing::info!(provider = %upstream.name, error = %e, "target cannot express the request");
                last = Some(GatewayError::Translate(e));
                continue;
            }
            Err(e) => return Err(GatewayError::Translate(e)),
        };
        attempts += 1;
        let started = Instant::now();
        let span_id = fastrand::u64(1..).to_be_bytes();
        let result = attempt(upstream, target, call, prepared, span_id).await;
        log.push(AttemptLog {
            provider: upstream.name.clone(),
            model: target.model.clone(),
            status: result
                .as_ref()
                .map_or_else(UpstreamError::upstream_status, |_| 200),
            error: result.as_ref().err().map(UpstreamError::kind),
            started: started.into_std(),
            latency: started.elapsed(),
            span_id,
        });
        match result {
            Ok(answer) => {
                return Ok(Committed {
                    upstream: Arc::clone(upstream),
                    model: target.model.clone(),
                    attempts,
                    notes,
                    answer,
                });
            }
            Err(e) => {
                let retry = e.is_retryable() && more;
                tracing::warn!(provider = %upstream.name, error = %e, retry, "attempt failed");
                if !retry {
                    return Err(e.into());
                }
                last = Some(e.into());
            }
        }
    }
    Err(last.unwrap_or_else(|| GatewayError::ModelNotFound {
        model: call.requested_model.to_owned(),
    }))
}

struct Prepared {
    body: Bytes,
    path: Path,
}

/// The body for this target, and the path its answer will take.
fn prepare(
    upstream: &Upstream,
    target: &Target,
    call: &Call<'_>,
    notes: &mut Vec<String>,
) -> Result<Prepared, TranslateError> {
    let provider = upstream.format();
    if !upstream.serves(call.endpoint) {
        return Err(TranslateError::unsupported(
            "embeddings",
            provider.format().as_str(),
        ));
    }
    match relay::choose(call.ingress, call.endpoint, provider, call.needs()) {
        Choice::PassThrough => pass_through(provider, target, call),
        Choice::Translate => translate(provider, target, call, notes),
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
        && call.endpoint == Endpoint::ChatCompletions
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
        },
    })
}

fn translate(
    provider: Provider,
    target: &Target,
    call: &Call<'_>,
    notes: &mut Vec<String>,
) -> Result<Prepared, TranslateError> {
    let request = call.canonical()?;
    let encoded = if request.model == target.model {
        provider.encode_request(&request, notes)?
    } else {
        let mut renamed = (*request).clone();
        renamed.model.clone_from(&target.model);
        provider.encode_request(&renamed, notes)?
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
    })
}

async fn attempt(
    upstream: &Upstream,
    target: &Target,
    call: &Call<'_>,
    prepared: Prepared,
    span_id: [u8; 8],
) -> Result<Answer, UpstreamError> {
    let start = Instant::now();
    let deadline = start + upstream.timeouts.total;
    let first_byte_deadline = (start + upstream.timeouts.first_byte).min(deadline);
    let forward = match prepared.path {
        Path::PassThrough { .. } => call.forward,
        Path::Translate { .. } => &[],
    };
    let traceparent = call.trace.and_then(|t| t.traceparent(span_id));
    let out = Outgoing {
        endpoint: call.endpoint,
        model: &target.model,
        stream: call.stream,
        body: prepared.body,
        forward,
        traceparent,
    };
    let in_flight = upstream.health.begin();
    let body = upstream.send(out, first_byte_deadline).await?;
    if call.stream {
        let opening = Opening {
            codec: relay::codec::Codec::new(prepared.path, call.ingress),
            transforms: call.transforms.fresh(),
            ingress: call.ingress,
            provider: upstream.name.clone(),
            limits: RelayLimits {
                idle: upstream.timeouts.idle,
                deadline,
                max_bytes: upstream.max_response_bytes,
                max_event_bytes: MAX_EVENT_BYTES,
            },
            first_byte_deadline,
            in_flight,
        };
        return Relay::open(body, opening)
            .await
            .map(|relay| Answer::Stream(Box::new(relay)));
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
    Ok(Answer::Full { bytes, usage })
}
