//! The resilience sections: `[retry]` and `[breaker]` (global, `retry` overridable per
//! model), and the per-model `fallback_on`, `hedge` and `resume` tables.
//!
//! Must never leave a policy that could sleep forever or retry without bound: every
//! duration is finite, every count has a ceiling, checked here at load time.

use super::ctx::Ctx;
use crate::error::{ErrorClass, ErrorClasses};
use serde::Deserialize;
use std::time::Duration;

/// Most tries of one target a config may ask for.
const MAX_ATTEMPTS: u64 = 10;

#[derive(Debug, Default, Deserialize)]
pub struct RawRetry {
    pub attempts: Option<u64>,
    pub backoff: Option<String>,
    pub on: Option<Vec<String>>,
    pub max_retry_after: Option<String>,
    pub budget_ratio: Option<f64>,
    pub budget_min: Option<u64>,
    pub budget_window: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawBreaker {
    pub enabled: Option<bool>,
    pub failure_rate: Option<f64>,
    pub min_requests: Option<u64>,
    pub window: Option<String>,
    pub cooldown: Option<String>,
    pub half_open_probes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawHedge {
    /// `"2s"` or `"p95"`.
    pub after: Option<String>,
    /// With `after = "p95"`: never hedge sooner than this.
    pub min: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawResume {
    pub enabled: Option<bool>,
    pub hops: Option<u64>,
    pub prompt: Option<String>,
}

/// How one target is retried before the plan moves on (`[retry]`).
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Tries of one target, the first included: 1 means no retry (failover still
    /// moves to the next target).
    pub attempts: u32,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Error classes retried on the same target.
    pub on: ErrorClasses,
    /// Longest `Retry-After` honoured by sleeping; a longer one moves to the next target.
    pub max_retry_after: Duration,
    /// Retries per provider may add at most this share of its recent requests...
    pub budget_ratio: f64,
    /// ...but this many retries per window are always allowed.
    pub budget_min: u32,
    pub budget_window: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            attempts: 1,
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            on: ErrorClasses::of(&[
                ErrorClass::RateLimited,
                ErrorClass::Server,
                ErrorClass::Timeout,
                ErrorClass::Connect,
            ]),
            max_retry_after: Duration::from_secs(10),
            budget_ratio: 0.2,
            budget_min: 10,
            budget_window: Duration::from_secs(10),
        }
    }
}

/// Circuit breakers, one per target (`[breaker]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    pub enabled: bool,
    /// Failure share over `window` at or above which the breaker opens...
    pub failure_rate: f64,
    /// ...once the window holds at least this many results.
    pub min_requests: u32,
    pub window: Duration,
    /// How long an open breaker refuses before letting probes through.
    pub cooldown: Duration,
    /// Probes in flight at once while half-open; this many successes close it.
    pub half_open_probes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            failure_rate: 0.5,
            min_requests: 10,
            window: Duration::from_secs(30),
            cooldown: Duration::from_secs(30),
            half_open_probes: 3,
        }
    }
}

/// When a second attempt starts while the first has not produced its first chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HedgeAfter {
    Fixed(Duration),
    /// The first target's recent p95 time to first chunk, but at least `min`.
    P95 {
        min: Duration,
    },
}

/// Continuing a stream that broke after its commit point on another target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeConfig {
    /// Most continuations of one answer.
    pub hops: u32,
    /// A user turn added before the continuation; none by default (the partial answer
    /// goes as an assistant prefill).
    pub prompt: Option<String>,
}

