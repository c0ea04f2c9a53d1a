//! Anthropic Messages: reading the request into a [`Conversation`] and
//! writing the non-streaming `message` body.
//!
//! This module must never invent reply content (that is `reply`'s job)
//! and never emit anything but the Anthropic wire shape.

use axum::response::Response;
use serde_json::{Value, json};

use crate::anthropic_stream;
use crate::conversation::{Conversation, Format, Tool, ToolChoice, content_text, string_list};
use crate::dispatch::Parsed;
use crate::errors::{self, Dialect};
use crate::reply::{self, Content, Finish, Reply};
use crate::routes::App;

pub(crate) fn reply(app: &App, parsed: &Parsed) -> Response {
    let body = &parsed.body;
    let conv = match conversation(body) {
        Ok(conv) => conv,
        Err(message) => return errors::bad_request(Dialect::Anthropic, message),
    };
    let reply = reply::plan(
        &conv,
        &parsed.options,
        app.config.default_chunks,
        "toolu_mock_",
    );
    let id = format!("msg_mock_{}", app.next_id());
    let model = parsed.model.as_str();
    if parsed.stream {
        return anthropic_stream::respond(app, &id, model, &reply, &parsed.options);
    }
    errors::json_response(200, message(&id, model, &reply).to_string())
}

/// `POST /v1/messages/count_tokens`: the prompt's tokens as the mock counts them for
/// usage (a quarter of the characters), so a count and a reply's usage agree.
pub(crate) fn count_tokens(parsed: &Parsed) -> Response {
    match conversation(&parsed.body) {
        Ok(conv) => errors::json_response(
            200,
            json!({ "input_tokens": conv.prompt_tokens() }).to_string(),
        ),
        Err(message) => errors::bad_request(Dialect::Anthropic, message),
    }
}

pub(crate) fn stop_reason(finish: &Finish) -> &'static str {
    match finish {
        Finish::Stop => "end_turn",
        Finish::Length => "max_tokens",
        Finish::ToolCalls => "tool_use",
        Finish::StopSequence(_) => "stop_sequence",
    }
}

pub(crate) fn stop_sequence(finish: &Finish) -> Value {
    match finish {
        Finish::StopSequence(sequence) => Value::from(sequence.as_str()),
        _ => Value::Null,
    }
}

fn message(id: &str, model: &str, reply: &Reply) -> Value {
    let content: Vec<Value> = match &reply.content {
        Content::Text(text) => vec![json!({"type": "text", "text": text.text})],
        Content::Tools(calls) => calls
            .iter()
            .map(|call| json!({"type": "tool_use", "id": call.id, "name": call.name, "input": call.input}))
            .collect(),
    };
    json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(&reply.finish),
        "stop_sequence": stop_sequence(&reply.finish),
        "usage": {
            "input_tokens": reply.prompt_tokens,
            "output_tokens": reply.completion_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    })
}

fn conversation(body: &Value) -> Result<Conversation<'_>, &'static str> {
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("`messages` must be an array")?;
    let mut prompt_chars = content_text(body.get("system")).chars().count();
    let mut last_user_text = String::new();
    for message in messages {
        let text = content_text(message.get("content"));
        prompt_chars += text.chars().count();
        prompt_chars += tool_result_text(message).map_or(0, |result| result.chars().count());
        if message.get("role").and_then(Value::as_str) == Some("user") && !text.is_empty() {
            last_user_text = text;
        }
    }
    let tool_result = messages
        .last()
        .filter(|message| message.get("role").and_then(Value::as_str) == Some("user"))
        .and_then(tool_result_text);
    let prefill = messages
        .last()
        .filter(|message| message.get("role").and_then(Value::as_str) == Some("assistant"))
        .map(|message| content_text(message.get("content")));
    Ok(Conversation {
        last_user_text,
        prefill,
        tool_result,
        prompt_chars,
        tools: tools(body.get("tools")),
        tool_choice: tool_choice(body.get("tool_choice")),
        parallel_tools: false,
        max_tokens: body.get("max_tokens").and_then(Value::as_u64),
        stop_sequences: string_list(body.get("stop_sequences")),
        format: Format::Text,
    })
}

/// The text of every `tool_result` block in a message, or `None` when the
/// message has no tool result at all.
fn tool_result_text(message: &Value) -> Option<String> {
    let blocks = message.get("content")?.as_array()?;
    let mut results = blocks
        .iter()
        .filter(|block| block.get("type").and_then(Value::as_str) == Some("tool_result"))
        .peekable();
    results.peek()?;
    Some(
        results
            .map(|block| content_text(block.get("content")))
            .collect(),
    )
}

fn tools(tools: Option<&Value>) -> Vec<Tool<'_>> {
    let Some(tools) = tools.and_then(Value::as_array) else {
        return Vec::new();
    };
    tools
        .iter()
        .filter_map(|tool| {
            Some(Tool {
                name: tool.get("name")?.as_str()?,
                schema: tool.get("input_schema"),
            })
        })
        .collect()
}

fn tool_choice(choice: Option<&Value>) -> ToolChoice<'_> {
    let Some(choice) = choice else {
        return ToolChoice::Auto;
    };
    match choice.get("type").and_then(Value::as_str) {
        Some("none") => ToolChoice::None,
        Some("any") => ToolChoice::Required,
        Some("tool") => choice
            .get("name")
            .and_then(Value::as_str)
            .map_or(ToolChoice::Required, ToolChoice::Named),
        _ => ToolChoice::Auto,
    }
}
