//! Google Gemini `generateContent`: reading the request (`contents`,
//! `systemInstruction`, `tools`, `toolConfig`, `generationConfig`) into a
//! [`Conversation`] and writing the non-streaming `GenerateContentResponse`,
//! plus the pieces of that shape the stream reuses.
//!
//! This module must never invent reply content (that is `reply`'s job)
//! and never emit anything but the Gemini wire shape. Field names are read
//! in camelCase with a snake_case fallback, as Google's JSON parser allows.

use axum::response::Response;
use serde_json::{Value, json};

use crate::conversation::{Conversation, Format, Tool, ToolChoice, string_list};
use crate::dispatch::Parsed;
use crate::errors::{self, Dialect};
use crate::gemini_stream::{self, Framing};
use crate::reply::{self, Content, Finish, Reply, ToolCall};
use crate::routes::App;

/// Identity shared by every chunk of one response.
#[derive(Debug)]
pub(crate) struct Meta<'a> {
    pub response_id: String,
    pub model: &'a str,
}

pub(crate) fn reply(app: &App, parsed: &Parsed, framing: Option<Framing>) -> Response {
    let conv = match conversation(&parsed.body) {
        Ok(conv) => conv,
        Err(message) => return errors::bad_request(Dialect::Gemini, message),
    };
    let reply = reply::plan(
        &conv,
        &parsed.options,
        app.config.default_chunks,
        "call_mock_",
    );
    let meta = Meta {
        response_id: format!("gemini-mock-{}", app.next_id()),
        model: &parsed.model,
    };
    match framing {
        Some(framing) => gemini_stream::respond(app, &meta, &reply, framing, &parsed.options),
        None => errors::json_response(200, response(&meta, &reply).to_string()),
    }
}

/// Gemini reports `STOP` for function calls and stop sequences too.
pub(crate) fn finish_reason(finish: &Finish) -> &'static str {
    match finish {
        Finish::Length => "MAX_TOKENS",
        Finish::Stop | Finish::ToolCalls | Finish::StopSequence(_) => "STOP",
    }
}

pub(crate) fn usage(prompt_tokens: u64, output_tokens: u64) -> Value {
    json!({
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": prompt_tokens.saturating_add(output_tokens),
    })
}

pub(crate) fn function_call_part(call: &ToolCall) -> Value {
    json!({"functionCall": {"name": call.name, "args": call.input, "id": call.id}})
}

fn response(meta: &Meta<'_>, reply: &Reply) -> Value {
    let parts: Vec<Value> = match &reply.content {
        Content::Text(text) => vec![json!({"text": text.text})],
        Content::Tools(calls) => calls.iter().map(function_call_part).collect(),
    };
    json!({
        "candidates": [{
            "content": {"role": "model", "parts": parts},
            "finishReason": finish_reason(&reply.finish),
            "index": 0,
        }],
        "usageMetadata": usage(reply.prompt_tokens, reply.completion_tokens),
        "modelVersion": meta.model,
        "responseId": meta.response_id,
    })
}

/// `value[name]`, or `value[name_in_snake_case]`.
fn field<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    value.get(name).or_else(|| {
        let mut snake = String::with_capacity(name.len() + 4);
        for ch in name.chars() {
            if ch.is_ascii_uppercase() {
                snake.push('_');
            }
            snake.push(ch.to_ascii_lowercase());
        }
        value.get(snake)
    })
}

fn parts(content: &Value) -> &[Value] {
    content
        .get("parts")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The concatenated `text` of a content's parts.
fn text_of(parts: &[Value]) -> String {
    parts
        .iter()
        .filter_map(|part| part.get("text").and_then(Value::as_str))
        .collect()
}

/// The text of every `functionResponse` part, or `None` when there is none.
fn function_response_text(parts: &[Value]) -> Option<String> {
    let mut responses = parts
        .iter()
        .filter_map(|part| field(part, "functionResponse"))
        .peekable();
    responses.peek()?;
    Some(
        responses
            .map(|r| response_text(r.get("response")))
            .collect(),
    )
}

/// A function response as text: a bare string, the one string field of a
/// single-field object (`{"result": "sunny"}` gives `sunny`, as gateways
/// usually wrap tool output that way), otherwise its compact JSON.
fn response_text(response: Option<&Value>) -> String {
    match response {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Object(map)) if map.len() == 1 => match map.values().next() {
            Some(Value::String(text)) => text.clone(),
            _ => Value::Object(map.clone()).to_string(),
        },
        Some(other) => other.to_string(),
    }
}

