//! The Anthropic Messages spoke against golden fixtures written from Anthropic's API
//! reference: decoding, round trips (Anthropic → canonical → Anthropic), recorded
//! stream transcripts, encoder output re-decoded, and the refusals.

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

// ---- requests ------------------------------------------------------------------------

#[test]
fn decodes_basic_request() {
    let req = anthropic::decode_request(&fixture("request_basic.json")).unwrap();
    assert_eq!(req.model, "claude-sonnet-4-5");
    assert_eq!(req.source, Format::Anthropic);
    assert_eq!(req.system, vec![Part::text("You are a terse assistant.")]);
    assert_eq!(req.messages.len(), 3);
    assert_eq!(req.messages[1].role, Role::Assistant);
    assert_eq!(
        req.messages[2].content,
        vec![Part::text("And secondary ones?")]
    );
    assert_eq!(req.max_tokens, Some(512));
    assert_eq!(req.stop, vec!["\n\nHuman:".to_owned()]);
    assert_eq!(
        (req.temperature, req.top_p, req.top_k),
        (Some(0.3), Some(0.9), Some(40))
    );
    assert_eq!(req.user.as_deref(), Some("user-8841"));
    assert!(!req.stream);
    assert!(req.extra.is_empty());
}

#[test]
fn decodes_full_request() {
    let req = anthropic::decode_request(&fixture("request_full.json")).unwrap();
    assert_eq!(req.system.len(), 2);
    assert!(
        matches!(&req.system[1], Part::Text { cache_control: Some(c), .. } if c.0["ttl"] == "1h")
    );
    let user = &req.messages[0].content;
    assert!(
        matches!(&user[1], Part::Image { source: ImageSource::Base64 { media_type, .. }, .. } if media_type == "image/png")
    );
    assert!(
        matches!(&user[2], Part::Image { source: ImageSource::Url(u), cache_control: Some(_), .. } if u.ends_with("cloud.jpg"))
    );
    let assistant = &req.messages[1].content;
    assert!(matches!(
        &assistant[0],
        Part::Thinking {
            signature: Some(_),
            ..
        }
    ));
    assert!(matches!(&assistant[1], Part::RedactedThinking { .. }));
    match &assistant[3] {
        Part::ToolCall {
            id,
            name,
            arguments,
        } => {
            assert_eq!(
                (id.as_str(), name.as_str()),
                ("toolu_01A09q90qw90lq917835lq9", "get_weather")
            );
            assert_eq!(
                json(arguments.as_bytes()),
                json!({"location": "Paris, FR", "unit": "celsius"})
            );
        }
        other => panic!("expected a tool call, got {other:?}"),
    }
    match &req.messages[2].content[0] {
        Part::ToolResult {
            call_id,
            name,
            content,
            is_error,
            cache_control,
        } => {
            assert_eq!(call_id, "toolu_01A09q90qw90lq917835lq9");
            assert_eq!(name.as_deref(), Some("get_weather"));
            assert_eq!(content.len(), 2);
            assert!(!is_error && cache_control.is_some());
        }
        other => panic!("expected a tool result, got {other:?}"),
    }
    assert!(matches!(
        &req.messages[4].content[0],
        Part::ToolResult { is_error: true, .. }
    ));
    assert_eq!(req.tools.len(), 2);
    assert!(req.tools[1].cache_control.is_some() && req.tools[1].description.is_none());
    assert_eq!(req.tool_choice, Some(ToolChoice::Auto));
    assert_eq!(req.parallel_tool_calls, Some(false));
    assert_eq!(
        req.reasoning,
        Some(ReasoningConfig {
            effort: None,
            budget_tokens: Some(4000)
        })
    );
    assert!(req.stream && req.include_usage);
    let extras: Vec<&str> = req.extra.keys().map(String::as_str).collect();
    assert_eq!(extras, ["service_tier", "container"]);
}

#[test]
fn decodes_forced_tool_choice() {
    let req = anthropic::decode_request(&fixture("request_tool_choice_tool.json")).unwrap();
    assert_eq!(
        req.tool_choice,
        Some(ToolChoice::Tool("get_weather".into()))
    );
    assert_eq!(req.parallel_tool_calls, None);
}

