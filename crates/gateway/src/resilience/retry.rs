//! Retrying one target: how long to wait before the next try (exponential backoff
//! with full jitter, or the provider's `Retry-After` up to a cap), and the retry budget
//! per provider that keeps retries from multiplying an outage.
//!
//! Must never sleep past the request's deadline nor past `max_retry_after`: the caller
//! moves to the next target instead.

use super::window::Window;
use crate::config::RetryConfig;
use std::time::Duration;

/// What to do before trying the same target again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Sleep this long, then retry.
    Sleep(Duration),
    /// The provider asked for longer than the cap or the deadline allows.
    MoveOn,
}

/// The wait before retry number `retry` (1 = the first retry).
pub fn wait(
    config: &RetryConfig,
    retry: u32,
    retry_after: Option<Duration>,
    time_left: Duration,
) -> Wait {
    let wait = match retry_after {
        Some(asked) if asked > config.max_retry_after => return Wait::MoveOn,
        Some(asked) => asked,
        None => jittered(config, retry),
    };
    if wait >= time_left {
        Wait::MoveOn
    } else {
        Wait::Sleep(wait)
    }
}

/// Full jitter: uniform in `[0, min(max, min * 2^(retry-1))]`.
fn jittered(config: &RetryConfig, retry: u32) -> Duration {
    let exp = retry.saturating_sub(1).min(20);
    let ceiling = config
        .backoff_min
        .saturating_mul(1 << exp)
        .min(config.backoff_max);
    ceiling.mul_f64(fastrand::f64())
}

/// First tries (a) and retries (b) of one provider over the budget window.
#[derive(Debug, Default)]
pub struct Budget {
    window: Window,
}

impl Budget {
    pub fn first_try(&self, config: &RetryConfig, now_ms: u64) {
        self.window.add(now_ms, width(config), 1, 0);
    }

    /// Takes one retry from the budget if it has room.
    pub fn try_spend(&self, config: &RetryConfig, now_ms: u64) -> bool {
        let w = width(config);
        let totals = self.window.totals(now_ms, w);
        let allowed = totals.b < config.budget_min
            || f64::from(totals.b) < config.budget_ratio * f64::from(totals.a);
        if allowed {
            self.window.add(now_ms, w, 0, 1);
        }
        allowed
    }
}

fn width(config: &RetryConfig) -> u64 {
    Window::width(u64::try_from(config.budget_window.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_the_cap_with_jitter() {
        let c = RetryConfig {
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_millis(250),
            ..RetryConfig::default()
        };
        let long = Duration::from_secs(60);
        for retry in 1..=5 {
            let ceiling = Duration::from_millis(100 * (1 << (retry - 1))).min(c.backoff_max);
            for _ in 0..50 {
                match wait(&c, retry, None, long) {
                    Wait::Sleep(d) => assert!(d <= ceiling, "{d:?} > {ceiling:?}"),
                    Wait::MoveOn => panic!("no deadline near"),
                }
            }
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap_and_the_deadline() {
        let c = RetryConfig {
            max_retry_after: Duration::from_secs(2),
            ..RetryConfig::default()
        };
        let long = Duration::from_secs(60);
        let one = Some(Duration::from_secs(1));
        assert_eq!(wait(&c, 1, one, long), Wait::Sleep(Duration::from_secs(1)));
        assert_eq!(
            wait(&c, 1, Some(Duration::from_secs(3)), long),
            Wait::MoveOn
        );
        assert_eq!(wait(&c, 1, one, Duration::from_millis(500)), Wait::MoveOn);
    }

    #[test]
    fn budget_allows_the_minimum_then_the_ratio() {
        let c = RetryConfig {
            budget_ratio: 0.2,
            budget_min: 2,
            ..RetryConfig::default()
        };
        let b = Budget::default();
        for _ in 0..20 {
            b.first_try(&c, 0);
        }
        // 20 first tries: 20 % = 4 retries (the minimum of 2 is within them).
        let spent = (0..10).filter(|_| b.try_spend(&c, 0)).count();
        assert_eq!(spent, 4);
        let idle = Budget::default();
        assert_eq!((0..10).filter(|_| idle.try_spend(&c, 0)).count(), 2);
    }
}
