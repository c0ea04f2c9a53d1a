//! Responses decoded, round-tripped and encoded from other formats; broken provider
//! bodies are upstream errors.

use super::*;

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
