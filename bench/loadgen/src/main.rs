//! `sluice-loadgen`: the load generator of Sluice's end-to-end benchmark.
//! See `bench/README.md` for the subcommands and how `bench/run.sh` uses them.

mod procfs;
mod report;
mod sse;
mod stats;
mod workload;

use clap::{Args, Parser, Subcommand};
use serde_json::json;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use workload::{ClosedLoop, HoldParams, OpenLoop, Report, Target};

#[derive(Parser)]
#[command(
    name = "sluice-loadgen",
    version,
    about = "Load generator for Sluice's end-to-end benchmark (plain HTTP/1.1 on loopback)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// One connection, closed loop: the cleanest added-latency figure.
    Seq(SeqArgs),
    /// Open loop at a fixed rate: request i is sent at start + i/R, whatever happened before.
    Rate(RateArgs),
    /// Closed loop with N concurrent connections (throughput, CPU per request).
    Max(MaxArgs),
    /// Open loop of streaming requests: time to first event, completeness.
    Streams(StreamsArgs),
    /// Open many concurrent streams, print ALL_OPEN, keep them open, report.
    Hold(HoldArgs),
    /// Poll a URL with GET until it answers 2xx; print the time it took.
    WaitReady(WaitReadyArgs),
    /// Print free TCP ports on 127.0.0.1.
    FreePort(FreePortArgs),
    /// Build the Markdown summary from a results directory written by bench/run.sh.
    Report(ReportArgs),
}

#[derive(Args, Clone)]
struct Common {
    /// Chat completions URL, e.g. http://127.0.0.1:4100/v1/chat/completions.
    #[arg(long)]
    url: String,
    /// Model name put in the request body.
    #[arg(long, default_value = "bench-model")]
    model: String,
    /// Extra request header, "Name: value" (repeatable), e.g. an Authorization header.
    #[arg(long = "header", short = 'H')]
    headers: Vec<String>,
    /// Deadline of one request, counted from its scheduled send time.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
    /// Runtime worker threads; 1 means a current-thread runtime.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Label echoed in the JSON output (e.g. "sluice rate-500").
    #[arg(long)]
    label: Option<String>,
    /// PID of the gateway under test (repeatable: nginx master and worker). Its CPU time
    /// over the measured window gives CPU per request; its RSS is reported.
    #[arg(long = "gateway-pid")]
    gateway_pids: Vec<u32>,
    /// PID of another process under test (the mock), excluded from the noise figure.
    #[arg(long = "tested-pid")]
    tested_pids: Vec<u32>,
    /// Clock ticks per second of /proc times (`getconf CLK_TCK`).
    #[arg(long, default_value_t = 100)]
    clk_tck: u64,
    /// Also write the JSON result to this file.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct SeqArgs {
    #[command(flatten)]
    common: Common,
    /// Measured time.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Unmeasured time before it.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    warmup: Duration,
}

#[derive(Args)]
struct RateArgs {
    #[command(flatten)]
    common: Common,
    /// Requests per second.
    #[arg(long)]
    rps: f64,
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    warmup: Duration,
    /// Requests not sent (and counted as errors) while this many are in flight.
    #[arg(long, default_value_t = 4096)]
    max_in_flight: usize,
}

#[derive(Args)]
struct MaxArgs {
    #[command(flatten)]
    common: Common,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    warmup: Duration,
}

#[derive(Args)]
struct StreamsArgs {
    #[command(flatten)]
    common: Common,
    /// Streams started per second.
    #[arg(long)]
    rps: f64,
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    warmup: Duration,
    /// Content deltas per stream (mock scripting).
    #[arg(long, default_value_t = 30)]
    chunks: u32,
    /// Delay between deltas, ms (mock scripting).
    #[arg(long, default_value_t = 5)]
    chunk_delay_ms: u64,
    #[arg(long, default_value_t = 4096)]
    max_in_flight: usize,
}

#[derive(Args)]
struct HoldArgs {
    #[command(flatten)]
    common: Common,
    /// Concurrent streams to open.
    #[arg(long, default_value_t = 10_000)]
    streams: usize,
    #[arg(long, default_value_t = 20)]
    chunks: u32,
    #[arg(long, default_value_t = 1000)]
    chunk_delay_ms: u64,
    /// How long to keep them open once all are open.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    hold: Duration,
    /// Streams still waiting for their response headers at any time, at most.
    #[arg(long, default_value_t = 256)]
    ramp_concurrency: usize,
    /// Give up opening more streams after this long.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    ramp_timeout: Duration,
}

