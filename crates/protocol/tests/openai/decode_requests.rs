//! Requests decoded: system hoisting, tool conversations, images, reasoning, and
//! what is refused with its parameter path.

use super::*;

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
