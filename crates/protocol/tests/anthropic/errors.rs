//! Error bodies both ways, and robustness against arbitrary input.

use super::*;

#[test]
fn error_bodies_both_ways() {
    let err = anthropic::decode_error(529, &fixture("error_overloaded.json"));
    assert_eq!(
        (err.status, err.kind.as_str(), err.message.as_str()),
        (529, "overloaded_error", "Overloaded")
    );
    assert_eq!(
        json(&anthropic::encode_error(&err)),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
    let foreign = ProviderError {
        status: 429,
        kind: "rate_limit_exceeded".into(),
        message: "slow down".into(),
        param: None,
        code: None,
    };
    let stream = anthropic::encode_stream_error(&foreign);
    assert_eq!(&stream[..], b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}}\n\n");
    assert_eq!(anthropic::DEFAULT_VERSION, "2023-06-01");
}

// ---- robustness ----------------------------------------------------------------------

proptest! {
    #[test]
    fn decoders_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200), name in "[a-z_]{0,20}") {
        let _ = anthropic::decode_request(&data);
        let _ = anthropic::decode_response(&data);
        let _ = anthropic::decode_error(500, &data);
        let _ = anthropic::tap(Some(&name), &data);
        let mut decoder = StreamDecoder::new();
        let mut out = Vec::new();
        let _ = decoder.decode(Some("message_start"), br#"{"type":"message_start","message":{"id":"m","model":"x"}}"#, &mut out);
        let _ = decoder.decode(Some(&name), &data, &mut out);
        let _ = decoder.finish(&mut out);
    }

    #[test]
    fn stream_events_in_any_order_never_panic(kinds in proptest::collection::vec(0u8..8, 0..30)) {
        let events: Vec<&[u8]> = vec![
            br#"{"type":"message_start","message":{"id":"m","model":"x","usage":{"input_tokens":1}}}"#,
            br#"{"type":"content_block_start","index":18446744073709551615,"content_block":{"type":"tool_use","id":"t","name":"f","input":{"a":1}}}"#,
            br#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            br#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}"#,
            br#"{"type":"content_block_delta","index":18446744073709551615,"delta":{"type":"input_json_delta","partial_json":"{"}}"#,
            br#"{"type":"content_block_stop","index":0}"#,
            br#"{"type":"message_delta","delta":{"stop_reason":"weird"},"usage":{"output_tokens":3}}"#,
            br#"{"type":"message_stop"}"#,
        ];
        let mut decoder = StreamDecoder::new();
        let mut canonical = Vec::new();
        for k in kinds {
            let _ = decoder.decode(None, events[k as usize], &mut canonical);
        }
        let _ = decoder.finish(&mut canonical);
        // Whatever came out, the encoder turns into a stream the decoder accepts.
        let mut encoded = encode_stream(&ChatRequest::new("m", Format::Anthropic), &canonical);
        encoded.extend_from_slice(&anthropic::encode_stream_error(&ProviderError { status: 500, kind: String::new(), message: String::new(), param: None, code: None }));
        let (_, verdict) = decode_stream(&encoded);
        prop_assert!(verdict.is_ok());
    }
}
