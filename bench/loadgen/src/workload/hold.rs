//! `hold`: many concurrent streams opened, kept open for a while, then drained; the
//! gateway's RSS is sampled meanwhile.
//!
//! It must never print anything on stdout but the `ALL_OPEN` / `NOT_ALL_OPEN` line, which
//! `bench/run.sh` waits for.

use super::recorder::Recorder;
use super::request::{ErrKind, Failure, Outcome, Progress, send};
use super::streams::read_stream;
use super::target::Target;
use crate::procfs::Watch;
use serde::Serialize;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

/// Extra figures of a `hold` run.
#[derive(Debug, Clone, Serialize)]
pub struct HoldInfo {
    pub streams_requested: usize,
    pub opened: usize,
    pub failed_before_open: usize,
    pub all_open: bool,
    pub time_to_all_open_ms: f64,
    pub still_open_at_hold_end: usize,
    pub hold_s: f64,
    /// Gateway RSS (sum over `--gateway-pid`) when all streams were open.
    pub gateway_rss_at_all_open_kb: Option<u64>,
    /// Highest gateway RSS sampled during the hold.
    pub gateway_rss_max_during_hold_kb: Option<u64>,
}

pub struct HoldParams {
    pub streams: usize,
    pub hold: Duration,
    pub ramp_concurrency: usize,
    pub ramp_timeout: Duration,
    /// Expected length of one stream (chunks × delay), added to the deadline.
    pub stream_len: Duration,
}

#[derive(Default)]
struct OpenCounters {
    opened: AtomicUsize,
    failed_before_open: AtomicUsize,
    finished: AtomicUsize,
}

/// What the ramp ended with.
struct RampEnd {
    opened: usize,
    failed_early: usize,
    time_to_open: Duration,
    rss_open: Option<u64>,
    all_open: bool,
}

async fn hold_one(
    t: &Target,
    counters: &OpenCounters,
    permit: OwnedSemaphorePermit,
    deadline: Instant,
) -> Outcome {
    let scheduled = Instant::now();
    let mut prog = Progress::default();
    let mut permit = Some(permit);
    let mut opened = false;
    let fut = async {
        let resp = send(t).await?;
        opened = true;
        counters.opened.fetch_add(1, Ordering::Relaxed);
        drop(permit.take());
        read_stream(resp, &mut prog).await
    };
    let result = match tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), fut).await
    {
        Ok(r) => r,
        Err(_) => Err(Failure::new(
            ErrKind::Timeout,
            "stream not finished by the hold deadline".into(),
        )),
    };
    if !opened {
        counters.failed_before_open.fetch_add(1, Ordering::Relaxed);
    }
    counters.finished.fetch_add(1, Ordering::Relaxed);
    drop(permit);
    Outcome {
        measured: true,
        result,
        latency: scheduled.elapsed(),
        ttft: prog.first_event.map(|f| f.duration_since(scheduled)),
        send_lag: Duration::ZERO,
        events: prog.events,
    }
}

/// Spawns the ramp task: it starts `n` streams, at most `ramp_concurrency` still waiting
/// for their headers, and none after `ramp_deadline`. It owns the last sender of `tx`.
fn spawn_ramp(
    t: Arc<Target>,
    p: &HoldParams,
    counters: Arc<OpenCounters>,
    launched: Arc<AtomicU64>,
    tx: mpsc::UnboundedSender<Outcome>,
    ramp_deadline: Instant,
    deadline: Instant,
) {
    let sem = Arc::new(Semaphore::new(p.ramp_concurrency.max(1)));
    let n = p.streams;
    tokio::spawn(async move {
        for _ in 0..n {
            let Ok(permit) = sem.clone().acquire_owned().await else {
                break;
            };
            if Instant::now() >= ramp_deadline {
                break;
            }
            launched.fetch_add(1, Ordering::Relaxed);
            let t = t.clone();
            let counters = counters.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let o = hold_one(&t, &counters, permit, deadline).await;
                let _ = tx.send(o);
            });
        }
    });
}

