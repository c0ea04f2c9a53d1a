//! Error responses in each dialect's wire shape, for both injected faults
//! (`status`) and genuinely bad requests.
//!
//! This module only formats errors; it must never decide whether a request
//! is an error.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use crate::faults::{ErrorKind, Options};

/// Which provider's wire format a response must follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    OpenAi,
    Anthropic,
    Gemini,
}

/// The `status` fault: an error body matching what the real provider sends
/// for that status, so the gateway's error mapping can be tested.
pub(crate) fn fault(dialect: Dialect, status: u16) -> Response {
    let message = format!("mock fault: status {status}");
    error(dialect, status, None, &message)
}

/// The `error` fault: a 400 worded as each provider words it, so the gateway's
/// recognition of error classes is tested against the real texts.
pub(crate) fn provider_error(dialect: Dialect, kind: ErrorKind) -> Response {
    match (dialect, kind) {
        (Dialect::OpenAi, kind) => {
            let (message, param, code) = match kind {
                ErrorKind::ContextWindow => (
                    "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages.",
                    "messages",
                    "context_length_exceeded",
                ),
                ErrorKind::ContentPolicy => (
                    "The response was filtered due to the prompt triggering content management policy.",
                    "prompt",
                    "content_filter",
                ),
            };
            let body = json!({"error": {
                "message": message,
                "type": "invalid_request_error",
                "param": param,
                "code": code,
            }});
            json_response(400, body.to_string())
        }
        (Dialect::Anthropic, ErrorKind::ContextWindow) => error(
            dialect,
            400,
            Some("invalid_request_error"),
            "prompt is too long: 208101 tokens > 200000 maximum",
        ),
        (Dialect::Anthropic, ErrorKind::ContentPolicy) => error(
            dialect,
            400,
            Some("invalid_request_error"),
            "Output blocked by content filtering policy",
        ),
        (Dialect::Gemini, ErrorKind::ContextWindow) => error(
            dialect,
            400,
            None,
            "The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).",
        ),
        (Dialect::Gemini, ErrorKind::ContentPolicy) => {
            error(dialect, 400, None, "The request was blocked due to SAFETY.")
        }
    }
}

/// The `ratelimit_*` options as the dialect's rate-limit headers: OpenAI's
/// `x-ratelimit-*` (reset as a duration such as `1.5s`), Anthropic's
/// `anthropic-ratelimit-*` (reset as an RFC 3339 time, rounded up to the second).
/// Gemini sends none.
pub(crate) fn rate_limit_headers(dialect: Dialect, options: &Options, headers: &mut HeaderMap) {
    let reset = options.ratelimit_reset_ms.map(|ms| match dialect {
        Dialect::Anthropic => {
            let at = std::time::SystemTime::now() + std::time::Duration::from_millis(ms + 999);
            humantime::format_rfc3339_seconds(at).to_string()
        }
        _ => format!("{ms}ms"),
    });
    let names: [&'static str; 4] = match dialect {
        Dialect::OpenAi => [
            "x-ratelimit-remaining-requests",
            "x-ratelimit-remaining-tokens",
            "x-ratelimit-reset-requests",
            "x-ratelimit-reset-tokens",
        ],
        Dialect::Anthropic => [
            "anthropic-ratelimit-requests-remaining",
            "anthropic-ratelimit-tokens-remaining",
            "anthropic-ratelimit-requests-reset",
            "anthropic-ratelimit-tokens-reset",
        ],
        Dialect::Gemini => return,
    };
    if let Some(n) = options.ratelimit_remaining_requests {
        headers.insert(names[0], HeaderValue::from(n));
        if let Some(reset) = reset.as_deref().and_then(|r| HeaderValue::from_str(r).ok()) {
            headers.insert(names[2], reset);
        }
    }
    if let Some(n) = options.ratelimit_remaining_tokens {
        headers.insert(names[1], HeaderValue::from(n));
        if let Some(reset) = reset.as_deref().and_then(|r| HeaderValue::from_str(r).ok()) {
            headers.insert(names[3], reset);
        }
    }
}

/// A 400 for a request the mock cannot understand.
pub(crate) fn bad_request(dialect: Dialect, message: &str) -> Response {
    error(dialect, 400, None, message)
}

/// An error with an explicit status and, optionally, an explicit type.
pub(crate) fn error(dialect: Dialect, status: u16, kind: Option<&str>, message: &str) -> Response {
    let body = match dialect {
        Dialect::OpenAi => json!({"error": {
            "message": message,
            "type": kind.unwrap_or(openai_type(status)),
            "param": null,
            "code": null,
        }}),
        Dialect::Anthropic => json!({"type": "error", "error": {
            "type": kind.unwrap_or(anthropic_type(status)),
            "message": message,
        }}),
        Dialect::Gemini => json!({"error": {
            "code": status,
            "message": message,
            "status": kind.unwrap_or(gemini_status(status)),
        }}),
    };
    json_response(status, body.to_string())
}

/// What Azure OpenAI answers for an unknown path or a missing
/// `api-version`: note the string `code`, unlike every other shape here.
pub(crate) fn azure_not_found() -> Response {
    let body = json!({"error": {"code": "404", "message": "Resource not found"}});
    json_response(404, body.to_string())
}

/// A response with a JSON body that has already been serialised (or, for
/// `malformed: json`, deliberately broken).
pub(crate) fn json_response(status: u16, body: String) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn openai_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        429 => "rate_limit_error",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    }
}

fn anthropic_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

/// The `google.rpc.Code` name Gemini puts in `error.status`.
fn gemini_status(status: u16) -> &'static str {
    match status {
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        400..=499 => "INVALID_ARGUMENT",
        _ => "INTERNAL",
    }
}
