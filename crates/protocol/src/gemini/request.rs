//! Canonical request → the body of Gemini's `generateContent`: system instruction,
//! tools and tool config, generation config (sampling, output format, thinking).
//! The conversation itself is `contents.rs`'s job; the URL (model, streaming) `path.rs`'s.
//!
//! Must never drop anything that changes the answer without an `Unsupported` error;
//! harmless drops are named in `notes`, once each.

use super::contents::contents;
use super::schema;
use super::wire::{
    Content, FunctionCallingConfig, FunctionDeclaration, GenerateContentRequest, GenerationConfig,
    Part as WirePart, ThinkingConfig, Tool as WireTool, ToolConfig,
};
use crate::canonical::{
    ChatRequest, Format, Part, ReasoningConfig, ResponseFormat, Tool, ToolChoice, TranslateError,
};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

const TARGET: &str = "gemini";

pub(super) const CACHE_NOTE: &str = "dropped `cache_control`: gemini caches prompts implicitly";

/// Top-level body fields this encoder writes itself; a Gemini-sourced `extra` must not
/// repeat them.
const WRITTEN: &[&str] = &[
    "contents",
    "systemInstruction",
    "tools",
    "toolConfig",
    "generationConfig",
];

/// The JSON body for `models/{model}:generateContent` (and `:streamGenerateContent`:
/// the body is the same, streaming is chosen by [`super::path()`]).
pub fn encode_request(
    req: &ChatRequest,
    notes: &mut Vec<String>,
) -> Result<Vec<u8>, TranslateError> {
    let extra = extras(req, notes)?;
    dropped_fields(req, notes);
    let body = GenerateContentRequest {
        contents: contents(req, notes)?,
        system_instruction: system(req, notes),
        tools: tools(req, notes),
        tool_config: tool_config(req),
        generation_config: generation_config(req, notes),
        extra,
    };
    serde_json::to_vec(&body).map_err(|e| {
        TranslateError::invalid(format!("cannot encode the gemini request: {e}"), None)
    })
}

/// Pushes `text` unless an identical note is already there.
pub(super) fn note(notes: &mut Vec<String>, text: impl Into<String>) {
    let text = text.into();
    if !notes.contains(&text) {
        notes.push(text);
    }
}

fn extras(
    req: &ChatRequest,
    notes: &mut Vec<String>,
) -> Result<Map<String, Value>, TranslateError> {
    if req.source == Format::Gemini {
        let kept = req
            .extra
            .iter()
            .filter(|(k, _)| !WRITTEN.contains(&k.as_str()));
        return Ok(kept.map(|(k, v)| (k.clone(), v.clone())).collect());
    }
    for key in req.foreign_extras(Format::Gemini)? {
        note(notes, format!("dropped `{key}`: not supported by gemini"));
    }
    Ok(Map::new())
}

fn dropped_fields(req: &ChatRequest, notes: &mut Vec<String>) {
    if req.user.is_some() {
        note(notes, "dropped `user`: not supported by gemini");
    }
    if req.parallel_tool_calls == Some(false) {
        note(
            notes,
            "dropped `parallel_tool_calls: false`: gemini cannot forbid parallel calls",
        );
    }
}

fn system(req: &ChatRequest, notes: &mut Vec<String>) -> Option<Content> {
    let mut parts = Vec::new();
    for part in &req.system {
        match part {
            Part::Text {
                text,
                cache_control,
            } => {
                if cache_control.is_some() {
                    note(notes, CACHE_NOTE);
                }
                parts.push(WirePart::text(text));
            }
            _ => note(
                notes,
                "dropped non-text system content: not supported by gemini",
            ),
        }
    }
    (!parts.is_empty()).then_some(Content { role: None, parts })
}

fn tools(req: &ChatRequest, notes: &mut Vec<String>) -> Vec<WireTool> {
    if req.tools.is_empty() {
        return Vec::new();
    }
    let function_declarations = req.tools.iter().map(|t| declaration(t, notes)).collect();
    vec![WireTool {
        function_declarations,
    }]
}

