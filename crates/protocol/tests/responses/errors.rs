//! Error bodies and stream error events in OpenAI's shapes.

use super::*;

#[test]
fn error_bodies_use_openai_shape() {
    let err = ProviderError {
        status: 529,
        kind: "overloaded_error".into(),
        message: "Overloaded".into(),
        param: None,
        code: None,
    };
    assert_eq!(
        body_json(&encode_error(&err)),
        json!({"error": {"message": "Overloaded", "type": "server_error", "param": null, "code": null}})
    );
    let err = ProviderError {
        status: 400,
        kind: "invalid_request_error".into(),
        message: "bad".into(),
        param: Some("input[0].role".into()),
        code: Some("invalid_value".into()),
    };
    assert_eq!(
        body_json(&encode_error(&err)),
        json!({"error": {"message": "bad", "type": "invalid_request_error", "param": "input[0].role", "code": "invalid_value"}})
    );
    let err = ProviderError {
        status: 429,
        kind: "RESOURCE_EXHAUSTED".into(),
        message: "slow down".into(),
        param: None,
        code: None,
    };
    assert_eq!(
        body_json(&encode_error(&err))["error"]["type"],
        "rate_limit_error"
    );
}

#[test]
fn stream_error_event_is_flat_and_nested() {
    let err = ProviderError {
        status: 429,
        kind: "rate_limit_error".into(),
        message: "Too many requests".into(),
        param: None,
        code: None,
    };
    let events = parse_sse(&encode_stream_error(&err));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0.as_deref(), Some("error"));
    assert_eq!(
        events[0].1,
        json!({
            "type": "error",
            "code": "rate_limit_exceeded",
            "message": "Too many requests",
            "param": null,
            "error": {"message": "Too many requests", "type": "rate_limit_error", "param": null, "code": "rate_limit_exceeded"},
            "sequence_number": 0
        })
    );
}
