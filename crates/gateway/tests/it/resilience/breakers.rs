//! Breakers open, stop traffic, probe and close; an open breaker's fast 503; one error
//! listing every attempt; active health checks; breaker state across a reload.

use super::*;

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
