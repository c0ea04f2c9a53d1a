//! Responses and stream transcripts decoded to canonical values; a streamed answer
//! decodes like the whole answer.

use super::*;

#[test]
fn responses_decode_to_the_golden_canonical_values() {
    for name in [
        "text",
        "function_calls",
        "thinking",
        "prompt_blocked",
        "max_tokens",
        "safety",
    ] {
        let mut got = gemini::decode_response(&read(&format!("responses/{name}.json"))).unwrap();
        let want: ChatResponse =
            serde_json::from_value(json_file(&format!("responses/{name}.canonical.json"))).unwrap();
        if want.id == "<generated>" {
            assert!(got.id.starts_with("gemini-"), "{name}: {}", got.id);
            got.id = want.id.clone();
        }
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn invalid_response_bodies_are_upstream_errors() {
    for body in [
        &b"not json"[..],
        b"{\"candidates\": 3}",
        b"{} trailing",
        b"{\"error\":{\"message\":\"boom\"}}",
    ] {
        let err = gemini::decode_response(body).unwrap_err();
        assert!(
            matches!(
                err,
                TranslateError::Upstream {
                    format: "gemini",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

#[test]
fn stream_transcripts_decode_to_the_golden_events() {
    for name in [
        "text",
        "tool_call",
        "late_usage",
        "blocked",
        "error",
        "truncated",
    ] {
        let (events, end) = decode_transcript(name);
        let want: Vec<StreamEvent> =
            serde_json::from_value(json_file(&format!("streams/{name}.events.json"))).unwrap();
        assert_eq!(events, want, "{name}");
        if name == "truncated" {
            assert_eq!(
                end,
                Err(TranslateError::upstream(
                    "gemini",
                    "stream ended before a finish reason"
                ))
            );
        } else {
            assert_eq!(end, Ok(()), "{name}");
        }
    }
}

#[test]
fn a_streamed_answer_decodes_like_the_whole_answer() {
    for name in ["text", "tool_call", "late_usage", "blocked"] {
        let (events, _) = decode_transcript(name);
        let whole = serde_json::to_vec(&merge_chunks(name)).unwrap();
        assert_eq!(
            accumulate(&events),
            gemini::decode_response(&whole).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn invalid_chunks_are_upstream_errors() {
    let mut decoder = StreamDecoder::new();
    let mut out = Vec::new();
    let err = decoder
        .decode(None, b"{\"candidates\":", &mut out)
        .unwrap_err();
    assert!(matches!(err, TranslateError::Upstream { .. }));
    // Blank keep-alive data is not a chunk.
    assert_eq!(decoder.decode(None, b"  ", &mut out), Ok(()));
    assert!(out.is_empty());
}
