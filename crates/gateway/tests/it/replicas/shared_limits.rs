//! rpm, concurrency and budgets held exactly across replicas under concurrent load.

use super::*;

#[tokio::test]
async fn three_replicas_admit_exactly_rpm_requests_between_them() {
    let Some(redis) = redis().await else { return };
    let mock = crate::support::default_mock().await;
    let secret = unique("sk-rpm-0123456789");
    let text = config(
        &mock.base_url(),
        &redis.url,
        "local",
        &key(&unique("rpm"), &secret, "rpm = 10"),
        "",
    );
    let (served, _file) = replicas(3, &text).await;
    let statuses = burst(&served, &secret, 45, chat("gpt-4o", "hi")).await;
    assert_eq!(count(&statuses, 200), 10, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 35, "{statuses:?}");
    assert_eq!(mock.stats().requests(), 10);
}

#[tokio::test]
async fn max_concurrent_holds_across_replicas_and_frees_its_slots() {
    let Some(redis) = redis().await else { return };
    let mock = crate::support::default_mock().await;
    let secret = unique("sk-conc-0123456789");
    let text = config(
        &mock.base_url(),
        &redis.url,
        "local",
        &key(&unique("conc"), &secret, "max_concurrent = 2"),
        "",
    );
    let (served, _file) = replicas(3, &text).await;
    let slow = json!({"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "a b c d e"}], "mock": {"chunk_delay_ms": 200}});
    let statuses = burst(&served, &secret, 9, slow).await;
    assert_eq!(count(&statuses, 200), 2, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 7, "{statuses:?}");
    // Every slot came back with its stream's end, on whichever replica it was taken.
    let mut freed = 0;
    for _ in 0..50 {
        freed = count(&burst(&served, &secret, 2, chat("gpt-4o", "hi")).await, 200);
        if freed == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(freed, 2);
}

#[tokio::test]
async fn requests_that_reuse_one_request_id_take_a_slot_each() {
    let Some(redis) = redis().await else { return };
    let mock = crate::support::default_mock().await;
    let secret = unique("sk-same-id-0123456789");
    let text = config(
        &mock.base_url(),
        &redis.url,
        "local",
        &key(&unique("same-id"), &secret, "max_concurrent = 2"),
        "",
    );
    let (served, _file) = replicas(2, &text).await;
    let slow = json!({"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "a b c d e"}], "mock": {"chunk_delay_ms": 200}});
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let base = served[i % served.len()].base.clone();
        let (client, secret, slow) = (client.clone(), secret.clone(), slow.clone());
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(format!("{base}/v1/chat/completions"))
                .bearer_auth(&secret)
                .header("x-request-id", "one-id-for-all")
                .json(&slow)
                .send()
                .await
                .expect("sent");
            let status = r.status().as_u16();
            if status == 200 {
                read_sse(r).await;
            }
            status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(
            tokio::time::timeout(Duration::from_secs(10), t)
                .await
                .expect("ends")
                .expect("task"),
        );
    }
    assert_eq!(count(&statuses, 200), 2, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 4, "{statuses:?}");
}

#[tokio::test]
async fn a_budget_is_never_overspent_by_concurrent_requests_on_many_replicas() {
    let Some(redis) = redis().await else { return };
    let mock = crate::support::default_mock().await;
    let secret = unique("sk-budget-0123456789");
    let name = unique("budget");
    // 300 micro-dollars; each request reserves about 30 (prompt and max_tokens at $1
    // per token) and spends about 12.
    let limits = "budget_usd = 0.0003\nbudget_period = \"total\"";
    let text = config(
        &mock.base_url(),
        &redis.url,
        "local",
        &key(&name, &secret, limits),
        "",
    );
    let (served, _file) = replicas(3, &text).await;
    let body = json!({"model": "gpt-4o", "max_tokens": 20, "messages": [{"role": "user", "content": "tell me"}]});
    let mut ok = 0;
    let mut refused = 0;
    for _ in 0..10 {
        let statuses = burst(&served, &secret, 12, body.clone()).await;
        ok += count(&statuses, 200);
        refused += count(&statuses, 429);
        if refused > 0 && count(&statuses, 200) == 0 {
            break;
        }
    }
    assert!(ok > 0 && refused > 0, "ok {ok}, refused {refused}");
    // Give the settles a moment, then read the counter itself.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let client = redis::Client::open(redis.url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let (counter, _) = sluice::limits::budget_key(
        sluice::limits::Scope::Key,
        &format!("config:{name}"),
        sluice::config::Period::Total,
        sluice::limits::wall_ms(),
    );
    let (spent, reserved): (Option<i64>, Option<i64>) = redis::cmd("HMGET")
        .arg(&counter)
        .arg("s")
        .arg("r")
        .query_async(&mut conn)
        .await
        .unwrap();
    let spent = spent.unwrap_or(0);
    assert!(
        spent > 0 && spent <= 300,
        "spent {spent} micro-dollars of 300"
    );
    assert_eq!(reserved.unwrap_or(0), 0, "every reservation was settled");
    // The mock's own usage agrees with what was counted: 1 micro-dollar per token.
    assert_eq!(mock.stats().requests() as usize, ok);
}
