//! Provider side: a canonical [`ChatRequest`] as an Anthropic Messages request body.
//!
//! Reshapes what Anthropic is stricter about (role alternation, tool results first,
//! required `max_tokens`, signed thinking, thinking-compatible sampling), refuses what
//! it cannot express (`Unsupported`), and notes every field it drops. Must never drop a
//! field that changes the answer without refusing instead.

use super::encode_messages;
use super::wire::{
    KNOWN_REQUEST_KEYS, OutBlock, OutMetadata, OutRequest, OutThinking, OutTool, OutToolChoice,
};
use crate::canonical::{ChatRequest, Format, Part, ResponseFormat, ToolChoice, TranslateError};
use serde_json::{Map, Value};
use std::borrow::Cow;

const TARGET: &str = "anthropic";
/// Sent when the client gave no `max_tokens` (Anthropic requires one).
pub const DEFAULT_MAX_TOKENS: u64 = 4096;
/// Anthropic's smallest thinking budget.
const MIN_BUDGET: u64 = 1024;

/// Encodes a request for `POST /v1/messages`.
pub fn encode_request(
    req: &ChatRequest,
    notes: &mut Vec<String>,
) -> Result<Vec<u8>, TranslateError> {
    // No JSON mode without a beta opt-in (structured outputs) the gateway does not send:
    // refuse rather than answer in free text a client will try to parse.
    if matches!(
        req.response_format,
        Some(ResponseFormat::JsonObject | ResponseFormat::JsonSchema { .. })
    ) {
        return Err(TranslateError::unsupported("response_format", TARGET));
    }
    let foreign = req.source != Format::Anthropic;
    for (set, name) in [
        (req.seed.is_some(), "seed"),
        (req.presence_penalty.is_some(), "presence_penalty"),
        (req.frequency_penalty.is_some(), "frequency_penalty"),
    ] {
        if set {
            note(
                notes,
                format!("dropped `{name}`: not supported by anthropic"),
            );
        }
    }
    let (max_tokens, thinking) = limits(req, notes);
    let mut wire = OutRequest {
        model: &req.model,
        system: system(&req.system),
        messages: encode_messages::messages(&req.messages, notes)?,
        max_tokens,
        stop_sequences: &req.stop,
        temperature: req.temperature,
        top_p: req.top_p,
        top_k: req.top_k,
        tools: tools(req, notes),
        tool_choice: tool_choice(req, notes),
        thinking,
        metadata: req.user.as_deref().map(|user_id| OutMetadata { user_id }),
        stream: req.stream,
        extra: Map::new(),
    };
    if foreign {
        sampling(&mut wire, notes);
        for key in req.foreign_extras(Format::Anthropic)? {
            note(
                notes,
                format!("dropped `{key}`: not supported by anthropic"),
            );
        }
    } else {
        wire.extra = same_format_extras(&req.extra, wire.thinking.is_some());
    }
    serde_json::to_vec(&wire).map_err(|e| TranslateError::invalid(e.to_string(), None))
}

pub(super) fn note(notes: &mut Vec<String>, text: String) {
    if !notes.contains(&text) {
        notes.push(text);
    }
}

