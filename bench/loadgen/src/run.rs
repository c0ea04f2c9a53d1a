//! The load subcommands (`seq`, `rate`, `max`, `streams`, `hold`): turns their arguments
//! into a target and workload parameters, runs the workload, prints the JSON result.
//!
//! It must never measure anything itself (the workloads do) nor change the JSON `params`
//! of a mode, which `bench/run.sh` and `report` read.

use crate::cli::{Common, HoldArgs, MaxArgs, RateArgs, SeqArgs, StreamsArgs};
use crate::procfs;
use crate::workload::{
    self, ClosedLoop, HoldParams, OpenLoop, Report, Target, build_client, request_body,
};
use serde_json::json;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

pub enum Mode {
    Seq(SeqArgs),
    Rate(RateArgs),
    Max(MaxArgs),
    Streams(StreamsArgs),
    Hold(HoldArgs),
}

impl Mode {
    fn common(&self) -> &Common {
        match self {
            Mode::Seq(a) => &a.common,
            Mode::Rate(a) => &a.common,
            Mode::Max(a) => &a.common,
            Mode::Streams(a) => &a.common,
            Mode::Hold(a) => &a.common,
        }
    }

    /// Idle connections to keep, and `(chunks, chunk_delay_ms)` for streaming modes.
    fn pool_and_stream(&self) -> (usize, Option<(u32, u64)>) {
        match self {
            Mode::Seq(_) => (1, None),
            Mode::Rate(_) => (256, None),
            Mode::Max(a) => (a.connections, None),
            Mode::Streams(a) => (512, Some((a.chunks, a.chunk_delay_ms))),
            Mode::Hold(a) => (a.streams, Some((a.chunks, a.chunk_delay_ms))),
        }
    }
}

/// Runs one load subcommand and prints its result.
pub async fn run_load(mode: Mode) -> ExitCode {
    let c = mode.common().clone();
    let target = match target(&mode, &c) {
        Ok(t) => Arc::new(t),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let watch = procfs::Watch {
        gateway: c.gateway_pids.clone(),
        tested: c.tested_pids.clone(),
        clk_tck: c.clk_tck,
    };
    let report = match &mode {
        Mode::Seq(a) => seq(target, a, &c, &watch).await,
        Mode::Max(a) => max(target, a, &c, &watch).await,
        Mode::Rate(a) => rate(target, a, &c, &watch).await,
        Mode::Streams(a) => streams(target, a, &c, &watch).await,
        Mode::Hold(a) => hold(target, a, &c, &watch).await,
    };
    workload::emit(&report, c.out.as_ref())
}

/// Checks `--url` and builds the client and body every request of the run uses.
fn target(mode: &Mode, c: &Common) -> Result<Target, String> {
    let url = match reqwest::Url::parse(&c.url) {
        Ok(u) if u.scheme() == "http" => u,
        Ok(u) => {
            return Err(format!(
                "only plain http:// URLs are supported, not {}",
                u.scheme()
            ));
        }
        Err(e) => return Err(format!("invalid --url {:?}: {e}", c.url)),
    };
    let (pool, stream) = mode.pool_and_stream();
    let clients = match c.h2_streams_per_connection {
        0 => vec![build_client(&c.headers, pool, c.source_ip, false)?],
        // One client holds one HTTP/2 connection: as many clients as the streams need.
        per => (0..pool.div_ceil(per).max(1))
            .map(|_| build_client(&c.headers, 1, c.source_ip, true))
            .collect::<Result<_, _>>()?,
    };
    Ok(Target {
        clients,
        next: AtomicUsize::new(0),
        url,
        body: request_body(&c.model, c.prompt_bytes, stream),
        stream: stream.is_some(),
        timeout: c.timeout,
    })
}

async fn seq(target: Arc<Target>, a: &SeqArgs, c: &Common, watch: &procfs::Watch) -> Report {
    let p = ClosedLoop {
        workers: 1,
        duration: a.duration,
        warmup: a.warmup,
    };
    let (rec, win) = workload::closed_loop(target, &p, watch).await;
    Report::new(
        "seq",
        c.label.clone(),
        &c.url,
        json!({"connections": 1, "duration_s": a.duration.as_secs_f64(), "warmup_s": a.warmup.as_secs_f64()}),
        a.duration,
        rec,
        win,
    )
}

async fn max(target: Arc<Target>, a: &MaxArgs, c: &Common, watch: &procfs::Watch) -> Report {
    let p = ClosedLoop {
        workers: a.connections,
        duration: a.duration,
        warmup: a.warmup,
    };
    let (rec, win) = workload::closed_loop(target, &p, watch).await;
    Report::new(
        "max",
        c.label.clone(),
        &c.url,
        json!({"connections": a.connections, "duration_s": a.duration.as_secs_f64(), "warmup_s": a.warmup.as_secs_f64()}),
        a.duration,
        rec,
        win,
    )
}

async fn rate(target: Arc<Target>, a: &RateArgs, c: &Common, watch: &procfs::Watch) -> Report {
    let p = OpenLoop {
        rate: a.rps,
        duration: a.duration,
        warmup: a.warmup,
        max_in_flight: a.max_in_flight,
    };
    let (rec, win) = workload::open_loop(target, &p, watch).await;
    Report::new(
        "rate",
        c.label.clone(),
        &c.url,
        json!({"rps": a.rps, "duration_s": a.duration.as_secs_f64(), "warmup_s": a.warmup.as_secs_f64()}),
        a.duration,
        rec,
        win,
    )
}

async fn streams(
    target: Arc<Target>,
    a: &StreamsArgs,
    c: &Common,
    watch: &procfs::Watch,
) -> Report {
    let p = OpenLoop {
        rate: a.rps,
        duration: a.duration,
        warmup: a.warmup,
        max_in_flight: a.max_in_flight,
    };
    let (rec, win) = workload::open_loop(target, &p, watch).await;
    Report::new(
        "streams",
        c.label.clone(),
        &c.url,
        json!({"rps": a.rps, "duration_s": a.duration.as_secs_f64(), "warmup_s": a.warmup.as_secs_f64(),
               "chunks": a.chunks, "chunk_delay_ms": a.chunk_delay_ms}),
        a.duration,
        rec,
        win,
    )
}

async fn hold(target: Arc<Target>, a: &HoldArgs, c: &Common, watch: &procfs::Watch) -> Report {
    let p = HoldParams {
        streams: a.streams,
        hold: a.hold,
        ramp_concurrency: a.ramp_concurrency,
        ramp_timeout: a.ramp_timeout,
        stream_len: Duration::from_millis(a.chunk_delay_ms.saturating_mul(u64::from(a.chunks) + 1)),
    };
    let (rec, info, elapsed) = workload::hold(target, &p, watch).await;
    let mut r = Report::new(
        "hold",
        c.label.clone(),
        &c.url,
        json!({"streams": a.streams, "chunks": a.chunks, "chunk_delay_ms": a.chunk_delay_ms,
               "hold_s": a.hold.as_secs_f64(), "ramp_concurrency": a.ramp_concurrency}),
        elapsed,
        rec,
        None,
    );
    r.hold = Some(info);
    r
}
