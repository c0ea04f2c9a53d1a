//! The request's total deadline: how long the attempt loop (every retry, failover and
//! fallback up to the commit point) may take. `[server] request_timeout` bounds it;
//! the client lowers it with `x-sluice-timeout` (`20s`, `1500ms`) or the timeout the
//! OpenAI and Anthropic SDKs announce in `x-stainless-timeout` (seconds).
//!
//! Must never let a client raise the deadline above the configured one.

use axum::http::{HeaderMap, HeaderName};
use std::time::Duration;

static SLUICE_TIMEOUT: HeaderName = HeaderName::from_static("x-sluice-timeout");
static SDK_TIMEOUT: HeaderName = HeaderName::from_static("x-stainless-timeout");

/// The deadline the client asked for, if it asked for one Sluice can read.
pub fn requested(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    text(&SLUICE_TIMEOUT)
        .and_then(|t| humantime::parse_duration(t).ok().or_else(|| seconds(t)))
        .filter(|d| !d.is_zero())
        .or_else(|| text(&SDK_TIMEOUT).and_then(seconds))
}

fn seconds(text: &str) -> Option<Duration> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e7)
        .map(Duration::from_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_sluice_and_sdk_timeouts() {
        let mut h = HeaderMap::new();
        assert_eq!(requested(&h), None);
        h.insert("x-stainless-timeout", HeaderValue::from_static("600"));
        assert_eq!(requested(&h), Some(Duration::from_secs(600)));
        h.insert("x-sluice-timeout", HeaderValue::from_static("1500ms"));
        assert_eq!(requested(&h), Some(Duration::from_millis(1500)));
        h.insert("x-sluice-timeout", HeaderValue::from_static("2.5"));
        assert_eq!(requested(&h), Some(Duration::from_millis(2500)));
        h.insert("x-sluice-timeout", HeaderValue::from_static("0s"));
        assert_eq!(
            requested(&h),
            Some(Duration::from_secs(600)),
            "zero is ignored"
        );
    }
}
