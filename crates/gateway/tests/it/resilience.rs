//! Resilience against mock providers with injected faults: same-target retries with
//! backoff and Retry-After, the retry budget, failover on every fault class, fallback
//! models by error class, breakers that open, stop traffic, probe and close, deadlines,
//! strategies, hedging, quota-aware routing, provider caps, and what a client sees when
//! everything fails. Each provider is its own mock, so its request count proves where
//! traffic went.

use crate::fleet::{Fleet, NO_BREAKER, chat, complete, header, providers, stream};
use crate::support::read_sse;
use serde_json::{Value, json};
use sluice_mock::MockHandle;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn retries_the_same_target_with_backoff_until_it_answers() {
    let f = Fleet::start(&format!(
        "{NO_BREAKER}[retry]\nattempts = 3\nbackoff = \"1ms..5ms\"\n[[models]]\nname = \"m\"\ntargets = [{{ provider = \"a\" }}, {{ provider = \"b\" }}]\n"
    ))
    .await;
    f.mock("a").set_script("status=503,fail_first=2");
    let response = f.chat("m").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-sluice-attempts"), "3");
    assert_eq!(header(&response, "x-sluice-provider"), "a");
    assert_eq!((f.requests("a"), f.requests("b")), (3, 0));
}

#[tokio::test]
async fn retry_after_is_honoured_and_a_longer_one_moves_to_the_next_target() {
    let mut f = Fleet::start(&format!(
        "{NO_BREAKER}[retry]\nattempts = 2\nbackoff = \"1ms..2ms\"\nmax_retry_after = \"2s\"\n[[models]]\nname = \"m\"\ntargets = [{{ provider = \"a\" }}, {{ provider = \"b\" }}]\n"
    ))
    .await;
    // 429 with retry-after-ms 150: Sluice sleeps that long, then a answers.
    f.mock("a")
        .set_script("status=429,retry_after_ms=150,fail_first=1");
    let response = f.send(&chat("m"), &[("x-request-id", "ra-1")]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-sluice-provider"), "a");
    let record = f.record("ra-1").await;
    let [first, second] = record.attempt_log.as_slice() else {
        panic!("two attempts: {:?}", record.attempt_log);
    };
    assert_eq!(first.status, 429);
    let gap = second.started.duration_since(first.started + first.latency);
    assert!(gap >= Duration::from_millis(150), "slept {gap:?}");
    // Retry-After 30 s is over the cap: no sleep, the next target at once.
    f.mock("a").set_script("status=429,retry_after=30");
    let before = f.requests("a");
    let response = f.chat("m").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-sluice-provider"), "b");
    assert_eq!(f.requests("a") - before, 1, "no retry of a");
}

#[tokio::test]
async fn the_retry_budget_stops_retries_from_multiplying_an_outage() {
    let f = Fleet::start(&format!(
        "{NO_BREAKER}[retry]\nattempts = 3\nbackoff = \"1ms..1ms\"\nbudget_ratio = 0.0\nbudget_min = 2\nbudget_window = \"60s\"\n[[models]]\nname = \"m\"\ntargets = [{{ provider = \"a\" }}]\n"
    ))
    .await;
    f.mock("a").set_script("status=503");
    for _ in 0..5 {
        assert_eq!(f.chat("m").await.status(), 503);
    }
    // 5 first tries and the 2 retries the budget allows, not 15 requests.
    assert_eq!(f.requests("a"), 7);
}

#[tokio::test]
async fn every_fault_before_the_first_chunk_fails_over_invisibly() {
    let f = Fleet::start(&format!(
        "{NO_BREAKER}[[models]]\nname = \"m\"\ntargets = [{{ provider = \"a\" }}, {{ provider = \"b\" }}]\n"
    ))
    .await;
    let faults = [
        "status=500",
        "status=502",
        "status=503",
        "hang=true",
        "first_token_delay_ms=2000",
        "malformed=json",
        "cut_after=0",
        "error_first=true",
        // Last: after a 429 the target stays used up for a while (quota).
        "status=429",
        "chaos=1",
    ];
    for fault in faults {
        for streaming in [false, true] {
            let stream_only = fault.starts_with("cut_after") || fault.starts_with("error_first");
            if stream_only && !streaming {
                continue;
            }
            let fault = match (fault, streaming) {
                // A stream's garbage before its first chunk; `json` breaks it after.
                ("malformed=json", true) => "malformed=sse_first",
                _ => fault,
            };
            f.mock("a").set_script(fault);
            let before = f.requests("b");
            let body = if streaming { stream("m") } else { chat("m") };
            let response = f.send(&body, &[]).await;
            assert_eq!(response.status(), 200, "{fault} stream={streaming}");
            assert_eq!(header(&response, "x-sluice-provider"), "b", "{fault}");
            // After a 429 the target counts as used up for a second (quota-aware
            // routing), so the next request may go straight to b.
            let attempts = header(&response, "x-sluice-attempts");
            let rate_limited = fault.contains("429") || fault.starts_with("chaos");
            assert!(
                attempts == "2" || (rate_limited && attempts == "1"),
                "{fault}: {attempts} attempts"
            );
            if streaming {
                let seen = read_sse(response).await;
                assert!(complete(&seen), "{fault}: stream not complete");
            } else {
                let body: Value = response.json().await.expect("json");
                assert!(body["choices"][0]["message"]["content"].is_string());
            }
            assert_eq!(f.requests("b"), before + 1, "{fault}");
        }
    }
}

#[tokio::test]
async fn connection_refused_fails_over_and_the_error_says_what_was_tried() {
    let text = format!(
        "{}[providers.dead]\nkind = \"openai-compatible\"\nbase_url = \"http://{}/v1\"\n",
        providers(""),
        crate::support::dead_addr()
    );
    let mut f = Fleet::start_with(
        &text,
        &format!("{NO_BREAKER}[[models]]\nname = \"m\"\ntargets = [{{ provider = \"dead\" }}, {{ provider = \"a\" }}]\n[[models]]\nname = \"dead-only\"\ntargets = [{{ provider = \"dead\" }}]\n"),
    )
    .await;
    let response = f.chat("m").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-sluice-provider"), "a");
    // Nothing left: the error names the provider tried, in headers and record too.
    let response = f
        .send(&chat("dead-only"), &[("x-request-id", "dead-1")])
        .await;
    assert_eq!(response.status(), 502);
    assert_eq!(header(&response, "x-sluice-attempts"), "1");
    assert_eq!(header(&response, "x-sluice-provider"), "dead");
    let record = f.record("dead-1").await;
    assert_eq!(record.attempts, 1);
    assert_eq!(record.provider.as_deref(), Some("dead"));
    assert_eq!(record.attempt_log[0].error, Some("upstream_connect"));
}

#[tokio::test]
async fn a_client_error_is_never_retried_nor_failed_over() {
    let f = Fleet::start(&format!(
        "{NO_BREAKER}[retry]\nattempts = 3\nbackoff = \"1ms..1ms\"\n[[models]]\nname = \"m\"\ntargets = [{{ provider = \"a\" }}, {{ provider = \"b\" }}]\n"
    ))
    .await;
    f.mock("a").set_script("status=400");
    let response = f.chat("m").await;
    assert_eq!(response.status(), 400);
    assert_eq!((f.requests("a"), f.requests("b")), (1, 0));
}

#[tokio::test]
async fn context_window_errors_go_to_the_fallback_model_in_every_dialect() {
    let text = format!(
        "{}[providers.claude]\nkind = \"anthropic\"\nbase_url = \"${{MOCK_c}}\"\napi_key = \"k\"\n[providers.gem]\nkind = \"gemini\"\nbase_url = \"${{MOCK_c}}beta\"\napi_key = \"k\"\n",
        providers("")
    );
    let f = Fleet::start_with(
        &text,
        "[retry]\nattempts = 3\n[[models]]\nname = \"small\"\nfallbacks = [\"large\"]\ntargets = [{ provider = \"a\" }, { provider = \"claude\" }]\n[[models]]\nname = \"small-claude\"\nfallbacks = [\"large\"]\ntargets = [{ provider = \"claude\", model = \"claude-x@error=context_window\" }]\n[[models]]\nname = \"small-gemini\"\nfallbacks = [\"large\"]\ntargets = [{ provider = \"gem\", model = \"gemini-x@error=context_window\" }]\n[[models]]\nname = \"strict\"\nfallbacks = [\"large\"]\nfallback_on = [\"5xx\"]\ntargets = [{ provider = \"a\" }]\n[[models]]\nname = \"large\"\ntargets = [{ provider = \"b\" }]\n",
    )
    .await;
    f.mock("a").set_script("error=context_window");
    let response = f.chat("small").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-sluice-provider"), "b");
    // Neither retried on a nor tried on small's other target: it would recur there.
    assert_eq!(f.requests("a"), 1);
    assert_eq!(f.requests("c"), 0);
    for model in ["small-claude", "small-gemini"] {
        let response = f.chat(model).await;
        assert_eq!(response.status(), 200, "{model}");
        assert_eq!(header(&response, "x-sluice-provider"), "b", "{model}");
    }
    // A model whose fallback_on leaves out context_window returns the provider's 400.
    let response = f.chat("strict").await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "context_length_exceeded");
    assert_eq!(f.requests("b"), 3);
}

