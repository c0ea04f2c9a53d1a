//! Properties: arbitrary Gemini-shaped JSON never panics the decoders.

use super::*;

/// JSON shaped like Gemini's, with the keys the decoders look at, in random places.
fn arb_json() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "candidates",
        "content",
        "parts",
        "text",
        "thought",
        "functionCall",
        "name",
        "args",
        "id",
        "finishReason",
        "usageMetadata",
        "promptTokenCount",
        "thoughtsTokenCount",
        "promptFeedback",
        "blockReason",
        "error",
        "code",
        "status",
        "message",
        "details",
        "fieldViolations",
        "field",
        "responseId",
        "index",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![
            "STOP",
            "SAFETY",
            "MAX_TOKENS",
            "",
            "AIzaAAAAAAAAAAAAAAAAAAAAAA",
            "x"
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

proptest! {
    #[test]
    fn decoders_never_panic(chunks in prop::collection::vec(arb_json(), 1..6), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut decoder = StreamDecoder::new();
        let mut out = Vec::new();
        for chunk in &chunks {
            let body = serde_json::to_vec(chunk).unwrap();
            let _ = gemini::decode_response(&body);
            let _ = gemini::decode_error(400, &body);
            let _ = decoder.decode(None, &body, &mut out);
        }
        let _ = decoder.decode(None, &bytes, &mut out);
        let _ = decoder.finish(&mut out);
        let _ = gemini::decode_response(&bytes);
        let _ = gemini::decode_error(500, &bytes);
        // Whatever came in, `Start` (if any) is first and `End` (if any) is last.
        if let Some(i) = out.iter().position(|e| matches!(e, StreamEvent::Start { .. })) {
            prop_assert_eq!(i, 0);
        }
        if let Some(i) = out.iter().position(|e| matches!(e, StreamEvent::End)) {
            prop_assert_eq!(i, out.len() - 1);
        }
    }
}
