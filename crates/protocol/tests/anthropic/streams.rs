//! Streams: text, thinking and tools, skipped blocks, errors and truncation,
//! re-encoding, OpenAI-ordered input, and the pass-through tap.

use super::*;

#[test]
fn decodes_text_stream() {
    let (events, verdict) = decode_stream(&fixture("stream_text.sse"));
    verdict.unwrap();
    assert_eq!(
        events,
        vec![
            StreamEvent::Start {
                id: "msg_01XFDUDYJgAACzvnptvVoYEL".into(),
                model: "claude-sonnet-4-5-20250929".into(),
                created: 0
            },
            text("Hello"),
            text(", world"),
            StreamEvent::Finish {
                reason: FinishReason::Stop,
                stop_sequence: None
            },
            StreamEvent::Usage(Usage {
                input_tokens: 35,
                output_tokens: 15,
                cached_input_tokens: 10,
                ..Usage::default()
            }),
            StreamEvent::End,
        ]
    );
}

fn tool_stream_events() -> Vec<StreamEvent> {
    vec![
        StreamEvent::Start {
            id: "msg_014p7gG3wDgGV9EUtLvnow3U".into(),
            model: "claude-opus-4-1-20250805".into(),
            created: 0,
        },
        StreamEvent::ThinkingDelta {
            text: "I should look up the weather.".into(),
        },
        StreamEvent::ThinkingSignature {
            signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds".into(),
        },
        text("Checking both cities."),
        StreamEvent::ToolCallStart {
            index: 0,
            id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6".into(),
            name: "get_weather".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "{\"location\": \"San Fra".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "ncisco, CA\"}".into(),
        },
        StreamEvent::ToolCallStart {
            index: 1,
            id: "toolu_02".into(),
            name: "get_weather".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 1,
            arguments: "{\"location\":\"Oslo\"}".into(),
        },
        StreamEvent::Finish {
            reason: FinishReason::ToolCalls,
            stop_sequence: None,
        },
        StreamEvent::Usage(Usage {
            input_tokens: 572,
            output_tokens: 89,
            cache_creation_input_tokens: 100,
            ..Usage::default()
        }),
        StreamEvent::End,
    ]
}

#[test]
fn decodes_thinking_and_tool_stream() {
    let (events, verdict) = decode_stream(&fixture("stream_tool_use.sse"));
    verdict.unwrap();
    assert_eq!(events, tool_stream_events());
}

#[test]
fn skips_server_tool_blocks_and_unknown_events() {
    let (events, verdict) = decode_stream(&fixture("stream_server_tool.sse"));
    verdict.unwrap();
    assert_eq!(events[1], text("Fusion news."));
    assert_eq!(
        events[3],
        StreamEvent::Usage(Usage {
            input_tokens: 50,
            output_tokens: 40,
            cached_input_tokens: 20,
            ..Usage::default()
        })
    );
    assert_eq!(events.len(), 5);
}

#[test]
fn stream_errors_and_truncation() {
    let (events, verdict) = decode_stream(&fixture("stream_error.sse"));
    verdict.unwrap();
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error {
            kind: "overloaded_error".into(),
            message: "Overloaded".into()
        })
    );
    let (events, verdict) = decode_stream(&fixture("stream_truncated.sse"));
    assert_eq!(events.last(), Some(&text("Par")));
    assert!(matches!(verdict, Err(TranslateError::Upstream { .. })));
    let mut decoder = StreamDecoder::new();
    let err = decoder.decode(
        Some("content_block_start"),
        br#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        &mut Vec::new(),
    );
    assert!(err.is_err(), "content before message_start");
    assert!(
        decoder
            .decode(Some("message_start"), b"{not json", &mut Vec::new())
            .is_err()
    );
}

fn event_names(bytes: &[u8]) -> Vec<String> {
    sse_events(bytes)
        .into_iter()
        .map(|(e, _)| e.unwrap_or_default())
        .collect()
}