/// What the encoder writes for string forms: one-element text block arrays.
fn normalize_request(mut v: Value) -> Value {
    let as_blocks = |v: &mut Value| {
        if let Value::String(s) = v {
            *v = json!([{"type": "text", "text": s}]);
        }
    };
    if let Some(system) = v.get_mut("system") {
        as_blocks(system);
    }
    for m in v["messages"].as_array_mut().into_iter().flatten() {
        as_blocks(&mut m["content"]);
        for block in m["content"].as_array_mut().into_iter().flatten() {
            if block["type"] == "tool_result" {
                as_blocks(&mut block["content"]);
            }
        }
    }
    if let Some(obj) = v.as_object_mut()
        && obj.get("stream") == Some(&Value::Bool(false))
    {
        obj.remove("stream");
    }
    v
}

fn round_trip_request(name: &str) {
    let body = fixture(name);
    let req = anthropic::decode_request(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut notes = Vec::new();
    let encoded =
        anthropic::encode_request(&req, &mut notes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(json(&encoded), normalize_request(json(&body)), "{name}");
    assert!(notes.is_empty(), "{name}: {notes:?}");
    // And the re-encoded body decodes to the same canonical request.
    assert_eq!(
        anthropic::decode_request(&encoded).ok(),
        Some(req),
        "{name}"
    );
}

#[test]
fn requests_round_trip() {
    for name in [
        "request_basic.json",
        "request_full.json",
        "request_tool_choice_tool.json",
    ] {
        round_trip_request(name);
    }
}

fn invalid(body: &[u8]) -> (String, Option<String>) {
    match anthropic::decode_request(body) {
        Err(TranslateError::Invalid { message, param }) => (message, param),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn untranslatable_blocks_and_server_tools_are_invalid() {
    let (message, param) = invalid(&fixture("request_document.json"));
    assert_eq!(
        message,
        "content block type `document` cannot be translated"
    );
    assert_eq!(param.as_deref(), Some("messages[2].content[1].type"));
    let (message, param) = invalid(&fixture("request_server_tool.json"));
    assert_eq!(
        message,
        "tool type `web_search_20250305` cannot be translated"
    );
    assert_eq!(param.as_deref(), Some("tools[1].type"));
}

#[test]
fn malformed_requests_name_the_field() {
    assert_eq!(invalid(b"{\"model\":").1, None);
    assert_eq!(invalid(b"[]").1, None);
    let (message, _) = invalid(br#"{"messages":[]}"#);
    assert!(message.contains("model"), "{message}");
    let body = br#"{"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"f"}}]}]}"#;
    assert_eq!(
        invalid(body).1.as_deref(),
        Some("messages[0].content[0].source.type")
    );
    let body = br#"{"model":"m","messages":[],"tool_choice":{"type":"sometimes"}}"#;
    assert_eq!(invalid(body).1.as_deref(), Some("tool_choice.type"));
    let body = br#"{"model":"m","messages":[],"thinking":{"type":"enabled"}}"#;
    assert_eq!(invalid(body).1.as_deref(), Some("thinking.budget_tokens"));
    let body = br#"{"model":"m","messages":[],"system":[{"type":"image","source":{}}]}"#;
    assert_eq!(invalid(body).1.as_deref(), Some("system[0].type"));
}

/// A request as the OpenAI spoke would decode it.
fn openai_like() -> ChatRequest {
    let mut req = ChatRequest::new("claude-sonnet-4-5", Format::OpenAiChat);
    req.system = vec![Part::text("Be brief.")];
    req.messages = vec![
        Message {
            role: Role::User,
            content: vec![Part::text("Weather in Paris and Oslo?")],
        },
        Message {
            role: Role::Assistant,
            content: vec![
                Part::text(""),
                Part::ToolCall {
                    id: "call_1".into(),
                    name: "get_weather".into(),
                    arguments: "{\"city\":\"Paris\"}".into(),
                },
                Part::ToolCall {
                    id: "call_2".into(),
                    name: "get_weather".into(),
                    arguments: String::new(),
                },
            ],
        },
        // OpenAI sends one `tool` message per result, then maybe a user message.
        Message {
            role: Role::User,
            content: vec![Part::ToolResult {
                call_id: "call_1".into(),
                name: None,
                content: vec![Part::text("15C")],
                is_error: false,
                cache_control: None,
            }],
        },
        Message {
            role: Role::User,
            content: vec![Part::text("Also, be quick.")],
        },
        Message {
            role: Role::User,
            content: vec![Part::ToolResult {
                call_id: "call_2".into(),
                name: None,
                content: vec![Part::text("3C")],
                is_error: false,
                cache_control: None,
            }],
        },
    ];
    req.tools = vec![Tool {
        name: "get_weather".into(),
        description: Some("Weather.".into()),
        parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        strict: Some(true),
        cache_control: None,
    }];
    req.tool_choice = Some(ToolChoice::Required);
    req.parallel_tool_calls = Some(false);
    req.temperature = Some(1.5);
    req.seed = Some(7);
    req.stop = vec!["END".into()];
    req.user = Some("u1".into());
    req.extra.insert("store".into(), json!(false));
    req
}

#[test]
fn encodes_foreign_request_for_anthropic() {
    let mut notes = Vec::new();
    let body = anthropic::encode_request(&openai_like(), &mut notes).unwrap();
    let expected = json!({
        "model": "claude-sonnet-4-5",
        "system": [{"type": "text", "text": "Be brief."}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Weather in Paris and Oslo?"}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": [{"type": "text", "text": "15C"}]},
                {"type": "tool_result", "tool_use_id": "call_2", "content": [{"type": "text", "text": "3C"}]},
                {"type": "text", "text": "Also, be quick."}
            ]}
        ],
        "max_tokens": 4096,
        "stop_sequences": ["END"],
        "temperature": 1.0,
        "tools": [{"name": "get_weather", "description": "Weather.", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
        "metadata": {"user_id": "u1"}
    });
    assert_eq!(json(&body), expected);
    for needle in [
        "`seed`",
        "`max_tokens` to 4096",
        "`temperature` 1.5",
        "tool `strict`",
        "`store`",
    ] {
        assert!(
            notes.iter().any(|n| n.contains(needle)),
            "no note about {needle}: {notes:?}"
        );
    }
}

#[test]
fn thinking_budget_fits_under_max_tokens_and_sampling_is_cleared() {
    let mut req = ChatRequest::new("m", Format::OpenAiChat);
    req.messages = vec![Message {
        role: Role::User,
        content: vec![Part::text("hi")],
    }];
    req.reasoning = Some(ReasoningConfig {
        effort: Some("high".into()),
        budget_tokens: None,
    });
    req.temperature = Some(0.2);
    req.top_k = Some(5);
    let mut notes = Vec::new();
    let body = json(&anthropic::encode_request(&req, &mut notes).unwrap());
    assert_eq!(
        body["thinking"],
        json!({"type": "enabled", "budget_tokens": 16384})
    );
    assert_eq!(body["max_tokens"], 16384 + 4096);
    assert!(body.get("temperature").is_none() && body.get("top_k").is_none());
    req.max_tokens = Some(2000);
    let body = json(&anthropic::encode_request(&req, &mut notes).unwrap());
    assert_eq!(body["thinking"]["budget_tokens"], 1999);
}

#[test]
fn refuses_what_anthropic_cannot_express() {
    let mut req = openai_like();
    req.response_format = Some(ResponseFormat::JsonObject);
    let err = anthropic::encode_request(&req, &mut Vec::new()).unwrap_err();
    assert_eq!(
        err,
        TranslateError::unsupported("response_format", "anthropic")
    );

    let mut req = openai_like();
    req.extra.insert("n".into(), json!(3));
    let err = anthropic::encode_request(&req, &mut Vec::new()).unwrap_err();
    assert_eq!(err, TranslateError::unsupported("n", "anthropic"));

    let mut req = openai_like();
    req.messages[1].content[1] = Part::ToolCall {
        id: "c".into(),
        name: "f".into(),
        arguments: "{\"a\":".into(),
    };
    let err = anthropic::encode_request(&req, &mut Vec::new()).unwrap_err();
    assert!(
        matches!(err, TranslateError::Invalid { message, .. } if message.contains("not a JSON object"))
    );

    let mut req = openai_like();
    req.response_format = Some(ResponseFormat::Text);
    assert!(anthropic::encode_request(&req, &mut Vec::new()).is_ok());
}

#[test]
fn unsigned_thinking_and_image_detail_are_dropped_with_notes() {
    let mut req = ChatRequest::new("m", Format::OpenAiChat);
    req.messages = vec![
        Message {
            role: Role::User,
            content: vec![Part::Image {
                source: ImageSource::Url("https://x/y.png".into()),
                detail: Some("low".into()),
                cache_control: None,
            }],
        },
        Message {
            role: Role::Assistant,
            content: vec![
                Part::Thinking {
                    text: "hmm".into(),
                    signature: None,
                },
                Part::text("ok"),
            ],
        },
    ];
    let mut notes = Vec::new();
    let body = json(&anthropic::encode_request(&req, &mut notes).unwrap());
    assert_eq!(
        body["messages"][0]["content"][0]["source"],
        json!({"type": "url", "url": "https://x/y.png"})
    );
    assert_eq!(
        body["messages"][1]["content"],
        json!([{"type": "text", "text": "ok"}])
    );
    assert_eq!(notes.len(), 3, "{notes:?}");
}

// ---- responses -----------------------------------------------------------------------

#[test]
fn decodes_responses() {
    let resp = anthropic::decode_response(&fixture("response_tool_use.json")).unwrap();
    assert_eq!(resp.id, "msg_01Aq9w938a90dw8q");
    assert_eq!(resp.finish, Some(FinishReason::ToolCalls));
    assert_eq!(resp.content.len(), 4);
    assert_eq!(
        resp.usage,
        Some(Usage {
            input_tokens: 4620,
            output_tokens: 88,
            cached_input_tokens: 3000,
            cache_creation_input_tokens: 1500,
            reasoning_tokens: 0
        })
    );
    let resp = anthropic::decode_response(&fixture("response_stop_sequence.json")).unwrap();
    assert_eq!(resp.finish, Some(FinishReason::StopSequence));
    assert_eq!(resp.stop_sequence.as_deref(), Some("four"));
    assert_eq!(resp.usage.map(|u| u.input_tokens), Some(12));
    // Server tool blocks are skipped, the text survives.
    let resp = anthropic::decode_response(&fixture("response_server_tool.json")).unwrap();
    assert_eq!(
        resp.content,
        vec![Part::text("Search failed; from memory: ...")]
    );
}

#[test]
fn responses_round_trip() {
    let req = ChatRequest::new("claude", Format::Anthropic);
    for name in ["response_text.json", "response_tool_use.json"] {
        let body = fixture(name);
        let resp = anthropic::decode_response(&body).unwrap();
        assert_eq!(
            json(&anthropic::encode_response(&resp, &req)),
            json(&body),
            "{name}"
        );
    }
    // Null cache counters and unknown usage fields normalise away.
    let body = fixture("response_stop_sequence.json");
    let resp = anthropic::decode_response(&body).unwrap();
    let out = json(&anthropic::encode_response(&resp, &req));
    assert_eq!(
        out["usage"],
        json!({"input_tokens": 12, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 6})
    );
    assert_eq!(out["stop_sequence"], "four");
}

#[test]
fn encodes_foreign_responses() {
    let req = ChatRequest::new("gpt-x", Format::Anthropic);
    let resp = ChatResponse {
        id: "chatcmpl-123".into(),
        model: String::new(),
        created: 1,
        content: vec![
            Part::Thinking {
                text: "r".into(),
                signature: None,
            },
            Part::ToolCall {
                id: "call_1".into(),
                name: "f".into(),
                arguments: "{\"a\":1}".into(),
            },
            Part::ToolCall {
                id: "call_2".into(),
                name: "g".into(),
                arguments: "{\"cut".into(),
            },
        ],
        finish: Some(FinishReason::Length),
        stop_sequence: None,
        usage: Some(Usage {
            input_tokens: 10,
            output_tokens: 3,
            cached_input_tokens: 4,
            ..Usage::default()
        }),
    };
    let out = json(&anthropic::encode_response(&resp, &req));
    assert_eq!(out["id"], "msg_chatcmpl-123");
    assert_eq!(out["model"], "gpt-x");
    assert_eq!(
        out["content"][0],
        json!({"type": "thinking", "thinking": "r", "signature": ""})
    );
    assert_eq!(out["content"][1]["input"], json!({"a": 1}));
    assert_eq!(out["content"][2]["input"], "{\"cut");
    assert_eq!(out["stop_reason"], "max_tokens");
    assert_eq!(out["usage"]["input_tokens"], 6);
    assert_eq!(out["usage"]["cache_read_input_tokens"], 4);
}

#[test]
fn broken_upstream_bodies_are_upstream_errors() {
    for body in [
        &b"nope"[..],
        br#"{"id":"x"}"#,
        br#"{"id":"x","model":"m","content":[{"type":"tool_use","id":"t"}]}"#,
    ] {
        assert!(matches!(
            anthropic::decode_response(body),
            Err(TranslateError::Upstream { .. })
        ));
    }
}

// ---- streams -------------------------------------------------------------------------

#[test]
fn decodes_text_stream() {
    let (events, verdict) = decode_stream(&fixture("stream_text.sse"));
    verdict.unwrap();
    assert_eq!(
        events,
        vec![
            StreamEvent::Start {
                id: "msg_01XFDUDYJgAACzvnptvVoYEL".into(),
                model: "claude-sonnet-4-5-20250929".into(),
                created: 0
            },
            text("Hello"),
            text(", world"),
            StreamEvent::Finish {
                reason: FinishReason::Stop,
                stop_sequence: None
            },
            StreamEvent::Usage(Usage {
                input_tokens: 35,
                output_tokens: 15,
                cached_input_tokens: 10,
                ..Usage::default()
            }),
            StreamEvent::End,
        ]
    );
}

fn tool_stream_events() -> Vec<StreamEvent> {
    vec![
        StreamEvent::Start {
            id: "msg_014p7gG3wDgGV9EUtLvnow3U".into(),
            model: "claude-opus-4-1-20250805".into(),
            created: 0,
        },
        StreamEvent::ThinkingDelta {
            text: "I should look up the weather.".into(),
        },
        StreamEvent::ThinkingSignature {
            signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds".into(),
        },
        text("Checking both cities."),
        StreamEvent::ToolCallStart {
            index: 0,
            id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6".into(),
            name: "get_weather".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "{\"location\": \"San Fra".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "ncisco, CA\"}".into(),
        },
        StreamEvent::ToolCallStart {
            index: 1,
            id: "toolu_02".into(),
            name: "get_weather".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 1,
            arguments: "{\"location\":\"Oslo\"}".into(),
        },
        StreamEvent::Finish {
            reason: FinishReason::ToolCalls,
            stop_sequence: None,
        },
        StreamEvent::Usage(Usage {
            input_tokens: 572,
            output_tokens: 89,
            cache_creation_input_tokens: 100,
            ..Usage::default()
        }),
        StreamEvent::End,
    ]
}

#[test]
fn decodes_thinking_and_tool_stream() {
    let (events, verdict) = decode_stream(&fixture("stream_tool_use.sse"));
    verdict.unwrap();
    assert_eq!(events, tool_stream_events());
}

#[test]
fn skips_server_tool_blocks_and_unknown_events() {
    let (events, verdict) = decode_stream(&fixture("stream_server_tool.sse"));
    verdict.unwrap();
    assert_eq!(events[1], text("Fusion news."));
    assert_eq!(
        events[3],
        StreamEvent::Usage(Usage {
            input_tokens: 50,
            output_tokens: 40,
            cached_input_tokens: 20,
            ..Usage::default()
        })
    );
    assert_eq!(events.len(), 5);
}

#[test]
fn stream_errors_and_truncation() {
    let (events, verdict) = decode_stream(&fixture("stream_error.sse"));
    verdict.unwrap();
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error {
            kind: "overloaded_error".into(),
            message: "Overloaded".into()
        })
    );
    let (events, verdict) = decode_stream(&fixture("stream_truncated.sse"));
    assert_eq!(events.last(), Some(&text("Par")));
    assert!(matches!(verdict, Err(TranslateError::Upstream { .. })));
    let mut decoder = StreamDecoder::new();
    let err = decoder.decode(
        Some("content_block_start"),
        br#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        &mut Vec::new(),
    );
    assert!(err.is_err(), "content before message_start");
    assert!(
        decoder
            .decode(Some("message_start"), b"{not json", &mut Vec::new())
            .is_err()
    );
}

fn event_names(bytes: &[u8]) -> Vec<String> {
    sse_events(bytes)
        .into_iter()
        .map(|(e, _)| e.unwrap_or_default())
        .collect()
}

#[test]
fn transcripts_re_encode_to_the_same_events() {
    let req = ChatRequest::new("claude", Format::Anthropic);
    for name in ["stream_text.sse", "stream_tool_use.sse"] {
        let original = fixture(name);
        let (events, _) = decode_stream(&original);
        let encoded = encode_stream(&req, &events);
        let (again, verdict) = decode_stream(&encoded);
        verdict.unwrap();
        assert_eq!(again, events, "{name}");
        // Same event sequence as Anthropic's, except the empty input_json_delta it sends.
        let mut names = event_names(&original);
        if name == "stream_tool_use.sse" {
            names.remove(10);
        }
        assert_eq!(event_names(&encoded), names, "{name}");
    }
}

#[test]
fn encodes_openai_ordered_stream() {
    // OpenAI order: usage after the finish chunk, then [DONE].
    let req = ChatRequest::new("gpt-4o", Format::Anthropic);
    let events = vec![
        StreamEvent::Start {
            id: "chatcmpl-1".into(),
            model: "gpt-4o-2024".into(),
            created: 5,
        },
        text("Hi"),
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_a".into(),
            name: "f".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "{}".into(),
        },
        StreamEvent::ToolCallStart {
            index: 1,
            id: "call_b".into(),
            name: "g".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 1,
            arguments: "{\"x\":".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 1,
            arguments: "1}".into(),
        },
        StreamEvent::Finish {
            reason: FinishReason::ToolCalls,
            stop_sequence: None,
        },
        StreamEvent::Usage(Usage {
            input_tokens: 30,
            output_tokens: 12,
            cached_input_tokens: 10,
            ..Usage::default()
        }),
        StreamEvent::End,
        text("ignored after the end"),
    ];
    let out = encode_stream(&req, &events);
    assert_eq!(
        event_names(&out),
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    let data: Vec<Value> = sse_events(&out)
        .iter()
        .map(|(_, d)| json(d.as_bytes()))
        .collect();
    assert_eq!(data[0]["message"]["id"], "msg_chatcmpl-1");
    assert_eq!(data[0]["message"]["usage"]["input_tokens"], 0);
    assert_eq!(
        data[5]["content_block"],
        json!({"type": "tool_use", "id": "call_a", "name": "f", "input": {}})
    );
    assert_eq!(data[9]["index"], 2);
    assert_eq!(
        data[12],
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
               "usage": {"input_tokens": 20, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 10, "output_tokens": 12}})
    );
    let (decoded, verdict) = decode_stream(&out);
    verdict.unwrap();
    assert_eq!(decoded.last(), Some(&StreamEvent::End));
    assert_eq!(decoded[decoded.len() - 2], events[8]);
}

