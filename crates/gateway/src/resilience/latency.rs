//! Recent latency of one target: a moving average of the time to the commit point
//! (first content event, or the whole non-stream body) for `least-latency`, and a
//! small ring of recent samples for the p95 that hedging may wait for.
//!
//! Lock-free: the average is an `f64` in an atomic (a racing update may lose one
//! sample, which a moving average absorbs), the ring a fixed array of atomics.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

const RING: usize = 64;
/// Weight of the newest sample in the moving average.
const ALPHA: f64 = 0.3;

#[derive(Debug)]
pub struct Latency {
    /// Moving average in microseconds, as `f64` bits; `NO_SAMPLE` before the first.
    average_us: AtomicU64,
    /// Recent samples in milliseconds (0 = empty slot).
    ring: [AtomicU32; RING],
    next: AtomicU32,
}

const NO_SAMPLE: u64 = u64::MAX;

impl Default for Latency {
    fn default() -> Self {
        Self {
            average_us: AtomicU64::new(NO_SAMPLE),
            ring: std::array::from_fn(|_| AtomicU32::new(0)),
            next: AtomicU32::new(0),
        }
    }
}

impl Latency {
    pub fn record(&self, sample: Duration) {
        let us = sample.as_secs_f64() * 1e6;
        let old = self.average_us.load(Ordering::Relaxed);
        let new = if old == NO_SAMPLE {
            us
        } else {
            ALPHA * us + (1.0 - ALPHA) * f64::from_bits(old)
        };
        self.average_us.store(new.to_bits(), Ordering::Relaxed);
        let slot = self.next.fetch_add(1, Ordering::Relaxed) as usize % RING;
        let ms = u32::try_from(sample.as_millis()).unwrap_or(u32::MAX).max(1);
        self.ring[slot].store(ms, Ordering::Relaxed);
    }

    /// The moving average; `None` before any sample.
    pub fn average(&self) -> Option<Duration> {
        let bits = self.average_us.load(Ordering::Relaxed);
        (bits != NO_SAMPLE).then(|| Duration::from_secs_f64(f64::from_bits(bits).max(0.0) / 1e6))
    }

    /// The 95th percentile of the recent samples; `None` with fewer than 5.
    pub fn p95(&self) -> Option<Duration> {
        let mut samples: Vec<u32> = self
            .ring
            .iter()
            .map(|s| s.load(Ordering::Relaxed))
            .filter(|ms| *ms > 0)
            .collect();
        if samples.len() < 5 {
            return None;
        }
        samples.sort_unstable();
        let rank = (samples.len() * 95).div_ceil(100).saturating_sub(1);
        samples
            .get(rank)
            .map(|ms| Duration::from_millis(u64::from(*ms)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_moves_toward_recent_samples() {
        let l = Latency::default();
        assert_eq!(l.average(), None);
        l.record(Duration::from_millis(100));
        assert_eq!(l.average(), Some(Duration::from_millis(100)));
        for _ in 0..20 {
            l.record(Duration::from_millis(10));
        }
        let avg = l.average().unwrap_or_default();
        assert!(avg < Duration::from_millis(11), "{avg:?}");
    }

    #[test]
    fn p95_of_recent_samples() {
        let l = Latency::default();
        for ms in 1..=100 {
            l.record(Duration::from_millis(ms));
        }
        // The ring keeps the last 64 (37..=100); the 95th percentile of those.
        assert_eq!(l.p95(), Some(Duration::from_millis(97)));
    }
}
