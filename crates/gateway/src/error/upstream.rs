//! An upstream attempt that failed before Sluice committed to its response: who
//! failed, in which phase, with what the provider said (scrubbed), and the status a
//! client sees for it.
//!
//! Must never carry upstream text that was not scrubbed of key-like tokens.

use super::ErrorClass;
use axum::http::StatusCode;
use sluice_protocol::canonical::{ProviderError, status_for_kind};

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
    /// The output guard blocked the stream's first content: nothing reached the
    /// client, which gets the refusal as an error response. No other target is tried.
    #[error("Sluice's guard blocked the answer: it contained {}.", category.as_str())]
    Guarded {
        provider: String,
        category: sluice_guard::Category,
    },
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
            Self::Guarded { .. } => "guard_blocked",
        }
    }

    /// The status the provider answered with, 0 when it never answered.
    pub fn upstream_status(&self) -> u16 {
        match self {
            Self::Status { status, .. } => *status,
            Self::InBand { .. }
            | Self::NoContent { .. }
            | Self::Guarded { .. }
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
            // The answer's problem on any target, and no fault of the provider's.
            Self::Guarded { .. } => ErrorClass::Client,
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
            | Self::NoContent { provider }
            | Self::Guarded { provider, .. } => provider,
        }
    }

    /// The provider's `Retry-After` / `retry-after-ms`, when it sent one Sluice can read.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub(super) fn status(&self) -> StatusCode {
        match self {
            Self::Connect { .. }
            | Self::Protocol { .. }
            | Self::TooLarge { .. }
            | Self::NoContent { .. } => StatusCode::BAD_GATEWAY,
            Self::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            Self::InBand { error, .. } => client_status(error.status),
            Self::Status { status, .. } => client_status(*status),
            Self::Guarded { .. } => StatusCode::BAD_REQUEST,
        }
    }
}

/// A provider's retry hint: OpenAI's `retry-after-ms` (wins when both are sent), else
/// `Retry-After` in seconds or as an HTTP date (RFC 9110; a date in the past is now).
/// A number too large for a `Duration` is kept as the longest wait, not dropped: read
/// as "no hint", it was retried after the usual backoff, about 100 ms. The retry loop
/// caps what it sleeps (`max_retry_after`) and moves on past the cap, so neither a huge
/// value nor a skewed clock can hold a request.
pub fn parse_retry_after(headers: &axum::http::HeaderMap) -> Option<std::time::Duration> {
    const LONGEST: f64 = u32::MAX as f64;
    let text = |name: &str| headers.get(name)?.to_str().ok().map(str::trim);
    let seconds = |text: &str, per_second: f64| {
        text.parse::<f64>()
            .ok()
            .filter(|n| !n.is_nan() && *n >= 0.0)
            .map(|n| std::time::Duration::from_secs_f64((n / per_second).min(LONGEST)))
    };
    if let Some(wait) = text("retry-after-ms").and_then(|t| seconds(t, 1000.0)) {
        return Some(wait);
    }
    let text = text("retry-after")?;
    seconds(text, 1.0).or_else(|| {
        let at = httpdate::parse_http_date(text).ok()?;
        Some(
            at.duration_since(std::time::SystemTime::now())
                .unwrap_or_default(),
        )
    })
}

/// The status a client sees for an upstream error status.
pub(super) fn client_status(status: u16) -> StatusCode {
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

#[cfg(test)]
mod tests {
    use super::parse_retry_after;
    use axum::http::HeaderMap;
    use std::time::{Duration, SystemTime};

    fn hint(pairs: &[(&'static str, &str)]) -> Option<Duration> {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, value.parse().expect("header value"));
        }
        parse_retry_after(&headers)
    }

    #[test]
    fn retry_after_reads_seconds_milliseconds_and_http_dates() {
        assert_eq!(hint(&[("retry-after", "2")]), Some(Duration::from_secs(2)));
        assert_eq!(
            hint(&[("retry-after", "2"), ("retry-after-ms", "150")]),
            Some(Duration::from_millis(150))
        );
        let later = SystemTime::now() + Duration::from_secs(30);
        let date = httpdate::fmt_http_date(later);
        let wait = hint(&[("retry-after", &date)]).expect("a date is a hint");
        assert!(
            wait > Duration::from_secs(28) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert_eq!(
            hint(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]),
            Some(Duration::ZERO)
        );
        // Too large for the retry loop's cap is the longest wait, so it moves on.
        let huge = hint(&[("retry-after", "99999999999")]).expect("kept");
        assert!(huge >= Duration::from_secs(u64::from(u32::MAX)), "{huge:?}");
        assert_eq!(hint(&[("retry-after", "-1")]), None);
        assert_eq!(hint(&[("retry-after", "soon")]), None);
        assert_eq!(hint(&[]), None);
    }
}