#[derive(Args)]
struct WaitReadyArgs {
    /// URL to GET, e.g. http://127.0.0.1:4100/healthz.
    #[arg(long)]
    url: String,
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    timeout: Duration,
    /// Count elapsed time from this Unix time in ns (e.g. `date +%s%N` taken just before
    /// the server was spawned) instead of from this program's start.
    #[arg(long)]
    since_unix_ns: Option<u128>,
    /// Pause between attempts.
    #[arg(long, default_value = "1ms", value_parser = parse_duration)]
    interval: Duration,
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct FreePortArgs {
    /// How many distinct ports.
    #[arg(long, default_value_t = 1)]
    count: usize,
}

#[derive(Args)]
struct ReportArgs {
    /// Results directory written by bench/run.sh.
    #[arg(long)]
    dir: PathBuf,
}

/// Parses "10s", "500ms", "2m", "250us", "1.5s"; a bare number is seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("invalid duration {s:?} (examples: 10s, 500ms, 2m)"))?;
    let secs = match unit.trim() {
        "" | "s" => v,
        "ms" => v / 1e3,
        "us" | "µs" => v / 1e6,
        "m" | "min" => v * 60.0,
        other => return Err(format!("unknown duration unit {other:?} in {s:?}")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("invalid duration {s:?}"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // reqwest is built with `rustls-no-provider`; building a client needs a crypto
    // provider even though only plain http:// is ever used here.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match cli.cmd {
        Cmd::FreePort(a) => free_port(&a),
        Cmd::Report(a) => match report::render(&a.dir) {
            Ok(md) => {
                print!("{md}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("report: {e}");
                ExitCode::FAILURE
            }
        },
        Cmd::WaitReady(a) => run_in_runtime(1, wait_ready(a)),
        Cmd::Seq(a) => {
            let threads = a.common.threads;
            run_in_runtime(threads, run_load(Mode::Seq(a)))
        }
        Cmd::Rate(a) => {
            let threads = a.common.threads;
            run_in_runtime(threads, run_load(Mode::Rate(a)))
        }
        Cmd::Max(a) => {
            let threads = a.common.threads;
            run_in_runtime(threads, run_load(Mode::Max(a)))
        }
        Cmd::Streams(a) => {
            let threads = a.common.threads;
            run_in_runtime(threads, run_load(Mode::Streams(a)))
        }
        Cmd::Hold(a) => {
            let threads = a.common.threads;
            run_in_runtime(threads, run_load(Mode::Hold(a)))
        }
    }
}

fn run_in_runtime(threads: usize, fut: impl Future<Output = ExitCode>) -> ExitCode {
    let rt = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    };
    match rt {
        Ok(rt) => rt.block_on(fut),
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

enum Mode {
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
}

fn build_client(c: &Common, pool: usize) -> Result<reqwest::Client, String> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static("application/json"),
    );
    for h in &c.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| format!("header {h:?} is not \"Name: value\""))?;
        let name = reqwest::header::HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|e| format!("header name {name:?}: {e}"))?;
        let value = reqwest::header::HeaderValue::from_str(value.trim())
            .map_err(|e| format!("header value for {name}: {e}"))?;
        headers.insert(name, value);
    }
    reqwest::Client::builder()
        .http1_only()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(pool)
        .pool_idle_timeout(Duration::from_secs(90))
        .connect_timeout(Duration::from_secs(5))
        .default_headers(headers)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

fn request_body(model: &str, stream: Option<(u32, u64)>) -> bytes::Bytes {
    let mut body = json!({
        "model": model,
        "messages": [{"role": "user", "content": "Say hello to the benchmark"}],
    });
    if let Some((chunks, delay)) = stream {
        body["stream"] = json!(true);
        body["mock"] = json!({"chunks": chunks, "chunk_delay_ms": delay});
    }
    bytes::Bytes::from(body.to_string())
}

