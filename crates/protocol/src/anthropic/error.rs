//! Anthropic's error body, `{"type":"error","error":{"type","message"}}`, both ways,
//! and the error types it names by HTTP status. SDKs choose their exception class from
//! the status and read `error.type`/`error.message`.
//!
//! Must never put anything in a body but the client-safe message it was given, and
//! never fail on an upstream body: unreadable ones get a generic message.

use super::stream_encode::error_event;
use super::wire::{InErrorBody, OutErrorBody, OutErrorDetail};
use crate::canonical::ProviderError;
use bytes::Bytes;

/// Error types Anthropic documents (plus `billing_error` and `timeout_error`, which it
/// has been seen to send).
const KINDS: &[&str] = &[
    "invalid_request_error",
    "authentication_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "api_error",
    "overloaded_error",
    "billing_error",
    "timeout_error",
];

/// Anthropic's error type for an HTTP status.
pub fn kind_for_status(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

fn known(kind: &str) -> Option<&str> {
    KINDS.contains(&kind).then_some(kind)
}

/// The type for an in-stream error whose kind may come from another format.
pub fn stream_error_kind(kind: &str) -> &str {
    known(kind).unwrap_or("api_error")
}

/// The type to send: a specific known kind is kept (`overloaded_error` on a 500), but the
/// generic ones yield to what the status says, since Anthropic's SDKs and users expect
/// 404 to read `not_found_error` even when another format called it invalid_request_error.
fn kind_for(err: &ProviderError) -> &str {
    let by_status = kind_for_status(err.status);
    let generic = |k: &str| matches!(k, "invalid_request_error" | "api_error");
    match known(&err.kind) {
        Some(kind) if !generic(kind) || generic(by_status) => kind,
        _ => by_status,
    }
}

/// The error body for a client of this format.
pub fn encode_error(err: &ProviderError) -> Vec<u8> {
    let body = OutErrorBody {
        kind: "error",
        error: OutErrorDetail {
            kind: kind_for(err),
            message: &err.message,
        },
    };
    // Serializing two strings cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

/// One `error` SSE event, for failures after the stream began.
pub fn encode_stream_error(err: &ProviderError) -> Bytes {
    error_event(kind_for(err), &err.message).freeze()
}

/// An upstream error response; never fails.
pub fn decode_error(status: u16, body: &[u8]) -> ProviderError {
    let parsed = serde_json::from_slice::<InErrorBody>(body)
        .ok()
        .map(|b| b.error);
    let (kind, message) = match parsed {
        Some(detail) => (detail.kind, detail.message),
        None => (None, None),
    };
    ProviderError {
        status,
        kind: kind.unwrap_or_else(|| kind_for_status(status).to_owned()),
        message: message.unwrap_or_else(|| generic_message(status)),
        param: None,
        code: None,
    }
}

fn generic_message(status: u16) -> String {
    let what = match kind_for_status(status) {
        "authentication_error" => "authentication failed",
        "permission_error" => "permission denied",
        "not_found_error" => "not found",
        "request_too_large" => "request too large",
        "rate_limit_error" => "rate limited",
        "overloaded_error" => "overloaded",
        "invalid_request_error" => "invalid request",
        _ => "internal error",
    };
    format!("anthropic upstream returned HTTP {status} ({what})")
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
    fn statuses_map_to_anthropic_types() {
        for (status, kind) in [
            (400, "invalid_request_error"),
            (401, "authentication_error"),
            (403, "permission_error"),
            (404, "not_found_error"),
            (413, "request_too_large"),
            (429, "rate_limit_error"),
            (500, "api_error"),
            (502, "api_error"),
            (503, "overloaded_error"),
            (504, "api_error"),
            (529, "overloaded_error"),
        ] {
            let body: serde_json::Value =
                serde_json::from_slice(&encode_error(&err(status, "server_error"))).unwrap();
            assert_eq!(body["error"]["type"], kind, "status {status}");
        }
    }

    #[test]
    fn known_kinds_are_kept_and_bad_bodies_get_a_message() {
        let body: serde_json::Value =
            serde_json::from_slice(&encode_error(&err(500, "overloaded_error"))).unwrap();
        assert_eq!(body["error"]["type"], "overloaded_error");
        let e = decode_error(502, b"<html>bad gateway</html>");
        assert_eq!(e.kind, "api_error");
        assert!(e.message.contains("502"));
    }
}
