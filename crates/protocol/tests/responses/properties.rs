//! Properties: any sequence of stream events encodes to a stream that accumulates to
//! the same answer as the non-streamed encoding.

use super::*;

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
