//! The guard: prompts and answers are untrusted content. The pipeline applies the
//! scanner (`sluice_guard`) here and only here: to the request's text before anything
//! goes upstream, to a whole answer before the client gets it, and (through the relay's
//! `Guard` transform) to a streamed answer's text pieces as they pass.
//!
//! - [`input`]: the input stage: redact, mask, strip or block the prompt.
//! - [`hook`]: the external classifier, before or alongside the upstream call.
//! - [`output`]: whole answers: redact or block, and the masked values restored.
//! - [`stream`]: the stream transform: incremental scan with bounded holdback, restore.
//! - [`findings`]: what was found, for the record, the journal and the metrics.
//!
//! The policy is chosen once per request: the key's `[guard.policies.X]`, else its
//! team's, else the default.
//!
//! Must never put a matched value in an error, a record, a log line or a metric, and
//! never keep a request's mask map past the request.

pub mod findings;
pub mod hook;
pub mod input;
pub mod output;
pub mod stream;

use crate::auth::ring::Principal;
use crate::config::{GuardConfig, GuardPolicy};
use crate::error::GatewayError;
use crate::ingress::Ingest;
use crate::upstream::Endpoint;
use bytes::Bytes;
use findings::Finding;
use sluice_guard::MaskMap;
use sluice_protocol::text::Body;
use sluice_protocol::translate::Ingress;
use std::sync::Arc;

/// The guard's part of a snapshot: the compiled policies and the hook's client.
#[derive(Debug, Default)]
pub struct Guard {
    pub config: GuardConfig,
    pub hook: Option<hook::Hook>,
    /// Whether any policy does anything (a request skips every guard step otherwise).
    pub on: bool,
}

impl Guard {
    pub fn new(config: &GuardConfig) -> Self {
        // Answers' scanners need their prefix automaton for streams: build it off the
        // start-up path (a stream that comes first waits for it, not a crash).
        let streaming: Vec<_> = std::iter::once(&config.default)
            .chain(&config.policies)
            .filter_map(|p| p.output.as_ref().map(|o| Arc::clone(&o.scanner)))
            .collect();
        if !streaming.is_empty() {
            let _ = std::thread::Builder::new()
                .name("guard-prepare".to_owned())
                .spawn(move || {
                    for scanner in streaming {
                        scanner.prepare_streams();
                    }
                });
        }
        Self {
            config: config.clone(),
            hook: config.hook.clone().and_then(hook::Hook::new),
            on: config.is_on(),
        }
    }
}

/// The guard's state for one request, from the input stage to the end of its answer.
#[derive(Debug, Clone)]
pub struct Screening {
    pub policy: Arc<GuardPolicy>,
    /// What the input stage masked; the answer gets the originals back.
    pub masks: Option<Arc<MaskMap>>,
}

/// The input stage: the body every target will get, and the request's screening.
pub fn input(
    guard: &Guard,
    principal: Option<&Principal>,
    ingest: &Ingest,
    body: Bytes,
    record: &mut Vec<Finding>,
) -> Result<(Bytes, Option<Screening>), GatewayError> {
    if !guard.on {
        return Ok((body, None));
    }
    let policy = Arc::clone(guard.config.policy_for(
        principal.map(|p| p.name.as_str()),
        principal.and_then(|p| p.team.as_deref()),
    ));
    let (body, masks) = match (&policy.input, request_body(ingest)) {
        (Some(scan), Some(kind)) => {
            let screened = input::screen(scan, kind, body, record)?;
            (screened.body, screened.masks.map(Arc::new))
        }
        _ => (body, None),
    };
    Ok((body, Some(Screening { policy, masks })))
}

/// The hook to ask about this request's prompt, with the prompt's text, when its
/// policy calls one.
pub fn hook_for<'g>(
    guard: &'g Guard,
    screening: Option<&Screening>,
    ingest: &Ingest,
    body: &[u8],
) -> Option<(&'g hook::Hook, String)> {
    let hook = guard
        .hook
        .as_ref()
        .filter(|_| screening.is_some_and(|s| s.policy.hook))?;
    let kind = request_body(ingest)?;
    Some((hook, hook::prompt_text(kind, body)))
}

/// Runs `work` (the upstream call) while the hook judges: a refusal that comes first
/// drops `work`, which cancels the upstream request; otherwise both finish and the
/// answer goes on only with the verdict.
pub async fn alongside<T>(
    verdict: impl Future<Output = hook::Verdict>,
    work: impl Future<Output = T>,
) -> (hook::Verdict, Option<T>) {
    let mut verdict = std::pin::pin!(verdict);
    let mut work = std::pin::pin!(work);
    let mut done = None;
    loop {
        tokio::select! {
            v = &mut verdict => {
                if v.refusal.is_some() {
                    return (v, None);
                }
                let result = match done {
                    Some(result) => result,
                    None => work.await,
                };
                return (v, Some(result));
            }
            result = &mut work, if done.is_none() => done = Some(result),
        }
    }
}

/// What the stream transform needs, when the request's answer is guarded or restored.
pub fn output_plan(
    guard: &Guard,
    screening: Option<&Screening>,
    ingest: &Ingest,
) -> Option<stream::OutputPlan> {
    let screening = screening?;
    if screening.policy.output.is_none() && screening.masks.is_none() {
        return None;
    }
    Some(stream::OutputPlan {
        policy: screening.policy.output.clone(),
        masks: screening.masks.clone(),
        holdback: guard.config.holdback,
        holdback_time: guard.config.holdback_time,
        reasoning: ingest.ingress == Ingress::OpenAiChat,
    })
}

/// The output stage for a whole answer (in the ingress format).
pub fn answer(
    screening: Option<&Screening>,
    ingest: &Ingest,
    bytes: Bytes,
    record: &mut Vec<Finding>,
) -> Result<output::Screened, GatewayError> {
    let untouched = |body| output::Screened {
        body,
        journal: None,
    };
    let Some(screening) = screening else {
        return Ok(untouched(bytes));
    };
    let policy = screening.policy.output.as_deref();
    let masks = screening.masks.as_deref();
    match answer_body(ingest) {
        Some(kind) if policy.is_some() || masks.is_some() => {
            output::screen(policy, masks, kind, bytes, record)
        }
        _ => Ok(untouched(bytes)),
    }
}

/// The shape of an endpoint's request body.
fn request_body(ingest: &Ingest) -> Option<Body> {
    Some(match (ingest.endpoint, ingest.ingress) {
        (Endpoint::ChatCompletions, Ingress::OpenAiChat) => Body::ChatRequest,
        (Endpoint::ChatCompletions, Ingress::Anthropic) => Body::MessagesRequest,
        (Endpoint::ChatCompletions, Ingress::Responses) => Body::ResponsesRequest,
        (Endpoint::Completions, _) => Body::CompletionsRequest,
        (Endpoint::Embeddings, _) => Body::EmbeddingsRequest,
        (Endpoint::CountTokens, _) => return None,
    })
}

/// The shape of an endpoint's whole answer, in its ingress format.
fn answer_body(ingest: &Ingest) -> Option<Body> {
    Some(match (ingest.endpoint, ingest.ingress) {
        (Endpoint::ChatCompletions, Ingress::OpenAiChat) => Body::ChatResponse,
        (Endpoint::ChatCompletions, Ingress::Anthropic) => Body::MessagesResponse,
        (Endpoint::ChatCompletions, Ingress::Responses) => Body::ResponsesResponse,
        (Endpoint::Completions, _) => Body::CompletionsResponse,
        (Endpoint::Embeddings | Endpoint::CountTokens, _) => return None,
    })
}
