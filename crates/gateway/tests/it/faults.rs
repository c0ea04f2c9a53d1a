//! Upstream failures injected by the mock: each reaches the client as the right status
//! and OpenAI error shape before the commit point, or as an in-band error event after it;
//! none leaks the upstream key or address.

use crate::support::{DEFAULT_CONFIG, Harness, chat, chat_stream, read_sse, start, start_with};
use serde_json::{Value, json};

fn with_fault(model: &str, fault: Value) -> Value {
    let mut body = chat(model, "x");
    body["mock"] = fault;
    body
}

async fn fast_timeouts() -> Harness {
    start_with(
        &DEFAULT_CONFIG
            .replace(
                "first_byte_timeout = \"2s\"",
                "first_byte_timeout = \"300ms\"",
            )
            .replace("idle_timeout = \"2s\"", "idle_timeout = \"300ms\""),
    )
    .await
}

fn assert_no_leak(h: &Harness, text: &str) {
    assert!(!text.contains("sk-upstream-secret"), "key leaked: {text}");
    assert!(
        !text.contains(&h.mock.addr().to_string()),
        "address leaked: {text}"
    );
    assert!(!text.contains("127.0.0.1"), "address leaked: {text}");
}

#[tokio::test]
async fn upstream_5xx_is_502_naming_no_internals() {
    let h = start().await;
    let response = h
        .post(
            "/v1/chat/completions",
            &with_fault("gpt-4o", json!({"status": 500})),
        )
        .await;
    assert_eq!(response.status(), 502);
    let text = response.text().await.expect("body");
    assert_no_leak(&h, &text);
    let body: Value = serde_json::from_str(&text).expect("json");
    assert!(body["error"]["message"].is_string());
}

#[tokio::test]
async fn upstream_503_stays_503_so_clients_back_off() {
    let h = start().await;
    let response = h
        .post(
            "/v1/chat/completions",
            &with_fault("gpt-4o", json!({"status": 503})),
        )
        .await;
    assert_eq!(response.status(), 503);
    assert_no_leak(&h, &response.text().await.expect("body"));
}

#[tokio::test]
async fn upstream_429_keeps_status_and_retry_after() {
    let h = start().await;
    let response = h
        .post(
            "/v1/chat/completions",
            &with_fault("gpt-4o", json!({"status": 429, "retry_after": 7})),
        )
        .await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["type"], "rate_limit_error");
}

