//! Prometheus metrics: one registry per gateway (in `Shared`, so it survives a reload and
//! two gateways in one process never mix), filled by the end stage from each finished
//! record and, at scrape time, from the live gauges (in flight, provider health, journal
//! queue, spool, losses). `GET /metrics` renders it in the text format.
//!
//! Must never take a label from what a client typed: the model label is the matched
//! `[[models]]` entry (a pattern stays a pattern), so a client cannot blow up the
//! number of series; unknown models count under `model="-"`.

use crate::record::Interaction;
use crate::state::Gateway;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use foldhash::HashMap;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};
use std::sync::Arc;

/// Latency buckets in seconds: from 1 ms to 5 min.
const SECONDS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

pub struct Metrics {
    recorder: PrometheusRecorder,
    /// The handles of the series every request touches, by their label values: made
    /// once, then each request is a few atomic adds. Through the macros, each request
    /// built, hashed and looked up every key anew, about 17,000 instructions
    /// (callgrind). Bounded: every label is a route, a provider, a status or a closed set.
    handles: std::sync::Mutex<Handles>,
}

#[derive(Default)]
struct Handles {
    requests: HashMap<String, Arc<RequestSeries>>,
    attempts: HashMap<String, Counter>,
    /// Reused to build a lookup key without allocating.
    scratch: String,
}

/// The series of one (endpoint, model, provider, status, outcome).
struct RequestSeries {
    requests: Counter,
    duration: Histogram,
    first_token: Histogram,
    tokens: [Counter; 3],
    cost: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let builder = PrometheusBuilder::new();
        let builder = builder
            .set_buckets_for_metric(Matcher::Suffix("seconds".to_owned()), &SECONDS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        Self {
            recorder: builder.build_recorder(),
            handles: std::sync::Mutex::default(),
        }
    }
}

/// The handle stored under `key`, registered with `recorder` by `make` the first time
/// (the key is copied only then).
fn cached<V: Clone>(
    map: &mut HashMap<String, V>,
    key: &str,
    recorder: &PrometheusRecorder,
    make: impl FnOnce() -> V,
) -> V {
    if let Some(handle) = map.get(key) {
        return handle.clone();
    }
    let handle = metrics::with_local_recorder(recorder, make);
    map.insert(key.to_owned(), handle.clone());
    handle
}

/// How often histogram observations are folded into their buckets (the exporter's own
/// default when it runs its upkeep itself).
pub const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