pub fn retry(
    cx: &mut Ctx<'_>,
    path: &str,
    raw: Option<&RawRetry>,
    base: &RetryConfig,
) -> RetryConfig {
    let Some(raw) = raw else { return base.clone() };
    let attempts = match raw.attempts {
        None => base.attempts,
        Some(n @ 1..=MAX_ATTEMPTS) => u32::try_from(n).unwrap_or(1),
        Some(_) => {
            cx.problem(
                format!("{path}.attempts"),
                format!("must be between 1 and {MAX_ATTEMPTS}"),
            );
            base.attempts
        }
    };
    let (backoff_min, backoff_max) = match &raw.backoff {
        None => (base.backoff_min, base.backoff_max),
        Some(text) => backoff(cx, &format!("{path}.backoff"), text)
            .unwrap_or((base.backoff_min, base.backoff_max)),
    };
    let on = match &raw.on {
        None => base.on,
        Some(names) => classes(cx, &format!("{path}.on"), names),
    };
    let budget_ratio = match raw.budget_ratio {
        None => base.budget_ratio,
        Some(r) if (0.0..=10.0).contains(&r) => r,
        Some(_) => {
            cx.problem(format!("{path}.budget_ratio"), "must be between 0 and 10");
            base.budget_ratio
        }
    };
    RetryConfig {
        attempts,
        backoff_min,
        backoff_max,
        on,
        max_retry_after: cx.duration(
            &format!("{path}.max_retry_after"),
            raw.max_retry_after.as_ref(),
            base.max_retry_after,
        ),
        budget_ratio,
        budget_min: raw
            .budget_min
            .map_or(base.budget_min, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        budget_window: cx.duration(
            &format!("{path}.budget_window"),
            raw.budget_window.as_ref(),
            base.budget_window,
        ),
    }
}

/// `"100ms..5s"`: the first retry waits up to the lower bound, each later one twice
/// as long, never more than the upper.
fn backoff(cx: &mut Ctx<'_>, path: &str, text: &str) -> Option<(Duration, Duration)> {
    let text = cx.string(path, text)?;
    let parsed = text.split_once("..").and_then(|(lo, hi)| {
        let lo = humantime::parse_duration(lo.trim()).ok()?;
        let hi = humantime::parse_duration(hi.trim()).ok()?;
        Some((lo, hi))
    });
    match parsed {
        Some((lo, hi)) if lo <= hi && hi <= Duration::from_secs(300) => Some((lo, hi)),
        _ => {
            cx.problem(
                path,
                format!("invalid backoff {text:?} (want \"MIN..MAX\", e.g. \"100ms..5s\", MAX at most 5m)"),
            );
            None
        }
    }
}

pub fn classes(cx: &mut Ctx<'_>, path: &str, names: &[String]) -> ErrorClasses {
    let mut set = ErrorClasses::default();
    for (i, name) in names.iter().enumerate() {
        match ErrorClass::parse(name) {
            Some(class) => set.insert(class),
            None => cx.problem(
                format!("{path}[{i}]"),
                format!(
                    "unknown error class {name:?} (one of {})",
                    ErrorClass::ALL.map(ErrorClass::as_str).join(", ")
                ),
            ),
        }
    }
    set
}

pub fn breaker(cx: &mut Ctx<'_>, raw: Option<&RawBreaker>) -> BreakerConfig {
    let defaults = BreakerConfig::default();
    let Some(raw) = raw else { return defaults };
    let failure_rate = match raw.failure_rate {
        None => defaults.failure_rate,
        Some(r) if r > 0.0 && r <= 1.0 => r,
        Some(_) => {
            cx.problem("breaker.failure_rate", "must be above 0 and at most 1");
            defaults.failure_rate
        }
    };
    let count = |n: Option<u64>, d: u32| n.map_or(d, |n| u32::try_from(n).unwrap_or(u32::MAX));
    let min_requests = count(raw.min_requests, defaults.min_requests);
    let half_open_probes = count(raw.half_open_probes, defaults.half_open_probes);
    if min_requests == 0 {
        cx.problem("breaker.min_requests", "must be at least 1");
    }
    if half_open_probes == 0 {
        cx.problem("breaker.half_open_probes", "must be at least 1");
    }
    BreakerConfig {
        enabled: raw.enabled.unwrap_or(defaults.enabled),
        failure_rate,
        min_requests: min_requests.max(1),
        window: cx.duration("breaker.window", raw.window.as_ref(), defaults.window),
        cooldown: cx.duration("breaker.cooldown", raw.cooldown.as_ref(), defaults.cooldown),
        half_open_probes: half_open_probes.max(1),
    }
}

pub fn hedge(cx: &mut Ctx<'_>, path: &str, raw: Option<&RawHedge>) -> Option<HedgeAfter> {
    let raw = raw?;
    let min = cx.duration(
        &format!("{path}.min"),
        raw.min.as_ref(),
        Duration::from_millis(200),
    );
    match raw.after.as_deref() {
        None => {
            cx.problem(
                format!("{path}.after"),
                "required (a duration such as \"2s\", or \"p95\")",
            );
            None
        }
        Some("p95") => Some(HedgeAfter::P95 { min }),
        Some(text) => {
            let after = cx.duration(&format!("{path}.after"), Some(&text.to_owned()), min);
            Some(HedgeAfter::Fixed(after))
        }
    }
}

pub fn resume(cx: &mut Ctx<'_>, path: &str, raw: Option<&RawResume>) -> Option<ResumeConfig> {
    let raw = raw?;
    if raw.enabled == Some(false) {
        return None;
    }
    let hops = match raw.hops {
        None => 2,
        Some(n @ 1..=5) => u32::try_from(n).unwrap_or(1),
        Some(_) => {
            cx.problem(format!("{path}.hops"), "must be between 1 and 5");
            2
        }
    };
    let prompt = raw
        .prompt
        .as_ref()
        .and_then(|p| cx.string(&format!("{path}.prompt"), p));
    Some(ResumeConfig { hops, prompt })
}
