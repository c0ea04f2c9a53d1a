//! The attempt loop: walk the plan's targets until one commits. An attempt commits when
//! its first body bytes arrive (streams) or its whole valid body is read and, if needed,
//! translated (non-stream); before that, a retryable failure moves on to the next target;
//! after it, nothing is retried and a failure can only end the stream in-band (`relay`).
//!
//! Each attempt prepares the body for its own target: bytes pass through when the target
//! speaks the ingress format, otherwise the request is decoded once into the canonical
//! model and encoded for the target. Written once for stream and non-stream.
//!
//! Must never retry a non-retryable error (a 400 is the client's problem on every
//! target) nor retry after commit.

use crate::error::{GatewayError, Phase, UpstreamError};
use crate::routing::Target;
use crate::runtime::Runtime;
use crate::upstream::{Endpoint, Outgoing, ReadError, Upstream, read_body_bounded};
use axum::http::{HeaderName, HeaderValue};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use sluice_protocol::canonical::{ChatRequest, TranslateError, Usage};
use sluice_protocol::openai::rewrite::{Edits, rewrite};
use sluice_protocol::translate::{Ingress, Provider};
use std::sync::{Arc, OnceLock};
use tokio::time::{Instant, timeout_at};

/// What the client sent, and what Sluice learnt of it so far.
pub struct Call<'a> {
    pub ingress: Ingress,
    pub endpoint: Endpoint,
    pub body: &'a Bytes,
    pub requested_model: &'a str,
    pub stream: bool,
    /// Client headers for providers of the ingress format (`anthropic-beta`).
    pub forward: Vec<(HeaderName, HeaderValue)>,
    /// The client asked for stream usage itself (OpenAI `stream_options.include_usage`).
    pub usage_requested: bool,
    /// The canonical request, decoded on first need and shared by later attempts.
    canonical: OnceLock<Result<Arc<ChatRequest>, TranslateError>>,
}

impl<'a> Call<'a> {
    pub fn new(
        ingress: Ingress,
        endpoint: Endpoint,
        body: &'a Bytes,
        model: &'a str,
        stream: bool,
    ) -> Self {
        Self {
            ingress,
            endpoint,
            body,
            requested_model: model,
            stream,
            forward: Vec::new(),
            usage_requested: false,
            canonical: OnceLock::new(),
        }
    }

    fn canonical(&self) -> Result<Arc<ChatRequest>, TranslateError> {
        self.canonical
            .get_or_init(|| self.ingress.decode_request(self.body).map(Arc::new))
            .clone()
    }
}

/// How the committed response reaches the client.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Same format both sides: upstream bytes go to the client unchanged, except the
    /// usage chunk Sluice asked for on the client's behalf (`hide_usage_chunk`).
    PassThrough {
        provider: Provider,
        hide_usage_chunk: bool,
    },
    /// Translated through the canonical model.
    Translate {
        provider: Provider,
        request: Arc<ChatRequest>,
    },
}

/// A committed attempt.
pub struct Committed {
    pub upstream: Arc<Upstream>,
    pub model: String,
    pub attempts: u32,
    pub mode: Mode,
    /// Features dropped while translating, for the record.
    pub notes: Vec<String>,
    pub body: CommittedBody,
}

