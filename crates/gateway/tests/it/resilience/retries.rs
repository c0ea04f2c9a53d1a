//! Retries with backoff and Retry-After, the retry budget, failover on every fault
//! class, client errors never retried, fallback models by error class.

use super::*;

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
async fn a_retry_after_too_large_for_a_duration_moves_on_instead_of_retrying_soon() {
    let f = Fleet::start(&format!(
        "{NO_BREAKER}[retry]\nattempts = 2\nbackoff = \"1ms..2ms\"\nmax_retry_after = \"2s\"\n[[models]]\nname = \"m\"\ntargets = [{{ provider = \"a\" }}, {{ provider = \"b\" }}]\n"
    ))
    .await;
    f.mock("a").set_script("status=503,retry_after=99999999999");
    let response = f.chat("m").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-sluice-provider"), "b");
    assert_eq!(f.requests("a"), 1, "a was retried");
}

#[tokio::test]
async fn a_provider_refusing_the_gateways_key_fails_over_to_the_next_target() {
    let f = Fleet::start(&format!(
        "{NO_BREAKER}[retry]\nattempts = 3\nbackoff = \"1ms..2ms\"\n[[models]]\nname = \"m\"\ntargets = [{{ provider = \"a\" }}, {{ provider = \"b\" }}]\n"
    ))
    .await;
    for status in [401, 403] {
        f.mock("a").set_script(&format!("status={status}"));
        let before = f.requests("a");
        let response = f.chat("m").await;
        assert_eq!(response.status(), 200, "{status}");
        assert_eq!(header(&response, "x-sluice-provider"), "b", "{status}");
        // Not retried on a: the same key would be refused again.
        assert_eq!(f.requests("a") - before, 1, "{status}");
    }
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
