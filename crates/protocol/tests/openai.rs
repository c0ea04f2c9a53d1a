//! The OpenAI Chat Completions spoke against golden fixtures written from OpenAI's API
//! reference (and the shapes vLLM, DeepSeek and Ollama send): decoding, round trips
//! through the canonical model, stream transcripts, and refusals.

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

// ---- requests: decode ----

#[test]
fn decodes_basic_request_hoisting_system_and_keeping_extras() {
    let req = decode("requests/basic.json");
    assert_eq!(req.source, Format::OpenAiChat);
    assert_eq!(req.model, "gpt-4o-mini");
    assert_eq!(
        req.system,
        [
            Part::text("You are a terse assistant."),
            Part::text("Answer in English.")
        ]
    );
    assert_eq!(
        req.messages,
        [Message {
            role: Role::User,
            content: vec![Part::text("Name three primary colours.")]
        }]
    );
    assert_eq!(req.max_tokens, Some(256));
    assert_eq!((req.temperature, req.top_p), (Some(0.2), Some(0.9)));
    assert_eq!(req.stop, ["END"]);
    assert_eq!(req.seed, Some(42));
    assert_eq!(
        (req.presence_penalty, req.frequency_penalty),
        (Some(0.5), Some(-0.5))
    );
    assert_eq!(req.user.as_deref(), Some("user-1234"));
    assert!(req.stream && req.include_usage);
    let extra: Vec<&str> = req.extra.keys().map(String::as_str).collect();
    assert_eq!(extra, ["n", "metadata", "store", "service_tier"]);
}

#[test]
fn decodes_tool_conversation_merging_tool_messages() {
    let req = decode("requests/tools_conversation.json");
    let roles: Vec<Role> = req.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            Role::User,
            Role::Assistant,
            Role::User,
            Role::Assistant,
            Role::User
        ]
    );
    assert_eq!(
        req.messages[1].content[1],
        Part::ToolCall {
            id: "call_oslo".into(),
            name: "get_weather".into(),
            arguments: r#"{"city":"Oslo"}"#.into()
        }
    );
    assert_eq!(
        req.messages[2].content,
        [
            Part::ToolResult {
                call_id: "call_paris".into(),
                name: Some("get_weather".into()),
                content: vec![Part::text("18C, sunny")],
                is_error: false,
                cache_control: None,
            },
            Part::ToolResult {
                call_id: "call_oslo".into(),
                name: Some("get_weather".into()),
                content: vec![Part::text("4C, rain")],
                is_error: false,
                cache_control: None,
            },
        ]
    );
    assert_eq!(req.tools.len(), 1);
    assert_eq!(
        (req.tools[0].name.as_str(), req.tools[0].strict),
        ("get_weather", Some(true))
    );
    assert_eq!(
        req.tool_choice,
        Some(ToolChoice::Tool("get_weather".into()))
    );
    assert_eq!(req.parallel_tool_calls, Some(false));
    assert_eq!(req.stop, ["\n\n\n", "###"]);
    assert!(matches!(
        &req.response_format,
        Some(ResponseFormat::JsonSchema { name, strict: Some(true), description: Some(_), .. }) if name == "weather_report"
    ));
    assert!(req.extra.is_empty());
}

#[test]
fn decodes_images_with_data_urls_as_base64() {
    let req = decode("requests/multimodal.json");
    let content = &req.messages[0].content;
    assert!(matches!(
        &content[1],
        Part::Image { source: ImageSource::Url(url), detail: Some(d), .. } if url == "https://example.com/cat.jpg" && d == "low"
    ));
    assert!(matches!(
        &content[2],
        Part::Image { source: ImageSource::Base64 { media_type, data }, detail: None, .. }
            if media_type == "image/png" && data.starts_with("iVBOR")
    ));
}

