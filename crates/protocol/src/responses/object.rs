//! The Responses *response object* (`{"object":"response",...}`) and its output items,
//! shared by the non-streamed body (`response.rs`) and the stream's lifecycle events
//! (`stream.rs`), so both say exactly the same thing about one answer.
//!
//! Must never invent content: every item comes from canonical parts or stream events,
//! and the request fields it echoes come from `echo.rs`.

use super::echo::{Echo, ReasoningEcho, TextEcho, ToolChoiceEcho, ToolEcho};
use crate::canonical::{FinishReason, Usage};
use serde::Serialize;
use serde_json::Value;

/// Where a response stands.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Status {
    InProgress,
    Completed,
    /// Stopped early; the reason is `max_output_tokens` or `content_filter`.
    Incomplete(&'static str),
    Failed(ErrorObject),
}

impl Status {
    /// The status a finished response has for `finish` (none said: completed).
    pub(crate) fn from_finish(finish: Option<FinishReason>) -> Self {
        match finish {
            Some(FinishReason::Length) => Self::Incomplete("max_output_tokens"),
            Some(FinishReason::ContentFilter) => Self::Incomplete("content_filter"),
            _ => Self::Completed,
        }
    }

    /// The status of the item that was being written when the response ended so.
    pub(crate) fn item_status(&self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::InProgress => "in_progress",
            Self::Incomplete(_) | Self::Failed(_) => "incomplete",
        }
    }
}

/// `response.error`: `{code, message}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ErrorObject {
    pub code: String,
    pub message: String,
}

/// One answer as far as it is known: what the response object is built from.
pub(crate) struct Snapshot<'a> {
    pub id: &'a str,
    pub model: &'a str,
    pub created: u64,
    pub status: &'a Status,
    pub output: &'a [OutputItem],
    pub usage: Option<Usage>,
}

/// The response object as the API returns it (field order follows the API reference).
#[derive(Serialize)]
pub(crate) struct ResponseObject<'a> {
    id: &'a str,
    object: &'static str,
    created_at: u64,
    status: &'static str,
    error: Option<&'a ErrorObject>,
    incomplete_details: Option<IncompleteDetails>,
    instructions: Option<&'a str>,
    max_output_tokens: Option<u64>,
    model: &'a str,
    output: &'a [OutputItem],
    parallel_tool_calls: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<&'a ReasoningEcho>,
    temperature: Option<f64>,
    text: &'a TextEcho,
    tool_choice: &'a ToolChoiceEcho,
    tools: &'a [ToolEcho],
    top_p: Option<f64>,
    usage: Option<UsageWire>,
    metadata: &'a Value,
}

#[derive(Serialize)]
struct IncompleteDetails {
    reason: &'static str,
}

pub(crate) fn response_object<'a>(echo: &'a Echo, snap: &Snapshot<'a>) -> ResponseObject<'a> {
    let (status, error, incomplete) = match snap.status {
        Status::InProgress => ("in_progress", None, None),
        Status::Completed => ("completed", None, None),
        Status::Incomplete(reason) => ("incomplete", None, Some(IncompleteDetails { reason })),
        Status::Failed(error) => ("failed", Some(error), None),
    };
    ResponseObject {
        id: snap.id,
        object: "response",
        created_at: snap.created,
        status,
        error,
        incomplete_details: incomplete,
        instructions: echo.instructions.as_deref(),
        max_output_tokens: echo.max_output_tokens,
        model: if snap.model.is_empty() {
            &echo.model
        } else {
            snap.model
        },
        output: snap.output,
        parallel_tool_calls: echo.parallel_tool_calls,
        reasoning: echo.reasoning.as_ref(),
        temperature: echo.temperature,
        text: &echo.text,
        tool_choice: &echo.tool_choice,
        tools: &echo.tools,
        top_p: echo.top_p,
        usage: snap.usage.map(UsageWire::from),
        metadata: &echo.metadata,
    }
}

/// One output item.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum OutputItem {
    Reasoning {
        id: String,
        summary: Vec<SummaryText>,
    },
    Message {
        id: String,
        status: &'static str,
        role: &'static str,
        content: Vec<OutputText>,
    },
    FunctionCall {
        id: String,
        call_id: String,
        name: String,
        arguments: String,
        status: &'static str,
    },
}

impl OutputItem {
    pub(crate) fn message(id: String, status: &'static str, content: Vec<OutputText>) -> Self {
        Self::Message {
            id,
            status,
            role: "assistant",
            content,
        }
    }

