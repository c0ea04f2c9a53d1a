//! OpenAI Chat Completions: reading the request into a [`Conversation`]
//! and writing the non-streaming `chat.completion` body.
//!
//! This module must never invent reply content (that is `reply`'s job)
//! and never emit anything but the OpenAI wire shape.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::response::Response;
use serde_json::{Value, json};

use crate::conversation::{Conversation, Format, Tool, ToolChoice, content_text, string_list};
use crate::dispatch::Parsed;
use crate::errors::{self, Dialect};
use crate::openai_stream;
use crate::reply::{self, Content, Finish, Reply};
use crate::routes::App;

/// Identity shared by every chunk of one completion.
#[derive(Debug)]
pub(crate) struct Meta<'a> {
    pub id: String,
    pub created: u64,
    pub model: &'a str,
}

pub(crate) fn reply(app: &App, parsed: &Parsed) -> Response {
    let body = &parsed.body;
    let conv = match conversation(body) {
        Ok(conv) => conv,
        Err(message) => return errors::bad_request(Dialect::OpenAi, message),
    };
    let reply = reply::plan(
        &conv,
        &parsed.options,
        app.config.default_chunks,
        "call_mock_",
    );
    let meta = Meta {
        id: format!("chatcmpl-mock-{}", app.next_id()),
        created: unix_now(),
        model: &parsed.model,
    };
    if parsed.stream {
        let include_usage = body
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            == Some(true);
        return openai_stream::respond(app, &meta, &reply, include_usage, &parsed.options);
    }
    errors::json_response(200, completion(&meta, &reply).to_string())
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

pub(crate) fn finish_reason(finish: &Finish) -> &'static str {
    match finish {
        Finish::Stop | Finish::StopSequence(_) => "stop",
        Finish::Length => "length",
        Finish::ToolCalls => "tool_calls",
    }
}

pub(crate) fn usage(reply: &Reply) -> Value {
    json!({
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens.saturating_add(reply.completion_tokens),
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    })
}

fn completion(meta: &Meta<'_>, reply: &Reply) -> Value {
    let message = match &reply.content {
        Content::Text(text) => json!({"role": "assistant", "content": text.text, "refusal": null}),
        Content::Tools(calls) => {
            let calls: Vec<Value> = calls
                .iter()
                .map(|call| {
                    json!({"id": call.id, "type": "function",
                           "function": {"name": call.name, "arguments": call.arguments}})
                })
                .collect();
            json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": calls})
        }
    };
    json!({
        "id": meta.id,
        "object": "chat.completion",
        "created": meta.created,
        "model": meta.model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(&reply.finish),
        }],
        "usage": usage(reply),
        "system_fingerprint": "fp_mock",
    })
}

fn conversation(body: &Value) -> Result<Conversation<'_>, &'static str> {
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("`messages` must be an array")?;
    let mut prompt_chars = 0;
    let mut last_user_text = String::new();
    for message in messages {
        let text = content_text(message.get("content"));
        prompt_chars += text.chars().count();
        if message.get("role").and_then(Value::as_str) == Some("user") {
            last_user_text = text;
        }
    }
    let last = messages.last();
    let prefill = last
        .filter(|message| message.get("role").and_then(Value::as_str) == Some("assistant"))
        .filter(|_| body.get("continue_final_message").and_then(Value::as_bool) == Some(true))
        .map(|message| content_text(message.get("content")));
    let tool_result = last
        .filter(|message| message.get("role").and_then(Value::as_str) == Some("tool"))
        .map(|message| content_text(message.get("content")));
    let tools = tools(body.get("tools"));
    let tool_choice = tool_choice(body.get("tool_choice"));
    let parallel_tools = body.get("parallel_tool_calls").and_then(Value::as_bool) != Some(false)
        && tools.len() >= 2
        && tool_choice == ToolChoice::Auto;
    Ok(Conversation {
        last_user_text,
        prefill,
        tool_result,
        prompt_chars,
        tools,
        tool_choice,
        parallel_tools,
        max_tokens: body
            .get("max_completion_tokens")
            .or_else(|| body.get("max_tokens"))
            .and_then(Value::as_u64),
        stop_sequences: string_list(body.get("stop")),
        format: response_format(body.get("response_format")),
    })
}

fn tools(tools: Option<&Value>) -> Vec<Tool<'_>> {
    let Some(tools) = tools.and_then(Value::as_array) else {
        return Vec::new();
    };
    tools
        .iter()
        .filter_map(|tool| {
            let function = tool.get("function")?;
            Some(Tool {
                name: function.get("name")?.as_str()?,
                schema: function.get("parameters"),
            })
        })
        .collect()
}

fn tool_choice(choice: Option<&Value>) -> ToolChoice<'_> {
    match choice {
        Some(Value::String(mode)) if mode == "none" => ToolChoice::None,
        Some(Value::String(mode)) if mode == "required" => ToolChoice::Required,
        Some(Value::Object(_)) => choice
            .and_then(|choice| choice.pointer("/function/name"))
            .and_then(Value::as_str)
            .map_or(ToolChoice::Auto, ToolChoice::Named),
        _ => ToolChoice::Auto,
    }
}

fn response_format(format: Option<&Value>) -> Format<'_> {
    let Some(format) = format else {
        return Format::Text;
    };
    match format.get("type").and_then(Value::as_str) {
        Some("json_object") => Format::JsonObject,
        Some("json_schema") => Format::JsonSchema(format.pointer("/json_schema/schema")),
        _ => Format::Text,
    }
}
