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
    /// A known path asked with a method it does not serve; `allow` lists the ones it does.
    #[error("{path} does not accept {method}; use {allow}.")]
    MethodNotAllowed {
        method: String,
        path: String,
        allow: &'static str,
    },
    #[error("Invalid or missing API key.")]
    Unauthorized,
    #[error("The store is unavailable; retry shortly.")]
    StoreUnavailable,
    /// The request cannot be translated for any target of its model.
    #[error(transparent)]
    Translate(TranslateError),
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// Every target was tried or skipped; `last` is the last failure, if any attempt
    /// was sent at all.
    #[error("{}", exhausted_message(last.as_deref(), tried, skipped))]
    Exhausted {
        last: Option<Box<UpstreamError>>,
        /// Every attempt sent, in order.
        tried: Vec<Tried>,
        skipped: Vec<Skipped>,
        /// When the soonest skipped target takes traffic again.
        retry_after_ms: Option<u64>,
    },
    /// The request's deadline (`x-sluice-timeout`, `[server] request_timeout`) passed
    /// before any attempt committed.
    #[error("The request's deadline passed before any provider answered.")]
    Deadline,
}

/// A target passed over without a network call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub provider: String,
    /// `circuit_open` or `busy`.
    pub reason: &'static str,
}

/// One attempt sent, as the client's error lists it: the provider and the error
/// class, never an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tried {
    pub provider: String,
    /// `UpstreamError::kind`.
    pub error: &'static str,
    /// The provider's status; 0 when it never answered.
    pub status: u16,
}

fn exhausted_message(last: Option<&UpstreamError>, tried: &[Tried], skipped: &[Skipped]) -> String {
    let base = match last {
        Some(e) => {
            GatewayError::Upstream(e.clone())
                .to_provider_error()
                .message
        }
        None => "No provider is available for this model right now.".to_owned(),
    };
    attempts_summary(base, tried, skipped)
}

/// `message`, then what was tried and skipped: `Tried: a (upstream_status 500), b
/// (upstream_timeout). Skipped: c (circuit open).`
fn attempts_summary(mut message: String, tried: &[Tried], skipped: &[Skipped]) -> String {
    if !tried.is_empty() {
        let list: Vec<String> = tried
            .iter()
            .map(|t| match t.status {
                0 | 200 => format!("{} ({})", t.provider, t.error),
                status => format!("{} ({} {status})", t.provider, t.error),
            })
            .collect();
        message.push_str(&format!(" Tried: {}.", list.join(", ")));
    }
    if !skipped.is_empty() {
        let list: Vec<String> = skipped
            .iter()
            .map(|s| format!("{} ({})", s.provider, s.reason.replace('_', " ")))
            .collect();
        message.push_str(&format!(" Skipped: {}.", list.join(", ")));
    }
    message
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
#[derive(Debug, Clone, thiserror::Error)]
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
        /// The provider's `retry-after-ms` or `Retry-After` (seconds).
        retry_after: Option<std::time::Duration>,
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

    /// What kind of failure this is, for the retry, failover and fallback policies and
    /// the breakers. Context-window and content-policy errors are recognised from the
    /// provider's own error body.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Connect { .. } => ErrorClass::Connect,
            Self::Timeout { .. } => ErrorClass::Timeout,
            Self::Protocol { .. } | Self::NoContent { .. } | Self::TooLarge { .. } => {
                ErrorClass::Protocol
            }
            Self::Status { status, error, .. } => ErrorClass::of_status(*status, error.as_deref()),
            Self::InBand { error, .. } => ErrorClass::of_status(error.status, Some(error)),
        }
    }

    /// Whether the next target in the plan may be tried.
    pub fn is_retryable(&self) -> bool {
        self.class().fails_over()
    }

    /// The provider that failed.
    pub fn provider(&self) -> &str {
        match self {
            Self::Connect { provider }
            | Self::Timeout { provider, .. }
            | Self::Status { provider, .. }
            | Self::Protocol { provider }
            | Self::TooLarge { provider, .. }
            | Self::InBand { provider, .. }
            | Self::NoContent { provider } => provider,
        }
    }

    /// The provider's `Retry-After` / `retry-after-ms`, when it sent one Sluice can read.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
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

/// A provider's retry hint: OpenAI's `retry-after-ms` (wins when both are sent), else
/// `Retry-After` in seconds. An HTTP date is not honoured: providers send seconds, and
/// a clock-skewed date would sleep for the skew.
pub fn parse_retry_after(headers: &axum::http::HeaderMap) -> Option<std::time::Duration> {
    let number = |name: &str| {
        headers
            .get(name)?
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && *n >= 0.0 && *n < 1e9)
    };
    number("retry-after-ms")
        .map(|ms| std::time::Duration::from_secs_f64(ms / 1000.0))
        .or_else(|| number("retry-after").map(std::time::Duration::from_secs_f64))
}

/// The kinds of upstream failure the resilience policies choose by, with the names
/// config uses (`[retry] on`, `fallback_on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// 429, and Gemini's `RESOURCE_EXHAUSTED`.
    RateLimited,
    /// 5xx and Anthropic's 529, as a status or an error event.
    Server,
    /// Any deadline: connect, first byte, idle, total (and a 408).
    Timeout,
    /// The provider could not be reached.
    Connect,
    /// An invalid or empty answer: broken JSON, garbage SSE, no content, too large.
    Protocol,
    /// The request is longer than the model's context window.
    ContextWindow,
    /// The provider refused the content (safety filters).
    ContentPolicy,
    /// Any other 4xx: the request's problem on every target.
    Client,
}

