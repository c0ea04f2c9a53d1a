//! Gemini's error body (`{"error":{"code","message","status","details"}}`, Google's
//! `Status`) → [`ProviderError`], with the status name mapped to the OpenAI-like kinds
//! the ingress encoders know.
//!
//! Never fails: an unreadable body gives a generic message for the HTTP status. Must
//! never pass on anything key-like: Gemini's messages can quote the API key or a token.

use super::wire::{ErrorBody, Status};
use crate::canonical::{ProviderError, StreamEvent};
use serde_json::Value;

pub fn decode_error(status: u16, body: &[u8]) -> ProviderError {
    let Some(detail) = parse_status(body) else {
        return ProviderError {
            status,
            kind: kind(None, status).to_owned(),
            message: generic(status),
            param: None,
            code: None,
        };
    };
    ProviderError {
        status,
        kind: kind(detail.status.as_deref(), status).to_owned(),
        message: message(&detail, status),
        param: field_violation(&detail.details),
        code: reason(&detail.details).or_else(|| detail.status.clone()),
    }
}

/// An in-stream `{"error":{...}}` chunk as a canonical event.
pub(super) fn error_event(detail: &Status) -> StreamEvent {
    let http = detail
        .code
        .and_then(|c| u16::try_from(c).ok())
        .unwrap_or(500);
    StreamEvent::Error {
        kind: kind(detail.status.as_deref(), http).to_owned(),
        message: message(detail, http),
    }
}

/// Streaming endpoints without `alt=sse` wrap the error in a one-element array.
/// (Checked by the first byte: serde would read an array into a struct field by field.)
fn parse_status(body: &[u8]) -> Option<Status> {
    match body.trim_ascii_start().first()? {
        b'{' => serde_json::from_slice::<ErrorBody>(body)
            .ok()
            .map(|b| b.error),
        b'[' => {
            let list = serde_json::from_slice::<Vec<ErrorBody>>(body).ok()?;
            list.into_iter().next().map(|b| b.error)
        }
        _ => None,
    }
}

fn message(detail: &Status, http: u16) -> String {
    match detail.message.as_deref() {
        Some(m) if !m.trim().is_empty() => redact(m),
        _ => generic(http),
    }
}

fn generic(status: u16) -> String {
    format!("gemini returned HTTP {status}")
}

/// The google.rpc status name when Gemini sent one, else the HTTP status.
fn kind(status: Option<&str>, http: u16) -> &'static str {
    match status {
        Some("INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE") => {
            "invalid_request_error"
        }
        Some("UNAUTHENTICATED") => "authentication_error",
        Some("PERMISSION_DENIED") => "permission_error",
        Some("NOT_FOUND") => "not_found_error",
        Some("RESOURCE_EXHAUSTED") => "rate_limit_error",
        Some("UNAVAILABLE") => "overloaded_error",
        Some(_) => "api_error",
        None => match http {
            400 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            429 => "rate_limit_error",
            503 => "overloaded_error",
            _ => "api_error",
        },
    }
}

/// The first offending field of a `google.rpc.BadRequest` detail.
fn field_violation(details: &[Value]) -> Option<String> {
    details
        .iter()
        .filter_map(|d| d.get("fieldViolations")?.as_array())
        .flatten()
        .find_map(|v| v.get("field")?.as_str())
        .map(redact)
}

/// A `google.rpc.ErrorInfo` reason (`API_KEY_INVALID`), more precise than the status.
fn reason(details: &[Value]) -> Option<String> {
    details
        .iter()
        .filter(|d| {
            d.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("google.rpc.ErrorInfo"))
        })
        .find_map(|d| d.get("reason")?.as_str())
        .map(redact)
}

/// Key-like prefixes: Google API keys (`AIza` + 35 characters) and OAuth access tokens.
const SECRET_PREFIXES: &[&str] = &["AIza", "ya29."];
/// Shorter runs are words, not credentials.
const MIN_SECRET_TAIL: usize = 16;

/// `text` with every key-like run replaced by `[redacted]`.
pub(super) fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, prefix)) = next_prefix(rest) {
        out.push_str(&rest[..at]);
        let after = &rest[at + prefix.len()..];
        let run = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(after.len());
        // A sentence's full stop is not part of the key.
        let tail = after[..run].trim_end_matches('.').len();
        if tail >= MIN_SECRET_TAIL {
            out.push_str("[redacted]");
        } else {
            out.push_str(&rest[at..at + prefix.len() + tail]);
        }
        rest = &after[tail..];
    }
    out.push_str(rest);
    out
}

fn next_prefix(text: &str) -> Option<(usize, &'static str)> {
    SECRET_PREFIXES
        .iter()
        .filter_map(|p| text.find(p).map(|at| (at, *p)))
        .min_by_key(|(at, _)| *at)
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_keys_and_tokens_but_not_words() {
        let key = format!("AIza{}", "Sy0123456789abcdefghijklmnopqrstu_-");
        assert_eq!(
            redact(&format!(
                "API key not valid: {key}. Please pass a valid API key."
            )),
            "API key not valid: [redacted]. Please pass a valid API key."
        );
        assert_eq!(
            redact("token ya29.a0AfH6SMBxxxxxxxxxxxxxxxxx expired"),
            "token [redacted] expired"
        );
        assert_eq!(
            redact("AIza is short; ya29.x too"),
            "AIza is short; ya29.x too"
        );
        assert_eq!(redact("ends with AIza"), "ends with AIza");
        assert_eq!(redact("héllo AIzaé"), "héllo AIzaé");
    }
}
