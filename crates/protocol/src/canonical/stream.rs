//! The events a streamed response is made of, in provider-neutral form.
//!
//! Provider stream decoders produce these from upstream SSE events; ingress stream
//! encoders turn them into the client's SSE events. Order guarantees decoders keep:
//! `Start` first; a tool call's `ToolCallStart` before its `ToolCallDelta`s; `Finish`
//! after all content; `Usage` anywhere after `Start` (the last one wins); `End` last.

use super::{FinishReason, Usage};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// The response began.
    Start {
        id: String,
        model: String,
        created: u64,
    },
    TextDelta {
        text: String,
    },
    ThinkingDelta {
        text: String,
    },
    /// Anthropic's signature closing a thinking block.
    ThinkingSignature {
        signature: String,
    },
    RedactedThinking {
        data: String,
    },
    /// A tool call begins; `index` counts this response's tool calls from 0.
    ToolCallStart {
        index: usize,
        id: String,
        name: String,
    },
    /// A fragment of a tool call's JSON arguments.
    ToolCallDelta {
        index: usize,
        arguments: String,
    },
    /// The model stopped; usage may still follow.
    Finish {
        reason: FinishReason,
        stop_sequence: Option<String>,
    },
    /// Token counts so far (cumulative; the last one is final).
    Usage(Usage),
    /// The provider reported an error in the stream.
    Error {
        kind: String,
        message: String,
    },
    /// The provider ended the stream normally (`[DONE]`, `message_stop`, Gemini's last chunk).
    End,
}

/// The `"usage"` key, which every format's tap searches each streamed event for: a
/// searcher built once (`memmem::find` builds one per call, about 400 instructions of
/// an event's tap).
pub(crate) static USAGE_KEY: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"usage\""));

/// What the pass-through relay learns from one upstream event without translating it
/// (ingress and provider share a format, bytes are forwarded as they are).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tap {
    /// Usage carried by this event. Formats report it piecemeal (Anthropic: input tokens
    /// in `message_start`, output tokens in `message_delta`); a field an event does not
    /// carry reads 0, so the relay keeps the largest value seen for each field.
    pub usage: Option<Usage>,
    /// The format's normal end marker (`[DONE]`, `message_stop`).
    pub end: bool,
    /// An in-band error event from the provider.
    pub error: bool,
    /// The event's data is not what the format allows (not JSON, say): the relay ends
    /// the stream with an error instead of passing it on.
    pub malformed: bool,
}
