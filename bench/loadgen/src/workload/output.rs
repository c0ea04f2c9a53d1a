//! The JSON object printed at the end of a run, its one-line stderr summary, and writing
//! both out.
//!
//! Its field names are read by `bench/run.sh` and by `report`: it must never rename,
//! drop or reorder them.

use super::hold::HoldInfo;
use super::recorder::{Errors, EventsRange, Recorder, WarmupCounts};
use crate::procfs::Window;
use crate::stats::Summary;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

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

/// Prints the one-line summary on stderr and the JSON on stdout (and to `out`, if given).
pub fn emit(report: &Report, out: Option<&PathBuf>) -> ExitCode {
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
