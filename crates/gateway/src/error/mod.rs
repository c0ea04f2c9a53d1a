//! Every way a request can fail, as data: who failed (client, gateway, upstream), whether
//! another target may be tried, and the one mapping to an HTTP status and a
//! format-neutral `ProviderError`, which the ingress format then encodes in its own error
//! shape: `GatewayError` before the commit point (an error response), `StreamFailure`
//! after it (an in-band error event). Nothing else builds error responses or events.
//!
//! - [`upstream`]: an attempt that failed before the commit point (`UpstreamError`).
//! - [`class`]: the classes the resilience policies choose by (`ErrorClass`).
//! - [`attempts`]: what a client's error says was tried and skipped.
//! - [`stream`]: a failure after the commit point (`StreamFailure`).
//!
//! Must never put an upstream key, internal address or source error text in a client
//! message: upstream detail goes to the server log only.

mod attempts;
mod class;
mod stream;
mod upstream;

pub use attempts::{Skipped, Tried};
pub use class::{ErrorClass, ErrorClasses};
pub use stream::StreamFailure;
pub use upstream::{Phase, UpstreamError, parse_retry_after};

use attempts::exhausted_message;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sluice_protocol::canonical::{ProviderError, TranslateError};
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
    #[error("{}", match .0 {
        crate::auth::Refused::Revoked => "This API key has been revoked.",
        crate::auth::Refused::Expired => "This API key has expired.",
    })]
    KeyRefused(crate::auth::Refused),
    #[error("This key may not use the model `{model}`.")]
    ModelNotAllowed { model: String },
    /// A limit refused the request before any provider was called.
    #[error("{}", limit_message(.0))]
    RateLimited(Box<crate::limits::Refusal>),
    /// Redis is unreachable and `[limits] on_backend_error = "deny"`.
    #[error("The rate limiter is unavailable; retry shortly.")]
    LimiterUnavailable,
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
    /// The guard refused the prompt or the answer (a `block` finding, or the hook's
    /// verdict). Names the category and detector, never the value.
    #[error("{}", guard_message(*direction, category, detector))]
    GuardBlocked {
        direction: crate::guard::findings::Direction,
        category: &'static str,
        detector: String,
    },
    /// The guard hook gave no verdict and `on_error = "closed"`.
    #[error("The guard's classifier is unavailable; retry shortly.")]
    GuardUnavailable,
    /// The request's deadline (`x-sluice-timeout`, `[server] request_timeout`) passed
    /// before any attempt committed.
    #[error("The request's deadline passed before any provider answered.")]
    Deadline,
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
            Self::Overloaded
            | Self::ShuttingDown
            | Self::StoreUnavailable
            | Self::LimiterUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unauthorized | Self::KeyRefused(_) => StatusCode::UNAUTHORIZED,
            Self::ModelNotAllowed { .. } => StatusCode::FORBIDDEN,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::GuardBlocked { .. } => StatusCode::BAD_REQUEST,
            Self::GuardUnavailable => StatusCode::SERVICE_UNAVAILABLE,
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
            Self::KeyRefused(crate::auth::Refused::Revoked) => "key_revoked",
            Self::KeyRefused(crate::auth::Refused::Expired) => "key_expired",
            Self::ModelNotAllowed { .. } => "model_not_allowed",
            Self::RateLimited(r) if r.limit == crate::limits::Limit::Budget => "budget_exceeded",
            Self::RateLimited(_) => "rate_limited",
            Self::LimiterUnavailable => "limiter_unavailable",
            Self::GuardBlocked { .. } => "guard_blocked",
            Self::GuardUnavailable => "guard_unavailable",
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
            Self::KeyRefused(crate::auth::Refused::Revoked) => {
                error("invalid_request_error", Some("key_revoked"), None)
            }
            Self::KeyRefused(crate::auth::Refused::Expired) => {
                error("invalid_request_error", Some("key_expired"), None)
            }
            Self::ModelNotAllowed { .. } => error(
                "invalid_request_error",
                Some("model_not_allowed"),
                Some("model".into()),
            ),
            // OpenAI's own shapes: `insufficient_quota` for money, `requests` or
            // `tokens` with `rate_limit_exceeded` for rates; SDKs raise RateLimitError.
            Self::RateLimited(r) => match r.limit {
                crate::limits::Limit::Budget => {
                    error("insufficient_quota", Some("insufficient_quota"), None)
                }
                crate::limits::Limit::Tpm => error("tokens", Some("rate_limit_exceeded"), None),
                _ => error("requests", Some("rate_limit_exceeded"), None),
            },
            Self::LimiterUnavailable => error("server_error", Some("limiter_unavailable"), None),
            Self::GuardBlocked { .. } => {
                error("invalid_request_error", Some("guard_blocked"), None)
            }
            Self::GuardUnavailable => error("server_error", Some("guard_unavailable"), None),
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
            Self::Upstream(UpstreamError::Guarded { .. }) => {
                error("invalid_request_error", Some("guard_blocked"), None)
            }
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
            }) => Some(client_retry_after(*after)),
            Self::Exhausted { last: Some(e), .. } if e.retry_after().is_some() => {
                e.retry_after().map(client_retry_after)
            }
            Self::Exhausted {
                retry_after_ms: Some(ms),
                ..
            } => Some(crate::header_number::of(ms.div_ceil(1000).max(1))),
            Self::Overloaded
            | Self::ShuttingDown
            | Self::LimiterUnavailable
            | Self::GuardUnavailable => Some(HeaderValue::from_static("1")),
            Self::RateLimited(r) => Some(crate::header_number::of(
                r.retry_after_ms.div_ceil(1000).max(1),
            )),
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
        if let Self::RateLimited(r) = self {
            let headers = response.headers_mut();
            headers.insert(
                "x-ratelimit-scope",
                HeaderValue::from_static(r.limit.as_str()),
            );
            headers.insert(
                "retry-after-ms",
                crate::header_number::of(r.retry_after_ms.max(1)),
            );
            r.headers.apply(headers);
        }
        if let Self::MethodNotAllowed { allow, .. } = self {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

/// The guard's refusal: what was refused and why, by category and detector only.
fn guard_message(
    direction: crate::guard::findings::Direction,
    category: &str,
    detector: &str,
) -> String {
    use crate::guard::findings::Direction;
    match direction {
        Direction::Input => {
            format!("Sluice's guard blocked the request: it contains {category} ({detector}).")
        }
        Direction::Output => {
            format!("Sluice's guard blocked the answer: it contained {category} ({detector}).")
        }
        Direction::Hook => {
            format!("Sluice's guard blocked the request: the classifier flagged it ({detector}).")
        }
    }
}

/// The 429's message: which limit of whose, and when to come back.
fn limit_message(r: &crate::limits::Refusal) -> String {
    let whose = match r.scope {
        crate::limits::Scope::Global => "the gateway".to_owned(),
        scope => format!("{} `{}`", scope.as_str(), r.owner),
    };
    let wait = r.retry_after_ms.div_ceil(1000).max(1);
    match r.limit {
        crate::limits::Limit::Budget => format!(
            "Budget exhausted for {whose}: {} is spent or reserved by requests in flight. Retry after {wait} s.",
            r.value
        ),
        limit => format!(
            "Rate limit reached for {whose} on {} ({}). Retry after {wait} s.",
            limit.as_str(),
            r.value
        ),
    }
}

/// The most a provider's `Retry-After` is passed on to a client as: a day. The provider
/// may name any number or date (a number too large for a duration was kept as
/// "very long" so the retry loop moves on); a client is told at most this, and at
/// least a second (a date already past is not "retry at once").
const MAX_CLIENT_RETRY_AFTER_S: u64 = 86_400;

fn client_retry_after(after: std::time::Duration) -> HeaderValue {
    let seconds = after
        .as_secs()
        .saturating_add(u64::from(after.subsec_nanos() > 0));
    crate::header_number::of(seconds.clamp(1, MAX_CLIENT_RETRY_AFTER_S))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_providers_retry_after_reaches_the_client_between_a_second_and_a_day() {
        let told = |after: Duration| client_retry_after(after).to_str().map(str::to_owned);
        assert_eq!(told(Duration::from_millis(1500)).ok().as_deref(), Some("2"));
        assert_eq!(told(Duration::ZERO).ok().as_deref(), Some("1"));
        assert_eq!(told(Duration::MAX).ok().as_deref(), Some("86400"));
    }
}