#[tokio::test]
async fn content_policy_refusals_and_outages_fall_back_too() {
    let f = Fleet::start(
        "[[models]]\nname = \"m\"\nfallbacks = [\"backup\"]\ntargets = [{ provider = \"a\" }]\n[[models]]\nname = \"backup\"\ntargets = [{ provider = \"b\" }]\n",
    )
    .await;
    f.mock("a").set_script("error=content_policy");
    let response = f.chat("m").await;
    assert_eq!(header(&response, "x-sluice-provider"), "b");
    f.mock("a").set_script("status=503");
    let response = f.send(&stream("m"), &[]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-sluice-model"), "backup");
    assert!(complete(&read_sse(response).await));
}

#[tokio::test]
async fn a_breaker_opens_stops_traffic_probes_after_the_cooldown_and_closes() {
    let f = Fleet::start(
        "[breaker]\nfailure_rate = 0.5\nmin_requests = 4\ncooldown = \"300ms\"\nhalf_open_probes = 1\n[[models]]\nname = \"m\"\ntargets = [{ provider = \"a\" }, { provider = \"b\" }]\n",
    )
    .await;
    f.mock("a").set_script("status=500");
    for _ in 0..4 {
        assert_eq!(f.chat("m").await.status(), 200);
    }
    assert_eq!(f.requests("a"), 4);
    assert_eq!(f.breaker_state("a").await, "open");
    for _ in 0..10 {
        let response = f.chat("m").await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "x-sluice-attempts"), "1", "a is skipped");
    }
    assert_eq!(f.requests("a"), 4, "an open breaker sends nothing");
    let metrics = f
        .client
        .get(f.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("sluice_breaker_state{")
                && l.contains("provider=\"a\"")
                && l.ends_with(" 1")),
        "{metrics}"
    );
    // Healed; after the cooldown one probe goes through, succeeds and closes it.
    f.mock("a").set_script("");
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(f.breaker_state("a").await, "half_open");
    let response = f.chat("m").await;
    assert_eq!(header(&response, "x-sluice-provider"), "a");
    assert_eq!(f.breaker_state("a").await, "closed");
    assert_eq!(f.requests("a"), 5);
}

