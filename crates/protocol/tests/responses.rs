//! The OpenAI Responses spoke (ingress side): request fixtures decoded to canonical,
//! canonical answers encoded as Responses objects and event streams (golden transcripts),
//! the stream and the body agreeing on one answer, replayed output decoding back to the
//! same turn, and the refusals of what a gateway cannot serve.

use bytes::BytesMut;
use proptest::prelude::*;
use serde_json::{Value, json};
use sluice_protocol::canonical::{
    ChatRequest, ChatResponse, FinishReason, Part, ProviderError, Role, StreamEvent,
    TranslateError, Usage,
};
use sluice_protocol::responses::{
    StreamEncoder, decode_request, encode_error, encode_response, encode_stream_error,
};
use sluice_protocol::sse::SseDecoder;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/responses/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json_fixture(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn request(name: &str) -> ChatRequest {
    decode_request(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn canonical_response(name: &str) -> ChatResponse {
    serde_json::from_value(json_fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn stream_events(name: &str) -> Vec<StreamEvent> {
    serde_json::from_value(json_fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn body_json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

/// SSE bytes as (event name, parsed data), through the crate's own SSE decoder.
fn parse_sse(bytes: &[u8]) -> Vec<(Option<String>, Value)> {
    let mut decoder = SseDecoder::new(1 << 20);
    decoder.push(bytes);
    let mut out = Vec::new();
    while let Some(event) = decoder.next_event().unwrap_or_else(|e| panic!("{e}")) {
        let parsed = event.parse();
        let Some(data) = parsed.data else {
            panic!("event without data: {:?}", parsed.event)
        };
        out.push((parsed.event, body_json(data.as_bytes())));
    }
    assert!(!decoder.has_partial(), "trailing partial event");
    out
}

fn encode_stream(req: &ChatRequest, events: &[StreamEvent]) -> Vec<(Option<String>, Value)> {
    let mut encoder = StreamEncoder::new(req);
    let mut out = BytesMut::new();
    for event in events {
        encoder.encode(event, &mut out);
    }
    parse_sse(&out)
}

/// The data of the last event, which must be the stream's terminal lifecycle event.
fn final_response(events: &[(Option<String>, Value)]) -> Value {
    let (_, data) = events.last().unwrap_or_else(|| panic!("empty stream"));
    data["response"].clone()
}

fn invalid_param(body: Value) -> (String, Option<String>) {
    match decode_request(body.to_string().as_bytes()) {
        Err(TranslateError::Invalid { message, param }) => (message, param),
        other => panic!("expected Invalid for {body}, got {other:?}"),
    }
}

// ---- requests ----

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

// ---- non-streamed responses ----

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

// ---- streams ----

#[test]
fn stream_transcripts_match_the_golden_files() {
    for (req, name) in [
        ("request_simple.json", "stream_text"),
        ("request_agent_turn.json", "stream_agent_turn"),
        ("request_simple.json", "stream_error"),
    ] {
        let got = encode_stream(
            &request(req),
            &stream_events(&format!("{name}.events.json")),
        );
        let want = parse_sse(&fixture(&format!("{name}.sse")));
        assert_eq!(got.len(), want.len(), "{name}: event count");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "{name}: event {i}");
        }
        assert_stream_invariants(&got);
    }
}

/// Every event is named by its `type`, numbered from 0 without gaps, and the stream ends
/// with exactly one terminal event.
fn assert_stream_invariants(events: &[(Option<String>, Value)]) {
    const TERMINAL: [&str; 3] = [
        "response.completed",
        "response.incomplete",
        "response.failed",
    ];
    for (i, (name, data)) in events.iter().enumerate() {
        assert_eq!(name.as_deref(), data["type"].as_str(), "event {i}");
        assert_eq!(data["sequence_number"], json!(i), "event {i}");
        let terminal = TERMINAL.contains(&data["type"].as_str().unwrap_or(""));
        assert_eq!(terminal, i + 1 == events.len(), "event {i} {data}");
    }
    assert_eq!(
        events.first().map(|e| e.1["type"].clone()),
        Some(json!("response.created"))
    );
}

#[test]
fn streamed_and_non_streamed_answers_agree() {
    let req = request("request_agent_turn.json");
    let events = encode_stream(&req, &stream_events("stream_agent_turn.events.json"));
    assert_eq!(
        final_response(&events),
        json_fixture("response_agent_turn.json")
    );
    assert_eq!(accumulate(&events), final_response(&events)["output"]);
}

/// Rebuilds the output the way SDK stream helpers do: items from `output_item.added`,
/// text and arguments from deltas, then each item replaced by its `output_item.done`.
fn accumulate(events: &[(Option<String>, Value)]) -> Value {
    let mut output: Vec<Value> = Vec::new();
    for (_, e) in events {
        let index = e["output_index"].as_u64().unwrap_or(0) as usize;
        match e["type"].as_str().unwrap_or("") {
            "response.output_item.added" => output.push(e["item"].clone()),
            "response.content_part.added" => push(&mut output[index]["content"], &e["part"]),
            "response.reasoning_summary_part.added" => {
                push(&mut output[index]["summary"], &e["part"])
            }
            "response.output_text.delta" => {
                let at = e["content_index"].as_u64().unwrap_or(0) as usize;
                append(&mut output[index]["content"][at]["text"], &e["delta"]);
            }
            "response.reasoning_summary_text.delta" => {
                let at = e["summary_index"].as_u64().unwrap_or(0) as usize;
                append(&mut output[index]["summary"][at]["text"], &e["delta"]);
            }
            "response.function_call_arguments.delta" => {
                append(&mut output[index]["arguments"], &e["delta"])
            }
            "response.output_item.done" => {
                let mut done = e["item"].clone();
                if let Some(status) = output[index].get("status") {
                    done["status"] = status.clone();
                }
                // Apart from its status, the done item must be what the deltas built.
                assert_eq!(done, output[index], "item {index}");
                output[index] = e["item"].clone();
            }
            _ => {}
        }
    }
    Value::Array(output)
}

fn push(list: &mut Value, item: &Value) {
    if let Value::Array(list) = list {
        list.push(item.clone());
    }
}

fn append(text: &mut Value, delta: &Value) {
    let joined = format!(
        "{}{}",
        text.as_str().unwrap_or(""),
        delta.as_str().unwrap_or("")
    );
    *text = Value::String(joined);
}

#[test]
fn length_stops_end_with_response_incomplete() {
    let req = request("request_simple.json");
    let events = encode_stream(
        &req,
        &[
            StreamEvent::Start {
                id: "resp_0a1b2c".into(),
                model: "gpt-4.1-mini".into(),
                created: 1741476700,
            },
            StreamEvent::TextDelta {
                text: "Red, yellow and".into(),
            },
            StreamEvent::Finish {
                reason: FinishReason::Length,
                stop_sequence: None,
            },
            StreamEvent::End,
        ],
    );
    assert_stream_invariants(&events);
    assert_eq!(
        events.last().map(|e| e.0.clone()),
        Some(Some("response.incomplete".into()))
    );
    assert_eq!(
        final_response(&events),
        json_fixture("response_truncated.json")
    );
}

#[test]
fn events_before_start_and_repeated_starts_are_tolerated() {
    let req = request("request_simple.json");
    let events = encode_stream(
        &req,
        &[
            StreamEvent::TextDelta { text: "hi".into() },
            StreamEvent::Start {
                id: "late".into(),
                model: "x".into(),
                created: 9,
            },
            StreamEvent::Usage(Usage {
                input_tokens: 1,
                output_tokens: 1,
                ..Usage::default()
            }),
            StreamEvent::End,
            StreamEvent::TextDelta {
                text: "after the end".into(),
            },
        ],
    );
    assert_stream_invariants(&events);
    let response = final_response(&events);
    assert_eq!(
        response["model"], "gpt-4.1-mini",
        "falls back to the requested model"
    );
    assert_eq!(response["output"][0]["content"][0]["text"], "hi");
    assert_eq!(response["usage"]["total_tokens"], 2);
}

#[test]
fn gateway_detected_failures_close_the_stream() {
    let req = request("request_simple.json");
    let mut encoder = StreamEncoder::new(&req);
    let mut out = BytesMut::new();
    encoder.encode(
        &StreamEvent::Start {
            id: "c1".into(),
            model: "m".into(),
            created: 1,
        },
        &mut out,
    );
    encoder.encode(
        &StreamEvent::ToolCallStart {
            index: 0,
            id: "call_1".into(),
            name: "f".into(),
        },
        &mut out,
    );
    let err = ProviderError {
        status: 504,
        kind: "timeout".into(),
        message: "upstream went idle".into(),
        param: None,
        code: Some("upstream_timeout".into()),
    };
    encoder.encode_error(&err, &mut out);
    encoder.encode(&StreamEvent::End, &mut out);
    let events = parse_sse(&out);
    assert_stream_invariants(&events);
    let (_, error) = &events[events.len() - 2];
    assert_eq!(error["type"], "error");
    assert_eq!(error["code"], "upstream_timeout");
    assert_eq!(error["error"]["message"], "upstream went idle");
    let failed = final_response(&events);
    assert_eq!(failed["status"], "failed");
    assert_eq!(
        failed["error"],
        json!({"code": "server_error", "message": "upstream went idle"})
    );
    assert_eq!(failed["output"][0]["status"], "incomplete");
}

// ---- errors ----

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

// ---- properties ----

#[derive(Debug, Clone)]
enum Op {
    Text(String),
    Thinking(String),
    Signature,
    Redacted,
    Call(String),
    Args(String),
    /// Arguments for an earlier call, after later items began.
    LateArgs(usize, String),
    Usage(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let text = "[a-z \\n\"é]{0,6}";
    prop_oneof![
        text.prop_map(Op::Text),
        text.prop_map(Op::Thinking),
        Just(Op::Signature),
        Just(Op::Redacted),
        "[a-z]{1,4}".prop_map(Op::Call),
        text.prop_map(Op::Args),
        (0usize..4, "[a-z]{1,3}").prop_map(|(k, s)| Op::LateArgs(k, s)),
        (0u64..50).prop_map(Op::Usage),
    ]
}

fn finish() -> impl Strategy<Value = Option<FinishReason>> {
    prop_oneof![
        Just(None),
        Just(Some(FinishReason::Stop)),
        Just(Some(FinishReason::Length)),
        Just(Some(FinishReason::ToolCalls)),
        Just(Some(FinishReason::ContentFilter)),
    ]
}

/// Canonical events for `ops`, and the complete response a canonical accumulator
/// builds from them.
fn scenario(ops: &[Op], finish: Option<FinishReason>) -> (Vec<StreamEvent>, ChatResponse) {
    let mut events = vec![StreamEvent::Start {
        id: "r1".into(),
        model: "m".into(),
        created: 7,
    }];
    let mut calls = 0;
    events.extend(ops.iter().filter_map(|op| event_for(op, &mut calls)));
    events.extend(finish.map(|reason| StreamEvent::Finish {
        reason,
        stop_sequence: None,
    }));
    events.push(StreamEvent::End);
    let mut collector = Collector {
        resp: ChatResponse {
            id: "r1".into(),
            model: "m".into(),
            created: 7,
            content: Vec::new(),
            finish: None,
            stop_sequence: None,
            usage: None,
        },
        block_ended: false,
    };
    events.iter().for_each(|e| collector.push(e));
    (events, collector.resp)
}

/// The canonical event for `op`; `calls` counts the tool calls started so far.
fn event_for(op: &Op, calls: &mut usize) -> Option<StreamEvent> {
    Some(match op {
        Op::Text(text) => StreamEvent::TextDelta { text: text.clone() },
        Op::Thinking(text) => StreamEvent::ThinkingDelta { text: text.clone() },
        Op::Signature => StreamEvent::ThinkingSignature {
            signature: "s".into(),
        },
        Op::Redacted => StreamEvent::RedactedThinking { data: "d".into() },
        Op::Call(name) => {
            *calls += 1;
            StreamEvent::ToolCallStart {
                index: *calls - 1,
                id: format!("call_{}", *calls - 1),
                name: name.clone(),
            }
        }
        Op::Args(_) | Op::LateArgs(..) if *calls == 0 => return None,
        Op::LateArgs(k, fragment) => StreamEvent::ToolCallDelta {
            index: k % *calls,
            arguments: fragment.clone(),
        },
        Op::Args(fragment) => StreamEvent::ToolCallDelta {
            index: *calls - 1,
            arguments: fragment.clone(),
        },
        Op::Usage(n) => StreamEvent::Usage(Usage {
            input_tokens: *n,
            output_tokens: 1,
            ..Usage::default()
        }),
    })
}

/// A canonical accumulator: deltas extend the last part of their kind (a thinking
/// block ends at its signature or at redacted thinking); empty deltas build nothing.
struct Collector {
    resp: ChatResponse,
    block_ended: bool,
}

impl Collector {
    fn push(&mut self, event: &StreamEvent) {
        let content = &mut self.resp.content;
        match event {
            StreamEvent::TextDelta { text } if !text.is_empty() => match content.last_mut() {
                Some(Part::Text { text: t, .. }) => t.push_str(text),
                _ => content.push(Part::text(text.clone())),
            },
            StreamEvent::ThinkingDelta { text } if !text.is_empty() => {
                match content.last_mut() {
                    Some(Part::Thinking { text: t, .. }) if !self.block_ended => t.push_str(text),
                    _ => content.push(Part::Thinking {
                        text: text.clone(),
                        signature: None,
                    }),
                }
                self.block_ended = false;
            }
            StreamEvent::ThinkingSignature { .. } => self.block_ended = true,
            StreamEvent::RedactedThinking { data } => {
                content.push(Part::RedactedThinking { data: data.clone() });
                self.block_ended = true;
            }
            StreamEvent::ToolCallStart { id, name, .. } => content.push(Part::ToolCall {
                id: id.clone(),
                name: name.clone(),
                arguments: String::new(),
            }),
            StreamEvent::ToolCallDelta { index, arguments } => {
                let calls = content.iter_mut().filter_map(|p| match p {
                    Part::ToolCall { arguments, .. } => Some(arguments),
                    _ => None,
                });
                if let Some(args) = calls.into_iter().nth(*index) {
                    args.push_str(arguments);
                }
            }
            StreamEvent::Usage(usage) => self.resp.usage = Some(*usage),
            StreamEvent::Finish { reason, .. } => self.resp.finish = Some(*reason),
            _ => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_event_sequence_streams_the_same_answer_as_the_body(ops in prop::collection::vec(op(), 0..24), finish in finish()) {
        let req = request("request_agent_turn.json");
        let (events, resp) = scenario(&ops, finish);
        let streamed = encode_stream(&req, &events);
        assert_stream_invariants(&streamed);
        let body = body_json(&encode_response(&resp, &req));
        prop_assert_eq!(final_response(&streamed), body);
        prop_assert_eq!(accumulate(&streamed), final_response(&streamed)["output"].clone());
    }

    #[test]
    fn decode_request_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_request(&bytes);
    }

    #[test]
    fn decode_request_never_panics_on_json(value in json_value()) {
        let _ = decode_request(json!({"model": "m", "input": value.clone()}).to_string().as_bytes());
        let _ = decode_request(json!({"model": "m", "input": [value.clone()], "tools": [value.clone()], "tool_choice": value.clone(), "text": {"format": value}}).to_string().as_bytes());
    }
}

/// Arbitrary JSON biased towards the member names and types Responses uses.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just("message"),
            Just("function_call"),
            Just("function_call_output"),
            Just("reasoning"),
            Just("input_text"),
            Just("input_image"),
            Just("user"),
            Just("assistant"),
            Just("developer"),
            Just("function"),
            Just("json_schema"),
            Just("x")
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![
            Just("type"),
            Just("role"),
            Just("content"),
            Just("text"),
            Just("call_id"),
            Just("name"),
            Just("arguments"),
            Just("output"),
            Just("summary"),
            Just("image_url"),
            Just("file_id"),
            Just("schema")
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..5).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}