fn emit(report: &Report, out: Option<&PathBuf>) -> ExitCode {
    let text = match serde_json::to_string(report) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot serialise the result: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("{}", report.one_line());
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
        let _ = stdout.flush();
    }
    if let Some(path) = out
        && let Err(e) = std::fs::write(path, format!("{text}\n"))
    {
        eprintln!("cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

async fn run_load(mode: Mode) -> ExitCode {
    let c = mode.common().clone();
    let url = match reqwest::Url::parse(&c.url) {
        Ok(u) if u.scheme() == "http" => u,
        Ok(u) => {
            eprintln!("only plain http:// URLs are supported, not {}", u.scheme());
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("invalid --url {:?}: {e}", c.url);
            return ExitCode::FAILURE;
        }
    };
    let watch = procfs::Watch {
        gateway: c.gateway_pids.clone(),
        tested: c.tested_pids.clone(),
        clk_tck: c.clk_tck,
    };
    let (pool, stream) = match &mode {
        Mode::Seq(_) => (1, None),
        Mode::Rate(_) => (256, None),
        Mode::Max(a) => (a.connections, None),
        Mode::Streams(a) => (512, Some((a.chunks, a.chunk_delay_ms))),
        Mode::Hold(a) => (a.streams, Some((a.chunks, a.chunk_delay_ms))),
    };
    let client = match build_client(&c, pool) {
        Ok(cl) => cl,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let target = Arc::new(Target {
        client,
        url,
        body: request_body(&c.model, stream),
        stream: stream.is_some(),
        timeout: c.timeout,
    });

    let report = match &mode {
        Mode::Seq(a) => {
            let p = ClosedLoop {
                workers: 1,
                duration: a.duration,
                warmup: a.warmup,
            };
            let (rec, win) = workload::closed_loop(target, &p, &watch).await;
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
        Mode::Max(a) => {
            let p = ClosedLoop {
                workers: a.connections,
                duration: a.duration,
                warmup: a.warmup,
            };
            let (rec, win) = workload::closed_loop(target, &p, &watch).await;
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
        Mode::Rate(a) => {
            let p = OpenLoop {
                rate: a.rps,
                duration: a.duration,
                warmup: a.warmup,
                max_in_flight: a.max_in_flight,
            };
            let (rec, win) = workload::open_loop(target, &p, &watch).await;
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
        Mode::Streams(a) => {
            let p = OpenLoop {
                rate: a.rps,
                duration: a.duration,
                warmup: a.warmup,
                max_in_flight: a.max_in_flight,
            };
            let (rec, win) = workload::open_loop(target, &p, &watch).await;
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
        Mode::Hold(a) => {
            let p = HoldParams {
                streams: a.streams,
                hold: a.hold,
                ramp_concurrency: a.ramp_concurrency,
                ramp_timeout: a.ramp_timeout,
                stream_len: Duration::from_millis(
                    a.chunk_delay_ms.saturating_mul(u64::from(a.chunks) + 1),
                ),
            };
            let (rec, info, elapsed) = workload::hold(target, &p, &watch).await;
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
    };
    emit(&report, c.out.as_ref())
}

async fn wait_ready(a: WaitReadyArgs) -> ExitCode {
    let t0 = Instant::now();
    let unix_now = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    };
    let offset_ns = a
        .since_unix_ns
        .map_or(0, |since| unix_now().saturating_sub(since));
    let elapsed_ms = |t0: Instant| (offset_ns as f64 / 1e6) + t0.elapsed().as_secs_f64() * 1000.0;
    let client = match reqwest::Client::builder()
        .http1_only()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_millis(500))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot build the HTTP client: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut attempts = 0u64;
    let mut last_error = String::new();
    let ready = loop {
        attempts += 1;
        match client.get(&a.url).send().await {
            Ok(r) if r.status().is_success() => break true,
            Ok(r) => last_error = format!("HTTP {}", r.status().as_u16()),
            Err(e) => last_error = e.to_string(),
        }
        if t0.elapsed() >= a.timeout {
            break false;
        }
        tokio::time::sleep(a.interval).await;
    };
    let ms = (elapsed_ms(t0) * 100.0).round() / 100.0;
    let text = json!({"url": a.url, "ready": ready, "elapsed_ms": ms, "attempts": attempts,
                      "last_error": if ready { None } else { Some(last_error) }})
    .to_string();
    println!("{text}");
    if let Some(path) = &a.out
        && let Err(e) = std::fs::write(path, format!("{text}\n"))
    {
        eprintln!("cannot write {}: {e}", path.display());
    }
    if ready {
        ExitCode::SUCCESS
    } else {
        eprintln!("{} not ready after {ms} ms", a.url);
        ExitCode::FAILURE
    }
}

fn free_port(a: &FreePortArgs) -> ExitCode {
    let mut listeners = Vec::new();
    let mut ports = Vec::new();
    for _ in 0..a.count.max(1) {
        match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| {
            let port = l.local_addr()?.port();
            Ok((l, port))
        }) {
            Ok((l, port)) => {
                listeners.push(l);
                ports.push(port.to_string());
            }
            Err(e) => {
                eprintln!("cannot bind 127.0.0.1:0: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("{}", ports.join(" "));
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5h").is_err());
    }

    #[test]
    fn bodies() {
        let plain = request_body("bench-model", None);
        let v: serde_json::Value = serde_json::from_slice(&plain).unwrap_or_default();
        assert_eq!(v["model"], "bench-model");
        assert!(v.get("stream").is_none());
        let s = request_body("m", Some((30, 5)));
        let v: serde_json::Value = serde_json::from_slice(&s).unwrap_or_default();
        assert_eq!(v["stream"], true);
        assert_eq!(v["mock"]["chunks"], 30);
        assert_eq!(v["mock"]["chunk_delay_ms"], 5);
    }
}
