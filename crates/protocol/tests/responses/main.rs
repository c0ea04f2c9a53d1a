//! The OpenAI Responses spoke (ingress side): request fixtures decoded to canonical,
//! canonical answers encoded as Responses objects and event streams (golden transcripts),
//! the stream and the body agreeing on one answer, replayed output decoding back to the
//! same turn, and the refusals of what a gateway cannot serve.
//!
//! One file per subject; here, the helpers they share.

mod answers;
mod errors;
mod properties;
mod requests;
mod streams;

use bytes::BytesMut;
use proptest::prelude::*;
use serde_json::{Value, json};
use sluice_protocol::canonical::{
    ChatRequest, ChatResponse, FinishReason, Part, ProviderError, Role, StreamEvent,
    TranslateError, Usage,
};
use sluice_protocol::responses::{
    StreamEncoder, decode_request, encode_error, encode_response, encode_stream_error,
};
use sluice_protocol::sse::SseDecoder;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/responses/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json_fixture(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn request(name: &str) -> ChatRequest {
    decode_request(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn canonical_response(name: &str) -> ChatResponse {
    serde_json::from_value(json_fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn stream_events(name: &str) -> Vec<StreamEvent> {
    serde_json::from_value(json_fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn body_json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

/// SSE bytes as (event name, parsed data), through the crate's own SSE decoder.
fn parse_sse(bytes: &[u8]) -> Vec<(Option<String>, Value)> {
    let mut decoder = SseDecoder::new(1 << 20);
    decoder.push(bytes);
    let mut out = Vec::new();
    while let Some(event) = decoder.next_event().unwrap_or_else(|e| panic!("{e}")) {
        let parsed = event.parse();
        let Some(data) = parsed.data else {
            panic!("event without data: {:?}", parsed.event)
        };
        out.push((parsed.event, body_json(data.as_bytes())));
    }
    assert!(!decoder.has_partial(), "trailing partial event");
    out
}

fn encode_stream(req: &ChatRequest, events: &[StreamEvent]) -> Vec<(Option<String>, Value)> {
    let mut encoder = StreamEncoder::new(req);
    let mut out = BytesMut::new();
    for event in events {
        encoder.encode(event, &mut out);
    }
    parse_sse(&out)
}

/// The data of the last event, which must be the stream's terminal lifecycle event.
fn final_response(events: &[(Option<String>, Value)]) -> Value {
    let (_, data) = events.last().unwrap_or_else(|| panic!("empty stream"));
    data["response"].clone()
}

fn invalid_param(body: Value) -> (String, Option<String>) {
    match decode_request(body.to_string().as_bytes()) {
        Err(TranslateError::Invalid { message, param }) => (message, param),
        other => panic!("expected Invalid for {body}, got {other:?}"),
    }
}

/// Every event is named by its `type`, numbered from 0 without gaps, and the stream ends
/// with exactly one terminal event.
fn assert_stream_invariants(events: &[(Option<String>, Value)]) {
    const TERMINAL: [&str; 3] = [
        "response.completed",
        "response.incomplete",
        "response.failed",
    ];
    for (i, (name, data)) in events.iter().enumerate() {
        assert_eq!(name.as_deref(), data["type"].as_str(), "event {i}");
        assert_eq!(data["sequence_number"], json!(i), "event {i}");
        let terminal = TERMINAL.contains(&data["type"].as_str().unwrap_or(""));
        assert_eq!(terminal, i + 1 == events.len(), "event {i} {data}");
    }
    assert_eq!(
        events.first().map(|e| e.1["type"].clone()),
        Some(json!("response.created"))
    );
}

/// Rebuilds the output the way SDK stream helpers do: items from `output_item.added`,
/// text and arguments from deltas, then each item replaced by its `output_item.done`.
fn accumulate(events: &[(Option<String>, Value)]) -> Value {
    let mut output: Vec<Value> = Vec::new();
    for (_, e) in events {
        let index = e["output_index"].as_u64().unwrap_or(0) as usize;
        match e["type"].as_str().unwrap_or("") {
            "response.output_item.added" => output.push(e["item"].clone()),
            "response.content_part.added" => push(&mut output[index]["content"], &e["part"]),
            "response.reasoning_summary_part.added" => {
                push(&mut output[index]["summary"], &e["part"])
            }
            "response.output_text.delta" => {
                let at = e["content_index"].as_u64().unwrap_or(0) as usize;
                append(&mut output[index]["content"][at]["text"], &e["delta"]);
            }
            "response.reasoning_summary_text.delta" => {
                let at = e["summary_index"].as_u64().unwrap_or(0) as usize;
                append(&mut output[index]["summary"][at]["text"], &e["delta"]);
            }
            "response.function_call_arguments.delta" => {
                append(&mut output[index]["arguments"], &e["delta"])
            }
            "response.output_item.done" => {
                let mut done = e["item"].clone();
                if let Some(status) = output[index].get("status") {
                    done["status"] = status.clone();
                }
                // Apart from its status, the done item must be what the deltas built.
                assert_eq!(done, output[index], "item {index}");
                output[index] = e["item"].clone();
            }
            _ => {}
        }
    }
    Value::Array(output)
}

fn push(list: &mut Value, item: &Value) {
    if let Value::Array(list) = list {
        list.push(item.clone());
    }
}

fn append(text: &mut Value, delta: &Value) {
    let joined = format!(
        "{}{}",
        text.as_str().unwrap_or(""),
        delta.as_str().unwrap_or("")
    );
    *text = Value::String(joined);
}
