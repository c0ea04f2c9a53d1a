//! The Gemini spoke against golden fixtures written from Gemini's API reference:
//! canonical requests encoded to Gemini bodies, Gemini responses, SSE transcripts and
//! error bodies decoded to canonical values, plus the refusals and consistency checks
//! (a streamed answer decodes like the same answer sent whole).
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

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

#[test]
fn requests_encode_to_the_golden_bodies() {
    for name in [
        "chat_basic",
        "tools",
        "multimodal",
        "structured_reasoning",
        "gemini_extras",
    ] {
        let (body, _) = encode(&canonical_request(name));
        assert_eq!(
            body,
            json_file(&format!("requests/{name}.gemini.json")),
            "{name}"
        );
    }
}

#[test]
fn encoder_output_re_decodes_as_the_wire_type() {
    for name in [
        "chat_basic",
        "tools",
        "multimodal",
        "structured_reasoning",
        "gemini_extras",
    ] {
        let (body, _) = encode(&canonical_request(name));
        let wire: wire::GenerateContentRequest = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(serde_json::to_value(&wire).unwrap(), body, "{name}");
    }
}

#[test]
fn dropped_fields_are_named_in_notes() {
    let (_, notes) = encode(&canonical_request("chat_basic"));
    assert!(notes.is_empty(), "{notes:?}");
    let (_, notes) = encode(&canonical_request("tools"));
    for expected in [
        "dropped `user_tag`: not supported by gemini",
        "dropped `n`: not supported by gemini",
        "dropped `user`: not supported by gemini",
        "dropped `parallel_tool_calls: false`: gemini cannot forbid parallel calls",
        "dropped thinking: gemini cannot verify other providers' reasoning",
        "dropped tool `strict`: gemini has no strict mode",
        "tool `get_weather` parameters: dropped `$schema`, `additionalProperties`: not supported by gemini schemas",
    ] {
        assert!(
            notes.iter().any(|n| n == expected),
            "missing {expected:?} in {notes:?}"
        );
    }
    let (_, notes) = encode(&canonical_request("multimodal"));
    assert!(
        notes.iter().any(|n| n.contains("cache_control")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.contains("`detail`")), "{notes:?}");
    let (_, notes) = encode(&canonical_request("structured_reasoning"));
    assert!(
        notes.contains(&"response_format schema: dropped `additionalProperties`, format `email`: not supported by gemini schemas".to_owned()),
        "{notes:?}"
    );
    let (_, notes) = encode(&canonical_request("gemini_extras"));
    assert!(
        notes.is_empty(),
        "same-format extras are written back, not dropped: {notes:?}"
    );
}

#[test]
fn tool_choice_maps_to_calling_modes() {
    use sluice_protocol::canonical::ToolChoice;
    let mut req = canonical_request("tools");
    for (choice, mode) in [
        (ToolChoice::Auto, "AUTO"),
        (ToolChoice::None, "NONE"),
        (ToolChoice::Required, "ANY"),
    ] {
        req.tool_choice = Some(choice);
        let (body, _) = encode(&req);
        assert_eq!(
            body["toolConfig"],
            json!({"functionCallingConfig": {"mode": mode}})
        );
    }
    // Without declared functions a calling mode means nothing (and Gemini rejects it).
    req.tools.clear();
    let (body, _) = encode(&req);
    assert!(body.get("toolConfig").is_none() && body.get("tools").is_none());
}

#[test]
fn answer_changing_foreign_extras_are_refused() {
    let mut req = canonical_request("chat_basic");
    req.extra.insert("logprobs".into(), json!(true));
    let err = gemini::encode_request(&req, &mut Vec::new()).unwrap_err();
    assert_eq!(err, TranslateError::unsupported("logprobs", "gemini"));
}

#[test]
fn images_in_tool_results_are_unsupported() {
    let mut req = canonical_request("tools");
    let Part::ToolResult { content, .. } = &mut req.messages[2].content[0] else {
        panic!()
    };
    content.push(Part::Image {
        source: sluice_protocol::canonical::ImageSource::Url("https://x/y.png".into()),
        detail: None,
        cache_control: None,
    });
    let err = gemini::encode_request(&req, &mut Vec::new()).unwrap_err();
    assert_eq!(
        err,
        TranslateError::unsupported("image in tool result", "gemini")
    );
}

