//! A sliding window of two counters in time buckets, lock-free: the breaker counts
//! successes and failures in it, the retry budget first tries and retries.
//!
//! Must never block or allocate: a bucket from an older round is reset by whichever
//! writer first sees it stale (a write racing that reset may be lost, which only
//! makes a rate slightly less exact).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

const BUCKETS: usize = 10;

#[derive(Debug, Default)]
struct Bucket {
    /// Which round of `width_ms` this bucket holds; 0 means never used.
    round: AtomicU64,
    a: AtomicU32,
    b: AtomicU32,
}

/// Two counts over the last `BUCKETS` buckets of `width_ms` each.
#[derive(Debug, Default)]
pub struct Window {
    buckets: [Bucket; BUCKETS],
}

/// The window's totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub a: u32,
    pub b: u32,
}

impl Window {
    /// Bucket width for a window of `span_ms`.
    pub fn width(span_ms: u64) -> u64 {
        (span_ms / BUCKETS as u64).max(1)
    }

    pub fn add(&self, now_ms: u64, width_ms: u64, a: u32, b: u32) {
        // Rounds start at 1 so that 0 marks an unused bucket.
        let round = now_ms / width_ms + 1;
        let bucket = &self.buckets[(round % BUCKETS as u64) as usize];
        let seen = bucket.round.load(Ordering::Acquire);
        if seen != round
            && bucket
                .round
                .compare_exchange(seen, round, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            bucket.a.store(0, Ordering::Release);
            bucket.b.store(0, Ordering::Release);
        }
        if a > 0 {
            bucket.a.fetch_add(a, Ordering::AcqRel);
        }
        if b > 0 {
            bucket.b.fetch_add(b, Ordering::AcqRel);
        }
    }

    pub fn totals(&self, now_ms: u64, width_ms: u64) -> Totals {
        let round = now_ms / width_ms + 1;
        let oldest = round.saturating_sub(BUCKETS as u64 - 1);
        let mut totals = Totals::default();
        for bucket in &self.buckets {
            let r = bucket.round.load(Ordering::Acquire);
            if r >= oldest && r <= round {
                totals.a = totals.a.saturating_add(bucket.a.load(Ordering::Acquire));
                totals.b = totals.b.saturating_add(bucket.b.load(Ordering::Acquire));
            }
        }
        totals
    }

    pub fn clear(&self) {
        for bucket in &self.buckets {
            bucket.round.store(0, Ordering::Release);
            bucket.a.store(0, Ordering::Release);
            bucket.b.store(0, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_slide_out_of_the_window() {
        let w = Window::default();
        let width = Window::width(1000);
        w.add(0, width, 3, 1);
        w.add(550, width, 1, 1);
        assert_eq!(w.totals(600, width), Totals { a: 4, b: 2 });
        // 1 s later the first bucket has left the window, the second not yet.
        assert_eq!(w.totals(1000, width), Totals { a: 1, b: 1 });
        assert_eq!(w.totals(1600, width), Totals::default());
        // A stale bucket is reused, not added to.
        w.add(2000, width, 1, 0);
        assert_eq!(w.totals(2000, width), Totals { a: 1, b: 0 });
    }
}
