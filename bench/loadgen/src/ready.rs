//! `wait-ready`: polls a URL with GET until it answers 2xx and prints how long that took
//! (the gateway's start-up time in `bench/run.sh`).
//!
//! It must never send load; one request at a time, `--interval` apart.

use crate::cli::WaitReadyArgs;
use serde_json::json;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub async fn wait_ready(a: WaitReadyArgs) -> ExitCode {
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