#[tokio::test]
async fn streams_cut_after_the_first_chunk_count_against_the_target() {
    let f = Fleet::start(
        "[breaker]\nmin_requests = 2\ncooldown = \"60s\"\n[[models]]\nname = \"m\"\ntargets = [{ provider = \"a\" }, { provider = \"b\" }]\n",
    )
    .await;
    f.mock("a").set_script("cut_after=1,chunks=3");
    for _ in 0..2 {
        let response = f.send(&stream("m"), &[]).await;
        assert_eq!(header(&response, "x-sluice-provider"), "a");
        let seen = read_sse(response).await;
        assert_eq!(seen.error_code().as_deref(), Some("upstream_stream"));
    }
    assert_eq!(f.breaker_state("a").await, "open");
    let response = f.send(&stream("m"), &[]).await;
    assert_eq!(header(&response, "x-sluice-provider"), "b");
    assert!(complete(&read_sse(response).await));
    assert_eq!(f.requests("a"), 2);
}

#[tokio::test]
async fn an_open_breaker_on_the_only_target_is_a_fast_503_with_retry_after() {
    let f = Fleet::start(
        "[breaker]\nmin_requests = 2\ncooldown = \"30s\"\n[[models]]\nname = \"m\"\ntargets = [{ provider = \"a\" }]\n",
    )
    .await;
    f.mock("a").set_script("status=500");
    for _ in 0..2 {
        assert_eq!(f.chat("m").await.status(), 502);
    }
    let response = f.chat("m").await;
    assert_eq!(response.status(), 503);
    let retry_after: u64 = header(&response, "retry-after").parse().unwrap_or(0);
    assert!((1..=30).contains(&retry_after), "retry-after {retry_after}");
    assert_eq!(header(&response, "x-sluice-attempts"), "0");
    let body: Value = response.json().await.expect("json");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("a (circuit open)"), "{message}");
    assert_eq!(body["error"]["code"], "no_available_target");
    assert_eq!(f.requests("a"), 2);
}

