//! The Gemini `streamGenerateContent` body of one reply: one
//! `GenerateContentResponse` chunk per text delta (function calls whole, in
//! one chunk), then a last chunk with `finishReason` and the full
//! `usageMetadata`. With `?alt=sse` each chunk is an SSE event
//! (`data: {..}\r\n\r\n`, no terminal marker); without it the chunks are
//! the elements of one JSON array, as Google sends them.
//!
//! This module must never emit anything but the Gemini streaming shape and
//! never decide where faults go (`sse` does).

use std::time::Duration;

use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

use crate::faults::Options;
use crate::gemini::{Meta, finish_reason, function_call_part, usage};
use crate::reply::{Content, Reply};
use crate::routes::App;
use crate::sse::{FaultEvents, Pacing, Script};

/// How chunks are delimited on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `?alt=sse`: `data: <chunk>\r\n\r\n` events.
    Sse,
    /// No `alt`: `[<chunk>,\r\n<chunk>...]`, one JSON array.
    JsonArray,
}

const SSE_FAULTS: FaultEvents = FaultEvents {
    malformed: "data: {\"candidates\": [tru\r\n\r\n",
    error: "data: {\"error\":{\"code\":500,\"message\":\"mock fault: mid-stream error\",\"status\":\"INTERNAL\"}}\r\n\r\n",
};

/// Array elements always follow an earlier element (faults come after the
/// first delta), so they carry the separator; the error closes the array.
const ARRAY_FAULTS: FaultEvents = FaultEvents {
    malformed: ",\r\n{\"candidates\": [tru",
    error: ",\r\n{\"error\":{\"code\":500,\"message\":\"mock fault: mid-stream error\",\"status\":\"INTERNAL\"}}]",
};

/// Builds framed chunks of one response.
struct Chunker<'a> {
    framing: Framing,
    meta: &'a Meta<'a>,
    prompt_tokens: u64,
    started: bool,
}

impl Chunker<'_> {
    /// One `GenerateContentResponse` with `parts` (already JSON, comma
    /// separated) and the usage so far.
    fn chunk(&mut self, parts: &str, finish: Option<&str>, output_tokens: u64) -> Bytes {
        let finish = finish
            .map(|reason| format!(",\"finishReason\":\"{reason}\""))
            .unwrap_or_default();
        let json = format!(
            "{{\"candidates\":[{{\"content\":{{\"role\":\"model\",\"parts\":[{parts}]}}{finish},\"index\":0}}],\"usageMetadata\":{},\"modelVersion\":{},\"responseId\":\"{}\"}}",
            usage(self.prompt_tokens, output_tokens),
            Value::from(self.meta.model),
            self.meta.response_id,
        );
        let framed = match self.framing {
            Framing::Sse => format!("data: {json}\r\n\r\n"),
            Framing::JsonArray => {
                let separator = if self.started { ",\r\n" } else { "[" };
                format!("{separator}{json}")
            }
        };
        self.started = true;
        Bytes::from(framed)
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The content deltas: one chunk per text piece, with the usage so far,
/// or one chunk holding every function call.
fn content_chunks(script: &mut Script, chunker: &mut Chunker<'_>, reply: &Reply) {
    match &reply.content {
        Content::Text(text) => {
            for (index, piece) in text.pieces().enumerate() {
                if !script.is_open() {
                    break;
                }
                let part = format!("{{\"text\":{}}}", Value::from(piece));
                script.delta(chunker.chunk(&part, None, count(index + 1)));
            }
        }
        Content::Tools(calls) => {
            let parts: Vec<String> = calls
                .iter()
                .map(|call| function_call_part(call).to_string())
                .collect();
            script.delta(chunker.chunk(&parts.join(","), None, reply.completion_tokens));
        }
    }
}

pub(crate) fn respond(
    app: &App,
    meta: &Meta<'_>,
    reply: &Reply,
    framing: Framing,
    options: &Options,
) -> Response {
    let faults = match framing {
        Framing::Sse => SSE_FAULTS,
        Framing::JsonArray => ARRAY_FAULTS,
    };
    let mut script = Script::new(options, faults);
    let mut chunker = Chunker {
        framing,
        meta,
        prompt_tokens: reply.prompt_tokens,
        started: false,
    };
    content_chunks(&mut script, &mut chunker, reply);
    script.content_done();
    let finish = Some(finish_reason(&reply.finish));
    script.event(chunker.chunk(r#"{"text":""}"#, finish, reply.completion_tokens));
    if framing == Framing::JsonArray {
        script.event("]");
    }
    let pacing = Pacing {
        first: options.first_token_delay.unwrap_or(Duration::ZERO),
        gap: options
            .chunk_delay
            .unwrap_or(app.config.default_chunk_delay),
    };
    let mut response = script.into_response(app.stats.clone(), pacing);
    if framing == Framing::JsonArray {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    response
}
