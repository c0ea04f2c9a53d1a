//! The OpenAI `chat.completion.chunk` event stream of one reply.
//!
//! Chunks are assembled from a prebuilt prefix and suffix around each
//! delta, because this stream is the benchmark's upstream and per-chunk
//! work must stay small. This module must never emit anything but the
//! OpenAI streaming shape and never decide where faults go (`sse` does).

use std::time::Duration;

use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

use crate::faults::Options;
use crate::openai::{Meta, finish_reason, usage};
use crate::reply::{Content, Reply};
use crate::routes::App;
use crate::sse::{FaultEvents, Pacing, Script};

const FAULTS: FaultEvents = FaultEvents {
    malformed: "data: {\"choices\": [tru\n\n",
    error: "data: {\"error\":{\"message\":\"mock fault: mid-stream error\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n",
};

/// The fixed text around each delta of one stream.
struct Frame {
    /// `data: {...,"choices":[{"index":0,"delta":`
    prefix: String,
    /// `"usage":null` when usage will follow in its own chunk.
    usage_null: &'static str,
}

impl Frame {
    fn new(meta: &Meta<'_>, include_usage: bool) -> Self {
        Self {
            prefix: format!(
                "data: {},\"choices\":[{{\"index\":0,\"delta\":",
                header(meta)
            ),
            usage_null: if include_usage { ",\"usage\":null" } else { "" },
        }
    }

    fn chunk(&self, delta: &str, finish_reason: Option<&str>) -> Bytes {
        let mut out = String::with_capacity(self.prefix.len() + delta.len() + 64);
        out.push_str(&self.prefix);
        out.push_str(delta);
        out.push_str(",\"logprobs\":null,\"finish_reason\":");
        match finish_reason {
            Some(reason) => {
                out.push('"');
                out.push_str(reason);
                out.push('"');
            }
            None => out.push_str("null"),
        }
        out.push_str("}]");
        out.push_str(self.usage_null);
        out.push_str("}\n\n");
        Bytes::from(out)
    }
}

/// `{"id":..,"object":..,"created":..,"model":..,"system_fingerprint":..`
/// without the closing brace, shared by every chunk.
fn header(meta: &Meta<'_>) -> String {
    format!(
        "{{\"id\":\"{}\",\"object\":\"chat.completion.chunk\",\"created\":{},\"model\":{},\"system_fingerprint\":\"fp_mock\"",
        meta.id,
        meta.created,
        json_string(meta.model),
    )
}

fn json_string(text: &str) -> String {
    Value::from(text).to_string()
}

pub(crate) fn respond(
    app: &App,
    meta: &Meta<'_>,
    reply: &Reply,
    include_usage: bool,
    options: &Options,
) -> Response {
    let frame = Frame::new(meta, include_usage);
    let mut script = Script::new(options, FAULTS);
    script.event(frame.chunk(r#"{"role":"assistant","content":"","refusal":null}"#, None));
    match &reply.content {
        Content::Text(text) => {
            for piece in text.pieces() {
                if !script.is_open() {
                    break;
                }
                script.delta(frame.chunk(&format!("{{\"content\":{}}}", json_string(piece)), None));
            }
        }
        Content::Tools(calls) => {
            for (index, call) in calls.iter().enumerate() {
                let opening = format!(
                    "{{\"tool_calls\":[{{\"index\":{index},\"id\":\"{}\",\"type\":\"function\",\"function\":{{\"name\":{},\"arguments\":\"\"}}}}]}}",
                    call.id,
                    json_string(&call.name),
                );
                script.event(frame.chunk(&opening, None));
                for fragment in call.fragments() {
                    let delta = format!(
                        "{{\"tool_calls\":[{{\"index\":{index},\"function\":{{\"arguments\":{}}}}}]}}",
                        json_string(fragment),
                    );
                    script.delta(frame.chunk(&delta, None));
                }
            }
        }
    }
    script.content_done();
    script.event(frame.chunk("{}", Some(finish_reason(&reply.finish))));
    if include_usage {
        script.event(format!(
            "data: {},\"choices\":[],\"usage\":{}}}\n\n",
            header(meta),
            usage(reply)
        ));
    }
    script.event("data: [DONE]\n\n");
    let pacing = Pacing {
        first: options.first_token_delay.unwrap_or(Duration::ZERO),
        gap: options
            .chunk_delay
            .unwrap_or(app.config.default_chunk_delay),
    };
    script.into_response(app.stats.clone(), pacing)
}
