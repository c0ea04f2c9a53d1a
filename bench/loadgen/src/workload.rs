//! The workloads: closed loop (`seq`, `max`), open loop (`rate`, `streams`) and `hold`.
//!
//! Open loop: request *i* is scheduled at `start + i/R` by a pacer thread that sleeps with
//! the OS timer (finer than tokio's 1 ms wheel) and spawns one task per request onto the
//! runtime, whatever happened to earlier requests. Latency is measured from the scheduled
//! time, so a gateway that falls behind shows up as latency (no coordinated omission).

use crate::procfs::{Snapshot, Watch, Window};
use crate::sse::SseReader;
use crate::stats::{Samples, Summary};
use bytes::Bytes;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

/// What every request of a run is sent to, and with which body.
pub struct Target {
    pub client: reqwest::Client,
    pub url: reqwest::Url,
    pub body: Bytes,
    pub stream: bool,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrKind {
    /// Non-2xx response.
    Status,
    /// Could not connect.
    Connect,
    /// No complete response before the deadline.
    Timeout,
    /// The body broke off, or a stream ended without its terminating event.
    Incomplete,
    /// A non-streaming 2xx body that is not JSON.
    BadBody,
    Other,
}

#[derive(Debug)]
pub struct Failure {
    kind: ErrKind,
    message: String,
    status: Option<u16>,
}

impl Failure {
    fn new(kind: ErrKind, message: String) -> Self {
        Self {
            kind,
            message,
            status: None,
        }
    }
}

/// Progress of one request, kept outside its future so a timeout does not lose it.
#[derive(Debug, Default)]
struct Progress {
    first_event: Option<Instant>,
    events: u64,
}

/// The result of one request.
#[derive(Debug)]
pub struct Outcome {
    measured: bool,
    result: Result<(), Failure>,
    /// Scheduled send time to end of body.
    latency: Duration,
    /// Scheduled send time to first complete SSE event.
    ttft: Option<Duration>,
    /// How late the request actually started compared with its schedule.
    send_lag: Duration,
    events: u64,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Errors {
    pub status: u64,
    pub connect: u64,
    pub timeout: u64,
    pub incomplete: u64,
    pub bad_body: u64,
    pub other: u64,
    /// Open loop only: requests skipped because `--max-in-flight` was reached.
    pub not_sent: u64,
}

impl Errors {
    pub fn total(&self) -> u64 {
        self.status
            + self.connect
            + self.timeout
            + self.incomplete
            + self.bad_body
            + self.other
            + self.not_sent
    }

    fn add(&mut self, kind: ErrKind) {
        match kind {
            ErrKind::Status => self.status += 1,
            ErrKind::Connect => self.connect += 1,
            ErrKind::Timeout => self.timeout += 1,
            ErrKind::Incomplete => self.incomplete += 1,
            ErrKind::BadBody => self.bad_body += 1,
            ErrKind::Other => self.other += 1,
        }
    }

