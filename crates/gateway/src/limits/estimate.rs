//! Token estimates before the call: the prompt's tokens counted with a real tokenizer
//! (o200k, the GPT-4o family's, shipped inside the binary and used for every provider as
//! an estimate; `tokenizer.rs`), and the output the request may produce (its
//! `max_tokens`, or the configured default). The provider's reported usage settles the
//! difference afterwards. The body is read in one pass that builds no JSON tree.
//!
//! Must never run on a request no token-counting limit applies to (the vocabulary costs
//! memory and the count costs CPU), and never count more than `MAX_TEXT` bytes exactly:
//! past it the count is extrapolated, so a huge body cannot buy unbounded CPU.

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

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
/// pass over the body that builds no JSON tree (a `serde_json::Value` of the body cost
/// more than the count itself).
pub fn request(body: &[u8]) -> (u64, Option<u64>) {
    // Text that is not UTF-8 is no JSON: the walk would fail on it. Read as `&str`,
    // serde_json checks no string again (`sluice_protocol::json`).
    let Ok(text) = std::str::from_utf8(body) else {
        return ((body.len() / 4) as u64, None);
    };
    let mut found = Found::default();
    let mut json = serde_json::Deserializer::from_str(text);
    let walked = Walk {
        found: &mut found,
        field: Field::None,
        depth: 0,
    }
    .deserialize(&mut json)
    .and_then(|_| json.end());
    if walked.is_err() {
        return ((body.len() / 4) as u64, None);
    }
    let tokens = count(&found.text) + found.messages * PER_MESSAGE;
    let max_output = found
        .max_completion_tokens
        .or(found.max_tokens)
        .or(found.max_output_tokens)
        .or(found.max_output_tokens_gemini);
    (tokens, max_output)
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
pub fn load_tokenizer() {
    let _ = super::tokenizer::o200k();
}

/// What one pass over the body gathers.
#[derive(Default)]
struct Found {
    /// Every string a model reads, one per line.
    text: String,
    /// Items of `messages`, `contents` or `input` arrays, at any depth.
    messages: u64,
    max_completion_tokens: Option<u64>,
    max_tokens: Option<u64>,
    max_output_tokens: Option<u64>,
    /// Gemini's `generationConfig.maxOutputTokens`.
    max_output_tokens_gemini: Option<u64>,
}

/// The member a value is under, as far as counting cares. Names are classified as they
/// are read, so no key is allocated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    None,
    /// Not text a model reads (`SKIP`).
    Skip,
    /// `messages`, `contents`, `input`: their array items are messages.
    Listing,
    MaxCompletionTokens,
    MaxTokens,
    MaxOutputTokens,
    GenerationConfig,
    /// `maxOutputTokens`, which counts only inside a top-level `generationConfig`.
    GeminiMaxOutputTokens,
    Other,
}

impl Field {
    fn of(name: &str) -> Self {
        match name {
            "messages" | "contents" | "input" => Self::Listing,
            "max_completion_tokens" => Self::MaxCompletionTokens,
            "max_tokens" => Self::MaxTokens,
            "max_output_tokens" => Self::MaxOutputTokens,
            "generationConfig" => Self::GenerationConfig,
            "maxOutputTokens" => Self::GeminiMaxOutputTokens,
            name if SKIP.contains(&name) => Self::Skip,
            _ => Self::Other,
        }
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = Field;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                Ok(Field::of(name))
            }
        }
        deserializer.deserialize_str(Name)
    }
}

/// One value of the body, walked without building it: strings go to the text, arrays
/// under a listing count their items, and the value says whether it was an unsigned
/// integer (for the `max_*` members).
struct Walk<'f> {
    found: &'f mut Found,
    field: Field,
    depth: u32,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = Option<u64>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<u64>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<u64>, E> {
        if self.field != Field::Skip {
            self.found.text.push_str(s);
            self.found.text.push('\n');
        }
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Option<u64>, E> {
        Ok(Some(n))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<u64>, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<u64>, E> {
        Ok(None)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<u64>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<u64>, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Option<u64>, A::Error> {
        let (field, depth) = (self.field, self.depth + 1);
        while items
            .next_element_seed(Walk {
                found: &mut *self.found,
                field,
                depth,
            })?
            .is_some()
        {
            if field == Field::Listing {
                self.found.messages += 1;
            }
        }
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Option<u64>, A::Error> {
        let depth = self.depth + 1;
        let in_generation_config = depth == 2 && self.field == Field::GenerationConfig;
        while let Some(field) = members.next_key::<Field>()? {
            let number = members.next_value_seed(Walk {
                found: &mut *self.found,
                field,
                depth,
            })?;
            let found = &mut *self.found;
            // The `max_*` members count at the top level only, where each format puts
            // them; a repeated member counts as its last value, as JSON parsers read it.
            match field {
                Field::MaxCompletionTokens if depth == 1 => found.max_completion_tokens = number,
                Field::MaxTokens if depth == 1 => found.max_tokens = number,
                Field::MaxOutputTokens if depth == 1 => found.max_output_tokens = number,
                Field::GeminiMaxOutputTokens if in_generation_config => {
                    found.max_output_tokens_gemini = number;
                }
                _ => {}
            }
        }
        Ok(None)
    }
}
#[cfg(test)]
mod tests {
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
}
