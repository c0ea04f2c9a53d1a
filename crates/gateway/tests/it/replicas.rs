//! Several `sluice` processes sharing one real Redis: a limit holds exactly across
//! replicas under concurrent load (rpm, concurrency, budgets), a revocation reaches
//! every replica on its next request, and a Redis that goes away mid-load leaves the
//! configured policy in charge with no request hanging, then shared limits come back.
//!
//! Redis is `SLUICE_TEST_REDIS_URL`, or a private `redis-server` on a free port.

use crate::binary::{Served, serve_with_env};
use crate::services::Outage;
use crate::support::{chat, loopback, read_sse};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::process::{Child, Command};

pub struct RedisServer {
    pub url: String,
    pub addr: std::net::SocketAddr,
    _child: Option<Child>,
}

/// A Redis for this test, or `None` (skipped) where there is none and CI does not
/// require one.
pub async fn redis() -> Option<RedisServer> {
    let required = std::env::var("SLUICE_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
    if let Ok(url) = std::env::var("SLUICE_TEST_REDIS_URL") {
        let hostport = url.trim_start_matches("redis://").trim_end_matches('/');
        let addr = tokio::net::lookup_host(hostport)
            .await
            .ok()
            .and_then(|mut a| a.next())
            .expect("SLUICE_TEST_REDIS_URL is redis://host:port");
        return Some(RedisServer {
            url,
            addr,
            _child: None,
        });
    }
    let port = std::net::TcpListener::bind(loopback())
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let child = match child {
        Ok(child) => child,
        Err(e) if required => panic!("redis-server is required: {e}"),
        Err(e) => {
            eprintln!("skipped: no redis-server: {e}");
            return None;
        }
    };
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Some(RedisServer {
                url: format!("redis://{addr}"),
                addr,
                _child: Some(child),
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("redis-server did not start on {addr}");
}

/// A name no other test (or earlier run on a shared Redis) uses.
fn unique(prefix: &str) -> String {
    format!("{prefix}-{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff)
}

fn config(mock: &str, redis: &str, policy: &str, keys: &str, extra: &str) -> String {
    format!(
        r#"[server]
listen = "127.0.0.1:0"
[providers.mock]
kind = "openai-compatible"
base_url = "{mock}"
[[models]]
name = "gpt-4o"
targets = [{{ provider = "mock" }}]
[limits]
backend = "redis"
redis_url = "{redis}"
on_backend_error = "{policy}"
redis_timeout = "300ms"
{extra}
[pricing.gpt-4o]
input = 1.0
output = 1.0
{keys}
"#
    )
}

fn key(name: &str, secret: &str, limits: &str) -> String {
    format!("[[keys]]\nname = \"{name}\"\nkey = \"{secret}\"\n{limits}\n")
}

async fn replicas(n: usize, text: &str) -> (Vec<Served>, tempfile::NamedTempFile) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(serve_with_env(&["--config", &path, "--no-watch"], &[]).await);
    }
    (out, file)
}

async fn post(client: &reqwest::Client, base: &str, key: &str, body: &Value) -> reqwest::Response {
    // A request that hangs fails the test here instead of stalling the suite.
    tokio::time::timeout(
        Duration::from_secs(10),
        client
            .post(format!("{base}/v1/chat/completions"))
            .bearer_auth(key)
            .json(body)
            .send(),
    )
    .await
    .expect("no request hangs")
    .expect("request sent")
}

/// Fires `n` requests at once, spread over the replicas; their statuses.
async fn burst(served: &[Served], secret: &str, n: usize, body: Value) -> Vec<u16> {
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..n {
        let base = served[i % served.len()].base.clone();
        let (client, secret, body) = (client.clone(), secret.to_owned(), body.clone());
        tasks.push(tokio::spawn(async move {
            let r = post(&client, &base, &secret, &body).await;
            let status = r.status().as_u16();
            if status == 200 && body["stream"] == true {
                read_sse(r).await;
            }
            status
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

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

#[tokio::test]
async fn a_revocation_reaches_every_replica_on_its_next_request() {
    let Some(redis) = redis().await else { return };
    let mock = crate::support::default_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("keys.db").display());
    let master = "sk-master-replicas-0123456789";
    // Replicas re-read the store only hourly: only Redis can tell them in time.
    let extra = format!(
        "keys_refresh = \"1h\"\n[store]\nurl = \"{store}\"\n[admin]\nmaster_key = \"{master}\""
    );
    let text = config(&mock.base_url(), &redis.url, "local", "", &extra);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args([
            "keys",
            "create",
            "--name",
            &unique("rev"),
            "--rpm",
            "1000",
            "--config",
        ])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    let (served, _file) = replicas(2, &text).await;
    let client = reqwest::Client::new();
    for s in &served {
        assert_eq!(
            post(&client, &s.base, &secret, &chat("gpt-4o", "hi"))
                .await
                .status(),
            200
        );
    }
    let r = client
        .post(format!("{}/admin/keys/{id}/revoke", served[0].base))
        .bearer_auth(master)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for s in &served {
        let r = post(&client, &s.base, &secret, &chat("gpt-4o", "hi")).await;
        assert_eq!(r.status(), 401);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "key_revoked");
    }
}

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