    fn merge(&mut self, o: &Errors) {
        self.status += o.status;
        self.connect += o.connect;
        self.timeout += o.timeout;
        self.incomplete += o.incomplete;
        self.bad_body += o.bad_body;
        self.other += o.other;
        self.not_sent += o.not_sent;
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct WarmupCounts {
    pub sent: u64,
    pub ok: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventsRange {
    pub min: u64,
    pub max: u64,
}

const MAX_ERROR_SAMPLES: usize = 5;

/// Accumulates outcomes of the measured part of a run.
#[derive(Debug, Default)]
pub struct Recorder {
    sent: u64,
    ok: u64,
    errors: Errors,
    status_codes: BTreeMap<String, u64>,
    latency: Samples,
    ttft: Samples,
    send_lag: Samples,
    events: Option<EventsRange>,
    warmup: WarmupCounts,
    error_samples: Vec<String>,
}

impl Recorder {
    fn with_capacity(n: usize) -> Self {
        Self {
            latency: Samples::with_capacity(n),
            ..Self::default()
        }
    }

    fn add(&mut self, o: Outcome) {
        if !o.measured {
            self.warmup.sent += 1;
            match o.result {
                Ok(()) => self.warmup.ok += 1,
                Err(_) => self.warmup.errors += 1,
            }
            return;
        }
        self.sent += 1;
        self.send_lag.record(o.send_lag);
        if o.events > 0 || o.ttft.is_some() {
            self.note_events(o.events);
        }
        match o.result {
            Ok(()) => {
                self.ok += 1;
                self.latency.record(o.latency);
                if let Some(t) = o.ttft {
                    self.ttft.record(t);
                }
            }
            Err(f) => {
                self.errors.add(f.kind);
                if let Some(code) = f.status {
                    *self.status_codes.entry(code.to_string()).or_insert(0) += 1;
                }
                if self.error_samples.len() < MAX_ERROR_SAMPLES
                    && !self.error_samples.contains(&f.message)
                {
                    self.error_samples.push(f.message);
                }
            }
        }
    }

    fn note_events(&mut self, n: u64) {
        match &mut self.events {
            Some(r) => {
                r.min = r.min.min(n);
                r.max = r.max.max(n);
            }
            None => self.events = Some(EventsRange { min: n, max: n }),
        }
    }

    fn merge(&mut self, mut o: Recorder) {
        self.sent += o.sent;
        self.ok += o.ok;
        self.errors.merge(&o.errors);
        for (k, v) in o.status_codes {
            *self.status_codes.entry(k).or_insert(0) += v;
        }
        self.latency.append(&mut o.latency);
        self.ttft.append(&mut o.ttft);
        self.send_lag.append(&mut o.send_lag);
        if let Some(r) = o.events {
            self.note_events(r.min);
            self.note_events(r.max);
        }
        self.warmup.sent += o.warmup.sent;
        self.warmup.ok += o.warmup.ok;
        self.warmup.errors += o.warmup.errors;
        for m in o.error_samples {
            if self.error_samples.len() < MAX_ERROR_SAMPLES && !self.error_samples.contains(&m) {
                self.error_samples.push(m);
            }
        }
    }

    /// Requests of the measured window, for CPU per request.
    fn window_requests(&self) -> u64 {
        self.sent
    }
}

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

/// The JSON object printed at the end of a run.
#[derive(Debug, Serialize)]
pub struct Report {
    pub mode: &'static str,
    pub label: Option<String>,
    pub url: String,
    pub params: serde_json::Value,
    /// Length of the measured window, in seconds.
    pub duration_s: f64,
    pub sent: u64,
    pub ok: u64,
    pub errors: Errors,
    pub error_total: u64,
    /// Counts of non-2xx status codes.
    pub status_codes: BTreeMap<String, u64>,
    /// A few distinct error messages.
    pub error_samples: Vec<String>,
    /// Latency of successful requests, µs, from the scheduled send time.
    pub latency_us: Option<Summary>,
    /// Time to first SSE event of successful streams, µs.
    pub ttft_us: Option<Summary>,
    /// How late requests started compared with their schedule, µs (generator health).
    pub send_lag_us: Option<Summary>,
    pub events_per_stream: Option<EventsRange>,
    /// Successful requests per second over the measured window.
    pub achieved_rps: f64,
    pub warmup: WarmupCounts,
    pub proc: Option<Window>,
    pub hold: Option<HoldInfo>,
}

impl Report {
    pub fn new(
        mode: &'static str,
        label: Option<String>,
        url: &str,
        params: serde_json::Value,
        window: Duration,
        mut rec: Recorder,
        proc: Option<Window>,
    ) -> Self {
        let secs = window.as_secs_f64();
        let achieved = if secs > 0.0 {
            (rec.ok as f64 / secs * 10.0).round() / 10.0
        } else {
            0.0
        };
        Self {
            mode,
            label,
            url: url.to_owned(),
            params,
            duration_s: (secs * 1000.0).round() / 1000.0,
            sent: rec.sent,
            ok: rec.ok,
            error_total: rec.errors.total(),
            errors: rec.errors.clone(),
            status_codes: std::mem::take(&mut rec.status_codes),
            error_samples: std::mem::take(&mut rec.error_samples),
            latency_us: rec.latency.summary(),
            ttft_us: rec.ttft.summary(),
            send_lag_us: rec.send_lag.summary(),
            events_per_stream: rec.events.clone(),
            achieved_rps: achieved,
            warmup: rec.warmup.clone(),
            proc,
            hold: None,
        }
    }

    /// A one-line human summary (for stderr).
    pub fn one_line(&self) -> String {
        let ms =
            |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{:.3}", v / 1000.0));
        let mut s = format!(
            "{}{}: sent {} ok {} errors {} | p50 {} p99 {} max {} ms | {} ok/s",
            self.label
                .as_deref()
                .map_or(String::new(), |l| format!("[{l}] ")),
            self.mode,
            self.sent,
            self.ok,
            self.error_total,
            ms(self.latency_us.as_ref().map(|l| l.p50)),
            ms(self.latency_us.as_ref().map(|l| l.p99)),
            ms(self.latency_us.as_ref().map(|l| l.max)),
            self.achieved_rps,
        );
        if let Some(t) = &self.ttft_us {
            s += &format!(" | ttft p50 {} p99 {} ms", ms(Some(t.p50)), ms(Some(t.p99)));
        }
        if let Some(p) = &self.proc {
            if let Some(c) = p.gateway_cpu_us_per_req {
                s += &format!(" | gw {c} µs/req");
            }
            s += &format!(" | noise {}%", p.noise_pct);
        }
        if self.error_total > 0 {
            s += &format!(" | {:?}", self.errors);
            if let Some(m) = self.error_samples.first() {
                s += &format!(" first: {m}");
            }
        }
        s
    }
}

// ---------------------------------------------------------------------------------------
// One request

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn classify(e: &reqwest::Error, in_body: bool) -> Failure {
    let kind = if e.is_timeout() {
        ErrKind::Timeout
    } else if e.is_connect() {
        ErrKind::Connect
    } else if in_body || e.is_body() || e.is_decode() {
        ErrKind::Incomplete
    } else {
        ErrKind::Other
    };
    Failure::new(kind, error_chain(e))
}

async fn send(t: &Target) -> Result<reqwest::Response, Failure> {
    let resp = t
        .client
        .post(t.url.clone())
        .body(t.body.clone())
        .send()
        .await
        .map_err(|e| classify(&e, false))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let body = resp.bytes().await.unwrap_or_default();
    let snippet = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    Err(Failure {
        kind: ErrKind::Status,
        message: format!("HTTP {}: {snippet}", status.as_u16()),
        status: Some(status.as_u16()),
    })
}

async fn read_plain(resp: reqwest::Response) -> Result<(), Failure> {
    let body = resp.bytes().await.map_err(|e| classify(&e, true))?;
    serde_json::from_slice::<serde::de::IgnoredAny>(&body).map_err(|e| {
        let snippet = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
        Failure::new(
            ErrKind::BadBody,
            format!("body is not JSON ({e}): {snippet}"),
        )
    })?;
    Ok(())
}

async fn read_stream(mut resp: reqwest::Response, prog: &mut Progress) -> Result<(), Failure> {
    let mut sse = SseReader::new();
    let mut last_event_text = String::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if sse.feed(&chunk) > 0 {
                    if prog.first_event.is_none() {
                        prog.first_event = Some(Instant::now());
                    }
                    prog.events = sse.events;
                }
                if !sse.done {
                    // Remember the tail of the stream for the error message.
                    last_event_text.clear();
                    let tail = &chunk[chunk.len().saturating_sub(160)..];
                    last_event_text.push_str(&String::from_utf8_lossy(tail));
                }
            }
            Ok(None) => break,
            Err(e) => {
                let mut f = classify(&e, true);
                f.message = format!("stream broke after {} events: {}", sse.events, f.message);
                return Err(f);
            }
        }
    }
    sse.finish();
    if prog.first_event.is_none() && sse.events > 0 {
        prog.first_event = Some(Instant::now());
    }
    prog.events = sse.events;
    if sse.done {
        Ok(())
    } else {
        Err(Failure::new(
            ErrKind::Incomplete,
            format!(
                "stream ended after {} events without [DONE]; tail: {:?}",
                sse.events,
                last_event_text.trim()
            ),
        ))
    }
}

async fn request(t: &Target, prog: &mut Progress) -> Result<(), Failure> {
    let resp = send(t).await?;
    if t.stream {
        read_stream(resp, prog).await
    } else {
        read_plain(resp).await
    }
}

/// Runs one request scheduled at `scheduled`, with a deadline of `scheduled + timeout`.
pub async fn execute(t: &Target, scheduled: Instant, measured: bool) -> Outcome {
    let send_lag = scheduled.elapsed();
    let mut prog = Progress::default();
    let deadline = tokio::time::Instant::from_std(scheduled + t.timeout);
    let result = match tokio::time::timeout_at(deadline, request(t, &mut prog)).await {
        Ok(r) => r,
        Err(_) => Err(Failure::new(
            ErrKind::Timeout,
            format!(
                "no complete response within {:?} ({} events seen)",
                t.timeout, prog.events
            ),
        )),
    };
    Outcome {
        measured,
        result,
        latency: scheduled.elapsed(),
        ttft: prog.first_event.map(|f| f.duration_since(scheduled)),
        send_lag,
        events: prog.events,
    }
}

// ---------------------------------------------------------------------------------------
// Measurement windows

/// Sleeps with the OS timer (tens of µs of slack, against tokio's 1 ms wheel). Only for
/// the pacer and snapshot threads, which are plain threads and never runtime workers.
#[expect(
    clippy::disallowed_methods,
    reason = "runs on a dedicated std thread, not on a tokio worker"
)]
fn sleep_until_on_own_thread(at: Instant) {
    let now = Instant::now();
    if at > now {
        std::thread::sleep(at - now);
    }
}

