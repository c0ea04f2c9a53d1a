//! Errors in Responses shape: the HTTP error body (OpenAI's
//! `{"error":{"message","type","param","code"}}`) and the in-stream `error` event.
//!
//! The `error` event carries its fields twice, flat (`code`, `message`, `param`, as the
//! API reference and the generated SDK types describe it) and nested under `error` (as
//! OpenAI's servers actually send it). openai-python raises `APIError` only on a data
//! payload with a truthy `error` member, and typed SDKs (Go, .NET, Node's
//! `ResponseErrorEvent`) read the flat fields, so both forms make every client see the
//! failure. Must never carry internal addresses, keys or stack traces: callers pass
//! client-safe text.

use crate::canonical::ProviderError;
use crate::sse::encode_event;
use bytes::Bytes;
use serde::Serialize;

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: Option<&'a str>,
}

/// The `error` stream event (see the module doc for why it is doubled).
#[derive(Serialize)]
pub(crate) struct ErrorEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    code: &'a str,
    message: &'a str,
    param: Option<&'a str>,
    error: ErrorDetail<'a>,
    sequence_number: u64,
}

impl<'a> ErrorEvent<'a> {
    pub(crate) fn new(err: &'a ProviderError, sequence_number: u64) -> Self {
        let code = err
            .code
            .as_deref()
            .unwrap_or_else(|| failure_code(err.status, &err.kind));
        Self {
            kind: "error",
            code,
            message: &err.message,
            param: err.param.as_deref(),
            error: ErrorDetail {
                message: &err.message,
                kind: openai_type(err),
                param: err.param.as_deref(),
                code: Some(code),
            },
            sequence_number,
        }
    }

    pub(crate) fn to_sse(&self) -> Bytes {
        // Serializing strings and integers cannot fail.
        let json = serde_json::to_string(self).unwrap_or_default();
        encode_event(Some("error"), &json)
    }
}

/// The error body for an HTTP error status.
pub fn encode_error(err: &ProviderError) -> Vec<u8> {
    let body = ErrorBody {
        error: ErrorDetail {
            message: &err.message,
            kind: openai_type(err),
            param: err.param.as_deref(),
            code: err.code.as_deref(),
        },
    };
    // Serializing strings cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

/// One `error` SSE event for a failure after the stream began, when the stream's
/// encoder is not at hand. It cannot know how many events went before, so its
/// `sequence_number` is 0; where a [`super::StreamEncoder`] exists, prefer
/// [`super::StreamEncoder::encode_error`], which numbers it and also closes the stream
/// with `response.failed`.
pub fn encode_stream_error(err: &ProviderError) -> Bytes {
    ErrorEvent::new(err, 0).to_sse()
}

/// The OpenAI error `type` for `err`: its own kind when that already is one an OpenAI
/// client would recognise, else one derived from the HTTP status.
fn openai_type(err: &ProviderError) -> &str {
    let foreign = err.kind.is_empty()
        || err.kind.chars().any(|c| c.is_ascii_uppercase())
        || matches!(
            err.kind.as_str(),
            "api_error" | "overloaded_error" | "request_too_large"
        );
    if !foreign {
        return &err.kind;
    }
    match err.status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    }
}

/// A `response.error.code` from the API's closed list (`server_error`,
/// `rate_limit_exceeded`, `invalid_prompt`, ...) for a failure that has no code.
pub(crate) fn failure_code(status: u16, kind: &str) -> &'static str {
    let kind = kind.to_ascii_lowercase();
    if status == 429 || kind.contains("rate_limit") || kind.contains("resource_exhausted") {
        "rate_limit_exceeded"
    } else if matches!(status, 400 | 422) || kind.contains("invalid") {
        "invalid_prompt"
    } else {
        "server_error"
    }
}

/// The HTTP status a canonical stream error most likely stands for (stream errors carry
/// only the provider's kind).
pub(crate) fn status_for_kind(kind: &str) -> u16 {
    let kind = kind.to_ascii_lowercase();
    if kind.contains("rate_limit") || kind.contains("resource_exhausted") {
        429
    } else if kind.contains("invalid_request") || kind.contains("invalid_argument") {
        400
    } else if kind.contains("overloaded") || kind.contains("unavailable") {
        503
    } else {
        500
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, kind: &str) -> ProviderError {
        ProviderError {
            status,
            kind: kind.to_owned(),
            message: "m".to_owned(),
            param: None,
            code: None,
        }
    }

    #[test]
    fn foreign_kinds_are_mapped_by_status() {
        assert_eq!(
            openai_type(&err(400, "invalid_request_error")),
            "invalid_request_error"
        );
        assert_eq!(openai_type(&err(504, "timeout")), "timeout");
        assert_eq!(openai_type(&err(529, "overloaded_error")), "server_error");
        assert_eq!(
            openai_type(&err(400, "INVALID_ARGUMENT")),
            "invalid_request_error"
        );
        assert_eq!(openai_type(&err(401, "")), "authentication_error");
    }

    #[test]
    fn failure_codes_come_from_the_api_list() {
        assert_eq!(failure_code(429, "x"), "rate_limit_exceeded");
        assert_eq!(
            failure_code(500, "RESOURCE_EXHAUSTED"),
            "rate_limit_exceeded"
        );
        assert_eq!(failure_code(400, "x"), "invalid_prompt");
        assert_eq!(failure_code(503, "overloaded_error"), "server_error");
        assert_eq!(status_for_kind("rate_limit_error"), 429);
        assert_eq!(status_for_kind("overloaded_error"), 503);
        assert_eq!(status_for_kind("invalid_request_error"), 400);
        assert_eq!(status_for_kind("api_error"), 500);
    }
}
