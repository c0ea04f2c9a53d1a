//! Streaming: events forwarded in order and complete, usage, tools, and a client that
//! leaves cancelling the upstream request.

use crate::support::{chat_stream, read_sse, start};
use futures_util::StreamExt;
use serde_json::{Value, json};

#[tokio::test]
async fn stream_events_arrive_in_order_and_end_with_done() {
    let h = start().await;
    let response = h
        .post(
            "/v1/chat/completions",
            &chat_stream("gpt-4o", json!({"chunks": 12})),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["x-sluice-provider"], "mock");
    let seen = read_sse(response).await;
    assert!(seen.ends_with_done(), "{:?}", seen.data());
    let chunks = seen.json();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(
        chunks
            .last()
            .map(|c| c["choices"][0]["finish_reason"].clone()),
        Some(json!("stop"))
    );
    let words: Vec<String> = seen
        .content()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(words.len(), 12);
    assert_eq!(words.first().map(String::as_str), Some("tok1"));
    assert_eq!(words.last().map(String::as_str), Some("tok12"));
}

#[tokio::test]
async fn include_usage_adds_a_final_usage_chunk() {
    let h = start().await;
    let mut body = chat_stream("gpt-4o", json!({"chunks": 3}));
    body["stream_options"] = json!({"include_usage": true});
    let seen = read_sse(h.post("/v1/chat/completions", &body).await).await;
    assert!(seen.ends_with_done());
    let last = seen.json().pop().unwrap_or_default();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["completion_tokens"], 3);
}

#[tokio::test]
async fn streamed_tool_call_fragments_reassemble() {
    let h = start().await;
    let mut body = chat_stream("gpt-4o", json!({}));
    body["tools"] = json!([{"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}, "n": {"type": "integer"}}}}}]);
    let seen = read_sse(h.post("/v1/chat/completions", &body).await).await;
    assert!(seen.ends_with_done());
    let fragments: String = seen
        .json()
        .iter()
        .filter_map(|c| {
            c.pointer("/choices/0/delta/tool_calls/0/function/arguments")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    let args: Value = serde_json::from_str(&fragments).expect("fragments form JSON");
    assert_eq!(args, json!({"q": "mock", "n": 1}));
    assert!(
        seen.json()
            .iter()
            .filter(|c| c.pointer("/choices/0/delta/tool_calls").is_some())
            .count()
            >= 3
    );
}

#[tokio::test]
async fn client_disconnect_cancels_the_upstream_stream() {
    let h = start().await;
    let body = chat_stream("gpt-4o", json!({"chunks": 500, "chunk_delay_ms": 20}));
    let response = h.post("/v1/chat/completions", &body).await;
    let mut stream = response.bytes_stream();
    let first = stream.next().await;
    assert!(first.is_some_and(|c| c.is_ok()));
    assert_eq!(h.mock.stats().cancelled(), 0);
    drop(stream);
    h.wait_for("upstream cancellation", |s| s.cancelled() == 1)
        .await;
    assert_eq!(h.mock.stats().completed_streams(), 0);
}

#[tokio::test]
async fn many_concurrent_streams_all_complete() {
    let h = start().await;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = h.client.clone();
            let url = h.url("/v1/chat/completions");
            let body = chat_stream("gpt-4o", json!({"chunks": 20, "chunk_delay_ms": 2}));
            tokio::spawn(async move {
                let response = client.post(url).json(&body).send().await.expect("sent");
                crate::support::read_sse(response).await
            })
        })
        .collect();
    for task in tasks {
        let seen = task.await.expect("task");
        assert!(seen.ends_with_done());
        assert_eq!(seen.content().split_whitespace().count(), 20);
    }
}

#[tokio::test]
async fn client_leaving_a_waiting_request_cancels_the_upstream_call() {
    // First-byte deadline far away: only the client's departure can end the upstream call.
    let h = crate::support::start_with(&crate::support::DEFAULT_CONFIG.replace(
        "first_byte_timeout = \"2s\"",
        "first_byte_timeout = \"60s\"",
    ))
    .await;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(200))
        .build()
        .expect("client");
    let mut body = crate::support::chat("gpt-4o", "x");
    body["mock"] = json!({"hang": true});
    let result = client
        .post(h.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await;
    assert!(result.is_err_and(|e| e.is_timeout()));
    h.wait_for("upstream cancellation after client left", |s| {
        s.cancelled() == 1
    })
    .await;
}

#[tokio::test]
async fn usage_is_requested_upstream_but_hidden_from_a_client_that_did_not_ask() {
    let h = start().await;
    let response = h
        .post(
            "/v1/chat/completions",
            &chat_stream("gpt-4o", json!({"chunks": 4})),
        )
        .await;
    let seen = read_sse(response).await;
    assert!(seen.ends_with_done());
    assert!(
        seen.json().iter().all(|c| c["choices"] != json!([])),
        "usage-only chunk leaked: {:?}",
        seen.data()
    );
    assert_eq!(h.upstream_body()["stream_options"]["include_usage"], true);
}
