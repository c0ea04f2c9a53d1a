//! Every way a request can fail, as data: who failed (client, gateway, upstream), whether
//! another target may be tried, and the one mapping to an HTTP status and a
//! format-neutral `ProviderError`, which the ingress format then encodes in its own error
//! shape: `GatewayError` before the commit point (an error response), `StreamFailure`
//! after it (an in-band error event). Nothing else builds error responses or events.
//!
//! Must never put an upstream key, internal address or source error text in a client
//! message: upstream detail goes to the server log only.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sluice_protocol::canonical::{ProviderError, TranslateError, status_for_kind};
use sluice_protocol::translate::Ingress;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("{message}")]
    BadRequest {
        message: String,
        param: Option<String>,
    },
    #[error("The model `{model}` does not exist or you do not have access to it.")]
    ModelNotFound { model: String },
    #[error("Request body exceeds the limit of {limit} bytes.")]
    BodyTooLarge { limit: usize },
    #[error("Sluice is at its limit of in-flight requests; retry shortly.")]
    Overloaded,
    #[error("Sluice is shutting down; retry on another replica.")]
    ShuttingDown,
    #[error("Unknown endpoint {path}.")]
    UnknownRoute { path: String },
    #[error("Invalid or missing API key.")]
    Unauthorized,
    #[error("The store is unavailable; retry shortly.")]
    StoreUnavailable,
    /// The request cannot be translated for any target of its model.
    #[error(transparent)]
    Translate(TranslateError),
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

/// Which phase of an upstream attempt ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Connect,
    FirstByte,
    Idle,
    Total,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::FirstByte => "first byte",
            Self::Idle => "idle",
            Self::Total => "total",
        }
    }
}

/// An upstream attempt that failed before Sluice committed to its response.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("Upstream provider `{provider}` could not be reached.")]
    Connect { provider: String },
    #[error("Upstream provider `{provider}` timed out ({} timeout).", phase.as_str())]
    Timeout { provider: String, phase: Phase },
    /// The provider answered with an error status; `error` is its decoded, scrubbed body.
    #[error("Upstream provider `{provider}` returned status {status}.")]
    Status {
        provider: String,
        status: u16,
        error: Option<Box<ProviderError>>,
        retry_after: Option<HeaderValue>,
    },
    #[error("Upstream provider `{provider}` sent an invalid response.")]
    Protocol { provider: String },
    #[error("Upstream provider `{provider}` sent a response larger than {limit} bytes.")]
    TooLarge { provider: String, limit: usize },
    /// The provider answered 200, then reported an error in the stream before any content
    /// (Anthropic's `overloaded_error` does this); `error.status` is mapped from its type.
    #[error("Upstream provider `{provider}` reported an error before any content.")]
    InBand {
        provider: String,
        error: Box<ProviderError>,
    },
    /// The provider's stream ended without any content (and without an error).
    #[error("Upstream provider `{provider}` ended the stream before any content.")]
    NoContent { provider: String },
}

impl UpstreamError {
    /// An error event before any content: only its type and message are known, so the
    /// status is the one its type stands for. `message` must already be scrubbed of
    /// key-like text (`upstream::scrub`).
    pub fn in_band(provider: String, kind: String, message: String) -> Self {
        Self::InBand {
            provider,
            error: Box::new(ProviderError {
                status: status_for_kind(&kind),
                kind,
                message,
                param: None,
                code: None,
            }),
        }
    }

    /// Short machine name for logs and the record.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Connect { .. } => "upstream_connect",
            Self::Timeout { .. } => "upstream_timeout",
            Self::Status { .. } => "upstream_status",
            Self::Protocol { .. } => "upstream_protocol",
            Self::TooLarge { .. } => "upstream_too_large",
            Self::InBand { .. } => "upstream_error_event",
            Self::NoContent { .. } => "upstream_no_content",
        }
    }

    /// The status the provider answered with, 0 when it never answered.
    pub fn upstream_status(&self) -> u16 {
        match self {
            Self::Status { status, .. } => *status,
            Self::InBand { .. }
            | Self::NoContent { .. }
            | Self::Protocol { .. }
            | Self::TooLarge { .. } => 200,
            Self::Connect { .. } | Self::Timeout { .. } => 0,
        }
    }

    /// Whether the next target in the plan may be tried.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Connect { .. } | Self::Timeout { .. } | Self::NoContent { .. } => true,
            Self::Status { status, .. } => retryable_status(*status),
            Self::InBand { error, .. } => retryable_status(error.status),
            Self::Protocol { .. } | Self::TooLarge { .. } => false,
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Connect { .. }
            | Self::Protocol { .. }
            | Self::TooLarge { .. }
            | Self::NoContent { .. } => StatusCode::BAD_GATEWAY,
            Self::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            Self::InBand { error, .. } => client_status(error.status),
            Self::Status { status, .. } => client_status(*status),
        }
    }
}

fn retryable_status(status: u16) -> bool {
    status == 429 || status == 408 || status >= 500
}

/// The status a client sees for an upstream error status.
fn client_status(status: u16) -> StatusCode {
    match status {
        // The provider refused Sluice's own credentials: the client's request was fine,
        // the gateway is misconfigured.
        401 | 403 => StatusCode::BAD_GATEWAY,
        s @ (400 | 404 | 409 | 413 | 422 | 429) => {
            StatusCode::from_u16(s).unwrap_or(StatusCode::BAD_GATEWAY)
        }
        // Overloaded upstreams (503, Anthropic's 529) stay "try again later".
        503 | 529 => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_GATEWAY,
    }
}

