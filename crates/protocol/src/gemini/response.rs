//! Gemini `GenerateContentResponse` → canonical [`ChatResponse`], and the mappings the
//! stream decoder shares with it (parts, finish reasons, usage, ids), so a streamed and
//! a whole answer decode alike.
//!
//! Reads the first candidate only (Sluice never asks for more). Must never panic or
//! trust a count: everything here comes from the provider.

use super::error::redact;
use super::wire::{FunctionCall, GenerateContentResponse, Part as WirePart, UsageMetadata};
use crate::canonical::{ChatResponse, FinishReason, Part, TranslateError, Usage};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};

const FORMAT: &str = "gemini";

/// Numbers response ids when Gemini sends none (older API versions, some proxies).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub fn decode_response(body: &[u8]) -> Result<ChatResponse, TranslateError> {
    let wire: GenerateContentResponse = parse(body)?;
    if let Some(status) = &wire.error {
        let message = status.message.as_deref().map(redact).unwrap_or_default();
        return Err(TranslateError::upstream(
            FORMAT,
            format!("error in a success response: {message}"),
        ));
    }
    let mut ids = CallIds::new(wire.response_id.as_deref());
    let mut content: Vec<Part> = Vec::new();
    let parts = wire
        .candidate()
        .and_then(|c| c.content.as_ref())
        .map(|c| c.parts.as_slice());
    for part in parts.unwrap_or_default() {
        match piece(part) {
            Some(Piece::Text(text)) => match content.last_mut() {
                Some(Part::Text { text: last, .. }) => last.push_str(text),
                _ => content.push(Part::text(text)),
            },
            Some(Piece::Thinking(text)) => match content.last_mut() {
                Some(Part::Thinking { text: last, .. }) => last.push_str(text),
                _ => content.push(Part::Thinking {
                    text: text.to_owned(),
                    signature: None,
                }),
            },
            Some(Piece::Call(call)) => {
                let (_, id) = ids.next(call);
                content.push(Part::ToolCall {
                    id,
                    name: call.name.clone(),
                    arguments: arguments(call),
                });
            }
            None => {}
        }
    }
    Ok(ChatResponse {
        id: response_id(wire.response_id.as_deref()),
        model: wire.model_version.clone().unwrap_or_default(),
        created: 0,
        finish: outcome(&wire, ids.count() > 0),
        content,
        stop_sequence: None,
        usage: wire.usage_metadata.as_ref().map(usage),
    })
}

/// Parses a whole JSON object (trailing bytes are an error), naming the path of a bad
/// field. Arrays are refused up front: serde would read one into a struct field by field.
pub(super) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, TranslateError> {
    let fail = |e: String| TranslateError::upstream(FORMAT, e);
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(fail("expected a JSON object".to_owned()));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| fail(format!("{} at `{}`", e.inner(), e.path())))?;
    de.end().map_err(|e| fail(e.to_string()))?;
    Ok(value)
}

/// What one Gemini part means canonically; parts Sluice does not map (executable
/// code, inline images from image models, empty texts carrying only a signature) are `None`.
pub(super) enum Piece<'a> {
    Text(&'a str),
    Thinking(&'a str),
    Call(&'a FunctionCall),
}

pub(super) fn piece(part: &WirePart) -> Option<Piece<'_>> {
    if let Some(call) = &part.function_call {
        return Some(Piece::Call(call));
    }
    let text = part.text.as_deref().filter(|t| !t.is_empty())?;
    Some(if part.thought == Some(true) {
        Piece::Thinking(text)
    } else {
        Piece::Text(text)
    })
}

/// The call's arguments as JSON text (`{}` when Gemini sent none).
pub(super) fn arguments(call: &FunctionCall) -> String {
    match &call.args {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(args) => args.to_string(),
    }
}

/// Tool call ids: Gemini's own when it sends one, else `call_<n>` (n counts this
/// response's calls from 0), qualified by the response id when there is one so that
/// ids stay unique across the turns of a conversation.
#[derive(Debug, Default)]
pub(super) struct CallIds {
    prefix: String,
    count: usize,
}

impl CallIds {
    pub(super) fn new(response_id: Option<&str>) -> Self {
        let safe: String = response_id
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            .take(64)
            .collect();
        let prefix = if safe.is_empty() {
            "call_".to_owned()
        } else {
            format!("call_{safe}_")
        };
        Self { prefix, count: 0 }
    }

    /// The next call's index in this response and its id.
    pub(super) fn next(&mut self, call: &FunctionCall) -> (usize, String) {
        let index = self.count;
        self.count += 1;
        let id = match call.id.as_deref() {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => format!("{}{index}", self.prefix),
        };
        (index, id)
    }

    pub(super) fn count(&self) -> usize {
        self.count
    }
}

pub(super) fn response_id(wire: Option<&str>) -> String {
    match wire {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => format!("gemini-{}", NEXT_ID.fetch_add(1, Ordering::Relaxed)),
    }
}

/// Why the answer ended, if this response (or chunk) says: the candidate's finish
/// reason, or a blocked prompt (no candidates, a `blockReason`).
pub(super) fn outcome(wire: &GenerateContentResponse, saw_calls: bool) -> Option<FinishReason> {
    if let Some(reason) = wire.candidate().and_then(|c| c.finish_reason.as_deref()) {
        return finish_reason(reason, saw_calls);
    }
    let blocked = wire
        .prompt_feedback
        .as_ref()
        .and_then(|f| f.block_reason.as_deref());
    (wire.candidates.is_empty() && blocked.is_some()).then_some(FinishReason::ContentFilter)
}

/// Gemini says `STOP` after function calls too; canonical says `ToolCalls` then.
fn finish_reason(reason: &str, saw_calls: bool) -> Option<FinishReason> {
    Some(match reason {
        "" | "FINISH_REASON_UNSPECIFIED" => return None,
        "STOP" if saw_calls => FinishReason::ToolCalls,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    })
}

/// Gemini counts thoughts apart from the answer and tool-use prompts apart from the
/// prompt; canonical output includes reasoning and input includes everything read.
pub(super) fn usage(u: &UsageMetadata) -> Usage {
    Usage {
        input_tokens: u
            .prompt_token_count
            .saturating_add(u.tool_use_prompt_token_count),
        output_tokens: u
            .candidates_token_count
            .saturating_add(u.thoughts_token_count),
        cached_input_tokens: u.cached_content_token_count,
        cache_creation_input_tokens: 0,
        reasoning_tokens: u.thoughts_token_count,
    }
}
