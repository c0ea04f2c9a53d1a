//! The OpenAI Chat Completions spoke against golden fixtures written from OpenAI's API
//! reference (and the shapes vLLM, DeepSeek and Ollama send): decoding, round trips
//! through the canonical model, stream transcripts, and refusals.
//!
//! One file per subject; here, the helpers they share.

mod decode_requests;
mod encode_requests;
mod responses;
mod streams;

use bytes::BytesMut;
use proptest::prelude::*;
use serde_json::{Value, json};
use sluice_protocol::canonical::{
    CacheControl, ChatRequest, ChatResponse, FinishReason, Format, ImageSource, Message, Part,
    ReasoningConfig, ResponseFormat, Role, StreamEvent, ToolChoice, TranslateError, Usage,
};
use sluice_protocol::openai::{self, StreamDecoder, StreamEncoder};
use sluice_protocol::sse::SseDecoder;

fn fixture(path: &str) -> Vec<u8> {
    let full = format!(
        "{}/tests/fixtures/openai/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// `unwrap` for helpers, which clippy does not count as test code.
fn ok<T, E: std::fmt::Debug>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e:?}"),
    }
}

fn json_fixture(path: &str) -> Value {
    ok(serde_json::from_slice(&fixture(path)), path)
}

fn decode(path: &str) -> ChatRequest {
    ok(openai::decode_request(&fixture(path)), path)
}

fn encode(req: &ChatRequest) -> (Value, Vec<String>) {
    let mut notes = Vec::new();
    let body = ok(openai::encode_request(req, &mut notes), "encode_request");
    (ok(serde_json::from_slice(&body), "encoded body"), notes)
}

fn invalid_param(body: &[u8]) -> (String, Option<String>) {
    match openai::decode_request(body) {
        Err(TranslateError::Invalid { message, param }) => (message, param),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// SSE bytes → (event, data) pairs, through the same decoder the gateway uses.
fn sse(bytes: &[u8]) -> Vec<(Option<String>, String)> {
    let mut d = SseDecoder::new(1 << 20);
    d.push(bytes);
    let mut out = Vec::new();
    while let Some(e) = ok(d.next_event(), "sse") {
        let p = e.parse();
        out.push((p.event, p.data.unwrap_or_default()));
    }
    out
}

fn decode_stream(bytes: &[u8]) -> Result<Vec<StreamEvent>, TranslateError> {
    let mut decoder = StreamDecoder::new();
    let mut out = Vec::new();
    for (event, data) in sse(bytes) {
        decoder.decode(event.as_deref(), data.as_bytes(), &mut out)?;
    }
    decoder.finish(&mut out)?;
    Ok(out)
}

fn encode_stream(events: &[StreamEvent], include_usage: bool) -> Vec<u8> {
    let mut req = ChatRequest::new("client-model", Format::OpenAiChat);
    req.stream = true;
    req.include_usage = include_usage;
    let mut encoder = StreamEncoder::new(&req);
    let mut out = BytesMut::new();
    for e in events {
        encoder.encode(e, &mut out);
    }
    out.to_vec()
}