#[test]
fn tool_results_need_a_function_name() {
    let mut req = canonical_request("tools");
    let Part::ToolResult { call_id, .. } = &mut req.messages[2].content[0] else {
        panic!()
    };
    *call_id = "call_unknown".into();
    let err = gemini::encode_request(&req, &mut Vec::new()).unwrap_err();
    let TranslateError::Invalid { message, param } = err else {
        panic!("{err:?}")
    };
    assert!(message.contains("call_unknown"), "{message}");
    assert_eq!(param.as_deref(), Some("messages[2].content[0].call_id"));
}

#[test]
fn the_nearest_earlier_call_names_a_result_when_ids_repeat() {
    let mut req = canonical_request("tools");
    // A later turn reuses `call_a` for another function (synthesized ids can repeat).
    let mut later = req.messages[1].clone();
    later.content = vec![Part::ToolCall {
        id: "call_a".into(),
        name: "convert".into(),
        arguments: "{}".into(),
    }];
    req.messages.push(later);
    let mut result = req.messages[2].clone();
    if let Part::ToolResult { name, .. } = &mut result.content[0] {
        *name = None;
    }
    req.messages.push(result);
    let (body, _) = encode(&req);
    let last = body["contents"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["parts"][0]["functionResponse"]["name"], "convert");
}

