//! One attempt at one target: send, read up to the commit point (the relay's opening
//! for streams, the whole body otherwise), and the attempt's record line and breaker
//! verdict.
//!
//! Must never give a breaker a verdict for the client's own deadline running out.

use super::prepare::Prepared;
use super::{Answer, Call, Ready, Tried};
use crate::error::{ErrorClass, Phase, UpstreamError};
use crate::record::AttemptLog;
use crate::relay::{self, Opening, Path, Relay, RelayLimits, Resume};
use crate::routing::Target;
use crate::state::health::Lease;
use crate::upstream::{Outgoing, ReadError, Upstream};
use axum::http::{HeaderName, HeaderValue};
use std::sync::Arc;
use tokio::time::Instant;

/// One attempt at one target, with its record line and its breaker verdict (for a
/// stream that commits, the relay gives the verdict when the stream ends).
pub(super) async fn one(ready: Ready<'_>, call: &Call<'_>) -> Tried {
    let Ready {
        index,
        upstream,
        target,
        prepared,
        lease,
        span_id,
    } = ready;
    let started = Instant::now();
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
        target: index,
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