pub enum CommittedBody {
    /// The whole response, already in the ingress format.
    Full { bytes: Bytes, usage: Option<Usage> },
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
    let mut last: Option<GatewayError> = None;
    let mut attempts = 0u32;
    for (i, target) in plan.iter().enumerate() {
        let Some(upstream) = rt.upstreams.get(target.provider) else {
            continue;
        };
        let more = i + 1 < plan.len();
        let mut notes = Vec::new();
        let prepared = match prepare(upstream, target, call, &mut notes) {
            Ok(p) => p,
            // A target that cannot express the request is skipped; another may.
            Err(TranslateError::Unsupported {
                feature,
                target: kind,
            }) => {
                tracing::info!(provider = %upstream.name, %feature, "target cannot express the request");
                last = Some(GatewayError::Translate(TranslateError::Unsupported {
                    feature,
                    target: kind,
                }));
                continue;
            }
            Err(e) => return Err(GatewayError::Translate(e)),
        };
        attempts += 1;
        match attempt(upstream, target, call, prepared).await {
            Ok((mode, body)) => {
                return Ok(Committed {
                    upstream: Arc::clone(upstream),
                    model: target.model.clone(),
                    attempts,
                    mode,
                    notes,
                    body,
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
    mode: Mode,
}

/// The body for this target, and how its response will reach the client.
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
    if call.ingress.same_as() == Some(provider) || call.endpoint == Endpoint::Embeddings {
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
        return Ok(Prepared {
            body,
            mode: Mode::PassThrough {
                provider,
                hide_usage_chunk: include_usage,
            },
        });
    }
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
        mode: Mode::Translate { provider, request },
    })
}

async fn attempt(
    upstream: &Upstream,
    target: &Target,
    call: &Call<'_>,
    prepared: Prepared,
) -> Result<(Mode, CommittedBody), UpstreamError> {
    let start = Instant::now();
    let deadline = start + upstream.timeouts.total;
    let first_byte_deadline = (start + upstream.timeouts.first_byte).min(deadline);
    let forward: &[(HeaderName, HeaderValue)] = match prepared.mode {
        Mode::PassThrough { .. } => &call.forward,
        Mode::Translate { .. } => &[],
    };
    let out = Outgoing {
        endpoint: call.endpoint,
        model: &target.model,
        stream: call.stream,
        body: prepared.body,
        forward,
    };
    let response = upstream.send(out, first_byte_deadline).await?;
    let body = if call.stream {
        first_chunk(upstream, response, first_byte_deadline, deadline).await?
    } else {
        let bytes = read_full(upstream, response, deadline).await?;
        full_body(upstream, call, &prepared.mode, &bytes)?
    };
    Ok((prepared.mode, body))
}

/// Waits for the first non-empty chunk of a stream: the commit point.
async fn first_chunk(
    upstream: &Upstream,
    response: reqwest::Response,
    first_byte_deadline: Instant,
    deadline: Instant,
) -> Result<CommittedBody, UpstreamError> {
    let mut rest = response.bytes_stream().boxed();
    loop {
        match timeout_at(first_byte_deadline, rest.next()).await {
            Err(_) => return Err(upstream.timeout(Phase::FirstByte)),
            Ok(None) => return Err(upstream.protocol_error()),
            Ok(Some(Err(e))) => return Err(upstream.transport_error(&e)),
            Ok(Some(Ok(chunk))) if chunk.is_empty() => {}
            Ok(Some(Ok(first))) => {
                return Ok(CommittedBody::Stream {
                    first,
                    rest,
                    deadline,
                });
            }
        }
    }
}

async fn read_full(
    upstream: &Upstream,
    response: reqwest::Response,
    deadline: Instant,
) -> Result<Bytes, UpstreamError> {
    read_body_bounded(
        response,
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
    })
}

/// Validates (and translates) a whole response body into the ingress format.
fn full_body(
    upstream: &Upstream,
    call: &Call<'_>,
    mode: &Mode,
    bytes: &Bytes,
) -> Result<CommittedBody, UpstreamError> {
    let invalid = |what: &str| {
        tracing::warn!(provider = %upstream.name, "upstream sent an invalid body: {what}");
        upstream.protocol_error()
    };
    match mode {
        Mode::PassThrough {
            provider: Provider::OpenAiChat,
            ..
        } => {
            let usage = sluice_protocol::openai::usage::validate_and_find_usage(bytes)
                .map_err(|_| invalid("not JSON"))?;
            Ok(CommittedBody::Full {
                bytes: bytes.clone(),
                usage,
            })
        }
        Mode::PassThrough { provider, .. } => {
            let response = provider
                .decode_response(bytes)
                .map_err(|e| invalid(&e.to_string()))?;
            Ok(CommittedBody::Full {
                bytes: bytes.clone(),
                usage: response.usage,
            })
        }
        Mode::Translate { provider, request } => {
            let response = provider
                .decode_response(bytes)
                .map_err(|e| invalid(&e.to_string()))?;
            let encoded = call.ingress.encode_response(&response, request);
            Ok(CommittedBody::Full {
                bytes: Bytes::from(encoded),
                usage: response.usage,
            })
        }
    }
}
