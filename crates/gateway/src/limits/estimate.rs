//! Token estimates before the call: the prompt's tokens counted with a real tokenizer
//! (o200k, the GPT-4o family's, shipped inside the binary and used for every provider as
//! an estimate; `tokenizer.rs`), and the output the request may produce (its `max_tokens`, or the
//! configured default). The provider's reported usage settles the difference afterwards.
//!
//! Must never run on a request no token-counting limit applies to (the vocabulary costs
//! memory and the count costs CPU), and never count more than `MAX_TEXT` bytes exactly:
//! past it the count is extrapolated, so a huge body cannot buy unbounded CPU.

use serde_json::Value;

/// Text counted exactly; the rest of a longer prompt is extrapolated from it.
const MAX_TEXT: usize = 256 * 1024;

/// Tokens a chat format adds per message (role markers), as OpenAI documents.
const PER_MESSAGE: u64 = 4;

/// Fields whose strings are not text a model reads as tokens (names of things, media).
const SKIP: [&str; 10] = [
    "model",
    "role",
    "type",
    "id",
    "tool_call_id",
    "url",
    "data",
    "image_url",
    "media_type",
    "mime_type",
];

/// The prompt's estimated tokens in any ingress format's body.
pub fn prompt_tokens(body: &[u8]) -> u64 {
    request(body).0
}

/// The prompt's estimated tokens and the output the request asks for at most, from one
/// parse of the body.
pub fn request(body: &[u8]) -> (u64, Option<u64>) {
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => (tokens_of(&value), max_output_of(&value)),
        Err(_) => ((body.len() / 4) as u64, None),
    }
}

fn tokens_of(value: &Value) -> u64 {
    let mut text = String::new();
    let mut messages = 0u64;
    collect(value, None, &mut text, &mut messages);
    count(&text) + messages * PER_MESSAGE
}

/// Counts the tokens of `text` with the shipped tokenizer.
pub fn count(text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    let Some(bpe) = super::tokenizer::o200k() else {
        return (text.len() / 4) as u64;
    };
    if text.len() <= MAX_TEXT {
        return bpe.count(text) as u64;
    }
    let mut cut = MAX_TEXT;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = bpe.count(&text[..cut]) as u64;
    head.saturating_mul(text.len() as u64) / cut.max(1) as u64
}

/// Loads the tokenizer now, so the first request does not pay for it.
pub fn warm() {
    let _ = super::tokenizer::o200k();
}

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

/// The most output tokens the request asks for, in whichever format's name it uses.
fn max_output_of(value: &Value) -> Option<u64> {
    let field = |name: &str| value.get(name).and_then(Value::as_u64);
    field("max_completion_tokens")
        .or_else(|| field("max_tokens"))
        .or_else(|| field("max_output_tokens"))
        .or_else(|| {
            value
                .pointer("/generationConfig/maxOutputTokens")
                .and_then(Value::as_u64)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
