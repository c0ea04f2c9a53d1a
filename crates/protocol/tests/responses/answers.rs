//! Non-streamed answers: the golden responses, content filters, and replayed output
//! decoding back to the same turn.

use super::*;

#[test]
fn encodes_response_fixtures() {
    for (req, name) in [
        ("request_simple.json", "response_text"),
        ("request_agent_turn.json", "response_agent_turn"),
        ("request_simple.json", "response_truncated"),
    ] {
        let resp = canonical_response(&format!("{name}.canonical.json"));
        let body = body_json(&encode_response(&resp, &request(req)));
        assert_eq!(body, json_fixture(&format!("{name}.json")), "{name}");
    }
}

#[test]
fn content_filter_is_incomplete_with_its_reason() {
    let mut resp = canonical_response("response_text.canonical.json");
    resp.finish = Some(FinishReason::ContentFilter);
    let body = body_json(&encode_response(&resp, &request("request_simple.json")));
    assert_eq!(body["status"], "incomplete");
    assert_eq!(
        body["incomplete_details"],
        json!({"reason": "content_filter"})
    );
    assert!(
        body.get("output_text").is_none(),
        "output_text is an SDK convenience, not a wire field"
    );
}

/// A client sends a response's output items back as the next request's input (how
/// agent loops run without `previous_response_id`): the same assistant turn comes back.
#[test]
fn replayed_output_decodes_to_the_same_turn() {
    let resp = canonical_response("response_agent_turn.canonical.json");
    let body = body_json(&encode_response(&resp, &request("request_agent_turn.json")));
    let mut input = body["output"].as_array().cloned().unwrap_or_default();
    input.push(json!({"type":"function_call_output","call_id":"toolu_paris","output":"18"}));
    let next = decode_request(json!({"model":"m","input":input}).to_string().as_bytes())
        .unwrap_or_else(|e| panic!("{e:?}"));
    let expected: Vec<Part> = vec![
        Part::Thinking {
            text: "The user wants both cities.".into(),
            signature: None,
        },
        Part::Thinking {
            text: "Call the tool twice.".into(),
            signature: None,
        },
        Part::text("Checking both cities."),
        Part::ToolCall {
            id: "toolu_paris".into(),
            name: "get_weather".into(),
            arguments: r#"{"city":"Paris"}"#.into(),
        },
        Part::ToolCall {
            id: "toolu_oslo".into(),
            name: "get_weather".into(),
            arguments: r#"{"city":"Oslo"}"#.into(),
        },
    ];
    assert_eq!(next.messages[0].role, Role::Assistant);
    assert_eq!(next.messages[0].content, expected);
    let Part::ToolResult { name, .. } = &next.messages[1].content[0] else {
        panic!("{:?}", next.messages[1])
    };
    assert_eq!(
        name.as_deref(),
        Some("get_weather"),
        "tool results learn their function's name"
    );
}
