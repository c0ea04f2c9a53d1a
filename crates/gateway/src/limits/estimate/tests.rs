use super::*;
use serde_json::{Value, json};

/// The estimate as it was computed before the single pass: through a parsed
/// `Value` (kept as the reference the walk must agree with).
fn reference(body: &[u8]) -> (u64, Option<u64>) {
    fn collect(value: &Value, field: Option<&str>, text: &mut String, messages: &mut u64) {
        match value {
            Value::String(s) => {
                if !field.is_some_and(|f| SKIP.contains(&f)) {
                    text.push_str(s);
                    text.push('\n');
                }
            }
            Value::Array(items) => {
                if matches!(field, Some("messages" | "contents" | "input")) {
                    *messages += items.len() as u64;
                }
                for item in items {
                    collect(item, field, text, messages);
                }
            }
            Value::Object(map) => {
                for (name, item) in map {
                    collect(item, Some(name), text, messages);
                }
            }
            Value::Number(_) | Value::Bool(_) | Value::Null => {}
        }
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return ((body.len() / 4) as u64, None);
    };
    let (mut text, mut messages) = (String::new(), 0);
    collect(&value, None, &mut text, &mut messages);
    let field = |name: &str| value.get(name).and_then(Value::as_u64);
    let max_output = field("max_completion_tokens")
        .or_else(|| field("max_tokens"))
        .or_else(|| field("max_output_tokens"))
        .or_else(|| {
            value
                .pointer("/generationConfig/maxOutputTokens")
                .and_then(Value::as_u64)
        });
    (count(&text) + messages * PER_MESSAGE, max_output)
}

#[test]
fn the_single_pass_agrees_with_a_parsed_tree() {
    let bodies = [
        json!({"model": "gpt-4o", "max_tokens": 64, "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "caf\u{e9} \"quoted\"\n"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"}],
            "tools": [{"type": "function", "function": {"name": "get_weather",
                "description": "Weather now", "parameters": {"type": "object"}}}],
            "temperature": -0.5, "seed": -3, "stream": true}),
        json!({"model": "claude", "max_tokens": 1024, "system": [{"type": "text", "text": "sys"}],
            "messages": [{"role": "user", "content": [{"type": "image", "source":
                {"type": "base64", "media_type": "image/png", "data": "iVBOR"}}, {"type": "text", "text": "what?"}]}]}),
        json!({"contents": [{"role": "user", "parts": [{"text": "hola"}]}],
            "generationConfig": {"maxOutputTokens": 99, "temperature": 1},
            "systemInstruction": {"parts": [{"text": "x"}]}}),
        json!({"generationConfig": [{"maxOutputTokens": 5}], "maxOutputTokens": 6}),
        json!({"model": "m", "input": "just a string", "max_output_tokens": 12}),
        json!({"model": "m", "input": [[1, 2, 3], [4]], "max_completion_tokens": 7, "max_tokens": 8}),
        json!({"model": "m", "max_tokens": "many", "messages": []}),
        json!({"model": "m", "max_tokens": 5.0, "nested": {"max_tokens": 3, "messages": [1, [2, 3]]}}),
        json!([{"messages": ["a", "b"]}, "loose", 3, null, true]),
        json!("a bare string"),
        json!(42),
    ];
    for body in &bodies {
        let bytes = body.to_string();
        assert_eq!(
            request(bytes.as_bytes()),
            reference(bytes.as_bytes()),
            "{body}"
        );
    }
    for broken in [
        &b"{\"messages\": [}"[..],
        b"",
        b"{} trailing",
        b"[1, 2",
        b"\"\\ud800\"",
    ] {
        assert_eq!(
            request(broken),
            reference(broken),
            "{}",
            String::from_utf8_lossy(broken)
        );
        assert_eq!(request(broken).1, None);
    }
    let deep = "[".repeat(10_000);
    assert_eq!(request(deep.as_bytes()), ((deep.len() / 4) as u64, None));
}

#[test]
fn a_prompt_is_counted_with_the_tokenizer_not_by_length() {
    let body = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"Hello, world!"}]}"#;
    // "Hello, world!\n" is 4 tokens in o200k ("Hello", ",", " world", "!\n"), plus
    // one message's overhead; its 14 bytes over 4 would say 3.
    assert_eq!(prompt_tokens(body), 4 + PER_MESSAGE);
}

#[test]
fn media_and_names_are_not_counted_as_text() {
    let image = "A".repeat(10_000);
    let body = serde_json::json!({
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "hi"},
            {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{image}")}}
        ]}]
    });
    let tokens = prompt_tokens(body.to_string().as_bytes());
    assert!(tokens < 10, "{tokens}");
}

#[test]
fn a_huge_text_is_extrapolated_in_bounded_time() {
    let text = "word ".repeat(400_000);
    let estimate = count(&text) as f64;
    // The exact count of a tenth of it (under MAX_TEXT), scaled.
    let expected = count(&"word ".repeat(40_000)) as f64 * 10.0;
    assert!(
        (estimate - expected).abs() / expected < 0.05,
        "{estimate} vs {expected}"
    );
}

#[test]
fn max_output_reads_every_formats_name() {
    let max_output = |body: &[u8]| request(body).1;
    assert_eq!(max_output(br#"{"max_tokens":7}"#), Some(7));
    assert_eq!(
        max_output(br#"{"max_completion_tokens":9,"max_tokens":7}"#),
        Some(9)
    );
    assert_eq!(max_output(br#"{"max_output_tokens":5}"#), Some(5));
    assert_eq!(
        max_output(br#"{"generationConfig":{"maxOutputTokens":3}}"#),
        Some(3)
    );
    assert_eq!(max_output(br#"{"messages":[]}"#), None);
}
