//! Stream resume: when a committed stream breaks mid-way (cut, stall, garbage, an
//! in-band error), the answer goes on from another target instead of ending with an
//! error. The partial answer is sent as the start of the assistant's turn, so the
//! target continues it: Anthropic takes a final assistant message as a prefill,
//! OpenAI-compatible servers (vLLM, the mock) take it with `continue_final_message`.
//! Other targets continue only when a `resume.prompt` is configured (a user turn
//! asking to go on), never by a prompt Sluice makes up.
//!
//! This module picks the next leg's target (the plan's order: the same model on
//! another target first, then the fallbacks), builds and sends its request. The relay
//! keeps one encoder for the client across legs, so the client's stream stays one
//! message: one Anthropic `message_start` with block indices going on, one OpenAI
//! completion id.
//!
//! Must never resume an answer that is not text only (a tool call or thinking cannot
//! be prefilled), never use a target twice for one answer, and never go past `hops`.

use super::source::RelayLimits;
use crate::config::{ProviderKind, ResumeConfig};
use crate::error::StreamFailure;
use crate::record::AttemptLog;
use crate::resilience::now_ms;
use crate::routing::Target;
use crate::state::Snapshot;
use crate::state::health::Lease;
use crate::trace_context::TraceContext;
use crate::upstream::{Body, Endpoint, Outgoing, Upstream};
use bytes::Bytes;
use sluice_protocol::canonical::{ChatRequest, Message, Part, Role, StreamEvent};
use sluice_protocol::translate::Provider;
use std::sync::Arc;
use tokio::time::Instant;

/// Longest partial answer carried into a continuation.
const MAX_PARTIAL_BYTES: usize = 1 << 20;

/// What a stream needs to be continued elsewhere.
pub struct Resume {
    snapshot: Arc<Snapshot>,
    targets: Vec<Target>,
    /// Targets this answer already used.
    used: Vec<bool>,
    request: Arc<ChatRequest>,
    config: ResumeConfig,
    legs: u32,
    partial: Partial,
    trace: Option<TraceContext>,
}

/// The answer so far, as a prefill: its text, or why there is none.
#[derive(Debug, Default)]
struct Partial {
    text: String,
    /// A tool call, thinking or a finish was seen, or the text outgrew the cap:
    /// nothing to continue.
    unresumable: bool,
}

impl Partial {
    fn observe(&mut self, events: &[StreamEvent]) {
        for event in events {
            match event {
                StreamEvent::TextDelta { text } => {
                    if self.text.len() + text.len() > MAX_PARTIAL_BYTES {
                        self.unresumable = true;
                    } else {
                        self.text.push_str(text);
                    }
                }
                StreamEvent::ThinkingDelta { .. }
                | StreamEvent::ThinkingSignature { .. }
                | StreamEvent::RedactedThinking { .. }
                | StreamEvent::ToolCallStart { .. }
                | StreamEvent::ToolCallDelta { .. }
                | StreamEvent::Finish { .. } => self.unresumable = true,
                StreamEvent::Start { .. }
                | StreamEvent::Usage(_)
                | StreamEvent::Error { .. }
                | StreamEvent::End => {}
            }
        }
    }
}

/// A continuation sent and answered with a success status.
pub struct Leg {
    pub body: Body,
    pub lease: Lease,
    pub upstream: Arc<Upstream>,
    pub model: String,
    pub limits: RelayLimits,
    pub first_byte_deadline: Instant,
    pub log: AttemptLog,
}

impl Resume {
    /// `current` is the index in `targets` of the leg that committed; the targets
    /// before it were tried (or skipped) already and are not asked again.
    pub fn new(
        snapshot: Arc<Snapshot>,
        targets: Vec<Target>,
        current: usize,
        request: Arc<ChatRequest>,
        config: ResumeConfig,
        trace: Option<TraceContext>,
    ) -> Self {
        let used = (0..targets.len()).map(|i| i <= current).collect();
        Self {
            snapshot,
            targets,
            used,
            request,
            config,
            legs: 0,
            partial: Partial::default(),
            trace,
        }
    }

    /// Reads the events going to the client: the text so far is the next prefill.
    pub fn observe(&mut self, events: &[StreamEvent]) {
        self.partial.observe(events);
    }

    /// Whether a stream that broke this way can go on.
    pub fn can_continue(&self, failure: StreamFailure) -> bool {
        let recoverable = matches!(
            failure,
            StreamFailure::Cut
                | StreamFailure::Truncated
                | StreamFailure::Idle
                | StreamFailure::Malformed
                | StreamFailure::OversizedEvent
                | StreamFailure::ErrorEvent
        );
        recoverable && !self.partial.unresumable && self.legs < self.config.hops
    }

    /// Characters of answer the client has so far (where the seam is).
    pub fn partial_chars(&self) -> usize {
        self.partial.text.chars().count()
    }