#[test]
fn transcripts_re_encode_to_the_same_events() {
    let req = ChatRequest::new("claude", Format::Anthropic);
    for name in ["stream_text.sse", "stream_tool_use.sse"] {
        let original = fixture(name);
        let (events, _) = decode_stream(&original);
        let encoded = encode_stream(&req, &events);
        let (again, verdict) = decode_stream(&encoded);
        verdict.unwrap();
        assert_eq!(again, events, "{name}");
        // Same event sequence as Anthropic's, except the empty input_json_delta it sends.
        let mut names = event_names(&original);
        if name == "stream_tool_use.sse" {
            names.remove(10);
        }
        assert_eq!(event_names(&encoded), names, "{name}");
    }
}

#[test]
fn encodes_openai_ordered_stream() {
    // OpenAI order: usage after the finish chunk, then [DONE].
    let req = ChatRequest::new("gpt-4o", Format::Anthropic);
    let events = vec![
        StreamEvent::Start {
            id: "chatcmpl-1".into(),
            model: "gpt-4o-2024".into(),
            created: 5,
        },
        text("Hi"),
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_a".into(),
            name: "f".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "{}".into(),
        },
        StreamEvent::ToolCallStart {
            index: 1,
            id: "call_b".into(),
            name: "g".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 1,
            arguments: "{\"x\":".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 1,
            arguments: "1}".into(),
        },
        StreamEvent::Finish {
            reason: FinishReason::ToolCalls,
            stop_sequence: None,
        },
        StreamEvent::Usage(Usage {
            input_tokens: 30,
            output_tokens: 12,
            cached_input_tokens: 10,
            ..Usage::default()
        }),
        StreamEvent::End,
        text("ignored after the end"),
    ];
    let out = encode_stream(&req, &events);
    assert_eq!(
        event_names(&out),
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    let data: Vec<Value> = sse_events(&out)
        .iter()
        .map(|(_, d)| json(d.as_bytes()))
        .collect();
    assert_eq!(data[0]["message"]["id"], "msg_chatcmpl-1");
    assert_eq!(data[0]["message"]["usage"]["input_tokens"], 0);
    assert_eq!(
        data[5]["content_block"],
        json!({"type": "tool_use", "id": "call_a", "name": "f", "input": {}})
    );
    assert_eq!(data[9]["index"], 2);
    assert_eq!(
        data[12],
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
               "usage": {"input_tokens": 20, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 10, "output_tokens": 12}})
    );
    let (decoded, verdict) = decode_stream(&out);
    verdict.unwrap();
    assert_eq!(decoded.last(), Some(&StreamEvent::End));
    assert_eq!(decoded[decoded.len() - 2], events[8]);
}

#[test]
fn encoder_stops_after_an_error_and_closes_on_bare_end() {
    let req = ChatRequest::new("m", Format::Anthropic);
    let out = encode_stream(
        &req,
        &[
            text("a"),
            StreamEvent::Error {
                kind: "server_error".into(),
                message: "boom".into(),
            },
            StreamEvent::End,
        ],
    );
    let events = sse_events(&out);
    assert_eq!(
        events.last().map(|(e, _)| e.as_deref()),
        Some(Some("error"))
    );
    assert_eq!(
        json(events.last().unwrap().1.as_bytes()),
        json!({"type": "error", "error": {"type": "api_error", "message": "boom"}})
    );
    // End without Start or Finish still gives a well-formed stream.
    let out = encode_stream(&req, &[StreamEvent::End]);
    assert_eq!(
        event_names(&out),
        ["message_start", "message_delta", "message_stop"]
    );
    assert!(String::from_utf8_lossy(&out).contains("\"stop_reason\":\"end_turn\""));
}

#[test]
fn tap_reads_the_pass_through_stream() {
    let mut usage = None;
    let mut end = false;
    for (event, data) in sse_events(&fixture("stream_text.sse")) {
        let tap = anthropic::tap(event.as_deref(), data.as_bytes());
        assert!(!tap.malformed && !tap.error);
        usage = tap.usage.or(usage);
        end |= tap.end;
    }
    assert!(end);
    assert_eq!(usage.map(|u| u.output_tokens), Some(15));
    let (event, data) = sse_events(&fixture("stream_error.sse")).pop().unwrap();
    assert!(anthropic::tap(event.as_deref(), data.as_bytes()).error);
}
