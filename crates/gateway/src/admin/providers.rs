//! `GET /admin/providers`: every provider's live health and every target's breaker,
//! latency and quota, as on-call needs them when a provider degrades.
//!
//! Must never show a provider's key, headers or base URL: names and numbers only.

use crate::resilience::now_ms;
use crate::state::Gateway;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use std::sync::Arc;

pub async fn list(State(gw): State<Arc<Gateway>>) -> Json<Value> {
    let snapshot = gw.snapshot();
    let now = now_ms();
    let breaker = &snapshot.breaker;
    let targets = snapshot.targets();
    let providers: Vec<Value> = snapshot
        .upstreams
        .iter()
        .map(|upstream| {
            let counts = upstream.health.counts();
            let own: Vec<Value> = targets
                .iter()
                .filter(|t| std::ptr::eq(t.upstream, upstream.as_ref()))
                .map(|t| {
                    let h = t.health;
                    let ms = |d: Option<std::time::Duration>| {
                        d.map(|d| (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0)
                    };
                    json!({
                        "model": t.model,
                        "breaker": {
                            "state": h.breaker.state(breaker, now).as_str(),
                            "times_opened": h.breaker.times_opened(),
                            "retry_after_ms": h.breaker.remaining_cooldown_ms(breaker, now),
                        },
                        "in_flight": h.in_flight(),
                        "latency_ms": ms(h.latency.average()),
                        "p95_ms": ms(h.latency.p95()),
                        "quota_exhausted": h.quota.is_exhausted(now),
                    })
                })
                .collect();
            let (checks, failed_checks) = upstream.health.check_counts();
            let health_check = upstream.health_check.map(|interval| {
                json!({
                    "interval_ms": interval.as_millis() as u64,
                    "up": !upstream.health.is_down(),
                    "checks": checks,
                    "failed": failed_checks,
                })
            });
            json!({
                "name": upstream.name,
                "kind": upstream.kind.as_str(),
                "health_check": health_check,
                "in_flight": counts.in_flight,
                "max_in_flight": upstream.max_in_flight,
                "broken_streams": counts.broken_streams,
                "targets": own,
            })
        })
        .collect();
    Json(json!({
        "breaker": {
            "enabled": breaker.enabled,
            "failure_rate": breaker.failure_rate,
            "min_requests": breaker.min_requests,
            "window_ms": breaker.window.as_millis() as u64,
            "cooldown_ms": breaker.cooldown.as_millis() as u64,
            "half_open_probes": breaker.half_open_probes,
        },
        "providers": providers,
    }))
}
