//! `GET /metrics`: the Prometheus text format, filled from finished interactions and
//! from live gauges; labels never taken from what a client typed.

use crate::support::{chat, chat_stream, read_sse, start};
use serde_json::json;

fn series<'a>(text: &'a str, name: &str, labels: &[&str]) -> Option<&'a str> {
    text.lines()
        .find(|line| line.starts_with(name) && labels.iter().all(|l| line.contains(l)))
}

#[tokio::test]
async fn metrics_count_requests_tokens_latency_and_failovers() {
    let h = start().await;
    for _ in 0..3 {
        assert_eq!(
            h.post("/v1/chat/completions", &chat("gpt-4o", "hi"))
                .await
                .status(),
            200
        );
    }
    read_sse(
        h.post("/v1/chat/completions", &chat_stream("gpt-4o", json!({})))
            .await,
    )
    .await;
    assert_eq!(
        h.post("/v1/chat/completions", &chat("failover", "hi"))
            .await
            .status(),
        200
    );
    let unknown = "client-typed-model-name-1234";
    assert_eq!(
        h.post("/v1/chat/completions", &chat(unknown, "hi"))
            .await
            .status(),
        404
    );
    h.flush().await;

    let response = h.client.get(h.url("/metrics")).send().await.expect("sent");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/plain")
    );
    let text = response.text().await.expect("body");
    let ok = series(
        &text,
        "sluice_requests_total",
        &["model=\"gpt-4o\"", "status=\"200\"", "outcome=\"ok\""],
    )
    .unwrap_or_else(|| panic!("no request series:\n{text}"));
    assert!(ok.ends_with(" 4"), "3 plain + 1 stream: {ok}");
    // gpt-4o has a shipped price: what the answers cost is counted.
    let spent = series(
        &text,
        "sluice_cost_microdollars_total",
        &["model=\"gpt-4o\""],
    )
    .unwrap_or_else(|| panic!("no cost series:\n{text}"));
    let micros: u64 = spent
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(micros > 0, "{spent}");
    assert!(
        series(
            &text,
            "sluice_requests_total",
            &["model=\"-\"", "status=\"404\""]
        )
        .is_some(),
        "{text}"
    );
    assert!(
        !text.contains(unknown),
        "a client-typed name became a label"
    );
    assert!(
        series(
            &text,
            "sluice_tokens_total",
            &["kind=\"output\"", "model=\"gpt-4o\""]
        )
        .is_some()
    );
    assert!(
        series(
            &text,
            "sluice_time_to_first_token_seconds_bucket",
            &["model=\"gpt-4o\""]
        )
        .is_some(),
        "{text}"
    );
    assert!(
        series(
            &text,
            "sluice_request_duration_seconds_count",
            &["model=\"failover\""]
        )
        .is_some()
    );
    assert!(
        series(
            &text,
            "sluice_upstream_attempts_total",
            &["provider=\"dead\"", "result=\"upstream_connect\""]
        )
        .is_some(),
        "{text}"
    );
    assert!(
        series(&text, "sluice_failovers_total", &["model=\"failover\""])
            .is_some_and(|l| l.ends_with(" 1"))
    );
    assert!(series(&text, "sluice_requests_in_flight", &[]).is_some());
    assert!(
        !text.contains("upstream-secret"),
        "a provider key reached /metrics"
    );
}