#[test]
fn tool_call_arguments_must_be_an_object() {
    let mut req = canonical_request("tools");
    let Part::ToolCall { arguments, .. } = &mut req.messages[1].content[2] else {
        panic!()
    };
    *arguments = "[1, 2]".into();
    let err = gemini::encode_request(&req, &mut Vec::new()).unwrap_err();
    let TranslateError::Invalid { param, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(param.as_deref(), Some("messages[1].content[2].arguments"));
}

#[test]
fn responses_decode_to_the_golden_canonical_values() {
    for name in [
        "text",
        "function_calls",
        "thinking",
        "prompt_blocked",
        "max_tokens",
        "safety",
    ] {
        let mut got = gemini::decode_response(&read(&format!("responses/{name}.json"))).unwrap();
        let want: ChatResponse =
            serde_json::from_value(json_file(&format!("responses/{name}.canonical.json"))).unwrap();
        if want.id == "<generated>" {
            assert!(got.id.starts_with("gemini-"), "{name}: {}", got.id);
            got.id = want.id.clone();
        }
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn invalid_response_bodies_are_upstream_errors() {
    for body in [
        &b"not json"[..],
        b"{\"candidates\": 3}",
        b"{} trailing",
        b"{\"error\":{\"message\":\"boom\"}}",
    ] {
        let err = gemini::decode_response(body).unwrap_err();
        assert!(
            matches!(
                err,
                TranslateError::Upstream {
                    format: "gemini",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

#[test]
fn stream_transcripts_decode_to_the_golden_events() {
    for name in [
        "text",
        "tool_call",
        "late_usage",
        "blocked",
        "error",
        "truncated",
    ] {
        let (events, end) = decode_transcript(name);
        let want: Vec<StreamEvent> =
            serde_json::from_value(json_file(&format!("streams/{name}.events.json"))).unwrap();
        assert_eq!(events, want, "{name}");
        if name == "truncated" {
            assert_eq!(
                end,
                Err(TranslateError::upstream(
                    "gemini",
                    "stream ended before a finish reason"
                ))
            );
        } else {
            assert_eq!(end, Ok(()), "{name}");
        }
    }
}

#[test]
fn a_streamed_answer_decodes_like_the_whole_answer() {
    for name in ["text", "tool_call", "late_usage", "blocked"] {
        let (events, _) = decode_transcript(name);
        let whole = serde_json::to_vec(&merge_chunks(name)).unwrap();
        assert_eq!(
            accumulate(&events),
            gemini::decode_response(&whole).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn invalid_chunks_are_upstream_errors() {
    let mut decoder = StreamDecoder::new();
    let mut out = Vec::new();
    let err = decoder
        .decode(None, b"{\"candidates\":", &mut out)
        .unwrap_err();
    assert!(matches!(err, TranslateError::Upstream { .. }));
    // Blank keep-alive data is not a chunk.
    assert_eq!(decoder.decode(None, b"  ", &mut out), Ok(()));
    assert!(out.is_empty());
}

fn error(name: &str, status: u16) -> ProviderError {
    gemini::decode_error(status, &read(&format!("errors/{name}.json")))
}

#[test]
fn error_bodies_decode_with_mapped_kinds() {
    let e = error("invalid_argument", 400);
    assert_eq!(
        (e.kind.as_str(), e.param.as_deref(), e.code.as_deref()),
        (
            "invalid_request_error",
            Some("contents"),
            Some("INVALID_ARGUMENT")
        )
    );
    assert!(e.message.starts_with("* GenerateContentRequest.contents"));
    let e = error("resource_exhausted", 429);
    assert_eq!((e.status, e.kind.as_str()), (429, "rate_limit_error"));
    let e = error("not_found_array", 404);
    assert_eq!(e.kind, "not_found_error");
    assert!(e.message.contains("gemini-9-ultra"));
    assert_eq!(error("unavailable", 503).kind, "overloaded_error");
}

#[test]
fn error_messages_never_carry_keys() {
    let e = error("api_key_invalid", 400);
    assert_eq!(
        e.message,
        "API key not valid. Please pass a valid API key. (got [redacted])"
    );
    assert_eq!(e.code.as_deref(), Some("API_KEY_INVALID"));
    assert!(!format!("{e:?}").contains("AIza"));
}

#[test]
fn unreadable_error_bodies_get_a_generic_message() {
    let e = gemini::decode_error(502, b"<html>Bad Gateway</html>");
    assert_eq!(
        (e.kind.as_str(), e.message.as_str()),
        ("api_error", "gemini returned HTTP 502")
    );
    assert_eq!(gemini::decode_error(401, b"").kind, "authentication_error");
    assert_eq!(gemini::decode_error(429, b"{}").kind, "rate_limit_error");
}

#[test]
fn paths_carry_model_and_streaming() {
    assert_eq!(
        gemini::path("gemini-2.5-flash", true),
        "/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    assert_eq!(gemini::path("a/b", false), "/models/a%2Fb:generateContent");
}

/// JSON shaped like Gemini's, with the keys the decoders look at, in random places.
fn arb_json() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "candidates",
        "content",
        "parts",
        "text",
        "thought",
        "functionCall",
        "name",
        "args",
        "id",
        "finishReason",
        "usageMetadata",
        "promptTokenCount",
        "thoughtsTokenCount",
        "promptFeedback",
        "blockReason",
        "error",
        "code",
        "status",
        "message",
        "details",
        "fieldViolations",
        "field",
        "responseId",
        "index",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![
            "STOP",
            "SAFETY",
            "MAX_TOKENS",
            "",
            "AIzaAAAAAAAAAAAAAAAAAAAAAA",
            "x"
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

proptest! {
    #[test]
    fn decoders_never_panic(chunks in prop::collection::vec(arb_json(), 1..6), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut decoder = StreamDecoder::new();
        let mut out = Vec::new();
        for chunk in &chunks {
            let body = serde_json::to_vec(chunk).unwrap();
            let _ = gemini::decode_response(&body);
            let _ = gemini::decode_error(400, &body);
            let _ = decoder.decode(None, &body, &mut out);
        }
        let _ = decoder.decode(None, &bytes, &mut out);
        let _ = decoder.finish(&mut out);
        let _ = gemini::decode_response(&bytes);
        let _ = gemini::decode_error(500, &bytes);
        // Whatever came in, `Start` (if any) is first and `End` (if any) is last.
        if let Some(i) = out.iter().position(|e| matches!(e, StreamEvent::Start { .. })) {
            prop_assert_eq!(i, 0);
        }
        if let Some(i) = out.iter().position(|e| matches!(e, StreamEvent::End)) {
            prop_assert_eq!(i, out.len() - 1);
        }
    }
}