#[test]
fn decodes_reasoning_history_and_effort() {
    let req = decode("requests/reasoning_history.json");
    assert_eq!(
        req.messages[1].content,
        [
            Part::Thinking {
                text: "91 = 7 * 13, so it is composite.".into(),
                signature: None
            },
            Part::text("No: 91 = 7 x 13."),
        ]
    );
    assert_eq!(
        req.reasoning,
        Some(ReasoningConfig {
            effort: Some("high".into()),
            budget_tokens: None
        })
    );
    assert_eq!(req.response_format, Some(ResponseFormat::JsonObject));
    assert_eq!(req.tool_choice, Some(ToolChoice::None));
    assert_eq!(req.extra.get("logprobs"), Some(&Value::Bool(false)));
}

#[test]
fn accepts_reasoning_alias_refusals_and_text_part_arrays() {
    let body = json!({"model": "m", "messages": [
        {"role": "system", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "assistant", "reasoning": "hmm", "content": [{"type": "refusal", "refusal": "no"}]},
        {"role": "assistant", "content": "", "refusal": "I can't help with that."}
    ], "reasoning_effort": "none"});
    let req = openai::decode_request(body.to_string().as_bytes()).unwrap();
    assert_eq!(req.system, [Part::text("a"), Part::text("b")]);
    assert_eq!(
        req.messages[0].content,
        [
            Part::Thinking {
                text: "hmm".into(),
                signature: None
            },
            Part::text("no")
        ]
    );
    assert_eq!(
        req.messages[1].content,
        [Part::text("I can't help with that.")]
    );
    assert_eq!(req.reasoning, None);
}

#[test]
fn refuses_untranslatable_input_with_the_param_path() {
    let (message, param) = invalid_param(&fixture("requests/input_audio.json"));
    assert_eq!(
        message,
        "content part type `input_audio` cannot be translated"
    );
    assert_eq!(param.as_deref(), Some("messages[1].content[1].type"));

    let (message, param) = invalid_param(&fixture("requests/function_role.json"));
    assert!(message.contains("function_call"), "{message}");
    assert_eq!(param.as_deref(), Some("messages[1].function_call"));

    let (_, param) = invalid_param(&fixture("requests/custom_tool.json"));
    assert_eq!(param.as_deref(), Some("tools[1].type"));

    let cases = [
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}, {"role": "function", "name": "f", "content": "1"}]}),
            "messages[1].role",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": 5}]}),
            "messages[0].content",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "file", "file": {"file_id": "f"}}]}]}),
            "messages[0].content[0].type",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]}),
            "messages[0].content[0].text",
        ),
        (
            json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}),
            "messages[0].tool_call_id",
        ),
        (
            json!({"model": "m", "messages": [{"role": "robot", "content": "x"}]}),
            "messages[0].role",
        ),
        (
            json!({"model": "m", "messages": [], "functions": [{"name": "f"}]}),
            "functions",
        ),
        (
            json!({"model": "m", "messages": [], "tool_choice": "sometimes"}),
            "tool_choice",
        ),
        (
            json!({"model": "m", "messages": [], "response_format": {"type": "json_schema"}}),
            "response_format.json_schema",
        ),
        (
            json!({"model": "m", "messages": [], "temperature": "hot"}),
            "temperature",
        ),
    ];
    for (body, want) in cases {
        let (_, param) = invalid_param(body.to_string().as_bytes());
        assert_eq!(param.as_deref(), Some(want), "{body}");
    }
    assert!(matches!(
        openai::decode_request(b"{\"model\":"),
        Err(TranslateError::Invalid { param: None, .. })
    ));
}

// ---- requests: round trips ----

#[test]
fn normal_form_requests_round_trip_exactly() {
    for path in [
        "requests/tools_conversation.json",
        "requests/multimodal.json",
    ] {
        let (out, notes) = encode(&decode(path));
        assert_eq!(out, json_fixture(path), "{path}");
        assert!(notes.is_empty(), "{path}: {notes:?}");
    }
}

