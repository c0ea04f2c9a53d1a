//! Turns a results directory written by `bench/run.sh` into the Markdown summary.
//!
//! Files read (all optional; a missing figure prints as "–"):
//! - `<target>-<workload>.json`: one loadgen result per target (`direct`, `nginx`,
//!   `sluice`) and workload (`seq-c1`, `rate-<R>`, `streams-<R>`, `max-c<N>`);
//! - `sluice-hold.json`: the many-open-streams run;
//! - `sluice-ready.json`: start-up time (`wait-ready` output);
//! - `meta.json`: figures the script measured itself (RSS, binary size, versions);
//! - `oha-<target>.json`: the optional oha cross-check.

use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

const TARGETS: [&str; 3] = ["direct", "nginx", "sluice"];
const GATEWAYS: [&str; 2] = ["nginx", "sluice"];

struct Results {
    dir: std::path::PathBuf,
    meta: Value,
}

impl Results {
    fn load(&self, name: &str) -> Option<Value> {
        let text = std::fs::read_to_string(self.dir.join(name)).ok()?;
        // Tolerate status lines before the JSON object.
        let start = text.find('{')?;
        serde_json::from_str(text[start..].trim()).ok()
    }

    fn run(&self, target: &str, workload: &str) -> Option<Value> {
        self.load(&format!("{target}-{workload}.json"))
    }

    fn num(&self, target: &str, workload: &str, path: &str) -> Option<f64> {
        num(&self.run(target, workload)?, path)
    }

    /// Gateway percentile minus direct percentile of the same workload, in µs.
    fn added(&self, gw: &str, workload: &str, path: &str) -> Option<f64> {
        Some(self.num(gw, workload, path)? - self.num("direct", workload, path)?)
    }

    fn meta_num(&self, path: &str) -> Option<f64> {
        num(&self.meta, path)
    }
}

