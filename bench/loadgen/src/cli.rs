//! The command line: subcommands, their flags and defaults, and duration parsing.
//!
//! `bench/run.sh` passes these flags: this file must never rename a flag nor change a
//! default, and it must never do any work beyond parsing.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "sluice-loadgen",
    version,
    about = "Load generator for Sluice's end-to-end benchmark (plain HTTP/1.1 on loopback)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand)]
pub enum Cmd {
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
pub struct Common {
    /// Chat completions URL, e.g. http://127.0.0.1:4100/v1/chat/completions.
    #[arg(long)]
    pub url: String,
    /// Model name put in the request body.
    #[arg(long, default_value = "bench-model")]
    pub model: String,
    /// Make the prompt about this many bytes of mixed prose (0: one short sentence), to
    /// measure stages whose cost grows with the prompt (the guard's scan).
    #[arg(long, default_value_t = 0)]
    pub prompt_bytes: usize,
    /// Extra request header, "Name: value" (repeatable), e.g. an Authorization header.
    #[arg(long = "header", short = 'H')]
    pub headers: Vec<String>,
    /// Deadline of one request, counted from its scheduled send time.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Runtime worker threads; 1 means a current-thread runtime.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Label echoed in the JSON output (e.g. "sluice rate-500").
    #[arg(long)]
    pub label: Option<String>,
    /// PID of the gateway under test (repeatable: nginx master and worker). Its CPU time
    /// over the measured window gives CPU per request; its RSS is reported.
    #[arg(long = "gateway-pid")]
    pub gateway_pids: Vec<u32>,
    /// PID of another process under test (the mock), excluded from the noise figure.
    #[arg(long = "tested-pid")]
    pub tested_pids: Vec<u32>,
    /// Clock ticks per second of /proc times (`getconf CLK_TCK`).
    #[arg(long, default_value_t = 100)]
    pub clk_tck: u64,
    /// Also write the JSON result to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Local address every connection is made from (127.0.0.2, ...): each loopback
    /// address has its own ephemeral ports, so several load generators together can hold
    /// more connections to one gateway port than one address's port range allows.
    #[arg(long = "source-ip")]
    pub source_ip: Option<std::net::IpAddr>,
    /// Speak cleartext HTTP/2 (prior knowledge) with at most this many concurrent streams
    /// on each connection, as clients behind an HTTP/2 load balancer do; 0 (the default)
    /// is HTTP/1.1 with one request per connection at a time.
    #[arg(long, default_value_t = 0)]
    pub h2_streams_per_connection: usize,
}

#[derive(Args)]
pub struct SeqArgs {
    #[command(flatten)]
    pub common: Common,
    /// Measured time.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Unmeasured time before it.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub warmup: Duration,
}

#[derive(Args)]
pub struct RateArgs {
    #[command(flatten)]
    pub common: Common,
    /// Requests per second.
    #[arg(long)]
    pub rps: f64,
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Requests not sent (and counted as errors) while this many are in flight.
    #[arg(long, default_value_t = 4096)]
    pub max_in_flight: usize,
}

#[derive(Args)]
pub struct MaxArgs {
    #[command(flatten)]
    pub common: Common,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub warmup: Duration,
}

#[derive(Args)]
pub struct StreamsArgs {
    #[command(flatten)]
    pub common: Common,
    /// Streams started per second.
    #[arg(long)]
    pub rps: f64,
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Content deltas per stream (mock scripting).
    #[arg(long, default_value_t = 30)]
    pub chunks: u32,
    /// Delay between deltas, ms (mock scripting).
    #[arg(long, default_value_t = 5)]
    pub chunk_delay_ms: u64,
    #[arg(long, default_value_t = 4096)]
    pub max_in_flight: usize,
}

#[derive(Args)]
pub struct HoldArgs {
    #[command(flatten)]
    pub common: Common,
    /// Concurrent streams to open.
    #[arg(long, default_value_t = 10_000)]
    pub streams: usize,
    #[arg(long, default_value_t = 20)]
    pub chunks: u32,
    #[arg(long, default_value_t = 1000)]
    pub chunk_delay_ms: u64,
    /// How long to keep them open once all are open.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub hold: Duration,
    /// Streams still waiting for their response headers at any time, at most.
    #[arg(long, default_value_t = 256)]
    pub ramp_concurrency: usize,
    /// Give up opening more streams after this long.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub ramp_timeout: Duration,
}

#[derive(Args)]
pub struct WaitReadyArgs {
    /// URL to GET, e.g. http://127.0.0.1:4100/healthz.
    #[arg(long)]
    pub url: String,
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Count elapsed time from this Unix time in ns (e.g. `date +%s%N` taken just before
    /// the server was spawned) instead of from this program's start.
    #[arg(long)]
    pub since_unix_ns: Option<u128>,
    /// Pause between attempts.
    #[arg(long, default_value = "1ms", value_parser = parse_duration)]
    pub interval: Duration,
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct FreePortArgs {
    /// How many distinct ports.
    #[arg(long, default_value_t = 1)]
    pub count: usize,
}

#[derive(Args)]
pub struct ReportArgs {
    /// Results directory written by bench/run.sh.
    #[arg(long)]
    pub dir: PathBuf,
}

/// Parses "10s", "500ms", "2m", "250us", "1.5s"; a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
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
}
