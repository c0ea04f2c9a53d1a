//! Error responses in each dialect's wire shape, for both injected faults
//! (`status`) and genuinely bad requests.
//!
//! This module only formats errors; it must never decide whether a request
//! is an error.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;

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
