//! What one limits decision costs: the whole reserve stage (scopes, counter keys, the
//! atomic check-and-reserve) and its settle, on the memory store and on Redis, measured
//! in a tight loop on one thread. Part of the benchmark (see BENCHMARKS.md); timing
//! belongs here, never in a test.
//!
//!   cargo run --release -p sluice --example limiter_cost [-- redis://127.0.0.1:6379]

// A benchmark program: a failed expectation is its report.
#![allow(clippy::expect_used)]

use sluice::auth::Principal;
use sluice::config::{Backend, Limits, LimitsConfig, Secret};
use sluice::limits::{self, Limiter, Request};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

fn principal(rpm: u64) -> Principal {
    Principal {
        id: format!("bench:{:x}", fastrand::u64(..)),
        name: "bench".to_owned(),
        team: Some("bench".to_owned()),
        models: Vec::new(),
        limits: Limits {
            rpm: Some(rpm),
            max_concurrent: Some(1_000_000),
            ..Limits::default()
        },
        expires_at_ms: None,
        revoked: false,
        hash: [0; 32],
    }
}

async fn run(limiter: Arc<Limiter>, config: &LimitsConfig, n: u32) -> (f64, f64) {
    let p = principal(u64::MAX / 4);
    let pricing = BTreeMap::new();
    let body = br#"{"model":"bench-model","messages":[{"role":"user","content":"hi"}]}"#;
    let mut reserve = 0f64;
    let mut settle = 0f64;
    for i in 0..n {
        let lease = format!("r{i}");
        let t = Instant::now();
        let admitted = limits::reserve(
            &limiter,
            config,
            Request {
                principal: Some(&p),
                route: "bench-model",
                body,
                targets: &[],
                pricing: &pricing,
                lease: &lease,
                stream: false,
                generates: true,
            },
        )
        .await
        .expect("admitted");
        reserve += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut record =
            sluice::record::Interaction::start(lease, "chat.completions", Instant::now());
        record.reservation = admitted.reservation.map(Box::new);
        limits::settle(&limiter, &mut record);
        settle += t.elapsed().as_secs_f64();
    }
    (reserve / f64::from(n) * 1e6, settle / f64::from(n) * 1e6)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let memory = LimitsConfig::default();
        let limiter = Arc::new(Limiter::new(&memory).expect("memory limiter"));
        run(Arc::clone(&limiter), &memory, 10_000).await;
        let (reserve, settle) = run(limiter, &memory, 200_000).await;
        println!("memory: reserve {reserve:.3} us, settle {settle:.3} us per request (rpm + max_concurrent on a key)");
        if let Some(url) = std::env::args().nth(1) {
            let redis = LimitsConfig {
                backend: Backend::Redis {
                    url: Secret::new(url.clone()),
                },
                ..LimitsConfig::default()
            };
            let limiter = Arc::new(Limiter::new(&redis).expect("redis limiter"));
            run(Arc::clone(&limiter), &redis, 200).await;
            let before = evalsha_calls(&url).await;
            let n = 5_000;
            let (reserve, _) = run(Arc::clone(&limiter), &redis, n).await;
            // Settles run in the background: let them land before counting.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            let after = evalsha_calls(&url).await;
            println!(
                "redis: reserve {reserve:.1} us per request; {:.2} scripts per request (one reserve + one settle)",
                (after - before) as f64 / f64::from(n)
            );
        }
    });
}

async fn evalsha_calls(url: &str) -> u64 {
    let client = redis::Client::open(url).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis connection");
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .expect("INFO");
    info.lines()
        .filter(|l| l.starts_with("cmdstat_evalsha:") || l.starts_with("cmdstat_eval:"))
        .filter_map(|l| {
            l.split("calls=")
                .nth(1)?
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}
