//! Chat Completions response body ↔ canonical response: [`decode_response`] reads an
//! upstream's answer, [`encode_response`] writes one for an OpenAI client.
//!
//! Only choice 0 is read (requests with `n > 1` are refused before they go out). Must
//! never fail on fields it does not know: compatible servers add their own.

use super::error::read_kind_and_message;
use super::wire::{
    ChatCompletion, Choice, CompletionTokensDetails, Content, FunctionCall, PromptTokensDetails,
    WireMessage, WireToolCall, WireUsage,
};
use crate::canonical::{ChatRequest, ChatResponse, FinishReason, Part, TranslateError, Usage};
use crate::openai::wire::reasoning_part;

const FORMAT: &str = "openai";

/// Decodes an upstream's `chat.completion` body.
pub fn decode_response(body: &[u8]) -> Result<ChatResponse, TranslateError> {
    let wire: ChatCompletion = crate::json::from_bytes(body)
        .map_err(|e| TranslateError::upstream(FORMAT, format!("not a chat completion: {e}")))?;
    if let Some(error) = &wire.error {
        let (_, message) = read_kind_and_message(error);
        let message = message.unwrap_or_else(|| "no message".to_owned());
        return Err(TranslateError::upstream(
            FORMAT,
            format!("error instead of a completion: {message}"),
        ));
    }
    let Some(choice) = wire.choices.into_iter().find(|c| c.index == 0) else {
        return Err(TranslateError::upstream(
            FORMAT,
            "the completion has no choices",
        ));
    };
    Ok(ChatResponse {
        id: wire.id,
        model: wire.model,
        created: wire.created,
        content: message_parts(choice.message),
        finish: choice.finish_reason.as_deref().map(finish_from_wire),
        stop_sequence: None,
        usage: wire.usage.map(usage_from_wire),
    })
}

/// Reasoning, then text, then refusal, then tool calls: the order they were produced in.
fn message_parts(mut m: WireMessage) -> Vec<Part> {
    let mut out: Vec<Part> = reasoning_part(&mut m).into_iter().collect();
    match m.content {
        Some(Content::Text(text)) => out.push(Part::text(text)),
        // Not OpenAI's shape, but some servers answer with parts: keep their text.
        Some(Content::Parts(parts)) => {
            out.extend(
                parts
                    .into_iter()
                    .filter_map(|p| p.text.or(p.refusal))
                    .map(Part::text),
            );
        }
        None => {}
    }
    out.extend(m.refusal.map(Part::text));
    out.retain(|p| p.as_text() != Some(""));
    out.extend(m.tool_calls.unwrap_or_default().into_iter().map(|call| {
        let f = call.function.unwrap_or(FunctionCall {
            name: String::new(),
            arguments: String::new(),
        });
        Part::ToolCall {
            id: call.id,
            name: f.name,
            arguments: f.arguments,
        }
    }));
    out
}

/// Unknown reasons (`eos`, `abort`, ...) from compatible servers read as a normal stop.
pub(crate) fn finish_from_wire(reason: &str) -> FinishReason {
    match reason {
        "length" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    }
}

/// OpenAI has no stop-sequence or pause reason: both read as `stop` to its clients.
pub(crate) fn finish_to_wire(reason: FinishReason) -> &'static str {
    match reason {
        FinishReason::Stop | FinishReason::StopSequence | FinishReason::Pause => "stop",
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool_calls",
        FinishReason::ContentFilter => "content_filter",
    }
}

pub(crate) fn usage_from_wire(u: WireUsage) -> Usage {
    let cached = u.prompt_tokens_details.and_then(|d| d.cached_tokens);
    Usage {
        input_tokens: u.prompt_tokens,
        output_tokens: u.completion_tokens,
        cached_input_tokens: cached.or(u.prompt_cache_hit_tokens).unwrap_or(0),
        cache_creation_input_tokens: 0,
        reasoning_tokens: u
            .completion_tokens_details
            .and_then(|d| d.reasoning_tokens)
            .unwrap_or(0),
    }
}

/// Cache writes have no OpenAI field; they stay counted in `prompt_tokens`.
pub(crate) fn usage_to_wire(u: &Usage) -> WireUsage {
    WireUsage {
        prompt_tokens: u.input_tokens,
        completion_tokens: u.output_tokens,
        total_tokens: u.total(),
        prompt_tokens_details: Some(PromptTokensDetails {
            cached_tokens: Some(u.cached_input_tokens),
        }),
        completion_tokens_details: Some(CompletionTokensDetails {
            reasoning_tokens: Some(u.reasoning_tokens),
        }),
        prompt_cache_hit_tokens: None,
    }
}

/// OpenAI ids start with `chatcmpl-`; SDKs and log tools assume so.
pub(crate) fn completion_id(id: &str) -> String {
    if id.starts_with("chatcmpl-") {
        id.to_owned()
    } else {
        format!("chatcmpl-{id}")
    }
}

/// Encodes `resp` as a `chat.completion` body for an OpenAI client.
pub fn encode_response(resp: &ChatResponse, req: &ChatRequest) -> Vec<u8> {
    let wire = ChatCompletion {
        id: completion_id(&resp.id),
        object: "chat.completion".to_owned(),
        created: resp.created,
        model: if resp.model.is_empty() {
            req.model.clone()
        } else {
            resp.model.clone()
        },
        choices: vec![Choice {
            index: 0,
            message: response_message(&resp.content),
            logprobs: None,
            // A response without a reason ended normally as far as anyone knows.
            finish_reason: Some(
                finish_to_wire(resp.finish.unwrap_or(FinishReason::Stop)).to_owned(),
            ),
        }],
        usage: resp.usage.as_ref().map(usage_to_wire),
        system_fingerprint: None,
        error: None,
    };
    // Plain strings and numbers: serializing cannot fail.
    serde_json::to_vec(&wire).unwrap_or_default()
}

/// Thinking goes out as `reasoning_content` (DeepSeek's field, read by most clients that
/// show reasoning); redacted thinking and signatures have no OpenAI form.
fn response_message(parts: &[Part]) -> WireMessage {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut calls = Vec::new();
    for part in parts {
        match part {
            Part::Text { text: t, .. } => text.push_str(t),
            Part::Thinking { text: t, .. } => reasoning.push_str(t),
            Part::ToolCall {
                id,
                name,
                arguments,
            } => calls.push(WireToolCall::function(id, name, arguments)),
            Part::RedactedThinking { .. } | Part::Image { .. } | Part::ToolResult { .. } => {}
        }
    }
    WireMessage {
        role: "assistant".to_owned(),
        content: (!text.is_empty() || calls.is_empty()).then_some(Content::Text(text)),
        tool_calls: (!calls.is_empty()).then_some(calls),
        reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
        ..WireMessage::default()
    }
}
