//! Provider-neutral types. Every wire format converts to and from these (hub and spoke),
//! so adding a format is one decoder and one encoder, never a converter per pair.
//!
//! - [`request`]: a chat request (system, messages of typed parts, tools, sampling).
//! - [`response`]: a complete chat response.
//! - [`stream`]: the events a streamed response is made of.
//! - [`error`]: why a translation failed (client's fault, unsupported feature, upstream).
//!
//! Holds what Sluice reads, edits or must carry across formats; must never grow a field
//! that only one provider understands unless another format can express it too (such
//! fields go through a format's own `extra` on the same-format path instead).

pub mod error;
pub mod request;
pub mod response;
pub mod stream;

pub use error::{ProviderError, TranslateError, status_for_kind};
pub use request::{
    CacheControl, ChatRequest, ImageSource, Message, Part, ReasoningConfig, ResponseFormat, Role,
    Tool, ToolChoice,
};
pub use response::ChatResponse;
pub use stream::{StreamEvent, Tap};

use serde::{Deserialize, Serialize};

/// Token counts of one interaction, normalized across providers.
///
/// `input_tokens` counts every input token, cached or not (OpenAI's meaning);
/// Anthropic's split fields are summed into it by the Anthropic decoder and split again
/// by its encoder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Input tokens read from the provider's prompt cache (a subset of `input_tokens`).
    pub cached_input_tokens: u64,
    /// Input tokens written to the provider's prompt cache (a subset of `input_tokens`).
    pub cache_creation_input_tokens: u64,
    /// Output tokens spent on reasoning (a subset of `output_tokens`).
    pub reasoning_tokens: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

/// Why the model stopped, in provider-neutral terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// Natural end of turn (OpenAI `stop`, Anthropic `end_turn`, Gemini `STOP`).
    Stop,
    /// Hit `max_tokens` (OpenAI `length`, Anthropic `max_tokens`, Gemini `MAX_TOKENS`).
    Length,
    /// Wants tool results (OpenAI `tool_calls`, Anthropic `tool_use`).
    ToolCalls,
    /// Blocked by the provider's filter (OpenAI `content_filter`, Anthropic `refusal`,
    /// Gemini `SAFETY`/`RECITATION`/...).
    ContentFilter,
    /// Hit one of the request's stop sequences (Anthropic `stop_sequence`; OpenAI and
    /// Gemini report it as `stop`).
    StopSequence,
    /// Anthropic `pause_turn` and other provider-specific pauses.
    Pause,
}

/// The wire formats Sluice speaks. Ingress formats are the ones clients send; provider
/// formats are the ones upstreams accept. A closed set: add a variant and the compiler
/// finds every place to handle it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// OpenAI Chat Completions (also Azure OpenAI, vLLM, Ollama, ...).
    OpenAiChat,
    /// OpenAI Responses (ingress only).
    OpenAiResponses,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini generateContent (provider only).
    Gemini,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAiChat => "openai",
            Self::OpenAiResponses => "openai-responses",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
        }
    }
}
