//! Requests decoded and round-tripped; malformed and untranslatable ones name the
//! field.

use super::*;

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