fn declaration(tool: &Tool, notes: &mut Vec<String>) -> FunctionDeclaration {
    if tool.strict == Some(true) {
        note(notes, "dropped tool `strict`: gemini has no strict mode");
    }
    if tool.cache_control.is_some() {
        note(notes, CACHE_NOTE);
    }
    let (parameters, dropped) = schema::convert(&tool.parameters);
    schema_note(notes, &format!("tool `{}` parameters", tool.name), &dropped);
    FunctionDeclaration {
        name: tool.name.clone(),
        description: tool.description.clone(),
        // Gemini rejects an OBJECT schema with no properties: say "no arguments" instead.
        parameters: (!takes_no_arguments(&parameters)).then_some(parameters),
    }
}

fn takes_no_arguments(schema: &Value) -> bool {
    let Some(obj) = schema.as_object() else {
        return true;
    };
    let no_props = obj
        .get("properties")
        .and_then(Value::as_object)
        .is_none_or(Map::is_empty);
    let object_typed = obj
        .get("type")
        .is_none_or(|t| t == "object" || t == "OBJECT");
    no_props && object_typed && !obj.contains_key("anyOf")
}

fn schema_note(notes: &mut Vec<String>, what: &str, dropped: &BTreeSet<String>) {
    if !dropped.is_empty() {
        let list: Vec<&str> = dropped.iter().map(String::as_str).collect();
        note(
            notes,
            format!(
                "{what}: dropped {}: not supported by gemini schemas",
                list.join(", ")
            ),
        );
    }
}

fn tool_config(req: &ChatRequest) -> Option<ToolConfig> {
    // A calling mode without declared functions is an error at Gemini, and meaningless.
    if req.tools.is_empty() {
        return None;
    }
    let (mode, allowed) = match req.tool_choice.as_ref()? {
        ToolChoice::Auto => ("AUTO", Vec::new()),
        ToolChoice::None => ("NONE", Vec::new()),
        ToolChoice::Required => ("ANY", Vec::new()),
        ToolChoice::Tool(name) => ("ANY", vec![name.clone()]),
    };
    Some(ToolConfig {
        function_calling_config: FunctionCallingConfig {
            mode: mode.to_owned(),
            allowed_function_names: allowed,
        },
    })
}

fn generation_config(req: &ChatRequest, notes: &mut Vec<String>) -> Option<GenerationConfig> {
    let mut config = GenerationConfig {
        max_output_tokens: req.max_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        top_k: req.top_k,
        stop_sequences: req.stop.clone(),
        seed: req.seed,
        presence_penalty: req.presence_penalty,
        frequency_penalty: req.frequency_penalty,
        thinking_config: req.reasoning.as_ref().map(thinking),
        ..GenerationConfig::default()
    };
    response_format(req, &mut config, notes);
    (config != GenerationConfig::default()).then_some(config)
}

fn response_format(req: &ChatRequest, config: &mut GenerationConfig, notes: &mut Vec<String>) {
    match &req.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => {
            config.response_mime_type = Some("application/json".into());
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            config.response_mime_type = Some("application/json".into());
            let (converted, dropped) = schema::convert(schema);
            schema_note(notes, "response_format schema", &dropped);
            if converted.as_object().is_some_and(|o| !o.is_empty()) {
                config.response_schema = Some(converted);
            }
        }
    }
}

/// A budget of 0 (or effort `none`) turns thinking off; otherwise thoughts are asked
/// for so they can be relayed as reasoning.
fn thinking(reasoning: &ReasoningConfig) -> ThinkingConfig {
    let off = reasoning.budget_tokens == Some(0) || reasoning.effort.as_deref() == Some("none");
    if off {
        ThinkingConfig {
            thinking_budget: Some(0),
            include_thoughts: None,
        }
    } else {
        ThinkingConfig {
            thinking_budget: Some(reasoning.budget()),
            include_thoughts: Some(true),
        }
    }
}

/// Unsupported-feature errors carry this target name.
pub(super) fn unsupported(feature: &str) -> TranslateError {
    TranslateError::unsupported(feature, TARGET)
}
