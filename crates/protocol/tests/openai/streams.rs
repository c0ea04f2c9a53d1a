//! Streams: golden transcripts, truncation, encoder shapes and orderings, lenient
//! decoding of compatible servers, the pass-through tap, and error bodies.

use super::*;

#[test]
fn stream_transcripts_decode_to_golden_events() {
    for name in [
        "text_usage",
        "tool_calls_parallel",
        "vllm_reasoning_no_done",
        "error_midstream",
    ] {
        let events = decode_stream(&fixture(&format!("streams/{name}.sse"))).unwrap();
        let want: Vec<StreamEvent> =
            serde_json::from_value(json_fixture(&format!("streams/{name}.events.json"))).unwrap();
        assert_eq!(events, want, "{name}");
    }
}

#[test]
fn truncated_stream_is_an_upstream_error() {
    let err = decode_stream(&fixture("streams/truncated.sse"));
    assert!(
        matches!(
            err,
            Err(TranslateError::Upstream {
                format: "openai",
                ..
            })
        ),
        "{err:?}"
    );
    let mut d = StreamDecoder::default();
    assert!(d.finish(&mut Vec::new()).is_err());
    assert!(d.decode(None, b"[DONE]", &mut Vec::new()).is_err());
    assert!(
        StreamDecoder::new()
            .decode(None, b"{not json", &mut Vec::new())
            .is_err()
    );
}

#[test]
fn encoded_streams_decode_back_to_the_same_events() {
    for name in [
        "text_usage",
        "tool_calls_parallel",
        "vllm_reasoning_no_done",
        "error_midstream",
    ] {
        let events: Vec<StreamEvent> =
            serde_json::from_value(json_fixture(&format!("streams/{name}.events.json"))).unwrap();
        let bytes = encode_stream(&events, true);
        let again = match decode_stream(&bytes) {
            Ok(events) => events,
            Err(e) => panic!("{name}: {e}\n{}", String::from_utf8_lossy(&bytes)),
        };
        assert_eq!(again, events, "{name}");
    }
}

#[test]
fn encoder_writes_openai_chunk_shapes() {
    let events: Vec<StreamEvent> =
        serde_json::from_value(json_fixture("streams/text_usage.events.json")).unwrap();
    let chunks: Vec<Value> = sse(&encode_stream(&events, true))
        .into_iter()
        .map(|(_, d)| serde_json::from_str(&d).unwrap_or(Value::String(d)))
        .collect();
    assert_eq!(chunks.len(), 6);
    assert_eq!(chunks[0]["object"], "chat.completion.chunk");
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    assert!(
        chunks[..4]
            .iter()
            .all(|c| c["usage"].is_null() && c.get("usage").is_some())
    );
    assert_eq!(
        chunks[3]["choices"][0],
        json!({"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"})
    );
    assert_eq!(chunks[4]["choices"], json!([]));
    assert_eq!(chunks[4]["usage"]["total_tokens"], 27);
    assert_eq!(chunks[5], "[DONE]");

    let without = encode_stream(&events, false);
    assert!(!String::from_utf8_lossy(&without).contains("usage"));
    assert!(without.ends_with(b"data: [DONE]\n\n"));
}