fn conversation(body: &Value) -> Result<Conversation<'_>, &'static str> {
    let contents = body
        .get("contents")
        .and_then(Value::as_array)
        .ok_or("`contents` must be an array")?;
    let system = field(body, "systemInstruction").map_or_else(String::new, |s| text_of(parts(s)));
    let mut prompt_chars = system.chars().count();
    let mut last_user_text = String::new();
    for content in contents {
        let parts = parts(content);
        let text = text_of(parts);
        prompt_chars += text.chars().count();
        prompt_chars += function_response_text(parts).map_or(0, |result| result.chars().count());
        if !is_model(content) && !text.is_empty() {
            last_user_text = text;
        }
    }
    let tool_result = contents
        .last()
        .filter(|content| !is_model(content))
        .and_then(|content| function_response_text(parts(content)));
    let tools = tools(body.get("tools"));
    let tool_choice = tool_choice(body);
    let generation = field(body, "generationConfig");
    let setting = |name| generation.and_then(|config| field(config, name));
    Ok(Conversation {
        last_user_text,
        prefill: None,
        tool_result,
        prompt_chars,
        parallel_tools: tools.len() >= 2 && tool_choice == ToolChoice::Auto,
        tools,
        tool_choice,
        max_tokens: setting("maxOutputTokens").and_then(Value::as_u64),
        stop_sequences: string_list(setting("stopSequences")),
        format: format(
            setting("responseMimeType"),
            setting("responseSchema"),
            setting("responseJsonSchema"),
        ),
    })
}

/// A content without a role is the user's, as in single-turn requests;
/// the legacy `function` role carries function responses for the user.
fn is_model(content: &Value) -> bool {
    content.get("role").and_then(Value::as_str) == Some("model")
}

fn tools(tools: Option<&Value>) -> Vec<Tool<'_>> {
    let Some(tools) = tools.and_then(Value::as_array) else {
        return Vec::new();
    };
    tools
        .iter()
        .filter_map(|tool| field(tool, "functionDeclarations")?.as_array())
        .flatten()
        .filter_map(|declaration| {
            Some(Tool {
                name: declaration.get("name")?.as_str()?,
                schema: field(declaration, "parameters")
                    .or_else(|| field(declaration, "parametersJsonSchema")),
            })
        })
        .collect()
}

/// `toolConfig.functionCallingConfig`: `NONE` offers no tools, `ANY` forces
/// a call (of the first allowed function if any are listed).
fn tool_choice(body: &Value) -> ToolChoice<'_> {
    let Some(config) =
        field(body, "toolConfig").and_then(|config| field(config, "functionCallingConfig"))
    else {
        return ToolChoice::Auto;
    };
    let first_allowed = field(config, "allowedFunctionNames")
        .and_then(Value::as_array)
        .and_then(|names| names.first())
        .and_then(Value::as_str);
    match config.get("mode").and_then(Value::as_str) {
        Some("NONE") => ToolChoice::None,
        Some("ANY") => first_allowed.map_or(ToolChoice::Required, ToolChoice::Named),
        _ => ToolChoice::Auto,
    }
}

fn format<'a>(
    mime: Option<&Value>,
    schema: Option<&'a Value>,
    json_schema: Option<&'a Value>,
) -> Format<'a> {
    if mime.and_then(Value::as_str) != Some("application/json") {
        return Format::Text;
    }
    match schema.or(json_schema) {
        Some(schema) => Format::JsonSchema(Some(schema)),
        None => Format::JsonObject,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_response_text_unwraps_single_strings() {
        assert_eq!(response_text(Some(&json!({"result": "sunny"}))), "sunny");
        assert_eq!(response_text(Some(&json!("sunny"))), "sunny");
        assert_eq!(
            response_text(Some(&json!({"a": 1, "b": "x"}))),
            r#"{"a":1,"b":"x"}"#
        );
        assert_eq!(response_text(Some(&json!({"n": 2}))), r#"{"n":2}"#);
    }

    #[test]
    fn snake_case_fallback() {
        let body = json!({"system_instruction": {"parts": [{"text": "x"}]}});
        assert!(field(&body, "systemInstruction").is_some());
        assert!(field(&body, "toolConfig").is_none());
    }
}
