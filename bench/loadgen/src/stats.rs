//! Percentiles over recorded durations. Durations are kept in nanoseconds and reported in
//! microseconds (one decimal), so sub-microsecond differences are not lost to rounding.
//! It must never drop, clamp or sample down recorded durations: every one counts.

use serde::Serialize;
use std::time::Duration;

/// A set of recorded durations.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    nanos: Vec<u64>,
}

/// Summary of a [`Samples`] set, in microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub count: usize,
    pub min: f64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Samples {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            nanos: Vec::with_capacity(n),
        }
    }

    pub fn record(&mut self, d: Duration) {
        self.nanos
            .push(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    }

    /// Moves all samples of `other` into `self`.
    pub fn append(&mut self, other: &mut Samples) {
        self.nanos.append(&mut other.nanos);
    }

    /// Summarises the samples; `None` when there are none.
    pub fn summary(&mut self) -> Option<Summary> {
        if self.nanos.is_empty() {
            return None;
        }
        self.nanos.sort_unstable();
        let n = self.nanos.len();
        let sum: u128 = self.nanos.iter().map(|&v| u128::from(v)).sum();
        let mean = sum as f64 / n as f64;
        Some(Summary {
            count: n,
            min: us(self.nanos[0] as f64),
            mean: us(mean),
            p50: us(percentile(&self.nanos, 50.0) as f64),
            p90: us(percentile(&self.nanos, 90.0) as f64),
            p99: us(percentile(&self.nanos, 99.0) as f64),
            p999: us(percentile(&self.nanos, 99.9) as f64),
            max: us(self.nanos[n - 1] as f64),
        })
    }
}

/// Nearest-rank percentile of a sorted, non-empty slice.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let n = sorted.len();
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    let idx = rank.clamp(1, n) - 1;
    sorted[idx]
}

/// Nanoseconds to microseconds, rounded to one decimal.
fn us(nanos: f64) -> f64 {
    (nanos / 100.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&v, 0.0), 1);
        assert_eq!(percentile(&[7], 99.9), 7);
    }

    #[test]
    fn summary_in_micros() {
        let mut s = Samples::default();
        for ms in 1..=10u64 {
            s.record(Duration::from_micros(ms * 1000));
        }
        let Some(sum) = s.summary() else {
            panic!("summary of non-empty samples");
        };
        assert_eq!(sum.count, 10);
        assert!((sum.p50 - 5000.0).abs() < f64::EPSILON);
        assert!((sum.max - 10000.0).abs() < f64::EPSILON);
        assert!((sum.mean - 5500.0).abs() < f64::EPSILON);
    }
}