/// Normalisations: system/developer messages become one leading `system` message
/// (texts joined by a blank line), `max_completion_tokens` goes out as `max_tokens`, a
/// string `stop` as an array, and streams always ask for usage.
#[test]
fn basic_request_round_trips_modulo_documented_normalisations() {
    let (out, _) = encode(&decode("requests/basic.json"));
    let mut want = json_fixture("requests/basic.json");
    want["messages"] = json!([
        {"role": "system", "content": "You are a terse assistant.\n\nAnswer in English."},
        {"role": "user", "content": "Name three primary colours."}
    ]);
    let obj = want.as_object_mut().unwrap();
    let limit = obj.remove("max_completion_tokens").unwrap();
    obj.insert("max_tokens".into(), limit);
    obj.insert("stop".into(), json!(["END"]));
    assert_eq!(out, want);
}

#[test]
fn reasoning_history_drops_thinking_with_a_note() {
    let (out, notes) = encode(&decode("requests/reasoning_history.json"));
    let mut want = json_fixture("requests/reasoning_history.json");
    want["messages"][1]
        .as_object_mut()
        .unwrap()
        .remove("reasoning_content");
    assert_eq!(out, want);
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains("thinking"), "{notes:?}");
}

#[test]
fn decode_encode_decode_is_stable() {
    for path in [
        "requests/basic.json",
        "requests/tools_conversation.json",
        "requests/multimodal.json",
    ] {
        let req = decode(path);
        let (out, _) = encode(&req);
        let again = openai::decode_request(out.to_string().as_bytes()).unwrap();
        let mut want = req.clone();
        // The system texts were joined into one message.
        let joined: Vec<&str> = req.system.iter().filter_map(Part::as_text).collect();
        if !joined.is_empty() {
            want.system = vec![Part::text(joined.join("\n\n"))];
        }
        assert_eq!(again, want, "{path}");
    }
}

// ---- requests: encode from other formats ----

fn anthropic_origin() -> ChatRequest {
    let cache = Some(CacheControl(json!({"type": "ephemeral"})));
    let mut req = ChatRequest::new("qwen3", Format::Anthropic);
    req.system = vec![
        Part::Text {
            text: "You are Claude Code.".into(),
            cache_control: None,
        },
        Part::Text {
            text: "Be brief.".into(),
            cache_control: cache.clone(),
        },
    ];
    req.messages = vec![
        Message {
            role: Role::User,
            content: vec![Part::text("List files")],
        },
        Message {
            role: Role::Assistant,
            content: vec![
                Part::Thinking {
                    text: "I should call ls.".into(),
                    signature: Some("sig".into()),
                },
                Part::RedactedThinking {
                    data: "opaque".into(),
                },
                Part::text("Listing."),
                Part::ToolCall {
                    id: "toolu_1".into(),
                    name: "ls".into(),
                    arguments: "{}".into(),
                },
            ],
        },
        Message {
            role: Role::User,
            content: vec![
                Part::ToolResult {
                    call_id: "toolu_1".into(),
                    name: Some("ls".into()),
                    content: vec![
                        Part::text("a.png"),
                        Part::Image {
                            source: ImageSource::Base64 {
                                media_type: "image/png".into(),
                                data: "AAAA".into(),
                            },
                            detail: None,
                            cache_control: None,
                        },
                    ],
                    is_error: true,
                    cache_control: cache,
                },
                Part::text("What is in a.png?"),
            ],
        },
    ];
    req.max_tokens = Some(1024);
    req.top_k = Some(40);
    req.stream = true;
    req.reasoning = Some(ReasoningConfig {
        effort: None,
        budget_tokens: Some(20000),
    });
    req.parallel_tool_calls = Some(false);
    req.extra.insert("container".into(), json!("c1"));
    req
}

