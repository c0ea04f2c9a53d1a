//! Closed loop (`seq`, `max`): N connections, each sending its next request as soon as the
//! previous one ends.
//!
//! It must never pace requests by a schedule; that is the open loop in `rate.rs`.

use super::recorder::Recorder;
use super::request::{ErrKind, execute};
use super::target::Target;
use super::window::{finish_window, snapshot_at};
use crate::procfs::{Watch, Window};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct ClosedLoop {
    pub workers: usize,
    pub duration: Duration,
    pub warmup: Duration,
}

/// `workers` connections, each sending its next request as soon as the previous one ends.
pub async fn closed_loop(
    t: Arc<Target>,
    p: &ClosedLoop,
    watch: &Watch,
) -> (Recorder, Option<Window>) {
    let start = Instant::now();
    let measure_start = start + p.warmup;
    let end = measure_start + p.duration;
    let first = snapshot_at(watch, measure_start);
    let per_worker = (p.duration.as_secs_f64() * 20_000.0 / p.workers.max(1) as f64) as usize;
    let mut handles = Vec::with_capacity(p.workers);
    for _ in 0..p.workers.max(1) {
        let t = t.clone();
        handles.push(tokio::spawn(async move {
            let mut rec = Recorder::with_capacity(per_worker.min(1 << 20));
            loop {
                let s = Instant::now();
                if s >= end {
                    break;
                }
                let o = execute(&t, s, s >= measure_start).await;
                let refused = matches!(&o.result, Err(f) if f.kind == ErrKind::Connect);
                rec.add(o);
                if refused {
                    // Do not spin on a dead port.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            rec
        }));
    }
    let mut total = Recorder::default();
    for h in handles {
        if let Ok(rec) = h.await {
            total.merge(rec);
        }
    }
    let window = finish_window(watch, first, total.window_requests());
    (total, window)
}
