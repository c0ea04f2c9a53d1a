//! The Anthropic Messages event stream of one reply, in the exact event
//! order the real API uses.
//!
//! This module must never emit anything but the Anthropic streaming shape
//! and never decide where faults go (`sse` does).

use std::time::Duration;

use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::anthropic::{stop_reason, stop_sequence};
use crate::faults::Options;
use crate::reply::{Content, Reply};
use crate::routes::App;
use crate::sse::{FaultEvents, Pacing, Script};

const FAULTS: FaultEvents = FaultEvents {
    malformed: "event: content_block_delta\ndata: {\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {\"type\": \"text_delta\", \"text\": tru\n\n",
    error: "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"mock fault: mid-stream error\"}}\n\n",
};

fn event(kind: &str, data: &str) -> Bytes {
    let mut out = String::with_capacity(kind.len() + data.len() + 16);
    out.push_str("event: ");
    out.push_str(kind);
    out.push_str("\ndata: ");
    out.push_str(data);
    out.push_str("\n\n");
    Bytes::from(out)
}

/// A `content_block_delta` event; `delta_kind`/`field` are
/// `text_delta`/`text` or `input_json_delta`/`partial_json`.
fn delta(index: usize, delta_kind: &str, field: &str, piece: &str) -> Bytes {
    let data = format!(
        "{{\"type\":\"content_block_delta\",\"index\":{index},\"delta\":{{\"type\":\"{delta_kind}\",\"{field}\":{}}}}}",
        Value::from(piece)
    );
    event("content_block_delta", &data)
}

fn block_start(script: &mut Script, index: usize, block: &Value) {
    let data = json!({"type": "content_block_start", "index": index, "content_block": block});
    script.event(event("content_block_start", &data.to_string()));
    if index == 0 {
        script.event(event("ping", r#"{"type":"ping"}"#));
    }
}

fn block_stop(script: &mut Script, index: usize) {
    let data = format!("{{\"type\":\"content_block_stop\",\"index\":{index}}}");
    script.event(event("content_block_stop", &data));
}

pub(crate) fn respond(
    app: &App,
    id: &str,
    model: &str,
    reply: &Reply,
    options: &Options,
) -> Response {
    let mut script = Script::new(options, FAULTS);
    let start = json!({"type": "message_start", "message": {
        "id": id, "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": reply.prompt_tokens, "output_tokens": 1,
                  "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
    }});
    script.event(event("message_start", &start.to_string()));
    match &reply.content {
        Content::Text(text) => {
            block_start(&mut script, 0, &json!({"type": "text", "text": ""}));
            for piece in text.pieces() {
                if !script.is_open() {
                    break;
                }
                script.delta(delta(0, "text_delta", "text", piece));
            }
            script.content_done();
            block_stop(&mut script, 0);
        }
        Content::Tools(calls) => {
            for (index, call) in calls.iter().enumerate() {
                let block =
                    json!({"type": "tool_use", "id": call.id, "name": call.name, "input": {}});
                block_start(&mut script, index, &block);
                for fragment in call.fragments() {
                    script.delta(delta(index, "input_json_delta", "partial_json", fragment));
                }
                if index + 1 == calls.len() {
                    script.content_done();
                }
                block_stop(&mut script, index);
            }
        }
    }
    let message_delta = json!({"type": "message_delta",
        "delta": {"stop_reason": stop_reason(&reply.finish), "stop_sequence": stop_sequence(&reply.finish)},
        "usage": {"output_tokens": reply.completion_tokens}});
    script.event(event("message_delta", &message_delta.to_string()));
    script.event(event("message_stop", r#"{"type":"message_stop"}"#));
    let pacing = Pacing {
        first: options.first_token_delay.unwrap_or(Duration::ZERO),
        gap: options
            .chunk_delay
            .unwrap_or(app.config.default_chunk_delay),
    };
    script.into_response(app.stats.clone(), pacing)
}