/// The client's own extra fields, minus any key this encoder writes itself.
fn same_format_extras(extra: &Map<String, Value>, writes_thinking: bool) -> Map<String, Value> {
    extra
        .iter()
        .filter(|(k, _)| {
            !KNOWN_REQUEST_KEYS.contains(&k.as_str())
                || (k.as_str() == "thinking" && !writes_thinking)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `max_tokens` and the thinking budget, which Anthropic requires to be below it.
fn limits(req: &ChatRequest, notes: &mut Vec<String>) -> (u64, Option<OutThinking>) {
    let mut budget = req.reasoning.as_ref().map(|r| r.budget());
    let foreign = req.source != Format::Anthropic;
    if let Some(b) = budget.filter(|b| foreign && *b < MIN_BUDGET) {
        note(
            notes,
            format!("raised thinking budget {b} to anthropic's minimum {MIN_BUDGET}"),
        );
        budget = Some(MIN_BUDGET);
    }
    let max_tokens = req.max_tokens.unwrap_or_else(|| {
        // Room for the answer after the thinking budget.
        let chosen = budget.map_or(DEFAULT_MAX_TOKENS, |b| b + DEFAULT_MAX_TOKENS);
        note(
            notes,
            format!("set `max_tokens` to {chosen}: anthropic requires it"),
        );
        chosen
    });
    let thinking = budget.and_then(|b| {
        // A client of Anthropic's own format gets its budget as sent (betas allow more).
        if b < max_tokens || !foreign {
            Some(b)
        } else if max_tokens > MIN_BUDGET {
            note(
                notes,
                format!("lowered thinking budget {b} below max_tokens {max_tokens}"),
            );
            Some(max_tokens - 1)
        } else {
            note(
                notes,
                format!("dropped thinking: max_tokens {max_tokens} leaves no room for it"),
            );
            None
        }
    });
    let thinking = thinking.map(|budget_tokens| OutThinking {
        kind: "enabled",
        budget_tokens,
    });
    (max_tokens, thinking)
}

/// Sampling from other formats that Anthropic would reject: temperature is 0..=1, and
/// thinking allows neither temperature nor top_k changes, nor top_p below 0.95.
fn sampling(wire: &mut OutRequest<'_>, notes: &mut Vec<String>) {
    let thinking = wire.thinking.is_some();
    if let Some(t) = wire.temperature {
        if thinking && t != 1.0 {
            note(
                notes,
                "dropped `temperature`: anthropic does not allow it with thinking".into(),
            );
            wire.temperature = None;
        } else if t > 1.0 {
            note(
                notes,
                format!("clamped `temperature` {t} to 1: anthropic's range is 0 to 1"),
            );
            wire.temperature = Some(1.0);
        }
    }
    if thinking && wire.top_k.take().is_some() {
        note(
            notes,
            "dropped `top_k`: anthropic does not allow it with thinking".into(),
        );
    }
    if thinking && wire.top_p.is_some_and(|p| p < 0.95) {
        note(
            notes,
            "dropped `top_p`: anthropic allows only 0.95 to 1 with thinking".into(),
        );
        wire.top_p = None;
    }
}

fn system(parts: &[Part]) -> Vec<OutBlock<'_>> {
    parts
        .iter()
        .filter_map(|p| match p {
            Part::Text {
                text,
                cache_control,
            } if !text.is_empty() => Some(OutBlock::Text {
                text,
                cache_control: cache_control.as_ref().map(|c| &c.0),
            }),
            _ => None,
        })
        .collect()
}

fn tools<'a>(req: &'a ChatRequest, notes: &mut Vec<String>) -> Vec<OutTool<'a>> {
    req.tools
        .iter()
        .map(|tool| {
            // `strict` needs Anthropic's structured-outputs opt-in, which only a client
            // that already speaks Anthropic has asked for.
            let strict = if req.source == Format::Anthropic {
                tool.strict
            } else {
                None
            };
            if strict.is_none() && tool.strict.is_some() {
                note(
                    notes,
                    "dropped tool `strict`: not supported by anthropic".into(),
                );
            }
            OutTool {
                name: &tool.name,
                description: tool.description.as_deref(),
                input_schema: input_schema(&tool.parameters),
                cache_control: tool.cache_control.as_ref().map(|c| &c.0),
                strict,
            }
        })
        .collect()
}

/// Anthropic requires an object schema; tools without parameters get an empty one.
fn input_schema(parameters: &Value) -> Cow<'_, Value> {
    if parameters.is_object() {
        Cow::Borrowed(parameters)
    } else {
        Cow::Owned(serde_json::json!({"type": "object", "properties": {}}))
    }
}

fn tool_choice<'a>(req: &'a ChatRequest, notes: &mut Vec<String>) -> Option<OutToolChoice<'a>> {
    if req.tools.is_empty() {
        // Anthropic rejects `tool_choice` without tools; none can be called anyway.
        if matches!(
            req.tool_choice,
            Some(ToolChoice::Required | ToolChoice::Tool(_))
        ) {
            note(
                notes,
                "dropped `tool_choice`: the request has no tools".into(),
            );
        }
        return None;
    }
    let disable = req.parallel_tool_calls.map(|p| !p);
    let (kind, name) = match &req.tool_choice {
        None if disable == Some(true) => ("auto", None),
        None => return None,
        Some(ToolChoice::None) => {
            return Some(OutToolChoice {
                kind: "none",
                name: None,
                disable_parallel_tool_use: None,
            });
        }
        Some(ToolChoice::Auto) => ("auto", None),
        Some(ToolChoice::Required) => ("any", None),
        Some(ToolChoice::Tool(name)) => ("tool", Some(name.as_str())),
    };
    Some(OutToolChoice {
        kind,
        name,
        disable_parallel_tool_use: disable,
    })
}
