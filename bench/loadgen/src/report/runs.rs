//! The "All runs" table, one row per target and workload found in the directory, and the
//! notes under it (errors, noise, late sends, uneven streams).
//!
//! It must never skip a run that has a result file; every run gets its row.

use super::fmt::{cpu, ms, num};
use super::{CPU_PATH, Results, TARGETS};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

/// Workloads present for a target, in a stable order.
fn workloads(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter_map(|n| {
                    let stem = n.strip_suffix(".json")?;
                    let (t, w) = stem.split_once('-')?;
                    (TARGETS.contains(&t) && w != "hold" && w != "ready").then(|| w.to_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    let key = |w: &str| -> (u8, u64) {
        let (kind, n) = w.split_once('-').unwrap_or((w, "0"));
        let n = n.trim_start_matches('c').parse().unwrap_or(0);
        let order = match kind {
            "seq" => 0,
            "rate" => 1,
            "streams" => 2,
            "max" => 3,
            _ => 4,
        };
        (order, n)
    };
    names.sort_by(|a, b| key(a).cmp(&key(b)).then(a.cmp(b)));
    names.dedup();
    names
}

/// The table, then the notes.
pub fn write(md: &mut String, r: &Results, dir: &Path) {
    let _ = writeln!(
        md,
        "## All runs\n\n\
         | target | workload | sent | ok | errors | p50 | p90 | p99 | max | TTFT p50 | TTFT p99 | ok/s | gateway CPU/req | gateway CPU % of core | noise % |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    let mut notes = Vec::new();
    let mut noisy = Vec::new();
    for w in workloads(dir) {
        for t in TARGETS {
            let Some(v) = r.run(t, &w) else {
                continue;
            };
            write_row(md, t, &w, &v);
            run_notes(t, &w, &v, &mut notes, &mut noisy);
        }
    }
    if !noisy.is_empty() {
        notes.push(format!(
            "- noise above 5 % (other processes busy; rerun for precise figures) in {} of the runs: {}",
            noisy.len(),
            noisy.join(", ")
        ));
    }
    if !notes.is_empty() {
        let _ = writeln!(md, "\nNotes:\n{}", notes.join("\n"));
    }
}

/// One row of the table.
fn write_row(md: &mut String, t: &str, w: &str, v: &Value) {
    let f = |p: &str| num(v, p);
    let _ = writeln!(
        md,
        "| {t} | {w} | {:.0} | {:.0} | {:.0} | {} | {} | {} | {} | {} | {} | {:.0} | {} | {} | {} |",
        f("sent").unwrap_or(0.0),
        f("ok").unwrap_or(0.0),
        f("error_total").unwrap_or(0.0),
        ms(f("latency_us.p50")),
        ms(f("latency_us.p90")),
        ms(f("latency_us.p99")),
        ms(f("latency_us.max")),
        ms(f("ttft_us.p50")),
        ms(f("ttft_us.p99")),
        f("achieved_rps").unwrap_or(0.0),
        cpu(f(CPU_PATH)),
        f("proc.gateway_cpu_pct_of_core").map_or_else(|| "–".into(), |v| format!("{v:.0}")),
        f("proc.noise_pct").map_or_else(|| "–".into(), |v| format!("{v:.1}")),
    );
}

/// Notes about one run: its errors, noise, late sends, uneven event counts.
fn run_notes(t: &str, w: &str, v: &Value, notes: &mut Vec<String>, noisy: &mut Vec<String>) {
    let f = |p: &str| num(v, p);
    if f("error_total").unwrap_or(0.0) > 0.0 {
        let kinds = v.get("errors").map(Value::to_string).unwrap_or_default();
        let codes = v
            .get("status_codes")
            .filter(|c| c.as_object().is_some_and(|o| !o.is_empty()))
            .map(|c| format!(" status codes {c}"))
            .unwrap_or_default();
        let sample = v
            .get("error_samples")
            .and_then(|s| s.get(0))
            .and_then(Value::as_str)
            .map(|s| format!(" first: `{}`", s.replace('`', "'")))
            .unwrap_or_default();
        notes.push(format!("- {t} {w}: errors {kinds}{codes}{sample}"));
    }
    if f("proc.noise_pct").unwrap_or(0.0) > 5.0 {
        noisy.push(format!("{t} {w}"));
    }
    if let Some(lag) = f("send_lag_us.p99")
        && lag > 1000.0
    {
        notes.push(format!(
                    "- {t} {w}: the generator started requests late (send lag p99 {}); CPU 0 may be saturated",
                    ms(Some(lag))
                ));
    }
    if w.starts_with("streams") {
        let min = f("events_per_stream.min");
        let max = f("events_per_stream.max");
        if let (Some(a), Some(b)) = (min, max)
            && a != b
        {
            notes.push(format!(
                "- {t} {w}: events per stream vary from {a:.0} to {b:.0}"
            ));
        }
    }
}
