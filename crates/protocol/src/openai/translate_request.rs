//! Chat Completions request ↔ canonical request: [`decode_request`] for clients that speak
//! OpenAI (ingress), [`encode_request`] for upstreams that speak it (provider).
//!
//! Decoding rejects what the canonical model cannot carry (audio and file parts, custom
//! tools, legacy `functions`) with the JSON path of the field, never drops it silently.
//! Encoding must never send fields OpenAI-compatible servers commonly reject; whatever
//! it leaves out is named in `notes`.

use super::decode_messages::decode_message;
use super::encode_messages::{encode_messages, uses_cache_control};
use super::request::decode as decode_json;
use super::wire::{
    ChatCompletionRequest, FunctionDef, FunctionName, JsonSchema, NamedToolChoice, Stop,
    StreamOptions, WireResponseFormat, WireTool, WireToolChoice,
};
use crate::canonical::{
    ChatRequest, Format, ReasoningConfig, ResponseFormat, Tool, ToolChoice, TranslateError,
};
use serde_json::{Value, json};

const TARGET: &str = "openai";

/// Decodes a client's Chat Completions body.
pub fn decode_request(body: &[u8]) -> Result<ChatRequest, TranslateError> {
    let wire: ChatCompletionRequest = decode_json(body).map_err(|e| TranslateError::Invalid {
        message: e.message,
        param: e.param,
    })?;
    for legacy in ["functions", "function_call"] {
        let used = |v: &Value| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty());
        if wire.extra.get(legacy).is_some_and(used) {
            return Err(TranslateError::invalid(
                format!("legacy `{legacy}` cannot be translated; use `tools` and `tool_choice`"),
                Some(legacy),
            ));
        }
    }
    let mut req = ChatRequest::new(wire.model, Format::OpenAiChat);
    let mut last_was_tool = false;
    for (i, message) in wire.messages.into_iter().enumerate() {
        last_was_tool = decode_message(&mut req, message, i, last_was_tool)?;
    }
    req.tools = match wire.tools {
        Some(tools) => tools
            .into_iter()
            .enumerate()
            .map(decode_tool)
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    req.tool_choice = wire.tool_choice.map(decode_tool_choice).transpose()?;
    req.parallel_tool_calls = wire.parallel_tool_calls;
    req.max_tokens = wire.max_completion_tokens.or(wire.max_tokens);
    req.temperature = wire.temperature;
    req.top_p = wire.top_p;
    req.stop = match wire.stop {
        Some(Stop::One(s)) => vec![s],
        Some(Stop::Many(v)) => v,
        None => Vec::new(),
    };
    req.stream = wire.stream.unwrap_or(false);
    req.include_usage = wire
        .stream_options
        .and_then(|o| o.include_usage)
        .unwrap_or(false);
    req.response_format = wire
        .response_format
        .map(decode_response_format)
        .transpose()?;
    // `none` asks for no reasoning, which is what no reasoning config means to every encoder.
    req.reasoning = wire
        .reasoning_effort
        .filter(|e| e != "none")
        .map(|effort| ReasoningConfig {
            effort: Some(effort),
            budget_tokens: None,
        });
    req.seed = wire.seed;
    req.presence_penalty = wire.presence_penalty;
    req.frequency_penalty = wire.frequency_penalty;
    req.user = wire.user;
    req.extra = wire.extra;
    Ok(req)
}

fn decode_tool((i, tool): (usize, WireTool)) -> Result<Tool, TranslateError> {
    if tool.kind != "function" {
        return Err(TranslateError::invalid(
            format!("tool type `{}` cannot be translated", tool.kind),
            Some(&format!("tools[{i}].type")),
        ));
    }
    let Some(function) = tool.function else {
        return Err(TranslateError::invalid(
            "function tools need a `function` object",
            Some(&format!("tools[{i}].function")),
        ));
    };
    Ok(Tool {
        name: function.name,
        description: function.description,
        // OpenAI allows omitting `parameters` (no arguments); other formats require a schema.
        parameters: function
            .parameters
            .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        strict: function.strict,
        cache_control: None,
    })
}

fn decode_tool_choice(choice: WireToolChoice) -> Result<ToolChoice, TranslateError> {
    let param = Some("tool_choice");
    match choice {
        WireToolChoice::Mode(mode) => match mode.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Required),
            other => Err(TranslateError::invalid(
                format!("unknown tool_choice `{other}`"),
                param,
            )),
        },
        WireToolChoice::Named(NamedToolChoice {
            kind,
            function: Some(FunctionName { name }),
        }) if kind == "function" => Ok(ToolChoice::Tool(name)),
        WireToolChoice::Named(named) => Err(TranslateError::invalid(
            format!("tool_choice type `{}` cannot be translated", named.kind),
            param,
        )),
    }
}

