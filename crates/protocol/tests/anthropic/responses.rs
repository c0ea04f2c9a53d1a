//! Responses decoded, round-tripped and encoded from other formats; broken upstream
//! bodies.

use super::*;

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
