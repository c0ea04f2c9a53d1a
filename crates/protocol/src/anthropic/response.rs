//! Complete (non-streamed) messages both ways, plus the stop-reason and usage mappings
//! the stream codecs share.
//!
//! Anthropic's usage splits input tokens into uncached, cache-read and cache-written;
//! canonical `input_tokens` is their sum. Must never fail an upstream body for content
//! it merely does not know (new block types are skipped), only for broken shapes.

use super::content::{self, tool_input};
use super::wire::{InResponse, InUsage, OutBlock, OutResponse, OutUsage, ToolInput};
use crate::canonical::{ChatRequest, ChatResponse, FinishReason, Part, TranslateError, Usage};

const FORMAT: &str = "anthropic";

/// Writes a canonical response as an Anthropic `message` body.
pub fn encode_response(resp: &ChatResponse, req: &ChatRequest) -> Vec<u8> {
    let model = if resp.model.is_empty() {
        &req.model
    } else {
        &resp.model
    };
    let wire = OutResponse {
        id: message_id(&resp.id),
        kind: "message",
        role: "assistant",
        model,
        content: resp.content.iter().filter_map(response_block).collect(),
        stop_reason: resp.finish.map(stop_reason),
        stop_sequence: resp.stop_sequence.as_deref(),
        usage: resp.usage.as_ref().map(split_usage).unwrap_or_default(),
    };
    // Serializing strings, numbers and raw JSON cannot fail.
    serde_json::to_vec(&wire).unwrap_or_default()
}

/// Anthropic message ids start with `msg_`; other providers' ids get the prefix.
pub fn message_id(id: &str) -> String {
    if id.starts_with("msg_") {
        id.to_owned()
    } else {
        format!("msg_{id}")
    }
}

fn response_block(part: &Part) -> Option<OutBlock<'_>> {
    match part {
        Part::Text { text, .. } => Some(OutBlock::Text {
            text,
            cache_control: None,
        }),
        // Arguments that are not a JSON object (an answer cut off by max_tokens) are
        // passed on as a string rather than lost.
        Part::ToolCall {
            id,
            name,
            arguments,
        } => Some(OutBlock::ToolUse {
            id,
            name,
            input: tool_input(arguments).unwrap_or(ToolInput::Text(arguments)),
        }),
        Part::Thinking { text, signature } => Some(OutBlock::Thinking {
            thinking: text,
            signature: signature.as_deref().unwrap_or(""),
        }),
        Part::RedactedThinking { data } => Some(OutBlock::RedactedThinking { data }),
        Part::Image { .. } | Part::ToolResult { .. } => None,
    }
}

/// Reads an Anthropic `message` body.
pub fn decode_response(body: &[u8]) -> Result<ChatResponse, TranslateError> {
    let wire: InResponse = crate::json::from_bytes(body)
        .map_err(|e| TranslateError::upstream(FORMAT, e.to_string()))?;
    let mut parts = Vec::with_capacity(wire.content.len());
    for (i, block) in wire.content.into_iter().enumerate() {
        // Server tool blocks and future types: nothing a client of another format
        // could use, and Sluice never asks for them.
        if !content::is_known(&block.kind) {
            continue;
        }
        let part = content::to_part(block).map_err(|e| {
            TranslateError::upstream(FORMAT, format!("content[{i}].{}: {}", e.field, e.message))
        })?;
        parts.push(part);
    }
    Ok(ChatResponse {
        id: wire.id,
        model: wire.model,
        created: 0,
        content: parts,
        // An unknown reason is still a stop; null means the body never said.
        finish: wire
            .stop_reason
            .as_deref()
            .map(|r| finish_reason(r).unwrap_or(FinishReason::Stop)),
        stop_sequence: wire.stop_sequence,
        usage: wire.usage.map(join_usage),
    })
}

pub fn finish_reason(stop_reason: &str) -> Option<FinishReason> {
    Some(match stop_reason {
        "end_turn" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "stop_sequence" => FinishReason::StopSequence,
        "tool_use" => FinishReason::ToolCalls,
        "pause_turn" => FinishReason::Pause,
        "refusal" => FinishReason::ContentFilter,
        _ => return None,
    })
}

pub fn stop_reason(finish: FinishReason) -> &'static str {
    match finish {
        FinishReason::Stop => "end_turn",
        FinishReason::Length => "max_tokens",
        FinishReason::StopSequence => "stop_sequence",
        FinishReason::ToolCalls => "tool_use",
        FinishReason::Pause => "pause_turn",
        FinishReason::ContentFilter => "refusal",
    }
}

/// Anthropic's split usage as canonical usage (input = uncached + read + written).
pub fn join_usage(wire: InUsage) -> Usage {
    let read = wire.cache_read_input_tokens.unwrap_or(0);
    let written = wire.cache_creation_input_tokens.unwrap_or(0);
    Usage {
        input_tokens: wire.input_tokens.unwrap_or(0) + read + written,
        output_tokens: wire.output_tokens.unwrap_or(0),
        cached_input_tokens: read,
        cache_creation_input_tokens: written,
        reasoning_tokens: 0,
    }
}

/// Canonical usage split back into Anthropic's fields.
pub fn split_usage(usage: &Usage) -> OutUsage {
    let cached = usage.cached_input_tokens + usage.cache_creation_input_tokens;
    OutUsage {
        input_tokens: usage.input_tokens.saturating_sub(cached),
        cache_creation_input_tokens: usage.cache_creation_input_tokens,
        cache_read_input_tokens: usage.cached_input_tokens,
        output_tokens: usage.output_tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_splits_back_to_what_was_joined() {
        let wire = InUsage {
            input_tokens: Some(10),
            output_tokens: Some(5),
            cache_creation_input_tokens: Some(3),
            cache_read_input_tokens: Some(7),
        };
        let usage = join_usage(wire);
        assert_eq!(usage.input_tokens, 20);
        let out = split_usage(&usage);
        assert_eq!(
            (
                out.input_tokens,
                out.cache_creation_input_tokens,
                out.cache_read_input_tokens
            ),
            (10, 3, 7)
        );
    }

    #[test]
    fn ids_get_the_msg_prefix_once() {
        assert_eq!(message_id("msg_01"), "msg_01");
        assert_eq!(message_id("chatcmpl-9"), "msg_chatcmpl-9");
    }
}