#[test]
fn encoder_stops_after_an_error_and_closes_on_bare_end() {
    let req = ChatRequest::new("m", Format::Anthropic);
    let out = encode_stream(
        &req,
        &[
            text("a"),
            StreamEvent::Error {
                kind: "server_error".into(),
                message: "boom".into(),
            },
            StreamEvent::End,
        ],
    );
    let events = sse_events(&out);
    assert_eq!(
        events.last().map(|(e, _)| e.as_deref()),
        Some(Some("error"))
    );
    assert_eq!(
        json(events.last().unwrap().1.as_bytes()),
        json!({"type": "error", "error": {"type": "api_error", "message": "boom"}})
    );
    // End without Start or Finish still gives a well-formed stream.
    let out = encode_stream(&req, &[StreamEvent::End]);
    assert_eq!(
        event_names(&out),
        ["message_start", "message_delta", "message_stop"]
    );
    assert!(String::from_utf8_lossy(&out).contains("\"stop_reason\":\"end_turn\""));
}

#[test]
fn tap_reads_the_pass_through_stream() {
    let mut usage = None;
    let mut end = false;
    for (event, data) in sse_events(&fixture("stream_text.sse")) {
        let tap = anthropic::tap(event.as_deref(), data.as_bytes());
        assert!(!tap.malformed && !tap.error);
        usage = tap.usage.or(usage);
        end |= tap.end;
    }
    assert!(end);
    assert_eq!(usage.map(|u| u.output_tokens), Some(15));
    let (event, data) = sse_events(&fixture("stream_error.sse")).pop().unwrap();
    assert!(anthropic::tap(event.as_deref(), data.as_bytes()).error);
}

