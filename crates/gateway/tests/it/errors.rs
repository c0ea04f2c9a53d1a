//! Client errors: the OpenAI error shape with the right status, before anything goes
//! upstream.

use crate::support::{chat, start, start_with, with_server};
use serde_json::{Value, json};

async fn error_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("error body is JSON");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert!(body["error"]["type"].is_string(), "{body}");
    (status, body)
}

#[tokio::test]
async fn malformed_json_is_400() {
    let h = start().await;
    let (status, body) = error_of(h.post_raw("/v1/chat/completions", "{\"model\": ").await).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(h.mock.stats().requests(), 0);
}

#[tokio::test]
async fn wrong_types_are_400_naming_the_field() {
    let h = start().await;
    let cases = [
        (json!({"model": 5, "messages": []}), "model"),
        (json!({"model": "gpt-4o", "messages": "hi"}), "messages"),
        (
            json!({"model": "gpt-4o", "messages": [{"role": 1}]}),
            "messages[0].role",
        ),
        (
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}),
            "stream",
        ),
        (json!({"model": "gpt-4o", "messages": []}), "messages"),
        (
            json!({"model": "gpt-4o", "messages": [{"role": "robot", "content": "x"}]}),
            "messages[0].role",
        ),
        (
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "max_tokens": -1}),
            "max_tokens",
        ),
        (
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}),
            "temperature",
        ),
    ];
    for (body, param) in cases {
        let (status, err) = error_of(h.post("/v1/chat/completions", &body).await).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(err["error"]["param"], param, "{body} -> {err}");
        let message = err["error"]["message"].as_str().unwrap_or_default();
        for rust in ["struct", "Head", "u64", "f64", "sequence", "borrowed"] {
            assert!(!message.contains(rust), "{rust} in {message:?}");
        }
    }
    // An array body: the API's words, not the struct serde tried to fill.
    let (status, err) = error_of(h.post("/v1/chat/completions", &json!([1, 2, 3, 4])).await).await;
    assert_eq!(status, 400);
    assert_eq!(
        err["error"]["message"],
        "the request body must be a JSON object"
    );
    assert_eq!(h.mock.stats().requests(), 0);
}

#[tokio::test]
async fn unknown_model_is_404_model_not_found() {
    let h = start().await;
    let response = h
        .post("/v1/chat/completions", &chat("no-such-model", "x"))
        .await;
    // `request-id` is the Anthropic SDK's; an OpenAI-format answer carries only
    // `x-request-id`.
    assert!(response.headers().contains_key("x-request-id"));
    assert!(!response.headers().contains_key("request-id"));
    let (status, body) = error_of(response).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "model_not_found");
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let config = with_server("max_body_bytes = 1000");
    let h = start_with(&config).await;
    let big = chat("gpt-4o", &"x".repeat(2000));
    let (status, body) = error_of(h.post("/v1/chat/completions", &big).await).await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "request_too_large");
    // Chunked upload without a content-length is cut at the limit too.
    let chunks =
        futures_util::stream::iter((0..20).map(|_| Ok::<_, std::io::Error>(vec![b' '; 100])));
    let response = h
        .post_raw("/v1/chat/completions", reqwest::Body::wrap_stream(chunks))
        .await;
    assert_eq!(response.status(), 413);
    assert_eq!(h.mock.stats().requests(), 0);
}

#[tokio::test]
async fn unknown_route_is_404_in_the_openai_shape() {
    let h = start().await;
    let (status, body) = error_of(h.post("/v1/nope", &json!({})).await).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "unknown_url");
    // Only the exact upstream-bound paths go to the pipeline; a near miss is the router's
    // 404, with a request id made for it. A query string does not change the path.
    let near = h.post("/v1/chat/completions/", &chat("gpt-4o", "x")).await;
    let id = near.headers()["x-request-id"].to_str().map(str::to_owned);
    let (status, body) = error_of(near).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "unknown_url");
    assert!(id.is_ok_and(|id| id.starts_with("req_")));
    let query = h
        .post("/v1/chat/completions?trace=1", &chat("gpt-4o", "x"))
        .await;
    assert_eq!(query.status(), 200);
}