fn decode_response_format(format: WireResponseFormat) -> Result<ResponseFormat, TranslateError> {
    match (format.kind.as_str(), format.json_schema) {
        ("text", _) => Ok(ResponseFormat::Text),
        ("json_object", _) => Ok(ResponseFormat::JsonObject),
        ("json_schema", Some(s)) => Ok(ResponseFormat::JsonSchema {
            name: s.name,
            schema: s.schema.unwrap_or(Value::Null),
            strict: s.strict,
            description: s.description,
        }),
        ("json_schema", None) => Err(TranslateError::invalid(
            "response_format of type `json_schema` needs a `json_schema` object",
            Some("response_format.json_schema"),
        )),
        (other, _) => Err(TranslateError::invalid(
            format!("response_format type `{other}` cannot be translated"),
            Some("response_format.type"),
        )),
    }
}

/// Encodes `req` for an OpenAI-compatible upstream.
///
/// The output limit goes out as `max_tokens`, not `max_completion_tokens`: vLLM, Ollama,
/// llama.cpp and most other compatible servers know the older name, and OpenAI still
/// accepts it for non-reasoning models.
pub fn encode_request(
    req: &ChatRequest,
    notes: &mut Vec<String>,
) -> Result<Vec<u8>, TranslateError> {
    let extra = match req.source {
        Format::OpenAiChat => req.extra.clone(),
        other => {
            for key in req.foreign_extras(Format::OpenAiChat)? {
                notes.push(format!(
                    "dropped `{key}` ({}): not supported by {TARGET}",
                    other.as_str()
                ));
            }
            serde_json::Map::new()
        }
    };
    let messages = encode_messages(req, notes)?;
    let mut wire = ChatCompletionRequest {
        model: req.model.clone(),
        messages,
        tool_choice: req.tool_choice.as_ref().map(encode_tool_choice),
        max_tokens: req.max_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        stop: (!req.stop.is_empty()).then(|| Stop::Many(req.stop.clone())),
        response_format: req.response_format.as_ref().map(encode_response_format),
        reasoning_effort: req.reasoning.as_ref().map(|r| r.effort().to_owned()),
        seed: req.seed,
        presence_penalty: req.presence_penalty,
        frequency_penalty: req.frequency_penalty,
        user: req.user.clone(),
        extra,
        ..ChatCompletionRequest::default()
    };
    encode_tools(req, &mut wire, notes);
    if req.stream {
        wire.stream = Some(true);
        // The gateway meters every stream, whatever the client asked for.
        wire.stream_options = Some(StreamOptions {
            include_usage: Some(true),
        });
    }
    note_lossy_fields(req, notes);
    serde_json::to_vec(&wire).map_err(|e| TranslateError::invalid(e.to_string(), None))
}

/// Notes for request-wide fields OpenAI has no place for (or only an approximation of).
fn note_lossy_fields(req: &ChatRequest, notes: &mut Vec<String>) {
    if uses_cache_control(req) {
        notes.push(format!(
            "dropped `cache_control`: prompt caching markers are not supported by {TARGET}"
        ));
    }
    if req.top_k.is_some() {
        notes.push(format!("dropped `top_k`: not supported by {TARGET}"));
    }
    if let Some(
        r @ ReasoningConfig {
            effort: None,
            budget_tokens: Some(b),
        },
    ) = &req.reasoning
    {
        notes.push(format!(
            "mapped thinking budget {b} to reasoning_effort `{}`",
            r.effort()
        ));
    }
}

fn encode_tools(req: &ChatRequest, wire: &mut ChatCompletionRequest, notes: &mut Vec<String>) {
    if req.tools.is_empty() {
        // OpenAI rejects `parallel_tool_calls` without `tools`.
        if req.parallel_tool_calls.is_some() {
            notes.push("dropped `parallel_tool_calls`: the request has no tools".to_owned());
        }
        return;
    }
    wire.parallel_tool_calls = req.parallel_tool_calls;
    wire.tools = Some(
        req.tools
            .iter()
            .map(|t| WireTool {
                kind: "function".to_owned(),
                function: Some(FunctionDef {
                    name: t.name.clone(),
                    description: t.description.clone(),
                    parameters: Some(t.parameters.clone()),
                    strict: t.strict,
                }),
            })
            .collect(),
    );
}

fn encode_tool_choice(choice: &ToolChoice) -> WireToolChoice {
    match choice {
        ToolChoice::Auto => WireToolChoice::Mode("auto".to_owned()),
        ToolChoice::None => WireToolChoice::Mode("none".to_owned()),
        ToolChoice::Required => WireToolChoice::Mode("required".to_owned()),
        ToolChoice::Tool(name) => WireToolChoice::Named(NamedToolChoice {
            kind: "function".to_owned(),
            function: Some(FunctionName { name: name.clone() }),
        }),
    }
}

fn encode_response_format(format: &ResponseFormat) -> WireResponseFormat {
    let (kind, json_schema) = match format {
        ResponseFormat::Text => ("text", None),
        ResponseFormat::JsonObject => ("json_object", None),
        ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
            description,
        } => (
            "json_schema",
            Some(JsonSchema {
                name: name.clone(),
                description: description.clone(),
                schema: (!schema.is_null()).then(|| schema.clone()),
                strict: *strict,
            }),
        ),
    };
    WireResponseFormat {
        kind: kind.to_owned(),
        json_schema,
    }
}
