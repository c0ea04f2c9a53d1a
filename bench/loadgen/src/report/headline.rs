//! The title, the introduction and the headline table (added latency, CPU, RSS, errors;
//! Sluice ÷ nginx ratios).
//!
//! It must never judge a figure against a target; `targets.rs` does that.

use super::fmt::{cpu, errors_cell, mb, ms, plus_ms, ratio, times};
use super::{CPU_PATH, GATEWAYS, P50, P99, Results, TTFT};
use serde_json::Value;
use std::fmt::Write as _;

/// Sluice's added figures divided by nginx's (`None` when not computable).
pub struct Ratios {
    pub p50: Option<f64>,
    pub p99: Option<f64>,
    pub ttft: Option<f64>,
    pub cpu: Option<f64>,
    pub rss: Option<f64>,
}

impl Ratios {
    pub fn of(r: &Results) -> Self {
        Self {
            p50: ratio(
                r.added("sluice", "seq-c1", P50),
                r.added("nginx", "seq-c1", P50),
            ),
            p99: ratio(
                r.added("sluice", "rate-500", P99),
                r.added("nginx", "rate-500", P99),
            ),
            ttft: ratio(
                r.added("sluice", "streams-100", TTFT),
                r.added("nginx", "streams-100", TTFT),
            ),
            cpu: ratio(
                r.num("sluice", "max-c64", CPU_PATH),
                r.num("nginx", "max-c64", CPU_PATH),
            ),
            rss: ratio(
                r.meta_num("gateways.sluice.peak_rss_kb"),
                r.meta_num("gateways.nginx.peak_rss_kb"),
            ),
        }
    }
}

/// The `# Sluice benchmark` title and the paragraph describing the run.
pub fn write_intro(md: &mut String, r: &Results) {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("?").to_owned();
    let _ = writeln!(md, "# Sluice benchmark, {}\n", s(&r.meta, "timestamp"));
    let _ = writeln!(
        md,
        "One core per gateway (`taskset -c 1`); mock and load generator share CPU 0. \
         Measured window {} per workload ({} warm-up for fixed rates and streams). \
         Git `{}`; nginx {}; Sluice log level: {}. Raw results: `{}`.\n",
        s(&r.meta, "duration"),
        s(&r.meta, "warmup"),
        s(&r.meta, "git_rev"),
        s(&r.meta, "nginx_version"),
        s(&r.meta, "sluice_log"),
        s(&r.meta, "results_dir"),
    );
}

/// The headline table and its footnote.
pub fn write(md: &mut String, r: &Results, q: &Ratios) {
    let _ = writeln!(
        md,
        "## Headline (added = gateway − direct, same workload, same run)\n\n\
         | | added p50 at c=1 | added p99 at 500 req/s | added first-token p50 at 100 streams/s | CPU per request (64 conns) | peak RSS | errors at 1,000 req/s | errors at 300 streams/s |\n\
         |---|---|---|---|---|---|---|---|"
    );
    let _ = writeln!(
        md,
        "| direct (mock), absolute | {} | {} | {} | – | – | {} | {} |",
        ms(r.num("direct", "seq-c1", P50)),
        ms(r.num("direct", "rate-500", P99)),
        ms(r.num("direct", "streams-100", TTFT)),
        errors_cell(r.run("direct", "rate-1000")),
        errors_cell(r.run("direct", "streams-300")),
    );
    for gw in GATEWAYS {
        let _ = writeln!(
            md,
            "| {gw} | {} | {} | {} | {} | {} | {} | {} |",
            plus_ms(r.added(gw, "seq-c1", P50)),
            plus_ms(r.added(gw, "rate-500", P99)),
            plus_ms(r.added(gw, "streams-100", TTFT)),
            cpu(r.num(gw, "max-c64", CPU_PATH)),
            mb(r.meta_num(&format!("gateways.{gw}.peak_rss_kb"))),
            errors_cell(r.run(gw, "rate-1000")),
            errors_cell(r.run(gw, "streams-300")),
        );
    }
    let _ = writeln!(
        md,
        "| Sluice ÷ nginx | {} | {} | {} | {} | {} | | |\n",
        times(q.p50),
        times(q.p99),
        times(q.ttft),
        times(q.cpu),
        times(q.rss)
    );
    let _ = writeln!(
        md,
        "p99 at fixed rates below about 1 ms is within this VM's scheduler jitter; the c=1 p50 \
         and CPU per request are the precise figures. A ratio is n/a when nginx's added value \
         is not positive.\n"
    );
}
