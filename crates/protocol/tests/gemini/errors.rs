//! Error bodies decoded with mapped kinds and no keys; request paths.

use super::*;

fn error(name: &str, status: u16) -> ProviderError {
    gemini::decode_error(status, &read(&format!("errors/{name}.json")))
}

#[test]
fn error_bodies_decode_with_mapped_kinds() {
    let e = error("invalid_argument", 400);
    assert_eq!(
        (e.kind.as_str(), e.param.as_deref(), e.code.as_deref()),
        (
            "invalid_request_error",
            Some("contents"),
            Some("INVALID_ARGUMENT")
        )
    );
    assert!(e.message.starts_with("* GenerateContentRequest.contents"));
    let e = error("resource_exhausted", 429);
    assert_eq!((e.status, e.kind.as_str()), (429, "rate_limit_error"));
    let e = error("not_found_array", 404);
    assert_eq!(e.kind, "not_found_error");
    assert!(e.message.contains("gemini-9-ultra"));
    assert_eq!(error("unavailable", 503).kind, "overloaded_error");
}

#[test]
fn error_messages_never_carry_keys() {
    let e = error("api_key_invalid", 400);
    assert_eq!(
        e.message,
        "API key not valid. Please pass a valid API key. (got [redacted])"
    );
    assert_eq!(e.code.as_deref(), Some("API_KEY_INVALID"));
    assert!(!format!("{e:?}").contains("AIza"));
}

#[test]
fn unreadable_error_bodies_get_a_generic_message() {
    let e = gemini::decode_error(502, b"<html>Bad Gateway</html>");
    assert_eq!(
        (e.kind.as_str(), e.message.as_str()),
        ("api_error", "gemini returned HTTP 502")
    );
    assert_eq!(gemini::decode_error(401, b"").kind, "authentication_error");
    assert_eq!(gemini::decode_error(429, b"{}").kind, "rate_limit_error");
}

#[test]
fn paths_carry_model_and_streaming() {
    assert_eq!(
        gemini::path("gemini-2.5-flash", true),
        "/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    assert_eq!(gemini::path("a/b", false), "/models/a%2Fb:generateContent");
}
