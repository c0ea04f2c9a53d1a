//! The attempt loop: walk the plan's targets until one commits. An attempt commits when
//! its first body bytes arrive (streams) or its whole valid body is read (non-stream);
//! before that, a retryable failure moves on to the next target; after it, nothing is
//! retried and a failure can only end the stream in-band (see `relay`).
//!
//! Written once for stream and non-stream. Must never retry a non-retryable error
//! (a 400 is the client's problem on every target) nor retry after commit.

use crate::error::{GatewayError, Phase, UpstreamError};
use crate::routing::Target;
use crate::runtime::Runtime;
use crate::upstream::{Endpoint, Upstream, read_body_bounded};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use std::sync::Arc;
use tokio::time::{Instant, timeout_at};

/// What to send: the client's body and the model name it asked for.
pub struct Call<'a> {
    pub endpoint: Endpoint,
    pub body: &'a Bytes,
    pub requested_model: &'a str,
    pub stream: bool,
}

/// A committed attempt.
pub struct Committed {
    pub upstream: Arc<Upstream>,
    pub model: String,
    pub attempts: u32,
    pub body: CommittedBody,
}

pub enum CommittedBody {
    /// The whole response body, validated as JSON.
    Full(Bytes),
    /// The first chunk and the rest of the stream; `deadline` ends the whole attempt.
    Stream {
        first: Bytes,
        rest: BoxStream<'static, reqwest::Result<Bytes>>,
        deadline: Instant,
    },
}

/// Runs the plan; the error is the last attempt's when every target failed.
pub async fn dispatch(
    rt: &Runtime,
    plan: &[Target],
    call: &Call<'_>,
) -> Result<Committed, GatewayError> {
    let mut last = None;
    for (i, target) in plan.iter().enumerate() {
        let Some(upstream) = rt.upstreams.get(target.provider) else {
            continue;
        };
        match attempt(upstream, target, call).await {
            Ok(body) => {
                return Ok(Committed {
                    upstream: Arc::clone(upstream),
                    model: target.model.clone(),
                    attempts: u32::try_from(i + 1).unwrap_or(u32::MAX),
                    body,
                });
            }
            Err(e) => {
                let retry = e.is_retryable() && i + 1 < plan.len();
                tracing::warn!(provider = %upstream.name, error = %e, retry, "attempt failed");
                if !retry {
                    return Err(e.into());
                }
                last = Some(e);
            }
        }
    }
    Err(last.map_or_else(
        || GatewayError::ModelNotFound {
            model: call.requested_model.to_owned(),
        },
        GatewayError::from,
    ))
}

async fn attempt(
    upstream: &Upstream,
    target: &Target,
    call: &Call<'_>,
) -> Result<CommittedBody, UpstreamError> {
    let body = if target.model == call.requested_model {
        call.body.clone()
    } else {
        // The body was parsed as an object already, so this cannot fail in practice.
        sluice_protocol::openai::rewrite::replace_model(call.body, &target.model)
            .map(Bytes::from)
            .map_err(|_| UpstreamError::Protocol {
                provider: upstream.name.clone(),
            })?
    };
    let start = Instant::now();
    let deadline = start + upstream.timeouts.total;
    let first_byte_deadline = (start + upstream.timeouts.first_byte).min(deadline);
    let response = upstream
        .send(call.endpoint, body, first_byte_deadline)
        .await?;
    if call.stream {
        let mut rest = response.bytes_stream().boxed();
        let first = loop {
            match timeout_at(first_byte_deadline, rest.next()).await {
                Err(_) => return Err(upstream.timeout(Phase::FirstByte)),
                Ok(None) => {
                    return Err(UpstreamError::Protocol {
                        provider: upstream.name.clone(),
                    });
                }
                Ok(Some(Err(e))) => return Err(upstream.transport_error(&e)),
                Ok(Some(Ok(chunk))) if chunk.is_empty() => {}
                Ok(Some(Ok(chunk))) => break chunk,
            }
        };
        return Ok(CommittedBody::Stream {
            first,
            rest,
            deadline,
        });
    }
    let idle = upstream.timeouts.idle;
    let bytes = read_body_bounded(response, upstream.max_response_bytes, deadline, idle)
        .await
        .map_err(|e| match e {
            crate::upstream::ReadError::Idle => upstream.timeout(Phase::Idle),
            crate::upstream::ReadError::Timeout => upstream.timeout(Phase::Total),
            crate::upstream::ReadError::TooLarge => UpstreamError::TooLarge {
                provider: upstream.name.clone(),
                limit: upstream.max_response_bytes,
            },
            crate::upstream::ReadError::Transport => UpstreamError::Protocol {
                provider: upstream.name.clone(),
            },
        })?;
    if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() {
        tracing::warn!(provider = %upstream.name, "upstream sent a body that is not JSON");
        return Err(UpstreamError::Protocol {
            provider: upstream.name.clone(),
        });
    }
    Ok(CommittedBody::Full(bytes))
}