/// Waits until every stream is open or failed, or the ramp deadline.
async fn wait_ramp(
    counters: &OpenCounters,
    p: &HoldParams,
    start: Instant,
    ramp_deadline: Instant,
    watch: &Watch,
) -> RampEnd {
    loop {
        let settled = counters.opened.load(Ordering::Relaxed)
            + counters.failed_before_open.load(Ordering::Relaxed);
        if settled >= p.streams || Instant::now() >= ramp_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let opened = counters.opened.load(Ordering::Relaxed);
    RampEnd {
        opened,
        failed_early: counters.failed_before_open.load(Ordering::Relaxed),
        time_to_open: start.elapsed(),
        rss_open: crate::procfs::sum_status_kb(&watch.gateway, "VmRSS:"),
        all_open: opened >= p.streams,
    }
}

/// Prints `ALL_OPEN` (or `NOT_ALL_OPEN ...`) on stdout and a human line on stderr.
fn announce(r: &RampEnd, streams: usize) {
    let (opened, failed_early) = (r.opened, r.failed_early);
    {
        let mut out = std::io::stdout().lock();
        let _ = if r.all_open {
            writeln!(out, "ALL_OPEN")
        } else {
            writeln!(
                out,
                "NOT_ALL_OPEN opened={opened} failed={failed_early} of {streams}"
            )
        };
        let _ = out.flush();
    }
    eprintln!(
        "hold: {opened} of {streams} streams open after {:.0} ms (failed before open: {failed_early}); gateway RSS {} kB",
        r.time_to_open.as_secs_f64() * 1000.0,
        r.rss_open.map_or_else(|| "-".into(), |v| v.to_string())
    );
}

/// Sleeps for `hold`, sampling the gateway's RSS; returns the highest value seen.
async fn hold_sampling_rss(hold: Duration, rss_open: Option<u64>, watch: &Watch) -> Option<u64> {
    let hold_end = Instant::now() + hold;
    let mut rss_max = rss_open;
    while Instant::now() < hold_end {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Some(v) = crate::procfs::sum_status_kb(&watch.gateway, "VmRSS:") {
            rss_max = Some(rss_max.map_or(v, |m| m.max(v)));
        }
    }
    rss_max
}

/// Opens `streams` concurrent streams (at most `ramp_concurrency` still connecting at a
/// time), prints `ALL_OPEN` on stdout once every one has its response headers, keeps them
/// open for `hold`, then waits for them to finish.
pub async fn hold(t: Arc<Target>, p: &HoldParams, watch: &Watch) -> (Recorder, HoldInfo, Duration) {
    let start = Instant::now();
    let ramp_deadline = start + p.ramp_timeout;
    let deadline = ramp_deadline + p.hold + p.stream_len + t.timeout;
    let counters = Arc::new(OpenCounters::default());
    let (tx, mut rx) = mpsc::unbounded_channel::<Outcome>();
    let launched = Arc::new(AtomicU64::new(0));
    spawn_ramp(
        t.clone(),
        p,
        counters.clone(),
        launched.clone(),
        tx,
        ramp_deadline,
        deadline,
    );
    let ramp = wait_ramp(&counters, p, start, ramp_deadline, watch).await;
    announce(&ramp, p.streams);
    let rss_max = hold_sampling_rss(p.hold, ramp.rss_open, watch).await;
    let finished = counters.finished.load(Ordering::Relaxed);
    let still_open = ramp
        .opened
        .saturating_sub(finished.saturating_sub(ramp.failed_early));

    // The ramp task owns the last sender: the channel closes when every stream is done.
    let mut rec = Recorder::with_capacity(p.streams);
    while let Some(o) = rx.recv().await {
        rec.add(o);
    }
    let never_launched = p.streams as u64 - launched.load(Ordering::Relaxed).min(p.streams as u64);
    rec.errors.not_sent += never_launched;
    rec.sent += never_launched;
    let info = HoldInfo {
        streams_requested: p.streams,
        opened: ramp.opened,
        failed_before_open: ramp.failed_early,
        all_open: ramp.all_open,
        time_to_all_open_ms: (ramp.time_to_open.as_secs_f64() * 10_000.0).round() / 10.0,
        still_open_at_hold_end: still_open,
        hold_s: p.hold.as_secs_f64(),
        gateway_rss_at_all_open_kb: ramp.rss_open,
        gateway_rss_max_during_hold_kb: rss_max,
    };
    (rec, info, start.elapsed())
}
