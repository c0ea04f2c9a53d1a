//! The Gemini spoke against golden fixtures written from Gemini's API reference:
//! canonical requests encoded to Gemini bodies, Gemini responses, SSE transcripts and
//! error bodies decoded to canonical values, plus the refusals and consistency checks
//! (a streamed answer decodes like the same answer sent whole).
//!
//! One file per subject; here, the helpers they share.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

mod errors;
mod properties;
mod requests;
mod responses;

use proptest::prelude::*;
use serde_json::{Value, json};
use sluice_protocol::canonical::{
    ChatRequest, ChatResponse, Format, Part, ProviderError, StreamEvent, TranslateError,
};
use sluice_protocol::gemini::{self, StreamDecoder, wire};
use sluice_protocol::sse::SseDecoder;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gemini/");

fn read(path: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json_file(path: &str) -> Value {
    serde_json::from_slice(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A canonical request fixture: the fields it names, over an empty OpenAI-sourced request.
fn canonical_request(name: &str) -> ChatRequest {
    let mut base = serde_json::to_value(ChatRequest::new("m", Format::OpenAiChat)).unwrap();
    let Value::Object(fields) = json_file(&format!("requests/{name}.canonical.json")) else {
        panic!("{name}: not an object");
    };
    for (k, v) in fields {
        base[k] = v;
    }
    serde_json::from_value(base).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn encode(req: &ChatRequest) -> (Value, Vec<String>) {
    let mut notes = Vec::new();
    let body = gemini::encode_request(req, &mut notes).unwrap();
    (serde_json::from_slice(&body).unwrap(), notes)
}

/// Feeds a transcript through the SSE decoder, then the Gemini decoder, in small chunks.
fn decode_transcript(name: &str) -> (Vec<StreamEvent>, Result<(), TranslateError>) {
    let bytes = read(&format!("streams/{name}.sse"));
    let mut sse = SseDecoder::new(1 << 20);
    let mut decoder = StreamDecoder::new();
    let mut out = Vec::new();
    for chunk in bytes.chunks(7) {
        sse.push(chunk);
        while let Some(event) = sse.next_event().unwrap() {
            let parsed = event.parse();
            let data = parsed.data.unwrap_or_default();
            decoder
                .decode(parsed.event.as_deref(), data.as_bytes(), &mut out)
                .unwrap();
        }
    }
    assert!(sse.finish().is_none(), "{name}: trailing bytes");
    let end = decoder.finish(&mut out);
    (out, end)
}

/// Builds the whole answer a stream's events describe.
fn accumulate(events: &[StreamEvent]) -> ChatResponse {
    let mut resp = ChatResponse {
        id: String::new(),
        model: String::new(),
        created: 0,
        content: Vec::new(),
        finish: None,
        stop_sequence: None,
        usage: None,
    };
    for event in events {
        match event {
            StreamEvent::Start { id, model, created } => {
                (resp.id, resp.model, resp.created) = (id.clone(), model.clone(), *created);
            }
            StreamEvent::TextDelta { text } => match resp.content.last_mut() {
                Some(Part::Text { text: t, .. }) => t.push_str(text),
                _ => resp.content.push(Part::text(text.clone())),
            },
            StreamEvent::ThinkingDelta { text } => match resp.content.last_mut() {
                Some(Part::Thinking { text: t, .. }) => t.push_str(text),
                _ => resp.content.push(Part::Thinking {
                    text: text.clone(),
                    signature: None,
                }),
            },
            StreamEvent::ToolCallStart { id, name, .. } => resp.content.push(Part::ToolCall {
                id: id.clone(),
                name: name.clone(),
                arguments: String::new(),
            }),
            StreamEvent::ToolCallDelta { arguments, .. } => {
                if let Some(Part::ToolCall { arguments: a, .. }) = resp.content.last_mut() {
                    a.push_str(arguments);
                }
            }
            StreamEvent::Finish { reason, .. } => resp.finish = Some(*reason),
            StreamEvent::Usage(u) => resp.usage = Some(*u),
            _ => {}
        }
    }
    resp
}

/// The whole-response body equivalent to a transcript's chunks: parts concatenated,
/// the last finish reason, usage and envelope fields.
fn merge_chunks(name: &str) -> Value {
    let text = String::from_utf8(read(&format!("streams/{name}.sse"))).unwrap();
    let mut parts = Vec::new();
    let mut whole = json!({});
    for line in text.lines().filter_map(|l| l.strip_prefix("data: ")) {
        let chunk: Value = serde_json::from_str(line).unwrap();
        if let Some(p) = chunk
            .pointer("/candidates/0/content/parts")
            .and_then(Value::as_array)
        {
            parts.extend(p.iter().cloned());
        }
        for key in [
            "usageMetadata",
            "modelVersion",
            "responseId",
            "promptFeedback",
        ] {
            if let Some(v) = chunk.get(key) {
                whole[key] = v.clone();
            }
        }
        if let Some(reason) = chunk.pointer("/candidates/0/finishReason") {
            whole["candidates"] = json!([{"finishReason": reason, "index": 0}]);
        }
    }
    if whole.get("candidates").is_some() {
        whole["candidates"][0]["content"] = json!({"role": "model", "parts": parts});
    }
    whole
}
