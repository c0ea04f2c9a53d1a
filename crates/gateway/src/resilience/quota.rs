//! Quota-aware routing: a target's remaining capacity as its provider reports it in
//! rate-limit headers (OpenAI's `x-ratelimit-remaining-*` / `x-ratelimit-reset-*`,
//! Anthropic's `anthropic-ratelimit-*-remaining` / `-reset`), or as a 429 implies.
//! A target whose requests or tokens are used up is routed to last until its window
//! resets, so Sluice moves away before the provider answers 429.
//!
//! Must never trust a reset far in the future: waits are capped, so a bad header
//! cannot take a target out of rotation for long.

use axum::http::HeaderMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Longest a reported reset keeps a target at the back of the plan.
const MAX_EXHAUSTION: Duration = Duration::from_secs(60);
/// Used up, with no reset time given.
const UNKNOWN_RESET: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub struct Quota {
    /// Until when (process clock, ms) the target is used up; 0 = has capacity.
    exhausted_until_ms: AtomicU64,
}

impl Quota {
    /// Whether the target's provider said it has no capacity left now.
    pub fn is_exhausted(&self, now_ms: u64) -> bool {
        self.exhausted_until_ms.load(Ordering::Relaxed) > now_ms
    }

    /// Reads the rate-limit headers of any response (success or error), in one pass
    /// over the headers (this runs on every answer).
    pub fn observe(&self, headers: &HeaderMap, now_ms: u64) {
        let mut exhausted: Option<Duration> = None;
        let mut reported = false;
        for (name, value) in headers {
            let Some(reset) = reset_header(name.as_str()) else {
                continue;
            };
            let Some(left) = value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
            else {
                continue;
            };
            reported = true;
            if left == 0 {
                let wait = headers
                    .get(reset)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_reset)
                    .unwrap_or(UNKNOWN_RESET);
                exhausted = Some(exhausted.map_or(wait, |w| w.max(wait)));
            }
        }
        match exhausted {
            Some(wait) => self.exhaust_for(wait, now_ms),
            None if reported => self.exhausted_until_ms.store(0, Ordering::Relaxed),
            None => {}
        }
    }

    /// A 429: used up for `retry_after` (or a second when the provider gave none).
    pub fn rate_limited(&self, retry_after: Option<Duration>, now_ms: u64) {
        self.exhaust_for(retry_after.unwrap_or(UNKNOWN_RESET), now_ms);
    }

    fn exhaust_for(&self, wait: Duration, now_ms: u64) {
        let wait = u64::try_from(wait.min(MAX_EXHAUSTION).as_millis()).unwrap_or(0);
        self.exhausted_until_ms
            .fetch_max(now_ms.saturating_add(wait.max(1)), Ordering::Relaxed);
    }
}

/// For a "remaining" rate-limit header, the name of its reset header (OpenAI's
/// `x-ratelimit-*`, Anthropic's `anthropic-ratelimit-*`).
fn reset_header(name: &str) -> Option<&'static str> {
    Some(match name {
        "x-ratelimit-remaining-requests" => "x-ratelimit-reset-requests",
        "x-ratelimit-remaining-tokens" => "x-ratelimit-reset-tokens",
        "anthropic-ratelimit-requests-remaining" => "anthropic-ratelimit-requests-reset",
        "anthropic-ratelimit-tokens-remaining" => "anthropic-ratelimit-tokens-reset",
        "anthropic-ratelimit-input-tokens-remaining" => "anthropic-ratelimit-input-tokens-reset",
        "anthropic-ratelimit-output-tokens-remaining" => "anthropic-ratelimit-output-tokens-reset",
        _ => return None,
    })
}

/// A reset as providers send it: a Go-style duration (`1s`, `6m0s`, `20ms`, `1.5s`,
/// OpenAI), an RFC 3339 time (Anthropic), or plain seconds.
fn parse_reset(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(3600.0)));
    }
    if let Some(d) = go_duration(text) {
        return Some(d);
    }
    let at = humantime::parse_rfc3339_weak(text).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

fn go_duration(text: &str) -> Option<Duration> {
    let mut total = 0.0f64;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|i| *i > 0)?;
        let (number, tail) = rest.split_at(split);
        let value: f64 = number.parse().ok()?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let scale = match unit {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += value * scale;
        rest = next;
    }
    (total.is_finite() && total < 1e7).then(|| Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn parses_the_reset_formats_providers_send() {
        assert_eq!(go_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(go_duration("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(parse_reset("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_reset("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_reset("soon"), None);
        let later = SystemTime::now() + Duration::from_secs(30);
        let stamp = humantime::format_rfc3339_seconds(later).to_string();
        let wait = parse_reset(&stamp).unwrap_or_default();
        assert!(
            wait > Duration::from_secs(28) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
    }

    #[test]
    fn zero_remaining_exhausts_until_the_reset_and_capacity_clears_it() {
        let q = Quota::default();
        let mut h = HeaderMap::new();
        h.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from_static("0"),
        );
        h.insert(
            "x-ratelimit-reset-requests",
            HeaderValue::from_static("500ms"),
        );
        q.observe(&h, 1000);
        assert!(q.is_exhausted(1499));
        assert!(!q.is_exhausted(1500));
        q.observe(&h, 2000);
        let mut ok = HeaderMap::new();
        ok.insert(
            "anthropic-ratelimit-requests-remaining",
            HeaderValue::from_static("41"),
        );
        q.observe(&ok, 2100);
        assert!(!q.is_exhausted(2100));
    }

    #[test]
    fn a_429_exhausts_for_its_retry_after_capped() {
        let q = Quota::default();
        q.rate_limited(Some(Duration::from_secs(3600)), 0);
        assert!(q.is_exhausted(59_999));
        assert!(!q.is_exhausted(60_001));
    }
}
