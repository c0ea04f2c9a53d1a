//! The Anthropic Messages spoke against golden fixtures written from Anthropic's API
//! reference: decoding, round trips (Anthropic → canonical → Anthropic), recorded
//! stream transcripts, encoder output re-decoded, and the refusals.
//!
//! One file per subject; here, the helpers they share.

mod decode_requests;
mod encode_requests;
mod errors;
mod responses;
mod streams;

use bytes::BytesMut;
use proptest::prelude::*;
use serde_json::{Value, json};
use sluice_protocol::anthropic::{self, StreamDecoder, StreamEncoder};
use sluice_protocol::canonical::{
    ChatRequest, ChatResponse, FinishReason, Format, ImageSource, Message, Part, ProviderError,
    ReasoningConfig, ResponseFormat, Role, StreamEvent, Tool, ToolChoice, TranslateError, Usage,
};
use sluice_protocol::sse::SseDecoder;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/anthropic/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

/// Splits an SSE byte stream into (event name, data) pairs.
fn sse_events(bytes: &[u8]) -> Vec<(Option<String>, String)> {
    let mut decoder = SseDecoder::new(1 << 20);
    decoder.push(bytes);
    let mut out = Vec::new();
    while let Ok(Some(event)) = decoder.next_event() {
        let parsed = event.parse();
        out.push((parsed.event, parsed.data.unwrap_or_default()));
    }
    assert!(!decoder.has_partial(), "transcript ends mid-event");
    out
}

/// Runs SSE bytes through the stream decoder: the events, and `finish`'s verdict.
fn decode_stream(bytes: &[u8]) -> (Vec<StreamEvent>, Result<(), TranslateError>) {
    let mut decoder = StreamDecoder::new();
    let mut out = Vec::new();
    for (event, data) in sse_events(bytes) {
        if let Err(e) = decoder.decode(event.as_deref(), data.as_bytes(), &mut out) {
            return (out, Err(e));
        }
    }
    let verdict = decoder.finish(&mut out);
    (out, verdict)
}

fn encode_stream(req: &ChatRequest, events: &[StreamEvent]) -> BytesMut {
    let mut encoder = StreamEncoder::new(req);
    let mut out = BytesMut::new();
    for event in events {
        encoder.encode(event, &mut out);
    }
    out
}

fn text(t: &str) -> StreamEvent {
    StreamEvent::TextDelta { text: t.to_owned() }
}
