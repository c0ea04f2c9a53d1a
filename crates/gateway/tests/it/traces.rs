//! Traces against a small in-test OTLP/HTTP receiver: a server span per request that
//! continues the client's `traceparent`, a client span per upstream attempt, GenAI
//! attributes.

use crate::support::{chat, start_with};
use axum::Router;
use axum::routing::post;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Received = Arc<Mutex<Vec<Value>>>;

async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let sink = Arc::clone(&received);
    let app = Router::new().route(
        "/v1/traces",
        post(move |body: axum::Json<Value>| {
            let sink = Arc::clone(&sink);
            async move {
                sink.lock().expect("lock").push(body.0);
                "{}"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), received)
}

fn spans(received: &Received) -> Vec<Value> {
    received
        .lock()
        .expect("lock")
        .iter()
        .flat_map(|body| {
            body["resourceSpans"][0]["scopeSpans"][0]["spans"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

fn attribute<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["value"])
}

#[tokio::test]
async fn spans_continue_the_client_trace_with_one_child_per_attempt() {
    let (endpoint, received) = receiver().await;
    let h = start_with(&format!(
        "{}\n[telemetry]\notlp_endpoint = \"{endpoint}\"\nservice_name = \"sluice-test\"\n",
        crate::support::DEFAULT_CONFIG
    ))
    .await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let response = h
        .client
        .post(h.url("/v1/chat/completions"))
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .json(&chat("failover", "hi"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    response.bytes().await.expect("body");
    h.flush().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while spans(&received).len() < 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let all = spans(&received);
    assert_eq!(all.len(), 3, "request + 2 attempts: {all:?}");
    let body = received.lock().expect("lock")[0].clone();
    assert_eq!(
        body["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"],
        "sluice-test"
    );
    let root = all.iter().find(|s| s["kind"] == 2).expect("server span");
    assert_eq!(root["traceId"], trace);
    assert_eq!(root["parentSpanId"], "00f067aa0ba902b7");
    assert_eq!(root["name"], "chat failover");
    assert_eq!(
        attribute(root, "gen_ai.request.model").and_then(|v| v["stringValue"].as_str()),
        Some("failover")
    );
    assert!(attribute(root, "gen_ai.usage.input_tokens").is_some());
    let attempts: Vec<&Value> = all.iter().filter(|s| s["kind"] == 3).collect();
    assert_eq!(attempts.len(), 2);
    for attempt in &attempts {
        assert_eq!(attempt["traceId"], trace);
        assert_eq!(attempt["parentSpanId"], root["spanId"]);
    }
    let failed = attempts
        .iter()
        .find(|s| {
            attribute(s, "gen_ai.provider.name").and_then(|v| v["stringValue"].as_str())
                == Some("dead")
        })
        .expect("the dead provider's attempt");
    assert_eq!(
        attribute(failed, "error.type").and_then(|v| v["stringValue"].as_str()),
        Some("upstream_connect")
    );
    assert_eq!(failed["status"]["code"], 2);
}
