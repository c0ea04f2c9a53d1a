//! rpm, tpm, concurrency, team, model and global limits: headers counting down,
//! windows coming back, reservations settled on the real usage.

use super::*;

#[tokio::test]
async fn rpm_counts_down_in_the_headers_then_refuses_before_the_provider() {
    let dir = tempfile::tempdir().unwrap();
    let h = gateway(&dir, &key("k", KEY, "a", "rpm = 3")).await;
    for left in ["2", "1", "0"] {
        let r = hi(&h, Some(KEY), "gpt-4o").await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "x-ratelimit-limit-requests"), "3");
        assert_eq!(header(&r, "x-ratelimit-remaining-requests"), left);
    }
    let r = hi(&h, Some(KEY), "gpt-4o").await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "x-ratelimit-scope"), "rpm");
    // The 429 carries the rate-limit headers of the limit that refused it.
    assert_eq!(header(&r, "x-ratelimit-limit-requests"), "3");
    assert_eq!(header(&r, "x-ratelimit-remaining-requests"), "0");
    let wait: u64 = header(&r, "retry-after").parse().unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert_eq!(body["error"]["type"], "requests");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("key `k`") && message.contains("3 requests per minute"),
        "{message}"
    );
    assert_eq!(h.mock.stats().requests(), 3);
    // Anthropic's shape for the same refusal.
    let r = h
        .client
        .post(h.url("/v1/messages"))
        .header("anthropic-version", "2023-06-01")
        .header("x-api-key", KEY)
        .json(&json!({"model": "gpt-4o", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(!header(&r, "retry-after").is_empty());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error");
    // The journal has the refusal too.
    h.flush().await;
    let (_, page) = admin(&h, reqwest::Method::GET, "/admin/journal?status=429", None).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_spent_window_comes_back_continuously() {
    let dir = tempfile::tempdir().unwrap();
    // 600 per minute: ten come back every second.
    let h = gateway(&dir, &key("k", KEY, "a", "rpm = 600")).await;
    let mut refused = false;
    for _ in 0..700 {
        let r = send(
            &h,
            "/v1/embeddings",
            Some(KEY),
            &json!({"model": "text-embedding-3-small", "input": "x"}),
        )
        .await;
        if r.status() == 429 {
            refused = true;
            break;
        }
    }
    assert!(refused, "600 rpm never refused");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let r = send(
        &h,
        "/v1/embeddings",
        Some(KEY),
        &json!({"model": "text-embedding-3-small", "input": "x"}),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn tpm_reserves_the_estimate_and_settles_on_the_real_usage() {
    let dir = tempfile::tempdir().unwrap();
    let h = gateway(&dir, &key("k", KEY, "a", "tpm = 100")).await;
    // Reserves the prompt estimate plus max_tokens 80; the mock uses a handful.
    let body = json!({"model": "gpt-4o", "max_tokens": 80, "messages": [{"role": "user", "content": "hi"}]});
    let r = send(&h, "/v1/chat/completions", Some(KEY), &body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-ratelimit-limit-tokens"), "100");
    let remaining: i64 = header(&r, "x-ratelimit-remaining-tokens").parse().unwrap();
    assert!(remaining < 20, "{remaining}");
    // Settled on the usage, so a second one fits although 2 x 80 would not.
    h.flush().await;
    let r = send(&h, "/v1/chat/completions", Some(KEY), &body).await;
    assert_eq!(r.status(), 200);
    // Too big for what is left: refused as tpm, naming tokens.
    let big = json!({"model": "gpt-4o", "max_tokens": 99, "messages": [{"role": "user", "content": "hi"}]});
    h.flush().await;
    let r = send(&h, "/v1/chat/completions", Some(KEY), &big).await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "x-ratelimit-scope"), "tpm");
    assert_eq!(header(&r, "x-ratelimit-limit-tokens"), "100");
    assert_eq!(header(&r, "x-ratelimit-remaining-tokens"), "0");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "tokens");
}

#[tokio::test]
async fn concurrency_refuses_while_a_stream_is_open_with_a_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let h = gateway(&dir, &key("k", KEY, "a", "max_concurrent = 1")).await;
    let slow = json!({"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "a b c d e"}], "mock": {"chunk_delay_ms": 150}});
    let open = send(&h, "/v1/chat/completions", Some(KEY), &slow).await;
    assert_eq!(open.status(), 200);
    let r = hi(&h, Some(KEY), "gpt-4o").await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "x-ratelimit-scope"), "concurrency");
    assert_eq!(header(&r, "retry-after"), "1");
    let seen = read_sse(open).await;
    assert!(seen.ends_with_done());
    h.flush().await;
    let r = hi(&h, Some(KEY), "gpt-4o").await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_team_limit_is_shared_by_its_keys_and_named_as_the_team() {
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "{}{}[limits.teams.a]\nrpm = 2\n",
        key("one", KEY, "a", ""),
        key("two", OTHER, "a", "")
    );
    let h = gateway(&dir, &extra).await;
    assert_eq!(hi(&h, Some(KEY), "gpt-4o").await.status(), 200);
    assert_eq!(hi(&h, Some(OTHER), "gpt-4o").await.status(), 200);
    let r = hi(&h, Some(KEY), "gpt-4o").await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("team `a`"), "{message}");
}

#[tokio::test]
async fn model_and_global_limits_apply_without_keys() {
    let dir = tempfile::tempdir().unwrap();
    let h = gateway(
        &dir,
        "[limits.models.alias]\nrpm = 1\n[limits.global]\nrpm = 3\n",
    )
    .await;
    assert_eq!(
        h.post("/v1/chat/completions", &chat("alias", "hi"))
            .await
            .status(),
        200
    );
    let r = h.post("/v1/chat/completions", &chat("alias", "hi")).await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("model `alias`")
    );
    assert_eq!(
        h.post("/v1/chat/completions", &chat("gpt-4o", "hi"))
            .await
            .status(),
        200
    );
    // The model's refusal took nothing from the global limit: one more fits.
    assert_eq!(
        h.post("/v1/chat/completions", &chat("gpt-4o", "hi"))
            .await
            .status(),
        200
    );
    let r = h.post("/v1/chat/completions", &chat("gpt-4o", "hi")).await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the gateway")
    );
}

/// An embedding has no output: it reserves its input alone against `tpm`, where a chat
/// request naming no `max_tokens` reserves `default_max_tokens` (4096) on top.
#[tokio::test]
async fn an_embedding_reserves_no_output_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let h = gateway(&dir, &key("k", KEY, "a", "tpm = 1000")).await;
    let embedding = json!({"model": "text-embedding-3-small", "input": "a short text"});
    let r = send(&h, "/v1/embeddings", Some(KEY), &embedding).await;
    assert_eq!(r.status(), 200, "an embedding reserved output tokens");
    let remaining: i64 = header(&r, "x-ratelimit-remaining-tokens").parse().unwrap();
    assert!(
        remaining > 900,
        "{remaining} of 1000 left after a few input tokens"
    );
    // The same key's chat request without max_tokens still reserves the default.
    h.flush().await;
    let chat = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]});
    let r = send(&h, "/v1/chat/completions", Some(KEY), &chat).await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "x-ratelimit-scope"), "tpm");
}
