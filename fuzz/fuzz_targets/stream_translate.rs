//! The stream translators: arbitrary upstream SSE bytes through each provider's stream
//! decoder and every ingress encoder never panic, and the pass-through taps agree to
//! look at anything.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sluice_protocol::canonical::{ChatRequest, Format};
use sluice_protocol::sse::SseDecoder;
use sluice_protocol::translate::{Ingress, Provider, StreamDecoder, StreamEncoder};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let provider = [Provider::OpenAiChat, Provider::Anthropic, Provider::Gemini][usize::from(selector % 3)];
    let ingress = [Ingress::OpenAiChat, Ingress::Anthropic, Ingress::Responses][usize::from(selector / 3 % 3)];
    let req = ChatRequest::new("m", Format::OpenAiChat);
    let mut decoder = StreamDecoder::new(provider);
    let mut encoder = StreamEncoder::new(ingress, &req);
    let mut sse = SseDecoder::new(1 << 16);
    let mut events = Vec::new();
    let mut out = BytesMut::new();
    sse.push(body);
    while let Ok(Some(raw)) = sse.next_event() {
        let parsed = raw.parse();
        let data = parsed.data.unwrap_or_default();
        let _ = provider.tap(parsed.event.as_deref(), data.as_bytes());
        if decoder.decode(parsed.event.as_deref(), data.as_bytes(), &mut events).is_err() {
            break;
        }
        for event in events.drain(..) {
            encoder.encode(&event, &mut out);
        }
    }
    let _ = decoder.finish(&mut events);
    for event in events.drain(..) {
        encoder.encode(&event, &mut out);
    }
});