    /// Sets the status of a message or function call (reasoning items carry none).
    pub(crate) fn set_status(&mut self, new: &'static str) {
        if let Self::Message { status, .. } | Self::FunctionCall { status, .. } = self {
            *status = new;
        }
    }
}

/// `{"type":"summary_text","text":...}`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SummaryText {
    #[serde(rename = "type")]
    kind: &'static str,
    pub text: String,
}

impl SummaryText {
    pub(crate) fn new(text: String) -> Self {
        Self {
            kind: "summary_text",
            text,
        }
    }
}

/// `{"type":"output_text","text":...,"annotations":[],"logprobs":[]}`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct OutputText {
    #[serde(rename = "type")]
    kind: &'static str,
    pub text: String,
    annotations: [(); 0],
    logprobs: [(); 0],
}

impl OutputText {
    pub(crate) fn new(text: String) -> Self {
        Self {
            kind: "output_text",
            text,
            annotations: [],
            logprobs: [],
        }
    }
}

#[derive(Serialize)]
struct UsageWire {
    input_tokens: u64,
    input_tokens_details: InputDetails,
    output_tokens: u64,
    output_tokens_details: OutputDetails,
    total_tokens: u64,
}

#[derive(Serialize)]
struct InputDetails {
    cached_tokens: u64,
    cache_write_tokens: u64,
}

#[derive(Serialize)]
struct OutputDetails {
    reasoning_tokens: u64,
}

impl From<Usage> for UsageWire {
    fn from(u: Usage) -> Self {
        Self {
            input_tokens: u.input_tokens,
            input_tokens_details: InputDetails {
                cached_tokens: u.cached_input_tokens,
                cache_write_tokens: u.cache_creation_input_tokens,
            },
            output_tokens: u.output_tokens,
            output_tokens_details: OutputDetails {
                reasoning_tokens: u.reasoning_tokens,
            },
            total_tokens: u.total(),
        }
    }
}

/// Deterministic item ids derived from the canonical response id, so the streamed and
/// the non-streamed form of one answer name their items alike.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ids {
    base: String,
    messages: usize,
    reasonings: usize,
}

impl Ids {
    pub(crate) fn new(canonical_id: &str) -> Self {
        let base = canonical_id.strip_prefix("resp_").unwrap_or(canonical_id);
        Self {
            base: if base.is_empty() {
                "sluice".to_owned()
            } else {
                base.to_owned()
            },
            messages: 0,
            reasonings: 0,
        }
    }

    pub(crate) fn response(&self) -> String {
        format!("resp_{}", self.base)
    }

    pub(crate) fn next_message(&mut self) -> String {
        self.messages += 1;
        ordinal("msg", &self.base, self.messages)
    }

    pub(crate) fn next_reasoning(&mut self) -> String {
        self.reasonings += 1;
        ordinal("rs", &self.base, self.reasonings)
    }
}

/// `msg_<base>` for the first item of a kind, `msg_<base>_2` for the second, ...
fn ordinal(prefix: &str, base: &str, n: usize) -> String {
    if n == 1 {
        format!("{prefix}_{base}")
    } else {
        format!("{prefix}_{base}_{n}")
    }
}

pub(crate) fn call_item_id(call_id: &str) -> String {
    if call_id.starts_with("fc_") {
        call_id.to_owned()
    } else {
        format!("fc_{call_id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_derive_from_the_canonical_id() {
        let mut ids = Ids::new("resp_abc");
        assert_eq!(ids.response(), "resp_abc");
        assert_eq!(ids.next_message(), "msg_abc");
        assert_eq!(ids.next_message(), "msg_abc_2");
        assert_eq!(ids.next_reasoning(), "rs_abc");
        assert_eq!(Ids::new("chatcmpl-1").response(), "resp_chatcmpl-1");
        assert_eq!(Ids::new("").response(), "resp_sluice");
        assert_eq!(call_item_id("call_1"), "fc_call_1");
        assert_eq!(call_item_id("fc_1"), "fc_1");
    }

    #[test]
    fn finish_reasons_map_to_statuses() {
        assert_eq!(Status::from_finish(None), Status::Completed);
        assert_eq!(
            Status::from_finish(Some(FinishReason::ToolCalls)),
            Status::Completed
        );
        assert_eq!(
            Status::from_finish(Some(FinishReason::Length)),
            Status::Incomplete("max_output_tokens")
        );
        assert_eq!(
            Status::from_finish(Some(FinishReason::ContentFilter)).item_status(),
            "incomplete"
        );
    }
}
