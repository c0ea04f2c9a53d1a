//! Why a translation between a wire format and the canonical model failed.
//!
//! The variant decides who is at fault and so the HTTP status the gateway answers with:
//! `Invalid` and `Unsupported` are the client's (400), `Upstream` the provider's (502).

/// A translation failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// The client's request is malformed for its own format.
    #[error("{message}")]
    Invalid {
        message: String,
        /// JSON path of the offending field, when known (`messages[2].content`).
        param: Option<String>,
    },
    /// The request uses a feature the target provider cannot express.
    #[error("`{feature}` is not supported by {target} providers")]
    Unsupported {
        /// The feature, named as the client wrote it (`n`, `logprobs`, `input_audio`).
        feature: String,
        /// The target format (`Format::as_str`).
        target: &'static str,
    },
    /// The provider sent something its own format does not allow.
    #[error("upstream sent an invalid {format} response: {message}")]
    Upstream {
        format: &'static str,
        message: String,
    },
}

impl TranslateError {
    pub fn invalid(message: impl Into<String>, param: Option<&str>) -> Self {
        Self::Invalid {
            message: message.into(),
            param: param.map(str::to_owned),
        }
    }

    pub fn unsupported(feature: impl Into<String>, target: &'static str) -> Self {
        Self::Unsupported {
            feature: feature.into(),
            target,
        }
    }

    pub fn upstream(format: &'static str, message: impl Into<String>) -> Self {
        Self::Upstream {
            format,
            message: message.into(),
        }
    }
}

/// An error as a provider or Sluice reports it, independent of the wire shape: decoded
/// from a provider's error body, encoded into the ingress format's error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    /// HTTP status the error came with (or will be sent with).
    pub status: u16,
    /// The error type as the format names it (`invalid_request_error`, `rate_limit_error`,
    /// `overloaded_error`, ...). Encoders of another format map it by `status`.
    pub kind: String,
    /// Client-safe message.
    pub message: String,
    pub param: Option<String>,
    pub code: Option<String>,
}

/// The HTTP status an error type stands for, when only the type is known: an error event
/// inside a stream carries a type but no status. Covers the types of every provider
/// format (OpenAI, Anthropic, Gemini's `status` names); an unknown type reads as 500, a
/// server-side failure, which is what an unexplained mid-stream error is.
pub fn status_for_kind(kind: &str) -> u16 {
    match kind {
        "invalid_request_error" | "INVALID_ARGUMENT" | "FAILED_PRECONDITION" => 400,
        "authentication_error" | "UNAUTHENTICATED" => 401,
        "permission_error" | "PERMISSION_DENIED" => 403,
        "not_found_error" | "NOT_FOUND" => 404,
        "request_too_large" => 413,
        "rate_limit_error"
        | "rate_limit_exceeded"
        | "insufficient_quota"
        | "tokens"
        | "requests"
        | "RESOURCE_EXHAUSTED" => 429,
        "overloaded_error" => 529,
        "UNAVAILABLE" => 503,
        "DEADLINE_EXCEEDED" | "timeout" => 504,
        _ => 500,
    }
}

#[cfg(test)]
mod tests {
    use super::status_for_kind;

    #[test]
    fn stream_error_types_map_to_their_statuses() {
        assert_eq!(status_for_kind("overloaded_error"), 529);
        assert_eq!(status_for_kind("rate_limit_error"), 429);
        assert_eq!(status_for_kind("RESOURCE_EXHAUSTED"), 429);
        assert_eq!(status_for_kind("invalid_request_error"), 400);
        assert_eq!(status_for_kind("server_error"), 500);
        assert_eq!(status_for_kind("something new"), 500);
    }
}
