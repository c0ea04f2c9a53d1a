//! The client side of each ingress format, as an SDK would speak it: building requests
//! from one conversation script, and reading replies, streams, tool calls, usage and
//! errors back. Lets the conformance suite run the same checks for every format.

use crate::support::Seen;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    OpenAi,
    Anthropic,
    Responses,
}

/// One turn of a conversation script.
pub enum Turn<'a> {
    User(&'a str),
    Assistant(&'a str),
    UserImage {
        text: &'a str,
        png_base64: &'a str,
    },
    ToolCall {
        id: &'a str,
        name: &'a str,
        args: Value,
    },
    ToolResult {
        id: &'a str,
        content: &'a str,
    },
}

pub const SYSTEM: &str = "be brief";

pub fn weather_tool(client: Client) -> Value {
    let schema =
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
    match client {
        Client::OpenAi => {
            json!({"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": schema}})
        }
        Client::Anthropic => {
            json!({"name": "get_weather", "description": "Weather", "input_schema": schema})
        }
        Client::Responses => {
            json!({"type": "function", "name": "get_weather", "description": "Weather", "parameters": schema})
        }
    }
}

impl Client {
    pub fn path(self) -> &'static str {
        match self {
            Self::OpenAi => "/v1/chat/completions",
            Self::Anthropic => "/v1/messages",
            Self::Responses => "/v1/responses",
        }
    }

    pub fn request(self, model: &str, turns: &[Turn<'_>], stream: bool) -> Value {
        let mut body = match self {
            Self::OpenAi => {
                let mut messages = vec![json!({"role": "system", "content": SYSTEM})];
                messages.extend(turns.iter().map(openai_turn));
                json!({"model": model, "messages": messages})
            }
            Self::Anthropic => json!({
                "model": model, "max_tokens": 256, "system": SYSTEM,
                "messages": turns.iter().map(anthropic_turn).collect::<Vec<_>>(),
            }),
            Self::Responses => json!({
                "model": model, "instructions": SYSTEM,
                "input": turns.iter().map(responses_turn).collect::<Vec<_>>(),
            }),
        };
        if stream {
            body["stream"] = json!(true);
            if self == Self::OpenAi {
                body["stream_options"] = json!({"include_usage": true});
            }
        }
        body
    }

    pub fn with_tools(self, mut body: Value) -> Value {
        body["tools"] = json!([weather_tool(self)]);
        body
    }

    /// The reply's text, from a non-stream body.
    pub fn text(self, body: &Value) -> String {
        match self {
            Self::OpenAi => body["choices"][0]["message"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            Self::Anthropic => blocks(&body["content"], "text")
                .map(|b| b["text"].as_str().unwrap_or_default().to_owned())
                .collect(),
            Self::Responses => responses_items(body, "message")
                .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
                .map(|c| c["text"].as_str().unwrap_or_default().to_owned())
                .collect(),
        }
    }

    /// (name, parsed arguments) of each tool call in a non-stream body.
    pub fn tool_calls(self, body: &Value) -> Vec<(String, Value)> {
        match self {
            Self::OpenAi => body["choices"][0]["message"]["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    (
                        str_of(&c["function"]["name"]),
                        parse(&c["function"]["arguments"]),
                    )
                })
                .collect(),
            Self::Anthropic => blocks(&body["content"], "tool_use")
                .map(|b| (str_of(&b["name"]), b["input"].clone()))
                .collect(),
            Self::Responses => responses_items(body, "function_call")
                .map(|c| (str_of(&c["name"]), parse(&c["arguments"])))
                .collect(),
        }
    }

    /// (input, output) tokens of a non-stream body.
    pub fn usage(self, body: &Value) -> (u64, u64) {
        let u = &body["usage"];
        match self {
            Self::OpenAi => (num(&u["prompt_tokens"]), num(&u["completion_tokens"])),
            Self::Anthropic | Self::Responses => {
                (num(&u["input_tokens"]), num(&u["output_tokens"]))
            }
        }
    }

    /// The error body's type and message, checking the format's shape.
    pub fn error(self, body: &Value) -> (String, String) {
        match self {
            Self::OpenAi | Self::Responses => (
                str_of(&body["error"]["type"]),
                str_of(&body["error"]["message"]),
            ),
            Self::Anthropic => {
                assert_eq!(body["type"], "error", "Anthropic error shape: {body}");
                (
                    str_of(&body["error"]["type"]),
                    str_of(&body["error"]["message"]),
                )
            }
        }
    }

    /// The streamed reply's text.
    pub fn stream_text(self, seen: &Seen) -> String {
        events(seen)
            .filter_map(|(kind, data)| match (self, kind.as_str()) {
                (Self::OpenAi, _) => data
                    .pointer("/choices/0/delta/content")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                (Self::Anthropic, "content_block_delta") => {
                    data["delta"]["text"].as_str().map(str::to_owned)
                }
                (Self::Responses, "response.output_text.delta") => {
                    data["delta"].as_str().map(str::to_owned)
                }
                _ => None,
            })
            .collect()
    }

    /// (name, parsed arguments) of each streamed tool call.
    pub fn stream_tool_calls(self, seen: &Seen) -> Vec<(String, Value)> {
        let mut calls: Vec<(String, String)> = Vec::new();
        for (kind, data) in events(seen) {
            match (self, kind.as_str()) {
                (Self::OpenAi, _) => {
                    for call in data
                        .pointer("/choices/0/delta/tool_calls")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let index = usize::try_from(num(&call["index"])).unwrap_or(0);
                        if calls.len() <= index {
                            calls.resize(index + 1, (String::new(), String::new()));
                        }
                        if let Some(name) = call["function"]["name"].as_str() {
                            calls[index].0 = name.to_owned();
                        }
                        calls[index]
                            .1
                            .push_str(call["function"]["arguments"].as_str().unwrap_or_default());
                    }
                }
                (Self::Anthropic, "content_block_start")
                    if data["content_block"]["type"] == "tool_use" =>
                {
                    calls.push((str_of(&data["content_block"]["name"]), String::new()));
                }
                (Self::Anthropic, "content_block_delta")
                    if data["delta"]["type"] == "input_json_delta" =>
                {
                    if let Some(last) = calls.last_mut() {
                        last.1
                            .push_str(data["delta"]["partial_json"].as_str().unwrap_or_default());
                    }
                }
                (Self::Responses, "response.output_item.added")
                    if data["item"]["type"] == "function_call" =>
                {
                    calls.push((str_of(&data["item"]["name"]), String::new()));
                }
                (Self::Responses, "response.function_call_arguments.delta") => {
                    if let Some(last) = calls.last_mut() {
                        last.1.push_str(data["delta"].as_str().unwrap_or_default());
                    }
                }
                _ => {}
            }
        }
        calls
            .into_iter()
            .map(|(n, a)| (n, serde_json::from_str(&a).unwrap_or(Value::Null)))
            .collect()
    }

    /// (input, output) tokens reported by a stream.
    pub fn stream_usage(self, seen: &Seen) -> (u64, u64) {
        let mut usage = (0, 0);
        for (kind, data) in events(seen) {
            match (self, kind.as_str()) {
                (Self::OpenAi, _) if data["usage"].is_object() => {
                    usage = (
                        num(&data["usage"]["prompt_tokens"]),
                        num(&data["usage"]["completion_tokens"]),
                    );
                }
                (Self::Anthropic, "message_start") => {
                    usage.0 = num(&data["message"]["usage"]["input_tokens"])
                }
                (Self::Anthropic, "message_delta") => {
                    usage.1 = num(&data["usage"]["output_tokens"]);
                    if data["usage"]["input_tokens"].is_u64() {
                        usage.0 = num(&data["usage"]["input_tokens"]);
                    }
                }
                (Self::Responses, "response.completed") => {
                    let u = &data["response"]["usage"];
                    usage = (num(&u["input_tokens"]), num(&u["output_tokens"]));
                }
                _ => {}
            }
        }
        usage
    }

    /// Whether the stream ended with the format's normal closing event.
    pub fn stream_complete(self, seen: &Seen) -> bool {
        match self {
            Self::OpenAi => seen.ends_with_done(),
            Self::Anthropic => events(seen)
                .last()
                .is_some_and(|(kind, _)| kind == "message_stop"),
            Self::Responses => events(seen)
                .last()
                .is_some_and(|(kind, _)| kind == "response.completed"),
        }
    }

    /// Whether the stream carries the format's error event.
    pub fn stream_error(self, seen: &Seen) -> bool {
        events(seen).any(|(kind, data)| match self {
            Self::OpenAi => data.get("error").is_some(),
            Self::Anthropic => kind == "error" && data["type"] == "error",
            Self::Responses => kind == "error" || kind == "response.failed",
        })
    }

    pub async fn send(self, h: &crate::support::Harness, body: &Value) -> reqwest::Response {
        let mut request = h.client.post(h.url(self.path())).json(body);
        if self == Self::Anthropic {
            request = request.header("anthropic-version", "2023-06-01");
        }
        request.send().await.expect("request sent")
    }
}

