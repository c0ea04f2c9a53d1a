//! OpenAI's legacy text completions (`POST /v1/completions`): the prompt's text in, a
//! `text_completion` body or chunk stream out.
//!
//! This module must never invent reply content (that is `reply`'s job) and never emit
//! anything but the legacy completions wire shape.

use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};
use std::time::Duration;

use crate::conversation::{Conversation, Format, ToolChoice, string_list};
use crate::dispatch::Parsed;
use crate::errors::{self, Dialect};
use crate::openai::{finish_reason, unix_now, usage};
use crate::reply::{self, Content};
use crate::routes::App;
use crate::sse::{FaultEvents, Pacing, Script};

const FAULTS: FaultEvents = FaultEvents {
    malformed: "data: {\"choices\": [tru\n\n",
    error: "data: {\"error\":{\"message\":\"mock fault: mid-stream error\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n",
};

pub(crate) fn reply(app: &App, parsed: &Parsed) -> Response {
    let body = &parsed.body;
    let prompt = match body.get("prompt") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts.iter().filter_map(Value::as_str).collect(),
        _ => {
            return errors::bad_request(
                Dialect::OpenAi,
                "`prompt` must be a string or an array of strings",
            );
        }
    };
    let conv = Conversation {
        last_user_text: prompt.clone(),
        prefill: None,
        tool_result: None,
        prompt_chars: prompt.chars().count(),
        tools: Vec::new(),
        tool_choice: ToolChoice::None,
        parallel_tools: false,
        max_tokens: body.get("max_tokens").and_then(Value::as_u64),
        stop_sequences: string_list(body.get("stop")),
        format: Format::Text,
    };
    let reply = reply::plan(
        &conv,
        &parsed.options,
        app.config.default_chunks,
        "call_mock_",
    );
    let Content::Text(text) = &reply.content else {
        return errors::bad_request(Dialect::OpenAi, "mock: completions reply text only");
    };
    let id = format!("cmpl-mock-{}", app.next_id());
    let created = unix_now();
    let head = |choices: Value| json!({"id": id, "object": "text_completion", "created": created, "model": parsed.model, "choices": choices});
    if !parsed.stream {
        let mut body = head(
            json!([{"text": text.text, "index": 0, "logprobs": null, "finish_reason": finish_reason(&reply.finish)}]),
        );
        body["usage"] = usage(&reply);
        return errors::json_response(200, body.to_string());
    }
    let event = |v: Value| Bytes::from(format!("data: {v}\n\n"));
    let mut script = Script::new(&parsed.options, FAULTS);
    for piece in text.pieces() {
        if !script.is_open() {
            break;
        }
        script.delta(event(head(
            json!([{"text": piece, "index": 0, "logprobs": null, "finish_reason": null}]),
        )));
    }
    script.content_done();
    script.event(event(head(json!([{"text": "", "index": 0, "logprobs": null, "finish_reason": finish_reason(&reply.finish)}]))));
    if body
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true)
    {
        let mut last = head(json!([]));
        last["usage"] = usage(&reply);
        script.event(event(last));
    }
    script.event("data: [DONE]\n\n");
    let pacing = Pacing {
        first: parsed.options.first_token_delay.unwrap_or(Duration::ZERO),
        gap: parsed
            .options
            .chunk_delay
            .unwrap_or(app.config.default_chunk_delay),
    };
    script.into_response(app.stats.clone(), pacing)
}