impl ErrorClass {
    /// The classes a config may name.
    pub const ALL: [Self; 7] = [
        Self::RateLimited,
        Self::Server,
        Self::Timeout,
        Self::Connect,
        Self::Protocol,
        Self::ContextWindow,
        Self::ContentPolicy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited => "429",
            Self::Server => "5xx",
            Self::Timeout => "timeout",
            Self::Connect => "connect",
            Self::Protocol => "protocol",
            Self::ContextWindow => "context_window",
            Self::ContentPolicy => "content_policy",
            Self::Client => "4xx",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Whether the next target of the same plan may be tried. A context-window or
    /// content-policy error would recur on the alias's other targets; only a
    /// fallback alias (chosen for it) may take it.
    pub fn fails_over(self) -> bool {
        matches!(
            self,
            Self::RateLimited | Self::Server | Self::Timeout | Self::Connect | Self::Protocol
        )
    }

    /// Whether the failure counts against the target's health (its breaker). A client
    /// error says nothing about the provider.
    pub fn is_provider_fault(self) -> bool {
        self.fails_over()
    }

    fn of_status(status: u16, error: Option<&ProviderError>) -> Self {
        if let Some(recognised) = error.and_then(recognise) {
            return recognised;
        }
        match status {
            429 => Self::RateLimited,
            408 => Self::Timeout,
            s if s >= 500 => Self::Server,
            _ => Self::Client,
        }
    }
}

/// Context-window and content-policy errors as each provider words them (OpenAI and
/// compatible servers such as vLLM, Azure's content filter, Anthropic, Gemini).
fn recognise(error: &ProviderError) -> Option<ErrorClass> {
    if !(400..500).contains(&error.status) || error.status == 429 {
        return None;
    }
    let code = error.code.as_deref().unwrap_or_default();
    if matches!(code, "context_length_exceeded" | "string_above_max_length") {
        return Some(ErrorClass::ContextWindow);
    }
    if matches!(code, "content_filter" | "content_policy_violation") {
        return Some(ErrorClass::ContentPolicy);
    }
    let message = error.message.to_ascii_lowercase();
    const CONTEXT: [&str; 6] = [
        "maximum context length",
        "context length exceeded",
        "context window",
        "prompt is too long",
        "exceeds the maximum number of tokens",
        "input is too long",
    ];
    const POLICY: [&str; 4] = [
        "content management policy",
        "content filtering policy",
        "content policy",
        "due to safety",
    ];
    if CONTEXT.iter().any(|p| message.contains(p)) {
        Some(ErrorClass::ContextWindow)
    } else if POLICY.iter().any(|p| message.contains(p)) {
        Some(ErrorClass::ContentPolicy)
    } else {
        None
    }
}

/// A set of error classes, as config lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ErrorClasses(u16);

impl ErrorClasses {
    pub fn of(classes: &[ErrorClass]) -> Self {
        let mut set = Self::default();
        for c in classes {
            set.insert(*c);
        }
        set
    }

    pub fn insert(&mut self, class: ErrorClass) {
        self.0 |= 1 << class as u16;
    }

    pub fn contains(self, class: ErrorClass) -> bool {
        self.0 & (1 << class as u16) != 0
    }

    pub fn names(self) -> Vec<&'static str> {
        ErrorClass::ALL
            .into_iter()
            .filter(|c| self.contains(*c))
            .map(ErrorClass::as_str)
            .collect()
    }
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
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
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
            Self::Exhausted { last: Some(e), .. } => e.status(),
            Self::Exhausted { last: None, .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Deadline => StatusCode::GATEWAY_TIMEOUT,
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
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Unauthorized => "unauthorized",
            Self::StoreUnavailable => "store_unavailable",
            Self::Translate(TranslateError::Invalid { .. }) => "bad_request",
            Self::Translate(TranslateError::Unsupported { .. }) => "unsupported_feature",
            Self::Translate(TranslateError::Upstream { .. }) => "upstream_protocol",
            Self::Upstream(e) => e.kind(),
            Self::Exhausted { last: Some(e), .. } => e.kind(),
            Self::Exhausted { last: None, .. } => "no_available_target",
            Self::Deadline => "deadline_exceeded",
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
            Self::MethodNotAllowed { .. } => {
                error("invalid_request_error", Some("method_not_allowed"), None)
            }
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
            // The last failure's type and code (an SDK raises the same class as for
            // that failure alone), with a message that lists what was skipped.
            Self::Exhausted { last: Some(e), .. } => ProviderError {
                status,
                message: self.to_string(),
                ..GatewayError::Upstream((**e).clone()).to_provider_error()
            },
            Self::Exhausted { last: None, .. } => {
                error("server_error", Some("no_available_target"), None)
            }
            Self::Deadline => error("timeout", Some("deadline_exceeded"), None),
        }
    }

    fn retry_after(&self) -> Option<HeaderValue> {
        match self {
            Self::Upstream(UpstreamError::Status {
                retry_after: Some(after),
                ..
            }) => Some(HeaderValue::from(after.as_secs_f64().ceil() as u64)),
            Self::Exhausted { last: Some(e), .. } if e.retry_after().is_some() => e
                .retry_after()
                .map(|after| HeaderValue::from(after.as_secs_f64().ceil() as u64)),
            Self::Exhausted {
                retry_after_ms: Some(ms),
                ..
            } => Some(HeaderValue::from(ms.div_ceil(1000).max(1))),
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
        if let Self::MethodNotAllowed { allow, .. } = self {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
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
