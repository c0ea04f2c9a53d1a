//! Turns a results directory written by `bench/run.sh` into the Markdown summary.
//!
//! Files read (all optional; a missing figure prints as "–"):
//! - `<target>-<workload>.json`: one loadgen result per target (`direct`, `nginx`,
//!   `sluice`) and workload (`seq-c1`, `rate-<R>`, `streams-<R>`, `max-c<N>`);
//! - `sluice-hold.json`: the many-open-streams run;
//! - `sluice-ready.json`: start-up time (`wait-ready` output);
//! - `meta.json`: figures the script measured itself (RSS, binary size, versions);
//! - `oha-<target>.json`: the optional oha cross-check.
//!
//! This file loads the results and puts the sections in order. The report must never
//! change shape by accident: `bench/run.sh` publishes it as is, and its output is checked
//! byte for byte against earlier results directories when this code is refactored.

mod figures;
mod fmt;
mod headline;
mod runs;
mod targets;

use fmt::num;
use serde_json::Value;
use std::path::Path;

const TARGETS: [&str; 3] = ["direct", "nginx", "sluice"];
const GATEWAYS: [&str; 2] = ["nginx", "sluice"];

const P50: &str = "latency_us.p50";
const P99: &str = "latency_us.p99";
const TTFT: &str = "ttft_us.p50";
const CPU_PATH: &str = "proc.gateway_cpu_us_per_req";

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

/// Sluice figures that more than one section shows.
struct Figures {
    hold: Option<Value>,
    hold_n: Option<f64>,
    hold_rss: Option<f64>,
    hold_rss_10k: Option<f64>,
    idle: Option<f64>,
    startup: Option<f64>,
    bin: Option<f64>,
    /// The shipped build's size (`--profile dist`), when run.sh found one as new.
    dist: Option<f64>,
    peak: Option<f64>,
}

impl Figures {
    fn of(r: &Results) -> Self {
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
        let dist = r.meta_num("dist_binary_size_bytes");
        let peak = r.meta_num("gateways.sluice.peak_rss_kb");
        Self {
            hold,
            hold_n,
            hold_rss,
            hold_rss_10k,
            idle,
            startup,
            bin,
            dist,
            peak,
        }
    }
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
    headline::write_intro(&mut md, &r);
    let q = headline::Ratios::of(&r);
    headline::write(&mut md, &r, &q);
    let f = Figures::of(&r);
    targets::write(&mut md, &r, &q, &f);
    figures::translation(&r, &mut md);
    figures::write_other(&mut md, &r, &f);
    runs::write(&mut md, &r, dir);
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

    #[test]
    fn the_size_target_judges_the_shipped_build_not_the_release_one() {
        let render_meta = |name: &str, meta: &str| {
            let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join("meta.json"), meta);
            let md = render(&dir);
            let _ = std::fs::remove_dir_all(&dir);
            md.unwrap_or_default()
        };
        let row = |md: &str| {
            md.lines()
                .find(|l| l.contains("--profile dist`) < 25 MB"))
                .map(str::to_owned)
                .unwrap_or_default()
        };
        // 31.9 MB of release build, 19.4 MB shipped: the row passes on the shipped one.
        let md = render_meta(
            "loadgen-report3",
            r#"{"binary_size_bytes": 33450000, "dist_binary_size_bytes": 20346536}"#,
        );
        assert!(
            row(&md).contains("19.4 MB") && row(&md).ends_with("pass |"),
            "{md}"
        );
        // No shipped build as new as the binary measured: nothing to judge.
        let md = render_meta("loadgen-report4", r#"{"binary_size_bytes": 33450000}"#);
        assert!(
            row(&md).contains("not built") && !row(&md).contains("FAIL"),
            "{md}"
        );
    }
}
