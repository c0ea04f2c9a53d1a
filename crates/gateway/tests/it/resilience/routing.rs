//! Deadlines and strategies: the client deadline bounds the attempt loop and cannot
//! raise the configured one; least latency, cost and busy; hedging; quota headers;
//! per-provider caps.

use super::*;

#[tokio::test]
async fn the_client_deadline_bounds_the_whole_attempt_loop() {
    let mut f = Fleet::start(&format!(
        "{NO_BREAKER}[retry]\nattempts = 5\nbackoff = \"50ms..50ms\"\n[[models]]\nname = \"m\"\ntargets = [{{ provider = \"a\" }}, {{ provider = \"b\" }}]\n"
    ))
    .await;
    f.mock("a").set_script("hang=true");
    f.mock("b").set_script("hang=true");
    let started = std::time::Instant::now();
    let response = f
        .send(
            &chat("m"),
            &[("x-sluice-timeout", "250ms"), ("x-request-id", "dl-1")],
        )
        .await;
    let took = started.elapsed();
    assert_eq!(response.status(), 504);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "deadline_exceeded");
    // Without the deadline, 2 targets x 5 tries x 400 ms would take 4 s.
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let record = f.record("dl-1").await;
    assert_eq!(record.attempts, 1, "{:?}", record.attempt_log);
    // The SDKs' own timeout header lowers it the same way.
    let response = f.send(&chat("m"), &[("x-stainless-timeout", "0.3")]).await;
    assert_eq!(response.status(), 504);
}

#[tokio::test]
async fn least_latency_cost_and_least_busy_pick_the_right_target() {
    let f = Fleet::start(&format!(
        "{NO_BREAKER}[[models]]\nname = \"fast\"\nstrategy = \"least-latency\"\ntargets = [{{ provider = \"a\" }}, {{ provider = \"b\" }}]\n[[models]]\nname = \"cheap\"\nstrategy = \"cost\"\ntargets = [{{ provider = \"a\", price = 5.0 }}, {{ provider = \"b\", price = 0.5 }}, {{ provider = \"c\" }}]\n[[models]]\nname = \"busy\"\nstrategy = \"least-busy\"\ntargets = [{{ provider = \"a\" }}, {{ provider = \"c\" }}]\n"
    ))
    .await;
    f.mock("a").set_script("first_token_delay_ms=60");
    // The first two requests measure each target; then b (fast) wins every time.
    for _ in 0..2 {
        f.chat("fast").await;
    }
    for _ in 0..8 {
        assert_eq!(header(&f.chat("fast").await, "x-sluice-provider"), "b");
    }
    for _ in 0..3 {
        assert_eq!(header(&f.chat("cheap").await, "x-sluice-provider"), "b");
    }
    // A slow stream keeps one target busy: the next request goes to the other.
    f.mock("a").set_script("");
    for _ in 0..4 {
        let slow = f
            .send(
                &json!({"model": "busy", "stream": true, "messages": [{"role": "user", "content": "hi"}], "mock": {"chunks": 3, "chunk_delay_ms": 200}}),
                &[],
            )
            .await;
        let held = header(&slow, "x-sluice-provider").to_owned();
        let next = f.chat("busy").await;
        assert_ne!(header(&next, "x-sluice-provider"), held);
        assert!(complete(&read_sse(slow).await));
    }
}