#[tokio::test]
async fn when_every_target_fails_one_error_lists_the_attempts() {
    let f = Fleet::start(
        "[breaker]\nmin_requests = 1\ncooldown = \"30s\"\n[[models]]\nname = \"m\"\ntargets = [{ provider = \"a\" }, { provider = \"b\" }, { provider = \"c\" }]\n",
    )
    .await;
    f.mock("a").set_script("status=500");
    assert_eq!(
        f.chat("m").await.status(),
        200,
        "b answers, a's breaker opens"
    );
    f.mock("b").set_script("status=503");
    f.mock("c").set_script("status=429");
    let response = f.chat("m").await;
    assert_eq!(response.status(), 429, "the last failure's status");
    assert_eq!(header(&response, "x-sluice-attempts"), "2");
    assert_eq!(header(&response, "x-sluice-provider"), "c");
    let body: Value = response.json().await.expect("json");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("a (circuit open)"), "{message}");
    assert!(
        message.contains("Tried: b (upstream_status 503), c (upstream_status 429)"),
        "{message}"
    );
    assert!(!message.contains("127.0.0.1"), "{message}");
    // The last failure's type, so an SDK raises its RateLimitError.
    assert_eq!(body["error"]["type"], "rate_limit_error");
}

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
async fn chaos_two_of_three_targets_failing_is_invisible_to_clients() {
    chaos("chaos=1", "").await;
}

#[tokio::test]
async fn chaos_with_streams_breaking_mid_way_is_invisible_with_resume() {
    chaos("chaos=1,chaos_mid=true", "resume = { hops = 2 }\n").await;
}

/// 2,000 requests (half streams) from 40 clients while a and b fail every request
/// with a random fault and c is healthy.
async fn chaos(script: &str, model_extra: &str) {
    let f = Arc::new(
        Fleet::start(&format!(
            "[breaker]\nmin_requests = 10\nfailure_rate = 0.5\ncooldown = \"1s\"\nhalf_open_probes = 1\n[[models]]\nname = \"m\"\n{model_extra}targets = [{{ provider = \"a\" }}, {{ provider = \"b\" }}, {{ provider = \"c\" }}]\n",
        ))
        .await,
    );
    f.mock("a").set_script(script);
    f.mock("b").set_script(script);
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..40 {
        let f = Arc::clone(&f);
        tasks.spawn(async move {
            let mut slowest = Duration::ZERO;
            for i in 0..50 {
                let streaming = (worker + i) % 2 == 0;
                let body = if streaming { stream("m") } else { chat("m") };
                let t = std::time::Instant::now();
                let response = f.send(&body, &[]).await;
                assert_eq!(response.status(), 200);
                if streaming {
                    let seen = read_sse(response).await;
                    assert!(complete(&seen), "a stream broke: {:?}", seen.data());
                } else {
                    let body: Value = response.json().await.expect("json");
                    assert!(body["choices"][0]["message"]["content"].is_string());
                }
                slowest = slowest.max(t.elapsed());
            }
            slowest
        });
    }
    let mut slowest = Duration::ZERO;
    while let Some(done) = tasks.join_next().await {
        slowest = slowest.max(done.expect("worker ran"));
    }
    let took = started.elapsed();
    // Bounded: at worst two timed-out attempts (400 ms each) before c answers.
    assert!(
        slowest < Duration::from_secs(3),
        "slowest request {slowest:?}"
    );
    // Once open, a and b see only probes: one per cooldown each, plus what was in
    // flight when they opened and what they took before (min_requests, twice over
    // for the 40 concurrent clients racing the first verdicts).
    let probes = took.as_secs() + 1;
    for sick in ["a", "b"] {
        let seen = f.requests(sick);
        assert!(
            seen <= 10 + 40 + 40 + probes,
            "{sick} got {seen} requests in {took:?}"
        );
    }
    assert!(f.requests("c") >= 2000 - 100);
}

