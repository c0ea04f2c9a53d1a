//! Every fault option: status codes, header options and their precedence over the
//! body, hangs and dropped streams counted as cancelled, the first-token delay, cuts,
//! malformed JSON and SSE, error events, and the same over HTTP/2.

use super::{
    JsonBody, TestResult, anthropic_events, chat, claude, client, events, json_of, mock,
    openai_chunks, post, post_json, text_of_chunks, wait_until, with,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test]
async fn status_fault_both_formats() -> TestResult {
    let mock = mock().await?;
    let body = with(chat("hi"), "mock", json!({"status": 429, "retry_after": 7}));
    let response = post(&mock, "/chat/completions", &body).await?;
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    let error = json_of(response).await?;
    assert_eq!(
        error,
        json!({"error": {"message": "mock fault: status 429", "type": "rate_limit_error",
        "param": null, "code": null}})
    );

    let body = with(claude(json!("hi")), "mock", json!({"status": 529}));
    let (status, error) = post_json(&mock, "/messages", &body).await?;
    assert_eq!(status, 529);
    assert_eq!(
        error,
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "mock fault: status 529"}})
    );
    let (status, error) = post_json(
        &mock,
        "/chat/completions",
        &with(chat("hi"), "mock", json!({"status": 503})),
    )
    .await?;
    assert_eq!(
        (status, error["error"]["type"].as_str()),
        (503, Some("server_error"))
    );
    Ok(())
}

#[tokio::test]
async fn header_options_and_body_precedence() -> TestResult {
    let mock = mock().await?;
    let url = format!("{}/chat/completions", mock.base_url());
    let response = client()?
        .post(&url)
        .header("x-mock-status", "503")
        .json_body(&chat("hi"))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 503);
    let body = with(
        chat("hi"),
        "mock",
        json!({"status": 200, "content": "body wins"}),
    );
    let response = client()?
        .post(&url)
        .header("x-mock-status", "503")
        .header("x-mock-content", "header")
        .json_body(&body)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        json_of(response).await?["choices"][0]["message"]["content"],
        "body wins"
    );
    let response = client()?
        .post(&url)
        .header("x-mock-bogus", "1")
        .json_body(&chat("hi"))
        .send()
        .await?;
    assert_eq!(
        response.status().as_u16(),
        400,
        "unknown options are rejected"
    );
    Ok(())
}

#[tokio::test]
async fn hang_counts_as_cancelled_when_client_leaves() -> TestResult {
    let mock = mock().await?;
    let body = with(chat("hi"), "mock", json!({"hang": true}));
    let request = post(&mock, "/chat/completions", &body);
    let outcome = tokio::time::timeout(Duration::from_millis(200), request).await;
    assert!(
        outcome.is_err(),
        "a hanging request must not get a response"
    );
    wait_until("hang cancellation", || mock.stats().cancelled() == 1).await;
    assert_eq!(mock.stats().requests(), 1);
    Ok(())
}

#[tokio::test]
async fn dropped_stream_counts_as_cancelled() -> TestResult {
    let mock = mock().await?;
    let body = with(
        with(chat("hi"), "stream", json!(true)),
        "mock",
        json!({"chunks": 50, "chunk_delay_ms": 50}),
    );
    let mut response = post(&mock, "/chat/completions", &body).await?;
    assert!(response.chunk().await?.is_some());
    assert_eq!(mock.stats().active_streams(), 1);
    drop(response);
    wait_until("stream cancellation", || mock.stats().cancelled() == 1).await;
    wait_until("stream to stop being active", || {
        mock.stats().active_streams() == 0
    })
    .await;
    assert_eq!(mock.stats().completed_streams(), 0);
    Ok(())
}

#[tokio::test]
async fn first_token_delay() -> TestResult {
    let mock = mock().await?;
    let delay = Duration::from_millis(300);
    let body = with(
        with(chat("hi"), "stream", json!(true)),
        "mock",
        json!({"first_token_delay_ms": 300}),
    );
    let started = Instant::now();
    let mut response = post(&mock, "/chat/completions", &body).await?;
    assert!(started.elapsed() < delay, "stream headers are sent at once");
    assert!(response.chunk().await?.is_some());
    assert!(
        started.elapsed() >= delay,
        "first event waits for the delay"
    );

    let started = Instant::now();
    let (status, _) = post_json(
        &mock,
        "/chat/completions",
        &with(chat("hi"), "mock", json!({"first_token_delay_ms": 300})),
    )
    .await?;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= delay);
    Ok(())
}

