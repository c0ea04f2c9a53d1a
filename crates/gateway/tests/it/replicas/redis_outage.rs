//! Redis going away mid-load: the configured policy in charge with no request
//! hanging, then shared limits again; with `deny`, a fast 503.

use super::*;

async fn backend_up(client: &reqwest::Client, base: &str) -> Option<bool> {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let line = text
        .lines()
        .find(|l| l.starts_with("sluice_limits_backend_up"))?;
    Some(line.trim_end().ends_with(" 1"))
}

#[tokio::test]
async fn redis_going_away_mid_load_falls_back_locally_then_limits_are_shared_again() {
    let Some(redis) = redis().await else { return };
    let outage = Outage::start(redis.addr).await;
    let mock = crate::support::default_mock().await;
    let (busy, fresh) = (unique("sk-busy-0123456789"), unique("sk-fresh-0123456789"));
    let keys = format!(
        "{}{}",
        key(&unique("busy"), &busy, "rpm = 1000"),
        key(&unique("fresh"), &fresh, "rpm = 3")
    );
    let text = config(
        &mock.base_url(),
        &format!("redis://{}", outage.addr),
        "local",
        &keys,
        "",
    );
    let (served, _file) = replicas(2, &text).await;
    let client = reqwest::Client::new();
    assert_eq!(
        count(&burst(&served, &busy, 10, chat("gpt-4o", "hi")).await, 200),
        10
    );
    outage.down();
    // Every request still answers, from each replica's own counters.
    let statuses = burst(&served, &busy, 20, chat("gpt-4o", "hi")).await;
    assert_eq!(count(&statuses, 200), 20, "{statuses:?}");
    assert_eq!(backend_up(&client, &served[0].base).await, Some(false));
    outage.up().await;
    // Shared again by itself: the next requests after the retry pause reach Redis.
    for s in &served {
        let mut up = false;
        for _ in 0..50 {
            post(&client, &s.base, &busy, &chat("gpt-4o", "hi")).await;
            if backend_up(&client, &s.base).await == Some(true) {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(up, "replica {} went back to Redis", s.base);
    }
    // Exact across both replicas again.
    let statuses = burst(&served, &fresh, 12, chat("gpt-4o", "hi")).await;
    assert_eq!(count(&statuses, 200), 3, "{statuses:?}");
}

#[tokio::test]
async fn with_deny_a_dead_redis_is_a_fast_503_not_a_hang() {
    let Some(redis) = redis().await else { return };
    let outage = Outage::start(redis.addr).await;
    outage.down();
    let mock = crate::support::default_mock().await;
    let secret = unique("sk-deny-0123456789");
    let text = config(
        &mock.base_url(),
        &format!("redis://{}", outage.addr),
        "deny",
        &key(&unique("deny"), &secret, "rpm = 5"),
        "",
    );
    let (served, _file) = replicas(1, &text).await;
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let r = post(&client, &served[0].base, &secret, &chat("gpt-4o", "hi")).await;
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "1");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "limiter_unavailable");
    }
    assert_eq!(mock.stats().requests(), 0);
    let metrics = client
        .get(format!("{}/metrics", served[0].base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("sluice_limits_backend_denied_total 3"),
        "{metrics}"
    );
}