#[tokio::test]
async fn active_health_checks_take_a_sick_provider_out_before_any_request_fails() {
    let mut f = Fleet::start_with(
        &providers("health_check = \"100ms\"\n"),
        &format!("{NO_BREAKER}[[models]]\nname = \"m\"\ntargets = [{{ provider = \"a\" }}, {{ provider = \"b\" }}]\n"),
    )
    .await;
    f.mock("a").set_script("status=503");
    let up = |body: &Value| body["providers"][0]["health_check"]["up"].as_bool();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while up(&f.providers().await) != Some(false) {
        assert!(tokio::time::Instant::now() < deadline, "check never failed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let response = f.send(&chat("m"), &[("x-request-id", "hc-1")]).await;
    assert_eq!(header(&response, "x-sluice-provider"), "b");
    assert_eq!(header(&response, "x-sluice-attempts"), "1");
    let record = f.record("hc-1").await;
    assert_eq!(record.attempt_log.len(), 1);
    // The chat never reached a: its last request is a health check.
    let last = f
        .mock("a")
        .stats()
        .last_request()
        .map(|r| (r.method, r.path));
    assert_eq!(last, Some(("GET".to_owned(), "/v1/models".to_owned())));
    f.mock("a").set_script("");
    while up(&f.providers().await) != Some(true) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "check never recovered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(header(&f.chat("m").await, "x-sluice-provider"), "a");
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
async fn breaker_state_survives_a_config_reload() {
    let f = Fleet::start(
        "[breaker]\nmin_requests = 2\ncooldown = \"60s\"\n[[models]]\nname = \"m\"\ntargets = [{ provider = \"a\" }, { provider = \"b\" }]\n",
    )
    .await;
    f.mock("a").set_script("status=500");
    for _ in 0..2 {
        f.chat("m").await;
    }
    assert_eq!(f.breaker_state("a").await, "open");
    // The same providers under a new config (another model added): a stays open.
    let urls: Vec<String> = f.mocks.iter().map(MockHandle::base_url).collect();
    let text = format!(
        "{}[breaker]\nmin_requests = 2\ncooldown = \"60s\"\n[[models]]\nname = \"m\"\ntargets = [{{ provider = \"a\" }}, {{ provider = \"b\" }}]\n[[models]]\nname = \"other\"\ntargets = [{{ provider = \"c\" }}]\n",
        providers("")
    );
    let config = sluice::config::parse(&text, |name| match name {
        "MOCK_a" => Some(urls[0].clone()),
        "MOCK_b" => Some(urls[1].clone()),
        "MOCK_c" => Some(urls[2].clone()),
        _ => None,
    })
    .expect("valid");
    let gw = f.server.gateway();
    gw.swap(
        sluice::state::Snapshot::build(&config, &gw.shared, Some(&gw.snapshot())).expect("builds"),
    );
    assert_eq!(f.breaker_state("a").await, "open");
    let before = f.requests("a");
    assert_eq!(header(&f.chat("m").await, "x-sluice-provider"), "b");
    assert_eq!(f.requests("a"), before);
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
