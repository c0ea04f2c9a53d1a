//! Requests decoded (simple, agent turns with replayed items, tool choice and text
//! formats) and refused with the offending path.

use super::*;

#[test]
fn decodes_a_simple_request() {
    let req = request("request_simple.json");
    assert_eq!(
        serde_json::to_value(&req).ok(),
        Some(json_fixture("request_simple.canonical.json"))
    );
}

#[test]
fn decodes_an_agent_turn_with_replayed_items() {
    let req = request("request_agent_turn.json");
    assert_eq!(
        serde_json::to_value(&req).ok(),
        Some(json_fixture("request_agent_turn.canonical.json"))
    );
}

#[test]
fn messages_without_type_and_string_content_are_accepted() {
    let req = decode_request(
        br#"{"model":"m","input":[{"role":"system","content":"s1"},{"role":"user","content":"hi"},
            {"role":"assistant","content":[{"type":"refusal","refusal":"no"}]}]}"#,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(req.system, vec![Part::text("s1")]);
    assert_eq!(req.messages.len(), 2);
    assert_eq!(req.messages[1].role, Role::Assistant);
    assert_eq!(req.messages[1].content, vec![Part::text("no")]);
    assert!(req.include_usage, "Responses always reports usage");
}

#[test]
fn instructions_come_before_hoisted_developer_messages() {
    let req = decode_request(
        br#"{"model":"m","instructions":"first","input":[{"role":"developer","content":[{"type":"input_text","text":"second"}]},{"role":"user","content":"q"}]}"#,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(req.system, vec![Part::text("first"), Part::text("second")]);
}

#[test]
fn tool_choice_modes_and_text_formats_decode() {
    for (choice, want) in [("auto", "auto"), ("none", "none"), ("required", "required")] {
        let req = decode_request(
            json!({"model":"m","input":"x","tool_choice":choice})
                .to_string()
                .as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            serde_json::to_value(&req.tool_choice).ok(),
            Some(json!(want))
        );
    }
    let req =
        decode_request(br#"{"model":"m","input":"x","text":{"format":{"type":"json_object"}}}"#)
            .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        serde_json::to_value(&req.response_format).ok(),
        Some(json!("json_object"))
    );
    let req = decode_request(br#"{"model":"m","input":"x","reasoning":{"summary":"auto"}}"#)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        req.reasoning, None,
        "a summary request alone must not switch thinking on"
    );
}

#[test]
fn refuses_what_a_gateway_cannot_serve() {
    let cases = [
        (
            json!({"model":"m","input":"x","previous_response_id":"resp_1"}),
            "previous_response_id",
            "does not store responses",
        ),
        (
            json!({"model":"m","input":"x","conversation":"conv_1"}),
            "conversation",
            "not supported",
        ),
        (
            json!({"model":"m","input":"x","background":true}),
            "background",
            "not supported",
        ),
        (
            json!({"model":"m","input":"x","prompt":{"id":"pmpt_1"}}),
            "prompt",
            "not supported",
        ),
        (
            json!({"model":"m","input":"x","tools":[{"type":"function","name":"f","parameters":{}},{"type":"web_search"}]}),
            "tools[1].type",
            "tool type `web_search` cannot be served by this gateway",
        ),
        (
            json!({"model":"m","input":"x","tools":[{"type":"mcp","server_label":"s"}]}),
            "tools[0].type",
            "`mcp`",
        ),
        (
            json!({"model":"m","input":"x","tool_choice":{"type":"file_search"}}),
            "tool_choice.type",
            "`file_search`",
        ),
        (
            json!({"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"file-1","detail":"auto"}]}]}),
            "input[0].content[0].file_id",
            "file_id",
        ),
        (
            json!({"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}]}),
            "input[0].content[0].type",
            "input_file",
        ),
        (
            json!({"model":"m","input":[{"type":"item_reference","id":"msg_1"}]}),
            "input[0].type",
            "item_reference",
        ),
        (
            json!({"model":"m","input":["x", {"type":"web_search_call","id":"ws_1"}]}),
            "input[0]",
            "invalid type",
        ),
        (
            json!({"model":"m","input":[{"role":"user","content":"a"},{"type":"web_search_call","id":"ws"}]}),
            "input[1].type",
            "`web_search_call`",
        ),
    ];
    for (body, param, needle) in cases {
        let (message, got) = invalid_param(body.clone());
        assert_eq!(got.as_deref(), Some(param), "{body}: {message}");
        assert!(message.contains(needle), "{body}: {message}");
    }
}

#[test]
fn malformed_requests_name_the_offending_path() {
    let cases = [
        (json!({"input":"x"}), Some("model")),
        (
            json!({"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":5}]}]}),
            Some("input[0].content[0].text"),
        ),
        (
            json!({"model":"m","input":[{"role":"tool","content":"x"}]}),
            Some("input[0].role"),
        ),
        (
            json!({"model":"m","input":[{"role":"user"}]}),
            Some("input[0].content"),
        ),
        (
            json!({"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]}),
            Some("input[0].call_id"),
        ),
        (
            json!({"model":"m","input":[{"type":"function_call_output","call_id":"c"}]}),
            Some("input[0].output"),
        ),
        (
            json!({"model":"m","input":[{"role":"system","content":[{"type":"input_image","image_url":"https://x/y.png"}]}]}),
            Some("input[0].content[0].type"),
        ),
        (
            json!({"model":"m","input":"x","tools":[{"type":"function"}]}),
            Some("tools[0].name"),
        ),
        (
            json!({"model":"m","input":"x","tool_choice":"sometimes"}),
            Some("tool_choice"),
        ),
        (
            json!({"model":"m","input":"x","tool_choice":{"type":"function"}}),
            Some("tool_choice.name"),
        ),
        (
            json!({"model":"m","input":"x","text":{"format":{"type":"xml"}}}),
            Some("text.format.type"),
        ),
        (
            json!({"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"n"}}}),
            Some("text.format.schema"),
        ),
        (
            json!({"model":"m","input":"x","max_output_tokens":"many"}),
            Some("max_output_tokens"),
        ),
        (json!(["model"]), None),
    ];
    for (body, param) in cases {
        let (message, got) = invalid_param(body.clone());
        assert_eq!(got.as_deref(), param, "{body}: {message}");
    }
    assert!(matches!(
        decode_request(b"{not json"),
        Err(TranslateError::Invalid { param: None, .. })
    ));
}