impl Metrics {
    /// Folds the histograms' waiting observations into their buckets, periodically, for
    /// as long as `metrics` lives. The recorder keeps every observation until an upkeep
    /// or a scrape drains it: without this task a gateway nobody scraped grew by about
    /// 16 bytes a request for good (6 MB per 10 s at 35,000 requests/s, measured), and a
    /// scrape every minute let a minute's worth pile up.
    pub fn spawn_upkeep(
        metrics: std::sync::Weak<Self>,
        every: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(metrics) = metrics.upgrade() else {
                    return;
                };
                metrics.upkeep();
            }
        })
    }

    fn upkeep(&self) {
        self.recorder.handle().run_upkeep();
    }

    /// Counts one finished interaction (the end stage calls it once per record).
    pub fn record(&self, record: &Interaction) {
        let model = record.route.as_deref().unwrap_or("-");
        let provider = record.provider.as_deref().unwrap_or("-");
        let outcome = record.outcome().as_str();
        let series = self.request_series(record.endpoint, model, provider, record.status, outcome);
        series.requests.increment(1);
        series.duration.record(record.latency.as_secs_f64());
        if record.stream
            && let Some(first) = record.first_byte
        {
            series.first_token.record(first.as_secs_f64());
        }
        if let Some(usage) = record.usage {
            let counts = [
                usage.input_tokens,
                usage.output_tokens,
                usage.cached_input_tokens,
            ];
            for (counter, n) in series.tokens.iter().zip(counts) {
                counter.increment(n);
            }
        }
        // Counters are whole numbers here: spend counts in millionths of a dollar.
        if let Some(usd) = record.cost_usd.filter(|c| c.is_finite() && *c > 0.0) {
            series.cost.increment((usd * 1e6).round() as u64);
        }
        for attempt in &record.attempt_log {
            self.attempts(&attempt.provider, attempt.error.unwrap_or("ok"))
                .increment(1);
        }
        self.rare(record, model);
    }

    /// The handles of one request's series, made on first use.
    fn request_series(
        &self,
        endpoint: &'static str,
        model: &str,
        provider: &str,
        status: u16,
        outcome: &'static str,
    ) -> Arc<RequestSeries> {
        let mut handles = self.handles.lock().unwrap_or_else(|p| p.into_inner());
        let Handles {
            requests, scratch, ..
        } = &mut *handles;
        scratch.clear();
        use std::fmt::Write as _;
        let _ = write!(
            scratch,
            "{endpoint}\u{1f}{model}\u{1f}{provider}\u{1f}{status}\u{1f}{outcome}"
        );
        cached(requests, scratch, &self.recorder, || {
            let (model, provider) = (model.to_owned(), provider.to_owned());
            let token = |kind: &'static str| {
                metrics::counter!(
                    "sluice_tokens_total",
                    "model" => model.clone(),
                    "provider" => provider.clone(),
                    "kind" => kind,
                )
            };
            Arc::new(RequestSeries {
                requests: metrics::counter!(
                    "sluice_requests_total",
                    "endpoint" => endpoint,
                    "model" => model.clone(),
                    "provider" => provider.clone(),
                    "status" => status.to_string(),
                    "outcome" => outcome,
                ),
                duration: metrics::histogram!(
                    "sluice_request_duration_seconds",
                    "endpoint" => endpoint,
                    "model" => model.clone(),
                    "provider" => provider.clone(),
                ),
                first_token: metrics::histogram!(
                    "sluice_time_to_first_token_seconds",
                    "model" => model.clone(),
                    "provider" => provider.clone(),
                ),
                tokens: [token("input"), token("output"), token("cached")],
                cost: metrics::counter!(
                    "sluice_cost_microdollars_total",
                    "model" => model.clone(),
                    "provider" => provider.clone(),
                ),
            })
        })
    }

    /// `sluice_upstream_attempts_total{provider,result}`, made on first use.
    fn attempts(&self, provider: &str, result: &'static str) -> Counter {
        let mut handles = self.handles.lock().unwrap_or_else(|p| p.into_inner());
        let Handles {
            attempts, scratch, ..
        } = &mut *handles;
        scratch.clear();
        scratch.push_str(provider);
        scratch.push('\u{1f}');
        scratch.push_str(result);
        cached(attempts, scratch, &self.recorder, || {
            metrics::counter!(
                "sluice_upstream_attempts_total",
                "provider" => provider.to_owned(),
                "result" => result,
            )
        })
    }

    /// The series only some requests touch (hedges, failovers, the guard), through the
    /// macros.
    fn rare(&self, record: &Interaction, model: &str) {
        metrics::with_local_recorder(&self.recorder, || {
            let hedges = record
                .attempt_log
                .iter()
                .filter(|a| a.error == Some("hedge_cancelled"))
                .count();
            if hedges > 0 {
                metrics::counter!("sluice_hedges_total", "model" => model.to_owned())
                    .increment(hedges as u64);
            }
            if record.attempt_log.len() > 1 {
                metrics::counter!("sluice_failovers_total", "model" => model.to_owned())
                    .increment(record.attempt_log.len() as u64 - 1);
            }
            // Categories and actions are closed sets; detector names stay in the journal.
            for f in &record.guard {
                metrics::counter!(
                    "sluice_guard_findings_total",
                    "direction" => f.direction.as_str(),
                    "category" => f.category.clone(),
                    "action" => f.action.clone(),
                )
                .increment(u64::from(f.count));
            }
            if let Some(verdict) = record.hook {
                metrics::counter!("sluice_guard_hook_total", "verdict" => verdict).increment(1);
            }
        });
    }

    /// The text exposition, with the live gauges set first.
    pub fn render(&self, gw: &Gateway) -> String {
        let shared = &gw.shared;
        let snapshot = gw.snapshot();
        metrics::with_local_recorder(&self.recorder, || {
            metrics::gauge!("sluice_requests_in_flight").set(shared.requests_in_flight() as f64);
            limiter_gauges(&shared.limiter);
            for upstream in &snapshot.upstreams {
                let counts = upstream.health.counts();
                let name = upstream.name.clone();
                metrics::gauge!("sluice_provider_in_flight", "provider" => name.clone())
                    .set(counts.in_flight as f64);
                metrics::gauge!("sluice_provider_broken_streams", "provider" => name.clone())
                    .set(counts.broken_streams as f64);
                if upstream.health_check.is_some() {
                    metrics::gauge!("sluice_provider_up", "provider" => name)
                        .set(f64::from(u8::from(!upstream.is_down())));
                }
            }
            let now = crate::resilience::now_ms();
            for t in snapshot.targets() {
                let labels = [
                    ("provider", t.upstream.name.clone()),
                    ("model", t.model.to_owned()),
                ];
                let breaker = &t.health.breaker;
                metrics::gauge!("sluice_breaker_state", &labels)
                    .set(f64::from(breaker.state(&snapshot.breaker, now).gauge()));
                metrics::gauge!("sluice_breaker_opened", &labels)
                    .set(breaker.times_opened() as f64);
                metrics::gauge!("sluice_target_in_flight", &labels)
                    .set(t.health.in_flight() as f64);
                metrics::gauge!("sluice_target_quota_exhausted", &labels)
                    .set(f64::from(u8::from(t.health.quota.is_exhausted(now))));
                if let Some(avg) = t.health.latency.average() {
                    metrics::gauge!("sluice_target_latency_seconds", &labels)
                        .set(avg.as_secs_f64());
                }
            }
            metrics::gauge!("sluice_end_queue_dropped").set(shared.finisher.dropped() as f64);
            metrics::gauge!("sluice_log_lines_dropped").set(super::dropped_lines() as f64);
            if let Some(journal) = &shared.journal {
                let c = journal.counters();
                let load = |v: &std::sync::atomic::AtomicU64| {
                    v.load(std::sync::atomic::Ordering::Relaxed) as f64
                };
                metrics::gauge!("sluice_journal_written").set(load(&c.written));
                metrics::gauge!("sluice_journal_spooled").set(load(&c.spooled));
                metrics::gauge!("sluice_journal_replayed").set(load(&c.replayed));
                // What waits in the spools now: spooled and not yet replayed.
                metrics::gauge!("sluice_journal_spool_backlog")
                    .set((load(&c.spooled) - load(&c.replayed)).max(0.0));
                metrics::gauge!("sluice_journal_lost").set(load(&c.lost));
                metrics::gauge!("sluice_journal_queue_depth").set(journal.queue_depth() as f64);
            }
        });
        self.recorder.handle().render()
    }
}

/// `GET /metrics`.
pub async fn scrape(State(gw): State<Arc<Gateway>>) -> Response {
    let body = gw.shared.metrics.render(&gw);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// The limiter's counts, read at scrape time.
fn limiter_gauges(limiter: &crate::limits::Limiter) {
    use std::sync::atomic::Ordering::Relaxed;
    let stats = &limiter.stats;
    for (i, limit) in ["rpm", "tpm", "concurrency", "budget"].iter().enumerate() {
        metrics::counter!("sluice_limit_rejections_total", "limit" => *limit)
            .absolute(stats.refused[i].load(Relaxed));
    }
    if limiter.is_shared() {
        metrics::gauge!("sluice_limits_backend_up").set(if limiter.backend_up() {
            1.0
        } else {
            0.0
        });
        metrics::counter!("sluice_limits_backend_errors_total")
            .absolute(stats.backend_errors.load(Relaxed));
        metrics::counter!("sluice_limits_local_fallback_total")
            .absolute(stats.local_fallbacks.load(Relaxed));
        metrics::counter!("sluice_limits_backend_denied_total")
            .absolute(stats.denied_backend_down.load(Relaxed));
    }
}

#[cfg(test)]
mod tests;
