//! Open loop (`rate`, `streams`): a pacer thread schedules request *i* at `start + i/R`
//! and spawns one task per request, whatever happened to earlier requests.
//!
//! The pacer must never wait for responses (that would be coordinated omission), and it
//! must never run on a tokio worker.

use super::recorder::Recorder;
use super::request::{Outcome, execute};
use super::target::Target;
use super::window::{finish_window, sleep_until_on_own_thread, snapshot_at};
use crate::procfs::{Watch, Window};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub struct OpenLoop {
    pub rate: f64,
    pub duration: Duration,
    pub warmup: Duration,
    pub max_in_flight: usize,
}

/// The schedule of one open-loop run.
#[derive(Clone, Copy)]
struct Schedule {
    start: Instant,
    measure_start: Instant,
    end: Instant,
    rate: f64,
    max_in_flight: usize,
}

/// Requests skipped because `max_in_flight` was reached: (measured, warm-up).
type NotSent = (u64, u64);

/// Starts the pacer thread: it sleeps until each scheduled time and spawns that request
/// onto the runtime, unless `max_in_flight` requests are already in flight.
fn spawn_pacer(
    t: Arc<Target>,
    s: Schedule,
    tx: mpsc::UnboundedSender<Outcome>,
) -> std::io::Result<std::thread::JoinHandle<NotSent>> {
    let handle = tokio::runtime::Handle::current();
    let in_flight = Arc::new(AtomicUsize::new(0));
    std::thread::Builder::new()
        .name("pacer".into())
        .spawn(move || {
            let mut not_sent = (0u64, 0u64); // (measured, warm-up)
            for i in 0u64.. {
                let scheduled = s.start + Duration::from_secs_f64(i as f64 / s.rate);
                if scheduled >= s.end {
                    break;
                }
                sleep_until_on_own_thread(scheduled);
                let measured = scheduled >= s.measure_start;
                if in_flight.load(Ordering::Relaxed) >= s.max_in_flight {
                    if measured {
                        not_sent.0 += 1;
                    } else {
                        not_sent.1 += 1;
                    }
                    continue;
                }
                in_flight.fetch_add(1, Ordering::Relaxed);
                let t = t.clone();
                let tx = tx.clone();
                let in_flight = in_flight.clone();
                handle.spawn(async move {
                    let o = execute(&t, scheduled, measured).await;
                    in_flight.fetch_sub(1, Ordering::Relaxed);
                    let _ = tx.send(o);
                });
            }
            not_sent
        })
}

/// Request *i* scheduled at `start + i/rate`, sent from its own task.
pub async fn open_loop(t: Arc<Target>, p: &OpenLoop, watch: &Watch) -> (Recorder, Option<Window>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Outcome>();
    let start = Instant::now() + Duration::from_millis(10);
    let measure_start = start + p.warmup;
    let s = Schedule {
        start,
        measure_start,
        end: measure_start + p.duration,
        rate: p.rate.max(0.001),
        max_in_flight: p.max_in_flight.max(1),
    };
    let first = snapshot_at(watch, measure_start);
    let pacer = spawn_pacer(t.clone(), s, tx);
    let expected = (p.duration.as_secs_f64() * s.rate) as usize;
    let mut rec = Recorder::with_capacity(expected.min(1 << 22));
    if pacer.is_err() {
        eprintln!("could not start the pacer thread");
    }
    while let Some(o) = rx.recv().await {
        rec.add(o);
    }
    let (not_measured, not_warm) = match pacer {
        Ok(h) => h.join().unwrap_or((0, 0)),
        Err(_) => (0, 0),
    };
    rec.errors.not_sent += not_measured;
    rec.sent += not_measured;
    rec.warmup.sent += not_warm;
    rec.warmup.errors += not_warm;
    let window = finish_window(watch, first, rec.window_requests());
    (rec, window)
}
