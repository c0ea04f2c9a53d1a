//! Traces: one server span per client request and one client span per upstream attempt,
//! with the OpenTelemetry GenAI semantic conventions (`gen_ai.request.model`,
//! `gen_ai.usage.input_tokens`, ...), continuing the client's trace when it sent a W3C
//! `traceparent`. Spans are built from the finished record by the end stage and posted
//! as OTLP/HTTP JSON (`{otlp_endpoint}/v1/traces`) in batches by a background task.
//!
//! Our own small exporter rather than the opentelemetry crates: spans are made once, from
//! a finished record, so no live span machinery is needed, and the release binary
//! (21.8 MB with the store and metrics, measured) has little room under its 25 MB limit.
//!
//! Must never block the end stage: a full queue or a collector that fails drops spans
//! and counts them (`dropped()`); traces are diagnostics, the journal is the record.

use crate::config::TelemetryConfig;
use crate::record::Interaction;
use crate::trace_context::TraceContext;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};
use tokio::sync::mpsc;

const QUEUE: usize = 4096;
const BATCH: usize = 256;
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// The span exporter.
#[derive(Debug)]
pub struct Tracer {
    queue: mpsc::Sender<Vec<Value>>,
    dropped: Arc<AtomicU64>,
}

impl Tracer {
    /// Starts the exporter when an endpoint is configured.
    pub fn start(config: &TelemetryConfig) -> Option<Self> {
        let endpoint = format!("{}/v1/traces", config.otlp_endpoint.as_deref()?);
        let (queue, rx) = mpsc::channel(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        tokio::spawn(export(
            endpoint,
            config.service_name.clone(),
            rx,
            Arc::clone(&dropped),
        ));
        Some(Self { queue, dropped })
    }

    /// Builds the spans of one finished interaction and queues them.
    pub fn record(&self, record: &Interaction) {
        let Some(trace) = record.trace else { return };
        if self.queue.try_send(spans(record, trace)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Span batches that could not be queued or delivered.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

fn spans(record: &Interaction, trace: TraceContext) -> Vec<Value> {
    let trace_id = hex::encode(trace.trace_id);
    let request_span = hex::encode(fastrand::u64(1..).to_be_bytes());
    let start = nanos(
        record
            .started_at
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default(),
    );
    let operation = if record.endpoint == "embeddings" {
        "embeddings"
    } else {
        "chat"
    };
    let usage = record.usage.unwrap_or_default();
    let mut attributes = vec![
        attr("gen_ai.operation.name", operation),
        attr("gen_ai.request.model", &record.model),
        attr("sluice.endpoint", record.endpoint),
        attr("sluice.request_id", &record.request_id),
        attr("sluice.outcome", record.outcome().as_str()),
        int("http.response.status_code", u64::from(record.status)),
        int("gen_ai.usage.input_tokens", usage.input_tokens),
        int("gen_ai.usage.output_tokens", usage.output_tokens),
    ];
    if let Some(model) = &record.upstream_model {
        attributes.push(attr("gen_ai.response.model", model));
    }
    if let Some(provider) = &record.provider {
        attributes.push(attr("gen_ai.provider.name", provider));
    }
    let failed = record.outcome() != crate::record::Outcome::Ok;
    let mut root = json!({
        "traceId": trace_id,
        "spanId": request_span,
        "name": format!("{operation} {}", record.model),
        "kind": 2,
        "startTimeUnixNano": start.to_string(),
        "endTimeUnixNano": (start + nanos(record.latency)).to_string(),
        "attributes": attributes,
        "status": { "code": if failed { 2 } else { 1 } },
    });
    if let Some(parent) = trace.parent {
        root["parentSpanId"] = Value::String(hex::encode(parent));
    }
    let mut out = vec![root];
    for attempt in &record.attempt_log {
        let begin = start + nanos(attempt.started.saturating_duration_since(record.started()));
        let mut attributes = vec![
            attr("gen_ai.operation.name", operation),
            attr("gen_ai.provider.name", &attempt.provider),
            attr("gen_ai.request.model", &attempt.model),
            int("http.response.status_code", u64::from(attempt.status)),
        ];
        if let Some(error) = attempt.error {
            attributes.push(attr("error.type", error));
        }
        out.push(json!({
            "traceId": trace_id,
            "spanId": hex::encode(attempt.span_id),
            "parentSpanId": request_span,
            "name": format!("{operation} {}", attempt.model),
            "kind": 3,
            "startTimeUnixNano": begin.to_string(),
            "endTimeUnixNano": (begin + nanos(attempt.latency)).to_string(),
            "attributes": attributes,
            "status": { "code": if attempt.error.is_some() { 2 } else { 1 } },
        }));
    }
    out
}

fn attr(key: &str, value: &str) -> Value {
    json!({ "key": key, "value": { "stringValue": value } })
}

fn int(key: &str, value: u64) -> Value {
    json!({ "key": key, "value": { "intValue": value.to_string() } })
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

async fn export(
    endpoint: String,
    service: String,
    mut rx: mpsc::Receiver<Vec<Value>>,
    dropped: Arc<AtomicU64>,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()
        .unwrap_or_default();
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(BATCH);
    loop {
        let received = tokio::time::timeout(FLUSH_EVERY, rx.recv_many(&mut batch, BATCH)).await;
        if !batch.is_empty() {
            let n = batch.len() as u64;
            let spans: Vec<Value> = batch.drain(..).flatten().collect();
            let body = json!({
                "resourceSpans": [{
                    "resource": { "attributes": [attr("service.name", &service)] },
                    "scopeSpans": [{ "scope": { "name": "sluice" }, "spans": spans }],
                }]
            });
            let sent = client
                .post(&endpoint)
                .header(axum::http::header::CONTENT_TYPE, "application/json")
                .body(body.to_string())
                .send()
                .await;
            if !sent.is_ok_and(|r| r.status().is_success()) {
                dropped.fetch_add(n, Ordering::Relaxed);
                tracing::debug!("trace export failed; spans dropped");
            }
        }
        if matches!(received, Ok(0)) {
            return;
        }
    }
}