    /// Sends the continuation to the next target that can take it, in plan order;
    /// targets that refuse or fail before answering are logged in `log` and passed.
    /// `None` when no target is left or the hops are spent.
    pub async fn next_leg(&mut self, log: &mut Vec<AttemptLog>) -> Option<Leg> {
        while self.legs < self.config.hops {
            let index = self.next_candidate()?;
            self.used[index] = true;
            let target = self.targets[index].clone();
            let upstream = Arc::clone(self.snapshot.upstreams.get(target.provider)?);
            let Some(body) = self.body_for(&upstream, &target) else {
                continue;
            };
            let Some(pass) = target
                .health
                .breaker
                .admit(&self.snapshot.breaker, now_ms())
            else {
                continue;
            };
            let Some(mut lease) = Lease::try_new(
                Arc::clone(&upstream.health),
                Arc::clone(&target.health),
                self.snapshot.breaker,
                pass,
                upstream.max_in_flight,
            ) else {
                continue;
            };
            self.legs += 1;
            let started = Instant::now();
            let span_id = fastrand::u64(1..).to_be_bytes();
            let limits = RelayLimits {
                idle: upstream.timeouts.idle,
                deadline: started + upstream.timeouts.total,
                max_bytes: upstream.max_response_bytes,
                max_event_bytes: super::MAX_EVENT_BYTES,
            };
            let first_byte_deadline = (started + upstream.timeouts.first_byte).min(limits.deadline);
            let out = Outgoing {
                endpoint: Endpoint::ChatCompletions,
                model: &target.model,
                stream: true,
                body,
                forward: &[],
                traceparent: self.trace.and_then(|t| t.traceparent(span_id)),
                quota: &target.health.quota,
            };
            let entry = |status: u16, error: Option<&'static str>| AttemptLog {
                provider: upstream.name.clone(),
                model: target.model.clone(),
                status,
                error,
                started: started.into_std(),
                latency: started.elapsed(),
                span_id,
            };
            match upstream.send(out, first_byte_deadline).await {
                Ok(body) => {
                    let log = entry(200, None);
                    return Some(Leg {
                        body,
                        lease,
                        upstream,
                        model: target.model.clone(),
                        limits,
                        first_byte_deadline,
                        log,
                    });
                }
                Err(e) => {
                    tracing::warn!(provider = %upstream.name, error = %e, "resume leg failed");
                    lease.settle(!e.class().is_provider_fault());
                    log.push(entry(e.upstream_status(), Some(e.kind())));
                }
            }
        }
        None
    }

    /// The next unused target of the plan that is available now.
    fn next_candidate(&self) -> Option<usize> {
        let now = now_ms();
        (0..self.targets.len()).find(|&i| {
            let t = &self.targets[i];
            !self.used[i]
                && t.health.breaker.is_available(&self.snapshot.breaker, now)
                && self
                    .snapshot
                    .upstreams
                    .get(t.provider)
                    .is_some_and(|u| !u.is_busy() && !u.is_down())
        })
    }

    /// The continuation request for `target`, or `None` when it cannot continue an
    /// answer (no prefill, no configured prompt) or the request cannot be encoded.
    fn body_for(&self, upstream: &Upstream, target: &Target) -> Option<Bytes> {
        let prefill = match upstream.kind {
            ProviderKind::Anthropic => Prefill::Native,
            ProviderKind::OpenAiCompatible | ProviderKind::Mock => Prefill::ContinueFinal,
            ProviderKind::OpenAi | ProviderKind::Azure | ProviderKind::Gemini => Prefill::None,
        };
        if prefill == Prefill::None && self.config.prompt.is_none() {
            return None;
        }
        let mut request = (*self.request).clone();
        request.model.clone_from(&target.model);
        if !self.partial.text.is_empty() {
            request
                .messages
                .push(text_message(Role::Assistant, &self.partial.text));
        }
        if let Some(prompt) = &self.config.prompt {
            request.messages.push(text_message(Role::User, prompt));
        }
        let provider = upstream.format();
        let encoded = provider.encode_request(&request, &mut Vec::new()).ok()?;
        let continues = prefill == Prefill::ContinueFinal
            && self.config.prompt.is_none()
            && !self.partial.text.is_empty();
        if provider == Provider::OpenAiChat && continues {
            let mut json: serde_json::Value = serde_json::from_slice(&encoded).ok()?;
            let object = json.as_object_mut()?;
            object.insert("continue_final_message".into(), true.into());
            object.insert("add_generation_prompt".into(), false.into());
            return serde_json::to_vec(&json).ok().map(Bytes::from);
        }
        Some(Bytes::from(encoded))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefill {
    /// A final assistant message is continued (Anthropic).
    Native,
    /// With `continue_final_message: true` (vLLM and other OpenAI-compatible servers).
    ContinueFinal,
    None,
}

fn text_message(role: Role, text: &str) -> Message {
    Message {
        role,
        content: vec![Part::Text {
            text: text.to_owned(),
            cache_control: None,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_protocol::canonical::FinishReason;

    fn text(t: &str) -> StreamEvent {
        StreamEvent::TextDelta { text: t.into() }
    }

    #[test]
    fn only_a_text_answer_can_be_continued() {
        let mut p = Partial::default();
        p.observe(&[
            text("Hel"),
            StreamEvent::Usage(Default::default()),
            text("lo"),
        ]);
        assert_eq!(p.text, "Hello");
        assert!(!p.unresumable);
        p.observe(&[StreamEvent::ToolCallStart {
            index: 0,
            id: "c".into(),
            name: "f".into(),
        }]);
        assert!(p.unresumable, "a tool call cannot be prefilled");
        let mut finished = Partial::default();
        finished.observe(&[
            text("done"),
            StreamEvent::Finish {
                reason: FinishReason::Stop,
                stop_sequence: None,
            },
        ]);
        assert!(
            finished.unresumable,
            "a finished answer has nothing to go on with"
        );
        let mut thinking = Partial::default();
        thinking.observe(&[StreamEvent::ThinkingDelta { text: "hm".into() }]);
        assert!(thinking.unresumable);
    }

    #[test]
    fn the_prefill_is_bounded() {
        let mut p = Partial::default();
        p.observe(&[text(&"x".repeat(MAX_PARTIAL_BYTES))]);
        assert!(!p.unresumable);
        p.observe(&[text("y")]);
        assert!(p.unresumable);
        assert_eq!(p.text.len(), MAX_PARTIAL_BYTES);
    }
}