#[tokio::test]
async fn over_max_in_flight_gets_a_fast_503() {
    let config = with_server("max_in_flight = 1");
    let h = start_with(&config).await;
    let slow = crate::support::chat_stream("gpt-4o", json!({"chunks": 100, "chunk_delay_ms": 20}));
    let held = h.post("/v1/chat/completions", &slow).await;
    assert_eq!(held.status(), 200);
    let (status, body) = error_of(h.post("/v1/chat/completions", &chat("gpt-4o", "x")).await).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], "overloaded");
    drop(held);
    // The permit comes back when the stream's body is dropped.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let r = h.post("/v1/chat/completions", &chat("gpt-4o", "x")).await;
        if r.status() == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "permit never released"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn wrong_method_on_a_known_path_is_405_in_the_routes_shape_with_allow() {
    let h = crate::support::start().await;
    let cases = [
        ("GET", "/v1/chat/completions", "POST", false),
        ("PUT", "/v1/embeddings", "POST", false),
        ("GET", "/v1/messages", "POST", true),
        ("POST", "/v1/models", "GET, HEAD", false),
        ("DELETE", "/healthz", "GET, HEAD", false),
    ];
    for (method, path, allow, anthropic) in cases {
        let response = h
            .client
            .request(method.parse().expect("method"), h.url(path))
            .header("x-request-id", format!("wrong-{method}"))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 405, "{method} {path}");
        // The router's answers carry the request id as the pipeline's do.
        assert_eq!(
            response.headers()["x-request-id"],
            format!("wrong-{method}").as_str(),
            "{method} {path}"
        );
        assert_eq!(
            response
                .headers()
                .get("allow")
                .and_then(|v| v.to_str().ok()),
            Some(allow),
            "{method} {path}"
        );
        let body: serde_json::Value = response.json().await.expect("a JSON error body");
        if anthropic {
            assert_eq!(body["type"], "error", "{body}");
            assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
        } else {
            assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
        }
        let message = &body["error"]["message"];
        assert!(
            message
                .as_str()
                .is_some_and(|m| m.contains(method) && m.contains(allow)),
            "{body}"
        );
    }
}

#[tokio::test]
async fn anthropic_requests_are_checked_at_the_door_in_anthropic_words() {
    let h = start().await;
    let cases = [
        (
            json!({"model": "gpt-4o", "max_tokens": 10, "messages": [{"role": "system", "content": "x"}]}),
            "messages.0.role",
        ),
        (
            json!({"model": "gpt-4o", "max_tokens": 10, "temperature": "hot", "messages": [{"role": "user", "content": "x"}]}),
            "expected a number",
        ),
        (
            json!({"model": "gpt-4o", "max_tokens": -5, "messages": [{"role": "user", "content": "x"}]}),
            "expected a non-negative integer",
        ),
    ];
    for (body, said) in cases {
        let response = h
            .client
            .post(h.url("/v1/messages"))
            .header("anthropic-version", "2023-06-01")
            .json(&body)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 400, "{body}");
        let err: Value = response.json().await.expect("json");
        assert_eq!(err["type"], "error", "{err}");
        assert_eq!(err["error"]["type"], "invalid_request_error", "{err}");
        let message = err["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(said), "{said:?} not in {message:?}");
        assert!(
            !message.contains("u64") && !message.contains("struct"),
            "{message}"
        );
    }
    assert_eq!(h.mock.stats().requests(), 0);
}

#[tokio::test]
async fn a_request_head_over_max_header_bytes_is_431_and_bodies_are_not_bounded_by_it() {
    let config = with_server("max_header_bytes = 8192");
    let h = start_with(&config).await;
    let response = h
        .client
        .post(h.url("/v1/chat/completions"))
        .header("x-padding", "a".repeat(10_000))
        .json(&chat("gpt-4o", "hi"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 431);
    assert_eq!(h.mock.stats().requests(), 0);
    // A body far larger than the head's bound still goes through (read 8 KiB at most at a time).
    let prompt = "word ".repeat(40_000);
    let response = h
        .post("/v1/chat/completions", &chat("gpt-4o", &prompt))
        .await;
    assert_eq!(response.status(), 200);
    let upstream = h.upstream_body();
    assert_eq!(upstream["messages"][0]["content"], prompt.as_str());
}

#[tokio::test]
async fn a_client_stalling_in_its_request_head_is_cut_off_after_header_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = with_server("header_timeout = \"1s\"");
    let h = start_with(&config).await;
    let addr = h.base.trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    // Half a head, then nothing (a slow-loris client).
    tcp.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: sluice\r\n")
        .await
        .expect("write");
    let mut seen = Vec::new();
    // The default header timeout is 30 s: ending within 10 s is the configured 1 s.
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut buf = [0u8; 512];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the connection was still open after 10 s");
    // Whatever was answered (if anything) is not a served request.
    let answered = String::from_utf8_lossy(&seen);
    assert!(!answered.contains(" 200 "), "{answered}");
    assert_eq!(h.mock.stats().requests(), 0);
    // The server still serves everyone else.
    assert_eq!(
        h.post("/v1/chat/completions", &chat("gpt-4o", "hi"))
            .await
            .status(),
        200
    );
}
