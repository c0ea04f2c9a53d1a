//! Requests from other formats encoded for Anthropic: thinking budgets, sampling,
//! notes, and what Anthropic cannot express.

use super::*;

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
