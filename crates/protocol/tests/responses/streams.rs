//! Streams: golden transcripts and their invariants, agreement with the whole answer,
//! length stops, tolerated disorder, gateway-detected failures.

use super::*;

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
