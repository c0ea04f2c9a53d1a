//! Translation cost per request, without I/O: what a translated stream or body costs
//! Sluice's CPU over the pass-through path (which only taps events). The end-to-end
//! figures come from `bench/run.sh`; these isolate the translation itself, and the
//! pass-through path's own reading of each event (with and without its text read).

use bytes::BytesMut;
use criterion::{Criterion, criterion_group, criterion_main};
use sluice_protocol::canonical::{ChatRequest, Format};
use sluice_protocol::sse::{SseDecoder, encode_event};
use sluice_protocol::text::{Stream, StreamText};
use sluice_protocol::translate::{Ingress, Provider, StreamDecoder, StreamEncoder};
use std::hint::black_box;

const CHUNKS: usize = 30;

/// An OpenAI chat stream like the mock's: role chunk, 30 content chunks, finish, usage, [DONE].
fn openai_transcript() -> Vec<u8> {
    let chunk = |delta: &str, finish: &str| {
        format!(
            r#"{{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp","choices":[{{"index":0,"delta":{delta},"logprobs":null,"finish_reason":{finish}}}],"usage":null}}"#
        )
    };
    let mut out = Vec::new();
    out.extend_from_slice(&encode_event(
        None,
        &chunk(r#"{"role":"assistant","content":""}"#, "null"),
    ));
    for i in 0..CHUNKS {
        out.extend_from_slice(&encode_event(
            None,
            &chunk(&format!(r#"{{"content":" tok{i}"}}"#), "null"),
        ));
    }
    out.extend_from_slice(&encode_event(None, &chunk("{}", r#""stop""#)));
    out.extend_from_slice(&encode_event(
        None,
        r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42}}"#,
    ));
    out.extend_from_slice(&encode_event(None, "[DONE]"));
    out
}

/// An Anthropic stream with the same answer.
fn anthropic_transcript() -> Vec<u8> {
    let mut out = Vec::new();
    let mut push =
        |event: &str, data: String| out.extend_from_slice(&encode_event(Some(event), &data));
    push("message_start", r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}"#.into());
    push(
        "content_block_start",
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#
            .into(),
    );
    push("ping", r#"{"type":"ping"}"#.into());
    for i in 0..CHUNKS {
        push(
            "content_block_delta",
            format!(
                r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":" tok{i}"}}}}"#
            ),
        );
    }
    push(
        "content_block_stop",
        r#"{"type":"content_block_stop","index":0}"#.into(),
    );
    push("message_delta", r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":30}}"#.into());
    push("message_stop", r#"{"type":"message_stop"}"#.into());
    out
}

fn passthrough(provider: Provider, transcript: &[u8]) -> usize {
    let mut sse = SseDecoder::new(1 << 20);
    sse.push(transcript);
    let mut forwarded = 0;
    while let Ok(Some(event)) = sse.next_event() {
        let kind = event.event_name();
        if let Some(data) = event.single_data() {
            black_box(provider.tap(kind, data));
        }
        forwarded += event.raw().len();
    }
    forwarded
}

/// Pass-through when a stage reads the text (the budget cut-off, the output guard): each
/// event walked once by the text reader, whose walk also stands for the tap's check.
fn passthrough_read(provider: Provider, stream: Stream, transcript: &[u8]) -> usize {
    let mut sse = SseDecoder::new(1 << 20);
    sse.push(transcript);
    let mut reader = StreamText::new(stream);
    let mut pieces = 0;
    while let Ok(Some(event)) = sse.next_event() {
        let kind = event.event_name();
        if let Some(data) = event.single_data() {
            let (walked, text) = reader.read_walked(data);
            black_box(provider.tap_walked(kind, data, walked));
            pieces += text.map_or(0, |t| t.pieces.len());
        }
    }
    pieces
}

fn translate(provider: Provider, ingress: Ingress, transcript: &[u8], req: &ChatRequest) -> usize {
    let mut sse = SseDecoder::new(1 << 20);
    sse.push(transcript);
    let mut decoder = StreamDecoder::new(provider);
    let mut encoder = StreamEncoder::new(ingress, req);
    let mut events = Vec::new();
    let mut out = BytesMut::new();
    while let Ok(Some(raw)) = sse.next_event() {
        let (kind, data) = raw.type_and_data();
        let _ = decoder.decode(kind, &data, &mut events);
        for event in events.drain(..) {
            encoder.encode(&event, &mut out);
        }
    }
    let _ = decoder.finish(&mut events);
    for event in events.drain(..) {
        encoder.encode(&event, &mut out);
    }
    out.len()
}

const REQUEST: &[u8] = br#"{"model":"m","stream":true,"max_tokens":256,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Write a haiku about gateways and the rivers they guard, please."}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]}"#;

fn streams(c: &mut Criterion) {
    let openai = openai_transcript();
    let anthropic = anthropic_transcript();
    let req = ChatRequest::new("m", Format::OpenAiChat);
    let mut group = c.benchmark_group("stream_30_chunks");
    group.bench_function("passthrough_openai", |b| {
        b.iter(|| passthrough(Provider::OpenAiChat, black_box(&openai)))
    });
    group.bench_function("passthrough_openai_text_read", |b| {
        b.iter(|| passthrough_read(Provider::OpenAiChat, Stream::Chat, black_box(&openai)))
    });
    group.bench_function("passthrough_anthropic", |b| {
        b.iter(|| passthrough(Provider::Anthropic, black_box(&anthropic)))
    });
    group.bench_function("anthropic_to_openai", |b| {
        b.iter(|| {
            translate(
                Provider::Anthropic,
                Ingress::OpenAiChat,
                black_box(&anthropic),
                &req,
            )
        })
    });
    group.bench_function("openai_to_anthropic", |b| {
        b.iter(|| {
            translate(
                Provider::OpenAiChat,
                Ingress::Anthropic,
                black_box(&openai),
                &req,
            )
        })
    });
    group.bench_function("openai_to_responses", |b| {
        b.iter(|| {
            translate(
                Provider::OpenAiChat,
                Ingress::Responses,
                black_box(&openai),
                &req,
            )
        })
    });
    group.finish();
}

fn requests(c: &mut Criterion) {
    let mut group = c.benchmark_group("request");
    group.bench_function("openai_head_passthrough", |b| {
        b.iter(|| {
            sluice_protocol::openai::request::decode::<
                sluice_protocol::openai::request::ChatRequestHead,
            >(black_box(REQUEST))
            .is_ok()
        })
    });
    for provider in [Provider::Anthropic, Provider::Gemini] {
        group.bench_function(format!("openai_to_{}", provider.format().as_str()), |b| {
            b.iter(|| {
                let req = Ingress::OpenAiChat
                    .decode_request(black_box(REQUEST))
                    .ok()?;
                provider.encode_request(&req, &mut Vec::new()).ok()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, streams, requests);
criterion_main!(benches);