#[test]
fn encodes_anthropic_origin_request_with_notes() {
    let (out, notes) = encode(&anthropic_origin());
    assert_eq!(
        out,
        json!({
            "model": "qwen3",
            "messages": [
                {"role": "system", "content": "You are Claude Code.\n\nBe brief."},
                {"role": "user", "content": "List files"},
                {"role": "assistant", "content": "Listing.", "tool_calls": [
                    {"id": "toolu_1", "type": "function", "function": {"name": "ls", "arguments": "{}"}}
                ]},
                {"role": "tool", "content": "a.png", "tool_call_id": "toolu_1"},
                {"role": "user", "content": [
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                    {"type": "text", "text": "What is in a.png?"}
                ]}
            ],
            "max_tokens": 1024,
            "stream": true,
            "stream_options": {"include_usage": true},
            "reasoning_effort": "high"
        })
    );
    let all = notes.join("\n");
    for needle in [
        "`container`",
        "cache_control",
        "thinking",
        "redacted_thinking",
        "images of tool results",
        "is_error",
        "`top_k`",
        "reasoning_effort `high`",
        "parallel_tool_calls",
    ] {
        assert!(all.contains(needle), "missing note about {needle}: {all}");
    }
}

#[test]
fn refuses_what_openai_cannot_express() {
    let mut req = ChatRequest::new("m", Format::OpenAiResponses);
    req.extra.insert("n".into(), json!(3));
    assert_eq!(
        openai::encode_request(&req, &mut Vec::new()),
        Err(TranslateError::Unsupported {
            feature: "n".into(),
            target: "openai"
        })
    );
    let mut req = ChatRequest::new("m", Format::Anthropic);
    req.messages = vec![Message {
        role: Role::Assistant,
        content: vec![Part::Image {
            source: ImageSource::Url("https://x/y.png".into()),
            detail: None,
            cache_control: None,
        }],
    }];
    assert!(matches!(
        openai::encode_request(&req, &mut Vec::new()),
        Err(TranslateError::Unsupported {
            target: "openai",
            ..
        })
    ));
}

#[test]
fn non_stream_requests_do_not_ask_for_usage_options() {
    let mut req = ChatRequest::new("m", Format::Anthropic);
    req.messages = vec![Message {
        role: Role::User,
        content: vec![Part::text("hi")],
    }];
    req.tools = Vec::new();
    let (out, notes) = encode(&req);
    assert_eq!(
        out,
        json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    );
    assert!(notes.is_empty());
}

// ---- responses ----

#[test]
fn decodes_responses() {
    let text = openai::decode_response(&fixture("responses/text.json")).unwrap();
    assert_eq!(text.content, [Part::text("Red, yellow and blue.")]);
    assert_eq!(text.finish, Some(FinishReason::Stop));
    assert_eq!(
        text.usage,
        Some(Usage {
            input_tokens: 1117,
            output_tokens: 46,
            cached_input_tokens: 1024,
            ..Usage::default()
        })
    );
    assert_eq!(
        (text.created, text.model.as_str()),
        (1741570283, "gpt-4o-2024-08-06")
    );

    let tools = openai::decode_response(&fixture("responses/tool_calls.json")).unwrap();
    assert_eq!(tools.finish, Some(FinishReason::ToolCalls));
    assert!(
        matches!(&tools.content[..], [Part::ToolCall { id: a, .. }, Part::ToolCall { id: b, .. }] if a == "call_paris" && b == "call_oslo")
    );

    let ds = openai::decode_response(&fixture("responses/reasoning_deepseek.json")).unwrap();
    assert!(matches!(
        &ds.content[..],
        [Part::Thinking { .. }, Part::Text { .. }]
    ));
    assert_eq!(ds.finish, Some(FinishReason::Length));
    let usage = ds.usage.unwrap();
    assert_eq!(
        (usage.cached_input_tokens, usage.reasoning_tokens),
        (16, 100)
    );
}