#[test]
fn encoder_copes_with_anthropic_ordering_and_errors() {
    let events = vec![
        StreamEvent::Start {
            id: "msg_1".into(),
            model: "claude".into(),
            created: 0,
        },
        StreamEvent::Usage(Usage {
            input_tokens: 7,
            ..Usage::default()
        }),
        StreamEvent::ThinkingDelta { text: "hm".into() },
        StreamEvent::ThinkingSignature {
            signature: "sig".into(),
        },
        StreamEvent::RedactedThinking { data: "x".into() },
        StreamEvent::TextDelta { text: "ok".into() },
        StreamEvent::ToolCallStart {
            index: 0,
            id: "toolu_1".into(),
            name: "ls".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "{}".into(),
        },
        StreamEvent::Finish {
            reason: FinishReason::StopSequence,
            stop_sequence: Some("##".into()),
        },
        StreamEvent::Usage(Usage {
            input_tokens: 7,
            output_tokens: 3,
            ..Usage::default()
        }),
        StreamEvent::End,
    ];
    let decoded = decode_stream(&encode_stream(&events, true)).unwrap();
    assert_eq!(
        decoded[0],
        StreamEvent::Start {
            id: "chatcmpl-msg_1".into(),
            model: "claude".into(),
            created: 0
        }
    );
    assert!(decoded.contains(&StreamEvent::Finish {
        reason: FinishReason::Stop,
        stop_sequence: None
    }));
    assert_eq!(
        decoded[decoded.len() - 2],
        StreamEvent::Usage(Usage {
            input_tokens: 7,
            output_tokens: 3,
            ..Usage::default()
        })
    );

    // An error mid-stream is the last thing written: no [DONE] after it.
    let bytes = encode_stream(
        &[
            StreamEvent::Start {
                id: "x".into(),
                model: "m".into(),
                created: 1,
            },
            StreamEvent::Error {
                kind: "overloaded_error".into(),
                message: "Overloaded".into(),
            },
            StreamEvent::End,
        ],
        false,
    );
    let last = sse(&bytes).pop().unwrap().1;
    let last: Value = serde_json::from_str(&last).unwrap();
    assert_eq!(last["error"]["message"], "Overloaded");
    assert_eq!(last["error"]["code"], "overloaded_error");

    // End without Finish still gives the client a finish reason.
    let bytes = encode_stream(
        &[
            StreamEvent::Start {
                id: "x".into(),
                model: "m".into(),
                created: 1,
            },
            StreamEvent::End,
        ],
        false,
    );
    assert!(String::from_utf8_lossy(&bytes).contains(r#""finish_reason":"stop""#));
}

#[test]
fn decoder_is_lenient_with_compatible_servers() {
    // Ids repeated on every fragment, a missing index, an empty-choices keep-alive chunk.
    let transcript = concat!(
        "data: {\"id\":\"c\",\"model\":\"m\",\"created\":1,\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"call_a\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\"\"}}]}}]}\n\n",
        "data: {\"id\":\"c\",\"model\":\"m\",\"created\":1,\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"function\":{\"arguments\":\":1}\"}}]}}]}\n\n",
        "data: {\"id\":\"c\",\"choices\":[]}\n\n",
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: [DONE]\n\n",
        "data: {\"late\":true}\n\n",
    );
    let events = decode_stream(transcript.as_bytes()).unwrap();
    assert_eq!(
        events,
        [
            StreamEvent::Start {
                id: "c".into(),
                model: "m".into(),
                created: 1
            },
            StreamEvent::ToolCallStart {
                index: 0,
                id: "call_a".into(),
                name: "f".into()
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                arguments: "{\"x\"".into()
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                arguments: ":1}".into()
            },
            StreamEvent::Finish {
                reason: FinishReason::ToolCalls,
                stop_sequence: None
            },
            StreamEvent::End,
        ]
    );

    // A named error event carries the fields at the top level.
    let mut d = StreamDecoder::new();
    let mut out = Vec::new();
    d.decode(
        Some("error"),
        br#"{"message":"quota","type":"insufficient_quota"}"#,
        &mut out,
    )
    .unwrap();
    assert_eq!(
        out,
        [StreamEvent::Error {
            kind: "insufficient_quota".into(),
            message: "quota".into()
        }]
    );
    assert!(d.finish(&mut out).is_ok());
}

#[test]
fn tap_follows_a_pass_through_transcript() {
    let taps: Vec<_> = sse(&fixture("streams/text_usage.sse"))
        .iter()
        .map(|(e, d)| openai::tap(e.as_deref(), d.as_bytes()))
        .collect();
    assert!(taps.last().unwrap().end);
    assert_eq!(taps[4].usage.map(|u| u.total()), Some(27));
    assert!(taps.iter().all(|t| !t.malformed && !t.error));
    let taps: Vec<_> = sse(&fixture("streams/error_midstream.sse"))
        .iter()
        .map(|(e, d)| openai::tap(e.as_deref(), d.as_bytes()))
        .collect();
    assert!(taps.last().unwrap().error);
}

#[test]
fn decode_error_round_trips_openai_bodies() {
    let body = br#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
    let err = openai::decode_error(429, body);
    let out: Value = serde_json::from_slice(&openai::encode_error(&err)).unwrap();
    assert_eq!(out, serde_json::from_slice::<Value>(body).unwrap());
}

proptest! {
    #[test]
    fn stream_decoder_never_panics(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8)) {
        let mut d = StreamDecoder::new();
        let mut out = Vec::new();
        for c in &chunks {
            let _ = d.decode(None, c, &mut out);
        }
        let _ = d.finish(&mut out);
    }

    #[test]
    fn chunk_like_json_never_panics(
        index in proptest::option::of(0u64..4),
        id in proptest::option::of("[a-c]{0,2}"),
        finish in proptest::option::of("[a-z_]{0,12}"),
        args in "[{}\":a-z0-9]{0,8}",
    ) {
        let chunk = json!({"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": index, "id": id, "function": {"arguments": args}}]}, "finish_reason": finish}]});
        let mut d = StreamDecoder::new();
        let mut out = Vec::new();
        for _ in 0..3 {
            prop_assert!(d.decode(None, chunk.to_string().as_bytes(), &mut out).is_ok());
        }
        prop_assert!(d.decode(None, b"[DONE]", &mut out).is_ok());
        prop_assert_eq!(out.last(), Some(&StreamEvent::End));
    }
}