#[tokio::test]
async fn cut_after_aborts_the_stream() -> TestResult {
    let mock = mock().await?;
    let body = with(
        with(chat("hi"), "stream", json!(true)),
        "mock",
        json!({"chunks": 10, "cut_after": 3}),
    );
    let mut response = post(&mock, "/chat/completions", &body).await?;
    let mut received = Vec::new();
    let error = loop {
        match response.chunk().await {
            Ok(Some(bytes)) => received.extend_from_slice(&bytes),
            Ok(None) => return Err("stream ended cleanly despite cut_after".into()),
            Err(error) => break error,
        }
    };
    assert!(
        error.is_body() || error.is_decode() || error.is_request(),
        "{error:?}"
    );
    let text = String::from_utf8(received)?;
    assert!(!text.contains("[DONE]"));
    assert_eq!(text_of_chunks(&openai_chunks(&text)?), "tok1 tok2 tok3");
    assert_eq!(mock.stats().completed_streams(), 0);
    Ok(())
}

#[tokio::test]
async fn malformed_json_and_sse() -> TestResult {
    let mock = mock().await?;
    let response = post(
        &mock,
        "/chat/completions",
        &with(chat("hi"), "mock", json!({"malformed": "json"})),
    )
    .await?;
    assert_eq!(response.status().as_u16(), 200);
    assert!(serde_json::from_slice::<Value>(&response.bytes().await?).is_err());

    let body = with(
        with(chat("hi"), "stream", json!(true)),
        "mock",
        json!({"malformed": "sse"}),
    );
    let text = post(&mock, "/chat/completions", &body)
        .await?
        .text()
        .await?;
    let all = events(&text);
    assert_eq!(
        all[2], "data: {\"choices\": [tru",
        "bad event right after the first delta"
    );
    assert_eq!(
        all.last(),
        Some(&"data: [DONE]"),
        "stream continues normally"
    );
    Ok(())
}

#[tokio::test]
async fn error_event_ends_the_stream() -> TestResult {
    let mock = mock().await?;
    let body = with(
        with(chat("one two three"), "stream", json!(true)),
        "mock",
        json!({"error_event": true}),
    );
    let text = post(&mock, "/chat/completions", &body)
        .await?
        .text()
        .await?;
    let chunks = openai_chunks(&text)?;
    assert_eq!(chunks.len(), 3);
    assert_eq!(
        chunks[2]["error"]["message"],
        "mock fault: mid-stream error"
    );
    assert!(!text.contains("[DONE]"));

    let body = with(
        with(claude(json!("one two")), "stream", json!(true)),
        "mock",
        json!({"error_event": true}),
    );
    let events = anthropic_events(&post(&mock, "/messages", &body).await?.text().await?)?;
    let (kind, data) = events.last().ok_or("no events")?;
    assert_eq!(kind, "error");
    assert_eq!(data["error"]["type"], "overloaded_error");
    assert!(events.iter().all(|(kind, _)| kind != "message_stop"));
    Ok(())
}

#[tokio::test]
async fn http2_stream_and_hang_cancellation() -> TestResult {
    let mock = mock().await?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let h2 = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()?;
    let body = with(chat("Hello there"), "stream", json!(true));
    let response = h2
        .post(format!("{}/chat/completions", mock.base_url()))
        .json_body(&body)
        .send()
        .await?;
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    let chunks = openai_chunks(&response.text().await?)?;
    assert_eq!(text_of_chunks(&chunks), "Mock reply to: Hello there");
    // On HTTP/2 the client resets the stream rather than closing the
    // connection; the handler must still be dropped and counted.
    let hang = with(chat("hi"), "mock", json!({"hang": true}));
    let request = h2
        .post(format!("{}/chat/completions", mock.base_url()))
        .json_body(&hang);
    let outcome = tokio::time::timeout(Duration::from_millis(200), request.send()).await;
    assert!(outcome.is_err());
    wait_until("h2 hang cancellation", || mock.stats().cancelled() == 1).await;
    Ok(())
}

#[tokio::test]
async fn anthropic_cut_after_and_malformed_sse() -> TestResult {
    let mock = mock().await?;
    let options = json!({"chunks": 5, "cut_after": 2});
    let body = with(
        with(claude(json!("hi")), "stream", json!(true)),
        "mock",
        options,
    );
    let mut response = post(&mock, "/messages", &body).await?;
    let mut received = Vec::new();
    let outcome = loop {
        match response.chunk().await {
            Ok(Some(bytes)) => received.extend_from_slice(&bytes),
            Ok(None) => break Ok(()),
            Err(error) => break Err(error),
        }
    };
    assert!(
        outcome.is_err(),
        "the connection is cut, not closed cleanly"
    );
    let text = String::from_utf8(received)?;
    assert_eq!(text.matches("event: content_block_delta").count(), 2);
    assert!(!text.contains("message_stop"));

    let options = json!({"malformed": "sse"});
    let body = with(
        with(claude(json!("hi")), "stream", json!(true)),
        "mock",
        options,
    );
    let text = post(&mock, "/messages", &body).await?.text().await?;
    let all = events(&text);
    assert!(all[4].ends_with("\"text\": tru"), "{}", all[4]);
    assert_eq!(
        all.last(),
        Some(&"event: message_stop\ndata: {\"type\":\"message_stop\"}")
    );
    Ok(())
}
