//! Requests round-tripped through the canonical model and encoded from other formats
//! (with their notes), and what OpenAI cannot express.

use super::*;

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