#[tokio::test]
async fn upstream_400_is_the_clients_problem_and_not_retried() {
    let h = start().await;
    let response = h
        .post(
            "/v1/chat/completions",
            &with_fault("failover", json!({"status": 400})),
        )
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn upstream_401_is_a_gateway_problem_and_hides_the_key() {
    let h = start().await;
    let response = h
        .post(
            "/v1/chat/completions",
            &with_fault("gpt-4o", json!({"status": 401})),
        )
        .await;
    assert_eq!(response.status(), 502);
    let text = response.text().await.expect("body");
    assert_no_leak(&h, &text);
    assert!(text.contains("returned status 401"), "{text}");
}

#[tokio::test]
async fn unreachable_provider_is_502_without_its_address() {
    let h = start().await;
    let response = h
        .post("/v1/chat/completions", &chat("dead-only", "x"))
        .await;
    assert_eq!(response.status(), 502);
    let text = response.text().await.expect("body");
    assert_no_leak(&h, &text);
    assert!(text.contains("could not be reached"), "{text}");
}

#[tokio::test]
async fn fails_over_to_the_next_target_before_commit() {
    let h = start().await;
    let response = h.post("/v1/chat/completions", &chat("failover", "x")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-sluice-provider"], "mock");
    assert_eq!(response.headers()["x-sluice-attempts"], "2");
}

#[tokio::test]
async fn hanging_upstream_is_504_after_the_first_byte_timeout() {
    let h = fast_timeouts().await;
    let response = h
        .post(
            "/v1/chat/completions",
            &with_fault("gpt-4o", json!({"hang": true})),
        )
        .await;
    assert_eq!(response.status(), 504);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "upstream_timeout");
    h.wait_for("hanging request cancelled upstream", |s| s.cancelled() == 1)
        .await;
}

#[tokio::test]
async fn slow_first_token_is_504_before_any_stream_byte() {
    let h = fast_timeouts().await;
    let response = h
        .post(
            "/v1/chat/completions",
            &chat_stream("gpt-4o", json!({"first_token_delay_ms": 2000})),
        )
        .await;
    assert_eq!(response.status(), 504);
}

#[tokio::test]
async fn stalled_stream_ends_with_an_idle_timeout_error_event() {
    let h = fast_timeouts().await;
    let response = h
        .post(
            "/v1/chat/completions",
            &chat_stream("gpt-4o", json!({"chunks": 5, "chunk_delay_ms": 1500})),
        )
        .await;
    assert_eq!(response.status(), 200);
    let seen = read_sse(response).await;
    assert!(!seen.ends_with_done());
    assert_eq!(seen.error_code().as_deref(), Some("upstream_timeout"));
}

#[tokio::test]
async fn total_timeout_ends_a_stream_that_keeps_trickling() {
    let config = DEFAULT_CONFIG.replace(
        "first_byte_timeout = \"2s\"",
        "first_byte_timeout = \"1s\"\ntimeout = \"1s\"",
    );
    let h = start_with(&config).await;
    let response = h
        .post(
            "/v1/chat/completions",
            &chat_stream("gpt-4o", json!({"chunks": 100, "chunk_delay_ms": 50})),
        )
        .await;
    let seen = read_sse(response).await;
    assert!(!seen.ends_with_done());
    assert_eq!(seen.error_code().as_deref(), Some("upstream_timeout"));
    assert!(seen.content().split_whitespace().count() > 3);
}

#[tokio::test]
async fn cut_stream_ends_with_an_error_event_not_a_clean_finish() {
    let h = start().await;
    let response = h
        .post(
            "/v1/chat/completions",
            &chat_stream("gpt-4o", json!({"chunks": 10, "cut_after": 3})),
        )
        .await;
    assert_eq!(response.status(), 200);
    let seen = read_sse(response).await;
    assert!(!seen.ends_with_done());
    assert_eq!(seen.error_code().as_deref(), Some("upstream_stream"));
    assert_eq!(seen.content().split_whitespace().count(), 3);
    let text = seen.data().join("\n");
    assert_no_leak(&h, &text);
}

#[tokio::test]
async fn malformed_stream_event_ends_the_stream_with_an_error_event() {
    let h = start().await;
    let response = h
        .post(
            "/v1/chat/completions",
            &chat_stream("gpt-4o", json!({"chunks": 5, "malformed": "sse"})),
        )
        .await;
    let seen = read_sse(response).await;
    assert!(!seen.ends_with_done());
    assert_eq!(seen.error_code().as_deref(), Some("upstream_protocol"));
}

#[tokio::test]
async fn malformed_json_response_is_502() {
    let h = start().await;
    let response = h
        .post(
            "/v1/chat/completions",
            &with_fault("gpt-4o", json!({"malformed": "json"})),
        )
        .await;
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["type"], "upstream_error");
}

#[tokio::test]
async fn upstream_error_event_reaches_the_client_and_stream_stops() {
    let h = start().await;
    let response = h
        .post(
            "/v1/chat/completions",
            &chat_stream("gpt-4o", json!({"chunks": 5, "error_event": true})),
        )
        .await;
    let seen = read_sse(response).await;
    assert!(!seen.ends_with_done());
    let last = seen.json().pop().unwrap_or_default();
    assert_eq!(last["error"]["type"], "server_error");
}

#[tokio::test]
async fn http2_prior_knowledge_reaches_the_provider() {
    let config = DEFAULT_CONFIG.replace(
        "idle_timeout = \"2s\"",
        "idle_timeout = \"2s\"\nhttp2_prior_knowledge = true",
    );
    let h = start_with(&config).await;
    let response = h
        .post("/v1/chat/completions", &chat("gpt-4o", "over h2"))
        .await;
    assert_eq!(response.status(), 200);
    let seen = read_sse(
        h.post(
            "/v1/chat/completions",
            &chat_stream("gpt-4o", json!({"chunks": 4})),
        )
        .await,
    )
    .await;
    assert!(seen.ends_with_done());
}

#[tokio::test]
async fn connect_timeout_is_504_when_the_provider_never_accepts() {
    // A listener that never accepts, its backlog filled: further SYNs go unanswered, so
    // the gateway's connect hangs until its connect timeout.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind(crate::support::loopback()).expect("bind");
    let addr = socket.local_addr().expect("addr");
    let _listener = socket.listen(0).expect("listen");
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            fillers.push(s);
        }
    }
    let config = DEFAULT_CONFIG
        .replace("${DEAD_URL}", &format!("http://{addr}/v1"))
        .replace("connect_timeout = \"1s\"", "connect_timeout = \"300ms\"");
    let h = start_with(&config).await;
    let response = h
        .post("/v1/chat/completions", &chat("dead-only", "x"))
        .await;
    assert_eq!(response.status(), 504);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "upstream_timeout");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("connect")),
        "{body}"
    );
}
