//! Several `sluice` processes sharing one real Redis: a limit holds exactly across
//! replicas under concurrent load (rpm, concurrency, budgets), a revocation reaches
//! every replica on its next request, and a Redis that goes away mid-load leaves the
//! configured policy in charge with no request hanging, then shared limits come back.
//!
//! Redis is `SLUICE_TEST_REDIS_URL`, or a private `redis-server` on a free port.
//!
//! One file per subject; here, Redis, the replicas and the helpers they share.

mod redis_outage;
mod revocation;
mod shared_limits;

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
