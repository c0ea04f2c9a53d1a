//! End-to-end tests of the Gemini dialect's fault options (stream faults,
//! delays, hang, status errors in Gemini's error shape), bad requests,
//! routing and the model list.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::gemini::{generate, sse_chunks, stream_sse, stream_text, text_of, url, user};
use support::{
    JsonBody, TestResult, client, json_of, mock, post_json, read_until_cut, wait_until, with,
};

#[tokio::test]
async fn stream_cut_after_and_chunks() -> TestResult {
    let mock = mock().await?;
    let body = with(user("hi"), "mock", json!({"chunks": 10, "cut_after": 3}));
    let response = client()?
        .post(stream_sse(&mock))
        .json_body(&body)
        .send()
        .await?;
    let (text, cut) = read_until_cut(response).await?;
    assert!(cut, "the connection is cut, not closed cleanly");
    let chunks = sse_chunks(&text)?;
    assert_eq!(text_of(&chunks), "tok1 tok2 tok3");
    assert!(
        chunks
            .iter()
            .all(|c| c["candidates"][0].get("finishReason").is_none())
    );
    assert_eq!(mock.stats().completed_streams(), 0);

    let body = with(
        user("hi"),
        "mock",
        json!({"chunks": 3, "content": "abcdef"}),
    );
    let chunks = sse_chunks(&stream_text(&stream_sse(&mock), &body).await?)?;
    assert_eq!(chunks.len(), 4);
    assert_eq!(text_of(&chunks), "abcdef");
    Ok(())
}

#[tokio::test]
async fn stream_malformed_and_error_event() -> TestResult {
    let mock = mock().await?;
    let body = with(user("one two"), "mock", json!({"malformed": "sse"}));
    let text = stream_text(&stream_sse(&mock), &body).await?;
    let events: Vec<&str> = text.split("\r\n\r\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(
        events[1], "data: {\"candidates\": [tru",
        "bad event after the first delta"
    );
    let last: Value =
        serde_json::from_str(events.last().ok_or("none")?.trim_start_matches("data: "))?;
    assert_eq!(
        last["candidates"][0]["finishReason"], "STOP",
        "stream continues"
    );

    let body = with(user("one two three"), "mock", json!({"error_event": true}));
    let chunks = sse_chunks(&stream_text(&stream_sse(&mock), &body).await?)?;
    assert_eq!(chunks.len(), 2);
    assert_eq!(
        chunks[1],
        json!({"error": {"code": 500, "message": "mock fault: mid-stream error", "status": "INTERNAL"}})
    );

    // The same faults keep the array framing parseable where they should.
    let array_url = url(&mock, "m", "streamGenerateContent");
    let text = stream_text(&array_url, &body).await?;
    let elements: Vec<Value> = serde_json::from_str(&text)?;
    assert_eq!(
        elements.last().map(|e| &e["error"]["status"]),
        Some(&json!("INTERNAL"))
    );
    let body = with(user("one two"), "mock", json!({"malformed": "sse"}));
    assert!(serde_json::from_str::<Value>(&stream_text(&array_url, &body).await?).is_err());
    Ok(())
}

#[tokio::test]
async fn stream_delays_and_hang() -> TestResult {
    let mock = mock().await?;
    let body = with(user("hi"), "mock", json!({"first_token_delay_ms": 300}));
    let started = Instant::now();
    let mut response = client()?
        .post(stream_sse(&mock))
        .json_body(&body)
        .send()
        .await?;
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "headers at once"
    );
    assert!(response.chunk().await?.is_some());
    assert!(started.elapsed() >= Duration::from_millis(300));
    response.text().await?;

    let body = with(
        user("hi"),
        "mock",
        json!({"chunks": 3, "chunk_delay_ms": 50}),
    );
    let started = Instant::now();
    let chunks = sse_chunks(&stream_text(&stream_sse(&mock), &body).await?)?;
    assert_eq!(text_of(&chunks), "tok1 tok2 tok3");
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "two pauses"
    );

    let cancelled = mock.stats().cancelled();
    let body = with(user("hi"), "mock", json!({"hang": true}));
    let request = client()?.post(stream_sse(&mock)).json_body(&body).send();
    assert!(
        tokio::time::timeout(Duration::from_millis(200), request)
            .await
            .is_err()
    );
    wait_until("hang cancellation", || mock.stats().cancelled() > cancelled).await;
    Ok(())
}

#[tokio::test]
async fn status_faults_use_gemini_error_shape() -> TestResult {
    let mock = mock().await?;
    let codes = [
        (400, "INVALID_ARGUMENT"),
        (401, "UNAUTHENTICATED"),
        (403, "PERMISSION_DENIED"),
        (404, "NOT_FOUND"),
        (429, "RESOURCE_EXHAUSTED"),
        (500, "INTERNAL"),
        (503, "UNAVAILABLE"),
        (504, "DEADLINE_EXCEEDED"),
    ];
    for (code, name) in codes {
        let (status, error) = post_json(
            &stream_sse(&mock),
            &with(user("hi"), "mock", json!({"status": code})),
        )
        .await?;
        assert_eq!(status, code);
        let message = format!("mock fault: status {code}");
        assert_eq!(
            error,
            json!({"error": {"code": code, "message": message, "status": name}})
        );
    }
    let response = client()?
        .post(generate(&mock))
        .header("x-mock-status", "429")
        .header("x-mock-retry-after", "3")
        .json_body(&user("hi"))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "3");
    let body = with(user("hi"), "mock", json!({"malformed": "json"}));
    let response = client()?
        .post(generate(&mock))
        .json_body(&body)
        .send()
        .await?;
    assert!(serde_json::from_slice::<Value>(&response.bytes().await?).is_err());
    Ok(())
}

#[tokio::test]
async fn bad_requests_routes_and_models() -> TestResult {
    let mock = mock().await?;
    let response = client()?.post(generate(&mock)).body("{nope").send().await?;
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        json_of(response).await?["error"]["status"],
        "INVALID_ARGUMENT"
    );
    let (status, _) = post_json(&generate(&mock), &json!({"contents": "x"})).await?;
    assert_eq!(status, 400);
    let (status, error) = post_json(&url(&mock, "m", "countTokens"), &user("hi")).await?;
    assert_eq!(
        (status, error["error"]["status"].as_str()),
        (404, Some("NOT_FOUND"))
    );

    let list = json_of(
        client()?
            .get(format!("{}/models", mock.gemini_base_url()))
            .send()
            .await?,
    )
    .await?;
    let names: Vec<&str> = list["models"]
        .as_array()
        .ok_or("models")?
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert!(names.contains(&"models/gemini-2.5-flash"), "{names:?}");
    let one = client()?
        .get(format!("{}/models/mock-gemini", mock.gemini_base_url()))
        .send()
        .await?;
    assert_eq!(
        json_of(one).await?["supportedGenerationMethods"][0],
        "generateContent"
    );

    // Gemini's stable `/v1` API and an escaped `:` reach the same handler.
    let v1 = format!(
        "http://{}/v1/models/gemini-pro:generateContent",
        mock.addr()
    );
    let (status, reply) = post_json(&v1, &user("hi")).await?;
    assert_eq!(
        (status, reply["modelVersion"].as_str()),
        (200, Some("gemini-pro"))
    );
    let escaped = format!(
        "{}/models/gemini-pro%3AgenerateContent",
        mock.gemini_base_url()
    );
    assert_eq!(post_json(&escaped, &user("hi")).await?.0, 200);
    Ok(())
}