impl GatewayError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            param: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::ModelNotFound { .. } | Self::UnknownRoute { .. } => StatusCode::NOT_FOUND,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Overloaded | Self::ShuttingDown | Self::StoreUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Translate(
                TranslateError::Invalid { .. } | TranslateError::Unsupported { .. },
            ) => StatusCode::BAD_REQUEST,
            Self::Translate(TranslateError::Upstream { .. }) => StatusCode::BAD_GATEWAY,
            Self::Upstream(e) => e.status(),
        }
    }

    /// Short machine name for logs and the interaction record.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "bad_request",
            Self::ModelNotFound { .. } => "model_not_found",
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::Overloaded => "overloaded",
            Self::ShuttingDown => "shutting_down",
            Self::UnknownRoute { .. } => "unknown_route",
            Self::Unauthorized => "unauthorized",
            Self::StoreUnavailable => "store_unavailable",
            Self::Translate(TranslateError::Invalid { .. }) => "bad_request",
            Self::Translate(TranslateError::Unsupported { .. }) => "unsupported_feature",
            Self::Translate(TranslateError::Upstream { .. }) => "upstream_protocol",
            Self::Upstream(e) => e.kind(),
        }
    }

    /// The format-neutral error: status, OpenAI-style type and code, client-safe message.
    pub fn to_provider_error(&self) -> ProviderError {
        let status = self.status().as_u16();
        let error = |kind: &str, code: Option<&str>, param: Option<String>| ProviderError {
            status,
            kind: kind.to_owned(),
            message: self.to_string(),
            param,
            code: code.map(str::to_owned),
        };
        match self {
            Self::BadRequest { param, .. } => error("invalid_request_error", None, param.clone()),
            Self::Translate(TranslateError::Invalid { param, .. }) => {
                error("invalid_request_error", None, param.clone())
            }
            Self::Translate(TranslateError::Unsupported { feature, .. }) => error(
                "invalid_request_error",
                Some("unsupported_feature"),
                Some(feature.clone()),
            ),
            Self::Translate(TranslateError::Upstream { .. }) => {
                error("upstream_error", Some("upstream_protocol"), None)
            }
            Self::ModelNotFound { .. } => error(
                "invalid_request_error",
                Some("model_not_found"),
                Some("model".into()),
            ),
            Self::BodyTooLarge { .. } => {
                error("invalid_request_error", Some("request_too_large"), None)
            }
            Self::UnknownRoute { .. } => error("invalid_request_error", Some("unknown_url"), None),
            Self::Overloaded => error("server_error", Some("overloaded"), None),
            Self::ShuttingDown => error("server_error", Some("shutting_down"), None),
            Self::Unauthorized => error("invalid_request_error", Some("invalid_api_key"), None),
            Self::StoreUnavailable => error("server_error", Some("store_unavailable"), None),
            Self::Upstream(UpstreamError::Status {
                error: Some(upstream),
                status: upstream_status,
                ..
            }) if !matches!(upstream_status, 401 | 403) => ProviderError {
                status,
                ..(**upstream).clone()
            },
            Self::Upstream(UpstreamError::InBand {
                error: upstream, ..
            }) if !matches!(upstream.status, 401 | 403) => ProviderError {
                status,
                ..(**upstream).clone()
            },
            Self::Upstream(UpstreamError::Timeout { .. }) => {
                error("timeout", Some("upstream_timeout"), None)
            }
            Self::Upstream(_) => error("upstream_error", Some("upstream_error"), None),
        }
    }

    fn retry_after(&self) -> Option<HeaderValue> {
        match self {
            Self::Upstream(UpstreamError::Status { retry_after, .. }) => retry_after.clone(),
            Self::Overloaded | Self::ShuttingDown => Some(HeaderValue::from_static("1")),
            _ => None,
        }
    }

    /// The error response in the ingress format's shape.
    pub fn respond(&self, ingress: Ingress) -> Response {
        let body = ingress.encode_error(&self.to_provider_error());
        let mut response = (
            self.status(),
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        if let Some(value) = self.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// A failure after the commit point. The client already has a 200 and part of the
/// answer, so it is told with an error event in its format and the stream ends; nothing
/// is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StreamFailure {
    #[error("upstream stream was interrupted")]
    Cut,
    #[error("upstream stream ended before completion")]
    Truncated,
    #[error("upstream stream stalled (idle timeout)")]
    Idle,
    #[error("upstream stream exceeded the total timeout")]
    Deadline,
    #[error("upstream stream exceeded the size limit")]
    TooLarge,
    #[error("upstream sent an oversized stream event")]
    OversizedEvent,
    #[error("upstream sent a malformed stream event")]
    Malformed,
    /// The provider reported an error in the stream; its own event told the client.
    #[error("upstream reported an error in the stream")]
    ErrorEvent,
}

impl StreamFailure {
    /// Machine name, for the record and the error event's `code`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Cut | Self::Truncated => "upstream_stream",
            Self::Idle | Self::Deadline => "upstream_timeout",
            Self::TooLarge => "upstream_too_large",
            Self::OversizedEvent | Self::Malformed => "upstream_protocol",
            Self::ErrorEvent => "upstream_error_event",
        }
    }

    /// The error event a client is sent (the provider's own event already went out for
    /// `ErrorEvent`; this is what Sluice would say in its place).
    pub fn to_provider_error(self) -> ProviderError {
        ProviderError {
            status: 502,
            kind: "upstream_error".to_owned(),
            message: self.to_string(),
            param: None,
            code: Some(self.code().to_owned()),
        }
    }
}
