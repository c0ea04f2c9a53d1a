//! The translation table and the "Other figures" list: many open streams, per-gateway
//! RSS and throughput, start-up, binary size, the optional oha cross-check.
//!
//! It must never add pass/fail judgements; those belong in `targets.rs`.

use super::fmt::{binary_mb, mb, ms, num, startup_ms};
use super::{Figures, GATEWAYS, Results};
use serde_json::Value;
use std::fmt::Write as _;

/// Pass-through (`sluice`, OpenAI to an OpenAI-format mock) against translation
/// (`sluice-tr`, OpenAI ingress to the mock's Anthropic endpoint), same workloads.
pub fn translation(r: &Results, md: &mut String) {
    if r.run("sluice-tr", "seq-c1").is_none() {
        return;
    }
    let rows = [
        ("p50 at c=1 (non-stream)", "seq-c1", "latency_us.p50"),
        (
            "first-token p50 at 100 streams/s",
            "streams-100",
            "ttft_us.p50",
        ),
        (
            "full-stream p50 at 100 streams/s",
            "streams-100",
            "latency_us.p50",
        ),
        (
            "CPU per request (64 conns, non-stream)",
            "max-c64",
            "proc.gateway_cpu_us_per_req",
        ),
        (
            "CPU per stream (100 streams/s)",
            "streams-100",
            "proc.gateway_cpu_us_per_req",
        ),
    ];
    let _ = writeln!(
        md,
        "## Translation (OpenAI ingress to an Anthropic provider) against pass-through\n\n\
         | | pass-through | translated | translated − pass-through |\n|---|---|---|---|"
    );
    for (label, workload, path) in rows {
        let (a, b) = (
            r.num("sluice", workload, path),
            r.num("sluice-tr", workload, path),
        );
        let diff = a
            .zip(b)
            .map(|(a, b)| format!("{:+.1} µs", b - a))
            .unwrap_or_else(|| "–".into());
        let fmt = |v: Option<f64>| v.map_or_else(|| "–".into(), |v| format!("{v:.1} µs"));
        let _ = writeln!(md, "| {label} | {} | {} | {diff} |", fmt(a), fmt(b));
    }
    let _ = writeln!(
        md,
        "\nBoth go through the same Sluice process to the same mock; the mock's Anthropic and \
         OpenAI stream generators differ slightly in cost, which lands on CPU 0, not on Sluice.\n"
    );
}

/// The "Other figures" section.
pub fn write_other(md: &mut String, r: &Results, f: &Figures) {
    let _ = writeln!(md, "## Other figures\n");
    write_hold(md, r, f);
    for gw in GATEWAYS {
        let _ = writeln!(
            md,
            "- {gw}: idle RSS {}, peak RSS {}, max throughput {} req/s at 64 connections \
             (direct: {} req/s; usually capped by CPU 0, see CPU per request).",
            mb(r.meta_num(&format!("gateways.{gw}.idle_rss_kb"))),
            mb(r.meta_num(&format!("gateways.{gw}.peak_rss_kb"))),
            r.num(gw, "max-c64", "achieved_rps")
                .map_or_else(|| "–".into(), |v| format!("{v:.0}")),
            r.num("direct", "max-c64", "achieved_rps")
                .map_or_else(|| "–".into(), |v| format!("{v:.0}")),
        );
    }
    let _ = writeln!(
        md,
        "- Sluice start-up (spawn to first 2xx on /healthz): {}; release binary: {}; shipped binary (`--profile dist`): {}.",
        startup_ms(f.startup),
        binary_mb(f.bin),
        binary_mb(f.dist),
    );
    write_oha(md, r);
    md.push('\n');
}

/// The many-open-streams line.
fn write_hold(md: &mut String, r: &Results, f: &Figures) {
    if let Some(h) = &f.hold {
        let _ = writeln!(
            md,
            "- Many open streams through Sluice: {} requested, {} open after {} ms, {} still open \
             at the end of a {} s hold; RSS {} when all were open, {} at most during the hold; \
             completed {} / errors {}{}.",
            num(h, "hold.streams_requested").unwrap_or(0.0),
            num(h, "hold.opened").unwrap_or(0.0),
            num(h, "hold.time_to_all_open_ms").unwrap_or(0.0),
            num(h, "hold.still_open_at_hold_end").unwrap_or(0.0),
            num(h, "hold.hold_s").unwrap_or(0.0),
            mb(num(h, "hold.gateway_rss_at_all_open_kb")),
            mb(f.hold_rss),
            num(h, "ok").unwrap_or(0.0),
            num(h, "error_total").unwrap_or(0.0),
            r.meta
                .get("hold_note")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .map_or(String::new(), |n| format!(" ({n})")),
        );
    } else {
        let _ = writeln!(md, "- Many open streams: not run.");
    }
}

/// The oha cross-check line.
fn write_oha(md: &mut String, r: &Results) {
    let mut oha = Vec::new();
    for t in ["direct", "sluice"] {
        if let Some(v) = r.load(&format!("oha-{t}.json")) {
            let p50 = num(&v, "latencyPercentiles.p50").map(|s| s * 1e6);
            oha.push(format!("{t} p50 {}", ms(p50)));
        }
    }
    if oha.is_empty() {
        let _ = writeln!(md, "- oha cross-check (c=1): skipped (oha not on PATH).");
    } else {
        let _ = writeln!(md, "- oha cross-check (c=1): {}.", oha.join(", "));
    }
}
