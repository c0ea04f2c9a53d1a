//! What every request of a run is sent to: the HTTP client, the URL and the request body.
//!
//! Built once per run, before any measurement. It must never send requests or measure
//! anything; `request.rs` does that.

use bytes::Bytes;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// What every request of a run is sent to, and with which body.
pub struct Target {
    /// One client (HTTP/1.1, pooled), or one per HTTP/2 connection, taken in turn.
    pub clients: Vec<reqwest::Client>,
    pub next: AtomicUsize,
    pub url: reqwest::Url,
    pub body: Bytes,
    pub stream: bool,
    pub timeout: Duration,
}

impl Target {
    /// The client for the next request: with HTTP/2, the connections in turn.
    pub fn client(&self) -> &reqwest::Client {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.clients.len();
        &self.clients[i]
    }
}

/// A client of a run: `Content-Type: application/json` plus the `--header` values, at
/// most `pool` idle connections kept; HTTP/1.1, or cleartext HTTP/2 with `h2` (one
/// connection, its streams multiplexed).
pub fn build_client(
    extra_headers: &[String],
    pool: usize,
    source_ip: Option<std::net::IpAddr>,
    h2: bool,
) -> Result<reqwest::Client, String> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static("application/json"),
    );
    for h in extra_headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| format!("header {h:?} is not \"Name: value\""))?;
        let name = reqwest::header::HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|e| format!("header name {name:?}: {e}"))?;
        let value = reqwest::header::HeaderValue::from_str(value.trim())
            .map_err(|e| format!("header value for {name}: {e}"))?;
        headers.insert(name, value);
    }
    let builder = reqwest::Client::builder();
    let builder = if h2 {
        builder.http2_prior_knowledge()
    } else {
        builder.http1_only()
    };
    builder
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(pool)
        .pool_idle_timeout(Duration::from_secs(90))
        .connect_timeout(Duration::from_secs(5))
        .default_headers(headers)
        .local_address(source_ip)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// The chat completions body; `stream` is `(chunks, chunk_delay_ms)` for the mock;
/// `prompt_bytes` pads the prompt with ordinary prose (no value a guard would change).
pub fn request_body(model: &str, prompt_bytes: usize, stream: Option<(u32, u64)>) -> Bytes {
    const PROSE: &str = "The quarterly report shows revenue grew 12.5% while costs fell; the team shipped v2.3.1 on 2026-11-30 at 14:05 UTC. ";
    let mut prompt = String::from("Say hello to the benchmark. ");
    while prompt.len() < prompt_bytes {
        prompt.push_str(PROSE);
    }
    let mut body = json!({
        "model": model,
        "messages": [{"role": "user", "content": prompt.trim_end()}],
    });
    if let Some((chunks, delay)) = stream {
        body["stream"] = json!(true);
        body["mock"] = json!({"chunks": chunks, "chunk_delay_ms": delay});
    }
    Bytes::from(body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        let plain = request_body("bench-model", 0, None);
        let v: serde_json::Value = serde_json::from_slice(&plain).unwrap_or_default();
        assert_eq!(v["model"], "bench-model");
        assert!(v.get("stream").is_none());
        let s = request_body("m", 0, Some((30, 5)));
        let v: serde_json::Value = serde_json::from_slice(&s).unwrap_or_default();
        assert_eq!(v["stream"], true);
        assert_eq!(v["mock"]["chunks"], 30);
        assert_eq!(v["mock"]["chunk_delay_ms"], 5);
    }
}