/// (event type, data JSON) of each event; the type is the SSE `event:` field or `data.type`.
fn events(seen: &Seen) -> impl Iterator<Item = (String, Value)> + '_ {
    seen.events.iter().filter_map(|e| {
        let data: Value = serde_json::from_str(e.data.as_deref()?).ok()?;
        let kind = e
            .event
            .clone()
            .or_else(|| data["type"].as_str().map(str::to_owned))
            .unwrap_or_default();
        Some((kind, data))
    })
}

fn openai_turn(turn: &Turn<'_>) -> Value {
    match turn {
        Turn::User(text) => json!({"role": "user", "content": text}),
        Turn::Assistant(text) => json!({"role": "assistant", "content": text}),
        Turn::UserImage { text, png_base64 } => json!({"role": "user", "content": [
            {"type": "text", "text": text},
            {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{png_base64}")}}]}),
        Turn::ToolCall { id, name, args } => {
            json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": id, "type": "function", "function": {"name": name, "arguments": args.to_string()}}]})
        }
        Turn::ToolResult { id, content } => {
            json!({"role": "tool", "tool_call_id": id, "content": content})
        }
    }
}

fn anthropic_turn(turn: &Turn<'_>) -> Value {
    match turn {
        Turn::User(text) => json!({"role": "user", "content": text}),
        Turn::Assistant(text) => json!({"role": "assistant", "content": text}),
        Turn::UserImage { text, png_base64 } => json!({"role": "user", "content": [
            {"type": "text", "text": text},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png_base64}}]}),
        Turn::ToolCall { id, name, args } => json!({"role": "assistant", "content": [
            {"type": "tool_use", "id": id, "name": name, "input": args}]}),
        Turn::ToolResult { id, content } => json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": id, "content": content}]}),
    }
}

fn responses_turn(turn: &Turn<'_>) -> Value {
    match turn {
        Turn::User(text) => json!({"role": "user", "content": text}),
        Turn::Assistant(text) => {
            json!({"role": "assistant", "content": [{"type": "output_text", "text": text}]})
        }
        Turn::UserImage { text, png_base64 } => json!({"role": "user", "content": [
            {"type": "input_text", "text": text},
            {"type": "input_image", "image_url": format!("data:image/png;base64,{png_base64}")}]}),
        Turn::ToolCall { id, name, args } => {
            json!({"type": "function_call", "call_id": id, "name": name, "arguments": args.to_string()})
        }
        Turn::ToolResult { id, content } => {
            json!({"type": "function_call_output", "call_id": id, "output": content})
        }
    }
}

fn blocks<'a>(content: &'a Value, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    content
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |b| b["type"] == kind)
}

fn responses_items<'a>(body: &'a Value, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    body["output"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |i| i["type"] == kind)
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn num(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

fn parse(v: &Value) -> Value {
    serde_json::from_str(v.as_str().unwrap_or("null")).unwrap_or(Value::Null)
}
