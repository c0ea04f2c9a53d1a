//! OpenAI's error body: `{"error":{"message","type","param","code"}}`. SDKs pick their
//! exception class from the HTTP status and read `message`/`code` from this body.
//!
//! Also the translation of that body to and from [`ProviderError`]: decoding is lenient
//! (OpenAI-compatible servers use several shapes), encoding writes OpenAI's shape.
//!
//! Must never carry internal addresses, keys or stack traces: callers pass client-safe text.

use crate::canonical::ProviderError;
use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub message: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub param: Option<String>,
    pub code: Option<String>,
}

impl ErrorBody {
    pub fn new(message: impl Into<String>, kind: &str, code: Option<&str>) -> Self {
        Self {
            error: ErrorDetail {
                message: message.into(),
                kind: kind.to_owned(),
                param: None,
                code: code.map(str::to_owned),
            },
        }
    }

    pub fn with_param(mut self, param: Option<String>) -> Self {
        self.error.param = param;
        self
    }

    pub fn to_json(&self) -> String {
        // Serializing plain strings into a JSON object cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{\"error\":{}}"))
    }
}

/// Reads an upstream error body. Accepts OpenAI's `{"error":{...}}`, `{"error":"text"}`
/// (Ollama), a top-level `{"message","type","code"}` (older vLLM) and `{"detail":..}`
/// (FastAPI-based servers); anything else gets a generic message for the status.
pub fn decode_error(status: u16, body: &[u8]) -> ProviderError {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let detail = match value.get("error") {
        Some(inner @ (Value::Object(_) | Value::String(_))) => inner,
        _ => &value,
    };
    let (kind, message) = read_kind_and_message(detail);
    ProviderError {
        status,
        kind: kind.unwrap_or_else(|| kind_for_status(status).to_owned()),
        message: message.unwrap_or_else(|| format!("upstream returned HTTP {status}")),
        param: detail.get("param").and_then(as_text),
        code: detail.get("code").and_then(as_text),
    }
}

/// The type and message of an error object or string, each when present.
pub(crate) fn read_kind_and_message(detail: &Value) -> (Option<String>, Option<String>) {
    if let Value::String(message) = detail {
        return (None, Some(message.clone()));
    }
    let kind = detail.get("type").and_then(as_text);
    let message = ["message", "detail", "error"]
        .iter()
        .find_map(|k| detail.get(*k).and_then(as_text))
        .filter(|m| !m.is_empty());
    (kind, message)
}

/// Strings as they are, numbers as text (vLLM sends `code` as the HTTP status).
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// OpenAI's error body for `err`.
pub fn encode_error(err: &ProviderError) -> Vec<u8> {
    error_body(err).to_json().into_bytes()
}

/// One SSE event carrying the error body: `data: {"error":{...}}`, which OpenAI's SDKs
/// raise as an `APIError` mid-stream.
pub fn encode_stream_error(err: &ProviderError) -> Bytes {
    let json = error_body(err).to_json();
    let mut out = BytesMut::with_capacity(json.len() + 8);
    out.put_slice(b"data: ");
    out.put_slice(json.as_bytes());
    out.put_slice(b"\n\n");
    out.freeze()
}

/// Keeps the error type when OpenAI uses the same name; another format's type (say
/// Anthropic's `overloaded_error`) is replaced by OpenAI's type for the status and kept
/// in `code` so the client still sees what happened.
fn error_body(err: &ProviderError) -> ErrorBody {
    let (kind, code) = if is_openai_kind(&err.kind) {
        (err.kind.as_str(), err.code.clone())
    } else {
        let code = err.code.clone().or_else(|| Some(err.kind.clone()));
        (kind_for_status(err.status), code)
    };
    ErrorBody::new(err.message.clone(), kind, None)
        .with_param(err.param.clone())
        .with_code(code)
}

fn is_openai_kind(kind: &str) -> bool {
    matches!(
        kind,
        "invalid_request_error"
            | "authentication_error"
            | "permission_error"
            | "not_found_error"
            | "rate_limit_error"
            | "insufficient_quota"
            | "requests"
            | "tokens"
            | "server_error"
            | "upstream_error"
            | "timeout"
    )
}

/// The error type an OpenAI client expects for an HTTP status.
pub fn kind_for_status(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    }
}

impl ErrorBody {
    fn with_code(mut self, code: Option<String>) -> Self {
        self.error.code = code;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shapes_compatible_servers_send() {
        let e = decode_error(429, br#"{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#);
        assert_eq!(
            (e.kind.as_str(), e.message.as_str(), e.code.as_deref()),
            ("requests", "slow down", Some("rate_limit_exceeded"))
        );
        let e = decode_error(404, br#"{"error":"model 'x' not found"}"#);
        assert_eq!(
            (e.kind.as_str(), e.message.as_str()),
            ("not_found_error", "model 'x' not found")
        );
        let e = decode_error(400, br#"{"object":"error","message":"bad","type":"BadRequestError","param":null,"code":400}"#);
        assert_eq!(
            (e.kind.as_str(), e.message.as_str(), e.code.as_deref()),
            ("BadRequestError", "bad", Some("400"))
        );
        let e = decode_error(502, b"<html>bad gateway</html>");
        assert_eq!(
            (e.kind.as_str(), e.message.as_str()),
            ("server_error", "upstream returned HTTP 502")
        );
    }

    #[test]
    fn foreign_kinds_map_by_status_and_stay_in_code() {
        let err = ProviderError {
            status: 529,
            kind: "overloaded_error".into(),
            message: "Overloaded".into(),
            param: None,
            code: None,
        };
        let body: Value = serde_json::from_slice(&encode_error(&err)).unwrap_or_default();
        assert_eq!(body["error"]["type"], "server_error");
        assert_eq!(body["error"]["code"], "overloaded_error");
        let sse = encode_stream_error(&err);
        assert!(sse.starts_with(b"data: {\"error\":") && sse.ends_with(b"}\n\n"));
    }
}
