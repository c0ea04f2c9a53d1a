//! Cell formatting of the Markdown summary: numbers out of result JSON, milliseconds,
//! megabytes, ratios, error counts, pass/fail.
//!
//! Pure functions of their arguments: they must never read files.

use serde_json::Value;

/// The number at a dotted `path` (e.g. `latency_us.p50`) in `v`.
pub fn num(v: &Value, path: &str) -> Option<f64> {
    let mut cur = v;
    for key in path.split('.') {
        cur = cur.get(key)?;
    }
    cur.as_f64()
}

pub fn ms(us: Option<f64>) -> String {
    us.map_or_else(|| "–".into(), |v| format!("{:.3} ms", v / 1000.0))
}

pub fn plus_ms(us: Option<f64>) -> String {
    us.map_or_else(|| "–".into(), |v| format!("{:+.3} ms", v / 1000.0))
}

pub fn mb(kb: Option<f64>) -> String {
    kb.map_or_else(|| "–".into(), |v| format!("{:.1} MB", v / 1024.0))
}

pub fn cpu(us: Option<f64>) -> String {
    us.map_or_else(|| "–".into(), |v| format!("{v:.1} µs"))
}

pub fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

pub fn times(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".into(), |v| format!("{v:.2}×"))
}

pub fn errors_cell(run: Option<Value>) -> String {
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

pub fn pass(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "pass",
        Some(false) => "**FAIL**",
        None => "–",
    }
}

/// Start-up time in ms, one decimal.
pub fn startup_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.1} ms"))
}

/// Binary size in MB (MiB), one decimal.
pub fn binary_mb(b: Option<f64>) -> String {
    b.map_or_else(|| "–".into(), |b| format!("{:.1} MB", b / 1_048_576.0))
}
