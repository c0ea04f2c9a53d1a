//! Chaos: two of three targets failing, and streams breaking mid-way, invisible to
//! clients.

use super::*;

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