#[tokio::test]
async fn hedging_races_a_slow_first_token_and_cancels_the_loser() {
    let mut f = Fleet::start(&format!(
        "{NO_BREAKER}[[models]]\nname = \"m\"\nhedge = {{ after = \"100ms\" }}\ntargets = [{{ provider = \"a\" }}, {{ provider = \"b\" }}]\n"
    ))
    .await;
    f.mock("a").set_script("first_token_delay_ms=3000");
    for (i, body) in [stream("m"), chat("m")].iter().enumerate() {
        let id = format!("hedge-{i}");
        let response = f.send(body, &[("x-request-id", &id)]).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "x-sluice-provider"), "b");
        assert_eq!(header(&response, "x-sluice-attempts"), "2");
        let _ = response.bytes().await;
        let record = f.record(&id).await;
        let errors: Vec<_> = record
            .attempt_log
            .iter()
            .map(|a| (a.provider.as_str(), a.error))
            .collect();
        assert_eq!(errors, [("a", Some("hedge_cancelled")), ("b", None)]);
        // The loser keeps the span id its traceparent carried, a real one.
        assert!(record.attempt_log.iter().all(|a| a.span_id != [0; 8]));
        assert!(
            record.attempt_log[0].started < record.attempt_log[1].started,
            "a began first"
        );
        let expected = i as u64 + 1;
        let a = f.mock("a");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while a.stats().cancelled() < expected {
            assert!(
                tokio::time::Instant::now() < deadline,
                "a never saw the cancellation"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    // A fast first target is never hedged.
    f.mock("a").set_script("");
    let before = f.requests("b");
    assert_eq!(header(&f.chat("m").await, "x-sluice-attempts"), "1");
    assert_eq!(f.requests("b"), before);
}

/// A hedge where both attempts fail: each error is its own target's. The partner's 429
/// marks the partner's quota, not the first target's, and the first target's own error
/// (a 500, retryable) decides its retry, not the partner's long `Retry-After`.
#[tokio::test]
async fn a_hedge_partners_error_is_charged_to_the_partner() {
    let mut f = Fleet::start(&format!(
        "{NO_BREAKER}[retry]\nattempts = 2\nbackoff = \"10ms..10ms\"\n[[models]]\nname = \"m\"\nhedge = {{ after = \"50ms\" }}\ntargets = [{{ provider = \"a\" }}, {{ provider = \"b\" }}]\n"
    ))
    .await;
    // a fails after 150 ms; b, hedged at 50 ms, is rate limited and answers last.
    f.mock("a")
        .set_script("first_token_delay_ms=150,status=500");
    f.mock("b")
        .set_script("first_token_delay_ms=250,status=429,retry_after=30");
    let response = f.send(&chat("m"), &[("x-request-id", "hedge-both")]).await;
    assert!(!response.status().is_success());
    let _ = response.bytes().await;
    let record = f.record("hedge-both").await;
    let tried: Vec<_> = record
        .attempt_log
        .iter()
        .map(|a| (a.provider.as_str(), a.status))
        .collect();
    assert_eq!(
        tried,
        [("a", 500), ("b", 429), ("a", 500)],
        "a is retried on its own 500: {:?}",
        record.attempt_log
    );
    let body = f.providers().await;
    let quota = |i: usize| body["providers"][i]["targets"][0]["quota_exhausted"].clone();
    assert_eq!(
        (body["providers"][0]["name"].as_str(), quota(0)),
        (Some("a"), json!(false)),
        "{body}"
    );
    assert_eq!(
        (body["providers"][1]["name"].as_str(), quota(1)),
        (Some("b"), json!(true)),
        "{body}"
    );
}

#[tokio::test]
async fn quota_headers_route_away_before_a_429() {
    let f = Fleet::start(&format!(
        "{NO_BREAKER}[[models]]\nname = \"m\"\ntargets = [{{ provider = \"a\" }}, {{ provider = \"b\" }}]\n"
    ))
    .await;
    // a answers, but says it has no requests left for 5 s.
    f.mock("a")
        .set_script("ratelimit_remaining_requests=0,ratelimit_reset_ms=5000");
    assert_eq!(header(&f.chat("m").await, "x-sluice-provider"), "a");
    for _ in 0..3 {
        assert_eq!(header(&f.chat("m").await, "x-sluice-provider"), "b");
    }
    assert_eq!(f.requests("a"), 1);
    let body = f.providers().await;
    assert_eq!(body["providers"][0]["targets"][0]["quota_exhausted"], true);
}

#[tokio::test]
async fn max_in_flight_per_provider_treats_a_full_provider_as_busy() {
    let f = Fleet::start_with(
        &providers("max_in_flight = 1\n"),
        &format!("{NO_BREAKER}[[models]]\nname = \"m\"\ntargets = [{{ provider = \"a\" }}, {{ provider = \"b\" }}]\n[[models]]\nname = \"only-a\"\ntargets = [{{ provider = \"a\" }}]\n"),
    )
    .await;
    let slow = json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}], "mock": {"chunks": 2, "chunk_delay_ms": 300}});
    let held = f.send(&slow, &[]).await;
    assert_eq!(header(&held, "x-sluice-provider"), "a");
    assert_eq!(header(&f.chat("m").await, "x-sluice-provider"), "b");
    let refused = f.chat("only-a").await;
    assert_eq!(refused.status(), 503);
    assert!(!header(&refused, "retry-after").is_empty());
    assert!(complete(&read_sse(held).await));
    assert_eq!(f.chat("only-a").await.status(), 200);
}

#[tokio::test]
async fn anthropic_rate_limit_headers_route_away_too() {
    let text = format!(
        "{}[providers.claude]\nkind = \"anthropic\"\nbase_url = \"${{MOCK_a}}\"\napi_key = \"k\"\n",
        providers("")
    );
    let f = Fleet::start_with(
        &text,
        &format!("{NO_BREAKER}[[models]]\nname = \"m\"\ntargets = [{{ provider = \"claude\", model = \"claude-x\" }}, {{ provider = \"b\" }}]\n"),
    )
    .await;
    f.mock("a")
        .set_script("ratelimit_remaining_tokens=0,ratelimit_reset_ms=5000");
    assert_eq!(header(&f.chat("m").await, "x-sluice-provider"), "claude");
    assert_eq!(header(&f.chat("m").await, "x-sluice-provider"), "b");
    assert_eq!(f.requests("a"), 1);
}

#[tokio::test]
async fn a_client_cannot_raise_the_configured_request_deadline() {
    let text = providers("").replace(
        "listen = \"127.0.0.1:0\"\n",
        "listen = \"127.0.0.1:0\"\nrequest_timeout = \"300ms\"\n",
    );
    let f = Fleet::start_with(
        &text,
        &format!("{NO_BREAKER}[[models]]\nname = \"m\"\ntargets = [{{ provider = \"a\" }}]\n"),
    )
    .await;
    f.mock("a").set_script("hang=true");
    let response = f.send(&chat("m"), &[("x-sluice-timeout", "60s")]).await;
    assert_eq!(response.status(), 504);
    // The configured 300 ms ended it, before the 400 ms first-byte timeout (which
    // would say `upstream_timeout`), let alone the 60 s asked for.
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "deadline_exceeded");
}