/// Pass-through (`sluice`, OpenAI to an OpenAI-format mock) against translation
/// (`sluice-tr`, OpenAI ingress to the mock's Anthropic endpoint), same workloads.
fn translation(r: &Results, md: &mut String) {
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

fn num(v: &Value, path: &str) -> Option<f64> {
    let mut cur = v;
    for key in path.split('.') {
        cur = cur.get(key)?;
    }
    cur.as_f64()
}

fn ms(us: Option<f64>) -> String {
    us.map_or_else(|| "–".into(), |v| format!("{:.3} ms", v / 1000.0))
}

fn plus_ms(us: Option<f64>) -> String {
    us.map_or_else(|| "–".into(), |v| format!("{:+.3} ms", v / 1000.0))
}

fn mb(kb: Option<f64>) -> String {
    kb.map_or_else(|| "–".into(), |v| format!("{:.1} MB", v / 1024.0))
}

fn cpu(us: Option<f64>) -> String {
    us.map_or_else(|| "–".into(), |v| format!("{v:.1} µs"))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn times(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".into(), |v| format!("{v:.2}×"))
}

fn errors_cell(run: Option<Value>) -> String {
    let Some(run) = run else {
        return "–".into();
    };
    let errs = num(&run, "error_total").unwrap_or(0.0);
    let sent = num(&run, "sent").unwrap_or(0.0);
    if errs == 0.0 {
        format!("0 of {sent:.0}")
    } else {
        format!(
            "{errs:.0} of {sent:.0} ({:.1} %)",
            errs / sent.max(1.0) * 100.0
        )
    }
}

fn pass(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "pass",
        Some(false) => "**FAIL**",
        None => "–",
    }
}

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

pub fn render(dir: &Path) -> Result<String, String> {
    if !dir.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    let meta_text = std::fs::read_to_string(dir.join("meta.json")).unwrap_or_else(|_| "{}".into());
    let meta: Value = serde_json::from_str(&meta_text).map_err(|e| format!("meta.json: {e}"))?;
    let r = Results {
        dir: dir.to_path_buf(),
        meta,
    };
    let mut md = String::new();
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

    // Headline.
    let p50_c1 = "latency_us.p50";
    let p99 = "latency_us.p99";
    let ttft = "ttft_us.p50";
    let cpu_path = "proc.gateway_cpu_us_per_req";
    let _ = writeln!(
        md,
        "## Headline (added = gateway − direct, same workload, same run)\n\n\
         | | added p50 at c=1 | added p99 at 500 req/s | added first-token p50 at 100 streams/s | CPU per request (64 conns) | peak RSS | errors at 1,000 req/s | errors at 300 streams/s |\n\
         |---|---|---|---|---|---|---|---|"
    );
    let _ = writeln!(
        md,
        "| direct (mock), absolute | {} | {} | {} | – | – | {} | {} |",
        ms(r.num("direct", "seq-c1", p50_c1)),
        ms(r.num("direct", "rate-500", p99)),
        ms(r.num("direct", "streams-100", ttft)),
        errors_cell(r.run("direct", "rate-1000")),
        errors_cell(r.run("direct", "streams-300")),
    );
    for gw in GATEWAYS {
        let _ = writeln!(
            md,
            "| {gw} | {} | {} | {} | {} | {} | {} | {} |",
            plus_ms(r.added(gw, "seq-c1", p50_c1)),
            plus_ms(r.added(gw, "rate-500", p99)),
            plus_ms(r.added(gw, "streams-100", ttft)),
            cpu(r.num(gw, "max-c64", cpu_path)),
            mb(r.meta_num(&format!("gateways.{gw}.peak_rss_kb"))),
            errors_cell(r.run(gw, "rate-1000")),
            errors_cell(r.run(gw, "streams-300")),
        );
    }
    let q_p50 = ratio(
        r.added("sluice", "seq-c1", p50_c1),
        r.added("nginx", "seq-c1", p50_c1),
    );
    let q_p99 = ratio(
        r.added("sluice", "rate-500", p99),
        r.added("nginx", "rate-500", p99),
    );
    let q_ttft = ratio(
        r.added("sluice", "streams-100", ttft),
        r.added("nginx", "streams-100", ttft),
    );
    let q_cpu = ratio(
        r.num("sluice", "max-c64", cpu_path),
        r.num("nginx", "max-c64", cpu_path),
    );
    let q_rss = ratio(
        r.meta_num("gateways.sluice.peak_rss_kb"),
        r.meta_num("gateways.nginx.peak_rss_kb"),
    );
    let _ = writeln!(
        md,
        "| Sluice ÷ nginx | {} | {} | {} | {} | {} | | |\n",
        times(q_p50),
        times(q_p99),
        times(q_ttft),
        times(q_cpu),
        times(q_rss)
    );
    let _ = writeln!(
        md,
        "p99 at fixed rates below about 1 ms is within this VM's scheduler jitter; the c=1 p50 \
         and CPU per request are the precise figures. A ratio is n/a when nginx's added value \
         is not positive.\n"
    );

    // Targets.
    let err_free = |t: &str, w: &str| {
        r.run(t, w).map(|v| {
            num(&v, "error_total").unwrap_or(1.0) == 0.0 && num(&v, "sent").unwrap_or(0.0) > 0.0
        })
    };
    let hold = r.load("sluice-hold.json");
    let hold_n = hold.as_ref().and_then(|h| num(h, "hold.opened"));
    let hold_rss = hold
        .as_ref()
        .and_then(|h| num(h, "hold.gateway_rss_max_during_hold_kb"));
    let idle = r.meta_num("gateways.sluice.idle_rss_kb");
    let hold_rss_10k = match (hold_rss, idle, hold_n) {
        (Some(rss), Some(idle), Some(n)) if n > 0.0 => Some(idle + (rss - idle) * 10_000.0 / n),
        _ => None,
    };
    let startup = r
        .load("sluice-ready.json")
        .and_then(|v| num(&v, "elapsed_ms"));
    let bin = r.meta_num("binary_size_bytes");
    let peak = r.meta_num("gateways.sluice.peak_rss_kb");
    let _ = writeln!(
        md,
        "## Sluice against its targets\n\n| target | measured | |\n|---|---|---|"
    );
    let rows: Vec<(String, String, Option<bool>)> = vec![
        (
            "added p50 at c=1 ≤ 1.3× nginx's".into(),
            times(q_p50),
            q_p50.map(|q| q <= 1.3),
        ),
        (
            "added first-token p50 ≤ 1.5× nginx's".into(),
            times(q_ttft),
            q_ttft.map(|q| q <= 1.5),
        ),
        (
            "CPU per request ≤ 2× nginx's".into(),
            format!(
                "{} ({})",
                times(q_cpu),
                cpu(r.num("sluice", "max-c64", cpu_path))
            ),
            q_cpu.map(|q| q <= 2.0),
        ),
        (
            "1,000 req/s without errors".into(),
            errors_cell(r.run("sluice", "rate-1000")),
            err_free("sluice", "rate-1000"),
        ),
        (
            "300 streams/s without errors".into(),
            errors_cell(r.run("sluice", "streams-300")),
            err_free("sluice", "streams-300"),
        ),
        (
            "peak RSS < 60 MB".into(),
            mb(peak),
            peak.map(|v| v < 60.0 * 1024.0),
        ),
        (
            "idle RSS < 30 MB".into(),
            mb(idle),
            idle.map(|v| v < 30.0 * 1024.0),
        ),
        (
            "10,000 open streams < 200 MB".into(),
            match (hold_rss, hold_n) {
                (Some(_), Some(n)) if (n - 10_000.0).abs() < 0.5 => mb(hold_rss),
                (Some(_), Some(n)) => format!(
                    "{} with {n:.0} streams, {} extrapolated to 10,000",
                    mb(hold_rss),
                    mb(hold_rss_10k)
                ),
                _ => "–".into(),
            },
            hold_rss_10k.map(|v| v < 200.0 * 1024.0),
        ),
        (
            "cold start < 50 ms".into(),
            startup.map_or_else(|| "–".into(), |v| format!("{v:.1} ms")),
            startup.map(|v| v < 50.0),
        ),
        (
            "release binary < 25 MB".into(),
            bin.map_or_else(|| "–".into(), |b| format!("{:.1} MB", b / 1_048_576.0)),
            bin.map(|b| b < 25.0 * 1_048_576.0),
        ),
    ];
    for (name, measured, ok) in rows {
        let _ = writeln!(md, "| {name} | {measured} | {} |", pass(ok));
    }
    md.push('\n');

    // Other figures.
    translation(&r, &mut md);
    let _ = writeln!(md, "## Other figures\n");
    if let Some(h) = &hold {
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
            mb(hold_rss),
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
        "- Sluice start-up (spawn to first 2xx on /healthz): {}; release binary: {}.",
        startup.map_or_else(|| "–".into(), |v| format!("{v:.1} ms")),
        bin.map_or_else(|| "–".into(), |b| format!("{:.1} MB", b / 1_048_576.0)),
    );
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
    md.push('\n');

    // All runs.
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
            let f = |p: &str| num(&v, p);
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
                cpu(f(cpu_path)),
                f("proc.gateway_cpu_pct_of_core").map_or_else(|| "–".into(), |v| format!("{v:.0}")),
                f("proc.noise_pct").map_or_else(|| "–".into(), |v| format!("{v:.1}")),
            );
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
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_empty_dir() {
        let dir = std::env::temp_dir().join(format!("loadgen-report-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let md = render(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        let Ok(md) = md else {
            panic!("render failed");
        };
        assert!(md.contains("## Headline"));
    }

    #[test]
    fn added_latency_and_ratio() {
        let dir = std::env::temp_dir().join(format!("loadgen-report2-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let w = |n: &str, v: &str| {
            let _ = std::fs::write(dir.join(n), v);
        };
        w(
            "direct-seq-c1.json",
            r#"{"sent":10,"error_total":0,"latency_us":{"p50":100.0}}"#,
        );
        w(
            "nginx-seq-c1.json",
            r#"{"sent":10,"error_total":0,"latency_us":{"p50":200.0}}"#,
        );
        w(
            "sluice-seq-c1.json",
            r#"{"sent":10,"error_total":0,"latency_us":{"p50":220.0}}"#,
        );
        let md = render(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        let Ok(md) = md else {
            panic!("render failed");
        };
        assert!(md.contains("+0.100 ms"), "{md}");
        assert!(md.contains("+0.120 ms"), "{md}");
        assert!(md.contains("1.20×"), "{md}");
    }
}
