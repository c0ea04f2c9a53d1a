//! The "Sluice against its targets" table: each target, the measured figure, pass/fail.
//!
//! It must never compute a figure the other sections show differently; shared figures
//! come from `Ratios` and `Figures`.

use super::fmt::{binary_mb, cpu, errors_cell, mb, num, pass, startup_ms, times};
use super::headline::Ratios;
use super::{CPU_PATH, Figures, Results};
use std::fmt::Write as _;

/// One table row: target, measured value, pass/fail (`None`: not measured).
type Row = (String, String, Option<bool>);

/// Whether a run exists, sent something, and had no error.
fn err_free(r: &Results, t: &str, w: &str) -> Option<bool> {
    r.run(t, w).map(|v| {
        num(&v, "error_total").unwrap_or(1.0) == 0.0 && num(&v, "sent").unwrap_or(0.0) > 0.0
    })
}

/// Latency, CPU and error targets.
fn load_rows(r: &Results, q: &Ratios) -> Vec<Row> {
    vec![
        (
            "added p50 at c=1 ≤ 1.3× nginx's".into(),
            times(q.p50),
            q.p50.map(|q| q <= 1.3),
        ),
        (
            "added first-token p50 ≤ 1.5× nginx's".into(),
            times(q.ttft),
            q.ttft.map(|q| q <= 1.5),
        ),
        (
            "CPU per request ≤ 2× nginx's".into(),
            format!(
                "{} ({})",
                times(q.cpu),
                cpu(r.num("sluice", "max-c64", CPU_PATH))
            ),
            q.cpu.map(|q| q <= 2.0),
        ),
        (
            "1,000 req/s without errors".into(),
            errors_cell(r.run("sluice", "rate-1000")),
            err_free(r, "sluice", "rate-1000"),
        ),
        (
            "300 streams/s without errors".into(),
            errors_cell(r.run("sluice", "streams-300")),
            err_free(r, "sluice", "streams-300"),
        ),
    ]
}

/// Memory, start-up and binary size targets.
fn resource_rows(f: &Figures) -> Vec<Row> {
    vec![
        (
            "peak RSS < 60 MB".into(),
            mb(f.peak),
            f.peak.map(|v| v < 60.0 * 1024.0),
        ),
        (
            "idle RSS < 30 MB".into(),
            mb(f.idle),
            f.idle.map(|v| v < 30.0 * 1024.0),
        ),
        (
            "10,000 open streams < 200 MB".into(),
            match (f.hold_rss, f.hold_n) {
                (Some(_), Some(n)) if (n - 10_000.0).abs() < 0.5 => mb(f.hold_rss),
                (Some(_), Some(n)) => format!(
                    "{} with {n:.0} streams, {} extrapolated to 10,000",
                    mb(f.hold_rss),
                    mb(f.hold_rss_10k)
                ),
                _ => "–".into(),
            },
            f.hold_rss_10k.map(|v| v < 200.0 * 1024.0),
        ),
        (
            "cold start < 50 ms".into(),
            startup_ms(f.startup),
            f.startup.map(|v| v < 50.0),
        ),
        // The target is the shipped build's; without one as new as the binary measured,
        // there is nothing to judge (the release build keeps its symbols).
        (
            "shipped binary (`--profile dist`) < 25 MB".into(),
            match f.dist {
                Some(_) => binary_mb(f.dist),
                None => "– (not built)".into(),
            },
            f.dist.map(|b| b < 25.0 * 1_048_576.0),
        ),
    ]
}

pub fn write(md: &mut String, r: &Results, q: &Ratios, f: &Figures) {
    let _ = writeln!(
        md,
        "## Sluice against its targets\n\n| target | measured | |\n|---|---|---|"
    );
    for (name, measured, ok) in load_rows(r, q).into_iter().chain(resource_rows(f)) {
        let _ = writeln!(md, "| {name} | {measured} | {} |", pass(ok));
    }
    md.push('\n');
}
