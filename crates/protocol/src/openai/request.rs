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
}

/// A message is checked for shape only: an object with a string `role`.
#[derive(Debug, Deserialize)]
pub struct MessageHead<'a> {
    pub role: &'a str,
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
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                not_json(&inner)
            }
            _ => DecodeError {
                message: format!("invalid request: {inner}"),
                param: (path != ".").then_some(path),
            },
        }
    })?;
    de.end().map_err(|e| not_json(&e))?;
    Ok(value)
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