// ---- errors --------------------------------------------------------------------------

#[test]
fn error_bodies_both_ways() {
    let err = anthropic::decode_error(529, &fixture("error_overloaded.json"));
    assert_eq!(
        (err.status, err.kind.as_str(), err.message.as_str()),
        (529, "overloaded_error", "Overloaded")
    );
    assert_eq!(
        json(&anthropic::encode_error(&err)),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
    let foreign = ProviderError {
        status: 429,
        kind: "rate_limit_exceeded".into(),
        message: "slow down".into(),
        param: None,
        code: None,
    };
    let stream = anthropic::encode_stream_error(&foreign);
    assert_eq!(&stream[..], b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}}\n\n");
    assert_eq!(anthropic::DEFAULT_VERSION, "2023-06-01");
}

// ---- robustness ----------------------------------------------------------------------

proptest! {
    #[test]
    fn decoders_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200), name in "[a-z_]{0,20}") {
        let _ = anthropic::decode_request(&data);
        let _ = anthropic::decode_response(&data);
        let _ = anthropic::decode_error(500, &data);
        let _ = anthropic::tap(Some(&name), &data);
        let mut decoder = StreamDecoder::new();
        let mut out = Vec::new();
        let _ = decoder.decode(Some("message_start"), br#"{"type":"message_start","message":{"id":"m","model":"x"}}"#, &mut out);
        let _ = decoder.decode(Some(&name), &data, &mut out);
        let _ = decoder.finish(&mut out);
    }

    #[test]
    fn stream_events_in_any_order_never_panic(kinds in proptest::collection::vec(0u8..8, 0..30)) {
        let events: Vec<&[u8]> = vec![
            br#"{"type":"message_start","message":{"id":"m","model":"x","usage":{"input_tokens":1}}}"#,
            br#"{"type":"content_block_start","index":18446744073709551615,"content_block":{"type":"tool_use","id":"t","name":"f","input":{"a":1}}}"#,
            br#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            br#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}"#,
            br#"{"type":"content_block_delta","index":18446744073709551615,"delta":{"type":"input_json_delta","partial_json":"{"}}"#,
            br#"{"type":"content_block_stop","index":0}"#,
            br#"{"type":"message_delta","delta":{"stop_reason":"weird"},"usage":{"output_tokens":3}}"#,
            br#"{"type":"message_stop"}"#,
        ];
        let mut decoder = StreamDecoder::new();
        let mut canonical = Vec::new();
        for k in kinds {
            let _ = decoder.decode(None, events[k as usize], &mut canonical);
        }
        let _ = decoder.finish(&mut canonical);
        // Whatever came out, the encoder turns into a stream the decoder accepts.
        let mut encoded = encode_stream(&ChatRequest::new("m", Format::Anthropic), &canonical);
        encoded.extend_from_slice(&anthropic::encode_stream_error(&ProviderError { status: 500, kind: String::new(), message: String::new(), param: None, code: None }));
        let (_, verdict) = decode_stream(&encoded);
        prop_assert!(verdict.is_ok());
    }
}