fn snapshot_at(watch: &Watch, at: Instant) -> std::thread::JoinHandle<Option<Snapshot>> {
    let watch = watch.clone();
    std::thread::spawn(move || {
        if watch.is_empty() {
            return None;
        }
        sleep_until_on_own_thread(at);
        Some(watch.snapshot())
    })
}

fn finish_window(
    watch: &Watch,
    first: std::thread::JoinHandle<Option<Snapshot>>,
    requests: u64,
) -> Option<Window> {
    let a = first.join().ok().flatten()?;
    let b = watch.snapshot();
    Some(watch.window(&a, &b, requests))
}

// ---------------------------------------------------------------------------------------
// Closed loop

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

// ---------------------------------------------------------------------------------------
// Open loop

pub struct OpenLoop {
    pub rate: f64,
    pub duration: Duration,
    pub warmup: Duration,
    pub max_in_flight: usize,
}

/// Request *i* scheduled at `start + i/rate`, sent from its own task.
pub async fn open_loop(t: Arc<Target>, p: &OpenLoop, watch: &Watch) -> (Recorder, Option<Window>) {
    let handle = tokio::runtime::Handle::current();
    let (tx, mut rx) = mpsc::unbounded_channel::<Outcome>();
    let start = Instant::now() + Duration::from_millis(10);
    let measure_start = start + p.warmup;
    let end = measure_start + p.duration;
    let rate = p.rate.max(0.001);
    let max_in_flight = p.max_in_flight.max(1);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let first = snapshot_at(watch, measure_start);

    let pacer = {
        let t = t.clone();
        let in_flight = in_flight.clone();
        std::thread::Builder::new()
            .name("pacer".into())
            .spawn(move || {
                let mut not_sent = (0u64, 0u64); // (measured, warm-up)
                for i in 0u64.. {
                    let scheduled = start + Duration::from_secs_f64(i as f64 / rate);
                    if scheduled >= end {
                        break;
                    }
                    sleep_until_on_own_thread(scheduled);
                    let measured = scheduled >= measure_start;
                    if in_flight.load(Ordering::Relaxed) >= max_in_flight {
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
    };
    let expected = (p.duration.as_secs_f64() * rate) as usize;
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

// ---------------------------------------------------------------------------------------
// Hold: many concurrent streams kept open

pub struct HoldParams {
    pub streams: usize,
    pub hold: Duration,
    pub ramp_concurrency: usize,
    pub ramp_timeout: Duration,
    /// Expected length of one stream (chunks × delay), added to the deadline.
    pub stream_len: Duration,
}

struct OpenCounters {
    opened: AtomicUsize,
    failed_before_open: AtomicUsize,
    finished: AtomicUsize,
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

/// Opens `streams` concurrent streams (at most `ramp_concurrency` still connecting at a
/// time), prints `ALL_OPEN` on stdout once every one has its response headers, keeps them
/// open for `hold`, then waits for them to finish.
pub async fn hold(t: Arc<Target>, p: &HoldParams, watch: &Watch) -> (Recorder, HoldInfo, Duration) {
    let start = Instant::now();
    let ramp_deadline = start + p.ramp_timeout;
    let deadline = ramp_deadline + p.hold + p.stream_len + t.timeout;
    let counters = Arc::new(OpenCounters {
        opened: AtomicUsize::new(0),
        failed_before_open: AtomicUsize::new(0),
        finished: AtomicUsize::new(0),
    });
    let sem = Arc::new(Semaphore::new(p.ramp_concurrency.max(1)));
    let (tx, mut rx) = mpsc::unbounded_channel::<Outcome>();
    let launched = Arc::new(AtomicU64::new(0));
    {
        let t = t.clone();
        let counters = counters.clone();
        let launched = launched.clone();
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

    // Ramp: wait until every stream is open or failed, or the ramp deadline.
    loop {
        let settled = counters.opened.load(Ordering::Relaxed)
            + counters.failed_before_open.load(Ordering::Relaxed);
        if settled >= p.streams || Instant::now() >= ramp_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let opened = counters.opened.load(Ordering::Relaxed);
    let failed_early = counters.failed_before_open.load(Ordering::Relaxed);
    let time_to_open = start.elapsed();
    let rss_open = crate::procfs::sum_status_kb(&watch.gateway, "VmRSS:");
    let all_open = opened >= p.streams;
    {
        let mut out = std::io::stdout().lock();
        let _ = if all_open {
            writeln!(out, "ALL_OPEN")
        } else {
            writeln!(
                out,
                "NOT_ALL_OPEN opened={opened} failed={failed_early} of {}",
                p.streams
            )
        };
        let _ = out.flush();
    }
    eprintln!(
        "hold: {opened} of {} streams open after {:.0} ms (failed before open: {failed_early}); gateway RSS {} kB",
        p.streams,
        time_to_open.as_secs_f64() * 1000.0,
        rss_open.map_or_else(|| "-".into(), |v| v.to_string())
    );

    // Hold, sampling the gateway's RSS.
    let hold_end = Instant::now() + p.hold;
    let mut rss_max = rss_open;
    while Instant::now() < hold_end {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Some(v) = crate::procfs::sum_status_kb(&watch.gateway, "VmRSS:") {
            rss_max = Some(rss_max.map_or(v, |m| m.max(v)));
        }
    }
    let finished = counters.finished.load(Ordering::Relaxed);
    let still_open = opened.saturating_sub(finished.saturating_sub(failed_early));

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
        opened,
        failed_before_open: failed_early,
        all_open,
        time_to_all_open_ms: (time_to_open.as_secs_f64() * 10_000.0).round() / 10.0,
        still_open_at_hold_end: still_open,
        hold_s: p.hold.as_secs_f64(),
        gateway_rss_at_all_open_kb: rss_open,
        gateway_rss_max_during_hold_kb: rss_max,
    };
    (rec, info, start.elapsed())
}