#[test]
fn responses_round_trip() {
    let req = ChatRequest::new("client-model", Format::OpenAiChat);
    let original = json_fixture("responses/tool_calls.json");
    let resp = openai::decode_response(&fixture("responses/tool_calls.json")).unwrap();
    let out: Value = serde_json::from_slice(&openai::encode_response(&resp, &req)).unwrap();
    assert_eq!(out, original);

    // Fields the canonical model does not carry are dropped; the fingerprint is not ours.
    let mut want = json_fixture("responses/text.json");
    want.as_object_mut().unwrap().remove("service_tier");
    want["system_fingerprint"] = Value::Null;
    let message = want["choices"][0]["message"].as_object_mut().unwrap();
    message.remove("refusal");
    message.remove("annotations");
    want["usage"]["prompt_tokens_details"] = json!({"cached_tokens": 1024});
    want["usage"]["completion_tokens_details"] = json!({"reasoning_tokens": 0});
    let resp = openai::decode_response(&fixture("responses/text.json")).unwrap();
    let out: Value = serde_json::from_slice(&openai::encode_response(&resp, &req)).unwrap();
    assert_eq!(out, want);
}

#[test]
fn encodes_foreign_responses_with_openai_ids_and_reasons() {
    let resp = ChatResponse {
        id: "msg_01XYZ".into(),
        model: String::new(),
        created: 1700000000,
        content: vec![
            Part::Thinking {
                text: "think".into(),
                signature: Some("s".into()),
            },
            Part::text("Done."),
        ],
        finish: Some(FinishReason::StopSequence),
        stop_sequence: Some("###".into()),
        usage: Some(Usage {
            input_tokens: 10,
            output_tokens: 5,
            cache_creation_input_tokens: 3,
            ..Usage::default()
        }),
    };
    let req = ChatRequest::new("claude-alias", Format::OpenAiChat);
    let out: Value = serde_json::from_slice(&openai::encode_response(&resp, &req)).unwrap();
    assert_eq!(out["id"], "chatcmpl-msg_01XYZ");
    assert_eq!(out["object"], "chat.completion");
    assert_eq!(out["model"], "claude-alias");
    assert_eq!(out["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        out["choices"][0]["message"],
        json!({"role": "assistant", "content": "Done.", "reasoning_content": "think"})
    );
    assert_eq!(out["usage"]["total_tokens"], 15);
    let again = openai::decode_response(out.to_string().as_bytes()).unwrap();
    assert_eq!(
        again.content,
        resp.content
            .iter()
            .cloned()
            .map(|p| match p {
                Part::Thinking { text, .. } => Part::Thinking {
                    text,
                    signature: None
                },
                other => other,
            })
            .collect::<Vec<_>>()
    );
}

#[test]
fn invalid_provider_bodies_are_upstream_errors() {
    for body in [
        &b"not json"[..],
        b"{}",
        br#"{"choices":[]}"#,
        br#"{"error":{"message":"overloaded"}}"#,
        b"[1,2]",
    ] {
        assert!(
            matches!(
                openai::decode_response(body),
                Err(TranslateError::Upstream {
                    format: "openai",
                    ..
                })
            ),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

// ---- streams ----

#[test]
fn stream_transcripts_decode_to_golden_events() {
    for name in [
        "text_usage",
        "tool_calls_parallel",
        "vllm_reasoning_no_done",
        "error_midstream",
    ] {
        let events = decode_stream(&fixture(&format!("streams/{name}.sse"))).unwrap();
        let want: Vec<StreamEvent> =
            serde_json::from_value(json_fixture(&format!("streams/{name}.events.json"))).unwrap();
        assert_eq!(events, want, "{name}");
    }
}

#[test]
fn truncated_stream_is_an_upstream_error() {
    let err = decode_stream(&fixture("streams/truncated.sse"));
    assert!(
        matches!(
            err,
            Err(TranslateError::Upstream {
                format: "openai",
                ..
            })
        ),
        "{err:?}"
    );
    let mut d = StreamDecoder::default();
    assert!(d.finish(&mut Vec::new()).is_err());
    assert!(d.decode(None, b"[DONE]", &mut Vec::new()).is_err());
    assert!(
        StreamDecoder::new()
            .decode(None, b"{not json", &mut Vec::new())
            .is_err()
    );
}

#[test]
fn encoded_streams_decode_back_to_the_same_events() {
    for name in [
        "text_usage",
        "tool_calls_parallel",
        "vllm_reasoning_no_done",
        "error_midstream",
    ] {
        let events: Vec<StreamEvent> =
            serde_json::from_value(json_fixture(&format!("streams/{name}.events.json"))).unwrap();
        let bytes = encode_stream(&events, true);
        let again = match decode_stream(&bytes) {
            Ok(events) => events,
            Err(e) => panic!("{name}: {e}\n{}", String::from_utf8_lossy(&bytes)),
        };
        assert_eq!(again, events, "{name}");
    }
}

#[test]
fn encoder_writes_openai_chunk_shapes() {
    let events: Vec<StreamEvent> =
        serde_json::from_value(json_fixture("streams/text_usage.events.json")).unwrap();
    let chunks: Vec<Value> = sse(&encode_stream(&events, true))
        .into_iter()
        .map(|(_, d)| serde_json::from_str(&d).unwrap_or(Value::String(d)))
        .collect();
    assert_eq!(chunks.len(), 6);
    assert_eq!(chunks[0]["object"], "chat.completion.chunk");
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    assert!(
        chunks[..4]
            .iter()
            .all(|c| c["usage"].is_null() && c.get("usage").is_some())
    );
    assert_eq!(
        chunks[3]["choices"][0],
        json!({"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"})
    );
    assert_eq!(chunks[4]["choices"], json!([]));
    assert_eq!(chunks[4]["usage"]["total_tokens"], 27);
    assert_eq!(chunks[5], "[DONE]");

    let without = encode_stream(&events, false);
    assert!(!String::from_utf8_lossy(&without).contains("usage"));
    assert!(without.ends_with(b"data: [DONE]\n\n"));
}

#[test]
fn encoder_copes_with_anthropic_ordering_and_errors() {
    let events = vec![
        StreamEvent::Start {
            id: "msg_1".into(),
            model: "claude".into(),
            created: 0,
        },
        StreamEvent::Usage(Usage {
            input_tokens: 7,
            ..Usage::default()
        }),
        StreamEvent::ThinkingDelta { text: "hm".into() },
        StreamEvent::ThinkingSignature {
            signature: "sig".into(),
        },
        StreamEvent::RedactedThinking { data: "x".into() },
        StreamEvent::TextDelta { text: "ok".into() },
        StreamEvent::ToolCallStart {
            index: 0,
            id: "toolu_1".into(),
            name: "ls".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "{}".into(),
        },
        StreamEvent::Finish {
            reason: FinishReason::StopSequence,
            stop_sequence: Some("##".into()),
        },
        StreamEvent::Usage(Usage {
            input_tokens: 7,
            output_tokens: 3,
            ..Usage::default()
        }),
        StreamEvent::End,
    ];
    let decoded = decode_stream(&encode_stream(&events, true)).unwrap();
    assert_eq!(
        decoded[0],
        StreamEvent::Start {
            id: "chatcmpl-msg_1".into(),
            model: "claude".into(),
            created: 0
        }
    );
    assert!(decoded.contains(&StreamEvent::Finish {
        reason: FinishReason::Stop,
        stop_sequence: None
    }));
    assert_eq!(
        decoded[decoded.len() - 2],
        StreamEvent::Usage(Usage {
            input_tokens: 7,
            output_tokens: 3,
            ..Usage::default()
        })
    );

    // An error mid-stream is the last thing written: no [DONE] after it.
    let bytes = encode_stream(
        &[
            StreamEvent::Start {
                id: "x".into(),
                model: "m".into(),
                created: 1,
            },
            StreamEvent::Error {
                kind: "overloaded_error".into(),
                message: "Overloaded".into(),
            },
            StreamEvent::End,
        ],
        false,
    );
    let last = sse(&bytes).pop().unwrap().1;
    let last: Value = serde_json::from_str(&last).unwrap();
    assert_eq!(last["error"]["message"], "Overloaded");
    assert_eq!(last["error"]["code"], "overloaded_error");

    // End without Finish still gives the client a finish reason.
    let bytes = encode_stream(
        &[
            StreamEvent::Start {
                id: "x".into(),
                model: "m".into(),
                created: 1,
            },
            StreamEvent::End,
        ],
        false,
    );
    assert!(String::from_utf8_lossy(&bytes).contains(r#""finish_reason":"stop""#));
}

#[test]
fn decoder_is_lenient_with_compatible_servers() {
    // Ids repeated on every fragment, a missing index, an empty-choices keep-alive chunk.
    let transcript = concat!(
        "data: {\"id\":\"c\",\"model\":\"m\",\"created\":1,\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"call_a\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\"\"}}]}}]}\n\n",
        "data: {\"id\":\"c\",\"model\":\"m\",\"created\":1,\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"function\":{\"arguments\":\":1}\"}}]}}]}\n\n",
        "data: {\"id\":\"c\",\"choices\":[]}\n\n",
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: [DONE]\n\n",
        "data: {\"late\":true}\n\n",
    );
    let events = decode_stream(transcript.as_bytes()).unwrap();
    assert_eq!(
        events,
        [
            StreamEvent::Start {
                id: "c".into(),
                model: "m".into(),
                created: 1
            },
            StreamEvent::ToolCallStart {
                index: 0,
                id: "call_a".into(),
                name: "f".into()
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                arguments: "{\"x\"".into()
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                arguments: ":1}".into()
            },
            StreamEvent::Finish {
                reason: FinishReason::ToolCalls,
                stop_sequence: None
            },
            StreamEvent::End,
        ]
    );

    // A named error event carries the fields at the top level.
    let mut d = StreamDecoder::new();
    let mut out = Vec::new();
    d.decode(
        Some("error"),
        br#"{"message":"quota","type":"insufficient_quota"}"#,
        &mut out,
    )
    .unwrap();
    assert_eq!(
        out,
        [StreamEvent::Error {
            kind: "insufficient_quota".into(),
            message: "quota".into()
        }]
    );
    assert!(d.finish(&mut out).is_ok());
}

#[test]
fn tap_follows_a_pass_through_transcript() {
    let taps: Vec<_> = sse(&fixture("streams/text_usage.sse"))
        .iter()
        .map(|(e, d)| openai::tap(e.as_deref(), d.as_bytes()))
        .collect();
    assert!(taps.last().unwrap().end);
    assert_eq!(taps[4].usage.map(|u| u.total()), Some(27));
    assert!(taps.iter().all(|t| !t.malformed && !t.error));
    let taps: Vec<_> = sse(&fixture("streams/error_midstream.sse"))
        .iter()
        .map(|(e, d)| openai::tap(e.as_deref(), d.as_bytes()))
        .collect();
    assert!(taps.last().unwrap().error);
}

#[test]
fn decode_error_round_trips_openai_bodies() {
    let body = br#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
    let err = openai::decode_error(429, body);
    let out: Value = serde_json::from_slice(&openai::encode_error(&err)).unwrap();
    assert_eq!(out, serde_json::from_slice::<Value>(body).unwrap());
}

proptest! {
    #[test]
    fn stream_decoder_never_panics(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8)) {
        let mut d = StreamDecoder::new();
        let mut out = Vec::new();
        for c in &chunks {
            let _ = d.decode(None, c, &mut out);
        }
        let _ = d.finish(&mut out);
    }

    #[test]
    fn chunk_like_json_never_panics(
        index in proptest::option::of(0u64..4),
        id in proptest::option::of("[a-c]{0,2}"),
        finish in proptest::option::of("[a-z_]{0,12}"),
        args in "[{}\":a-z0-9]{0,8}",
    ) {
        let chunk = json!({"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": index, "id": id, "function": {"arguments": args}}]}, "finish_reason": finish}]});
        let mut d = StreamDecoder::new();
        let mut out = Vec::new();
        for _ in 0..3 {
            prop_assert!(d.decode(None, chunk.to_string().as_bytes(), &mut out).is_ok());
        }
        prop_assert!(d.decode(None, b"[DONE]", &mut out).is_ok());
        prop_assert_eq!(out.last(), Some(&StreamEvent::End));
    }
}
