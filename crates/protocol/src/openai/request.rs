//! The part of an OpenAI request that Sluice reads. Everything else stays raw bytes,
//! so fields Sluice does not know reach the provider untouched.
//!
//! Deserializing must stay cheap (borrowed raw values, no tree of `Value`s): it runs
//! on every request.

use serde::Deserialize;
use serde_json::value::RawValue;

/// Head of a `POST /v1/chat/completions` body.
#[derive(Debug, Deserialize)]
pub struct ChatRequestHead<'a> {
    pub model: String,
    #[serde(borrow)]
    pub messages: Vec<MessageHead<'a>>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    /// Read only to check their types at the door, where the provider would refuse them
    /// anyway, so the error names the field.
    #[serde(default)]
    pub max_tokens: Option<u64>,
    #[serde(default)]
    pub max_completion_tokens: Option<u64>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub n: Option<u64>,
}

/// The roles a Chat Completions message may have.
pub const ROLES: [&str; 6] = [
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];

/// A message is checked for shape only: an object with a string `role`.
#[derive(Debug, Deserialize)]
pub struct MessageHead<'a> {
    /// `Cow`: a role written with a JSON escape cannot be borrowed.
    #[serde(borrow)]
    pub role: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    pub content: Option<&'a RawValue>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: Option<bool>,
}

impl ChatRequestHead<'_> {
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }
}

/// Head of a `POST /v1/embeddings` body.
#[derive(Debug, Deserialize)]
pub struct EmbeddingsRequestHead<'a> {
    pub model: String,
    #[serde(borrow)]
    pub input: &'a RawValue,
}

/// A request body that failed to decode, with the JSON path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DecodeError {
    pub message: String,
    /// JSON path such as `messages[0].role`; `None` for syntax errors.
    pub param: Option<String>,
}

/// Decodes a request head, naming the offending field on type errors.
pub fn decode<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, DecodeError> {
    // A body that decodes takes one plain pass: the path tracking cost about 5,000
    // instructions per request (callgrind), and only a body that fails needs the path.
    if let Ok(value) = crate::json::from_bytes(body) {
        return Ok(value);
    }
    decode_tracked(body)
}

/// The decode again, tracking the path, for the error that names the field.
fn decode_tracked<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, DecodeError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                not_json(&inner)
            }
            // An array or a scalar where the request object should be: serde would
            // describe the struct it tried to fill, which is no help to a client.
            _ if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') => DecodeError {
                message: "the request body must be a JSON object".to_owned(),
                param: None,
            },
            _ => DecodeError {
                message: format!("invalid request: {}", api_words(&inner.to_string())),
                param: (path != ".").then_some(path),
            },
        }
    })?;
    de.end().map_err(|e| not_json(&e))?;
    Ok(value)
}

/// A serde message in the API's own words: JSON types, never a Rust type name
/// (`expected struct ChatRequestHead with 4 elements` becomes `expected a JSON
/// object`, `u64` a non-negative integer).
pub fn api_words(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("struct ").or_else(|| rest.find("enum ")) {
        let (before, tail) = rest.split_at(at);
        out.push_str(before);
        let is_struct = tail.starts_with("struct ");
        let name_start = if is_struct {
            "struct ".len()
        } else {
            "enum ".len()
        };
        let name_len = tail[name_start..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(tail.len() - name_start);
        let mut end = name_start + name_len;
        // `struct X with 4 elements` (a struct read from an array)
        if let Some(with) = tail[end..].strip_prefix(" with ")
            && let Some(n) = with.find(" elements")
        {
            end += " with ".len() + n + " elements".len();
        }
        out.push_str(if is_struct {
            "a JSON object"
        } else {
            "one of the allowed values"
        });
        rest = &tail[end..];
    }
    out.push_str(rest);
    for (rust, json) in [
        ("a borrowed string", "a string"),
        ("a sequence", "an array"),
        ("sequence", "array"),
        ("a map", "an object"),
        ("u64", "a non-negative integer"),
        ("u32", "a non-negative integer"),
        ("u16", "a non-negative integer"),
        ("u8", "a non-negative integer"),
        ("usize", "a non-negative integer"),
        ("i64", "an integer"),
        ("i32", "an integer"),
        ("f64", "a number"),
        ("f32", "a number"),
        ("a boolean", "true or false"),
    ] {
        out = replace_word(&out, rust, json);
    }
    out
}

/// Replaces `word` where it stands alone (not inside a longer word or a quoted value).
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before_ok = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| c == ' ' || c == ',' || c == '(');
        let after = &rest[at + word.len()..];
        let after_ok = after
            .chars()
            .next()
            .is_none_or(|c| c == ' ' || c == ',' || c == ')');
        out.push_str(&rest[..at]);
        out.push_str(if before_ok && after_ok { with } else { word });
        rest = after;
    }
    out.push_str(rest);
    out
}

fn not_json(e: &serde_json::Error) -> DecodeError {
    DecodeError {
        message: format!("request body is not valid JSON: {e}"),
        param: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field_with_the_wrong_type() {
        let err = decode::<ChatRequestHead>(br#"{"model":"m","messages":[{"role":5}]}"#)
            .err()
            .map(|e| e.param);
        assert_eq!(err, Some(Some("messages[0].role".to_owned())));
    }

    #[test]
    fn messages_use_json_words_not_rust_types() {
        for (body, want) in [
            (&b"[1,2,3,4]"[..], "must be a JSON object"),
            (b"[]", "must be a JSON object"),
            (b"\"hi\"", "must be a JSON object"),
            (
                br#"{"model":"m","messages":[],"stream_options":"x"}"#,
                "expected a JSON object",
            ),
            (br#"{"model":"m","messages":"hi"}"#, "expected an array"),
            (
                br#"{"model":"m","messages":[],"max_tokens":-1}"#,
                "expected a non-negative integer",
            ),
            (
                br#"{"model":"m","messages":[],"temperature":"hot"}"#,
                "expected a number",
            ),
            (
                br#"{"model":"m","messages":[],"stream":"yes"}"#,
                "expected true or false",
            ),
        ] {
            let message = decode::<ChatRequestHead>(body)
                .err()
                .map(|e| e.message)
                .unwrap_or_default();
            assert!(message.contains(want), "{message}");
            for rust in [
                "struct",
                "ChatRequestHead",
                "u64",
                "sequence",
                "elements",
                "bool ",
            ] {
                assert!(!message.contains(rust), "{rust} in {message}");
            }
        }
    }

    #[test]
    fn syntax_errors_have_no_param() {
        let err = decode::<ChatRequestHead>(b"{\"model\":").err();
        assert!(err.is_some_and(|e| e.param.is_none() && e.message.contains("not valid JSON")));
    }

    #[test]
    fn reads_stream_flags() {
        let head = decode::<ChatRequestHead>(
            br#"{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}}"#,
        );
        assert!(head.is_ok_and(
            |h| h.is_stream() && h.stream_options.and_then(|o| o.include_usage) == Some(true)
        ));
    }
}
