//! A fleet of mock providers (`a`, `b`, `c`, each its own mock so its request count
//! proves where traffic went) behind one gateway, and the helpers the resilience and
//! resume tests share.

use crate::support::{Seen, loopback};
use serde_json::{Value, json};
use sluice::finish::Sink;
use sluice::record::Interaction;
use sluice::server::RunningServer;
use sluice_mock::{MockConfig, MockHandle};
use std::sync::Arc;
use std::time::Duration;

pub const MASTER: &str = "sk-master-resilience";

/// Mocks `a`, `b`, `c` as providers of the same names, and a gateway from `models`
/// (plus any extra sections) on top of them.
pub struct Fleet {
    pub mocks: Vec<MockHandle>,
    pub server: RunningServer,
    pub client: reqwest::Client,
    records: tokio::sync::mpsc::UnboundedReceiver<Arc<Interaction>>,
}

/// Providers a, b, c (OpenAI-compatible mocks), with short timeouts so hangs fail fast.
pub fn providers(extra: &str) -> String {
    let mut text =
        format!("[server]\nlisten = \"127.0.0.1:0\"\n[admin]\nmaster_key = \"{MASTER}\"\n");
    for name in ["a", "b", "c"] {
        text.push_str(&format!(
            "[providers.{name}]\nkind = \"openai-compatible\"\nbase_url = \"${{MOCK_{name}}}\"\nfirst_byte_timeout = \"400ms\"\nidle_timeout = \"400ms\"\n{extra}"
        ));
    }
    text
}

impl Fleet {
    pub async fn start(config: &str) -> Self {
        Self::start_with(&providers(""), config).await
    }

    pub async fn start_with(providers: &str, config: &str) -> Self {
        sluice::install_tls_provider();
        let mut mocks = Vec::new();
        for _ in 0..3 {
            mocks.push(
                sluice_mock::spawn(loopback(), MockConfig::default())
                    .await
                    .expect("mock starts"),
            );
        }
        let urls: Vec<String> = mocks.iter().map(MockHandle::base_url).collect();
        let text = format!("{providers}\n{config}");
        let parsed = sluice::config::parse(&text, |name| match name {
            "MOCK_a" => Some(urls[0].clone()),
            "MOCK_b" => Some(urls[1].clone()),
            "MOCK_c" => Some(urls[2].clone()),
            _ => None,
        })
        .unwrap_or_else(|p| panic!("test config is valid: {p:?}"));
        let (tx, records) = tokio::sync::mpsc::unbounded_channel();
        let server = sluice::server::start_with_sinks(&parsed, vec![Sink::Channel(tx)])
            .await
            .expect("gateway starts");
        Self {
            mocks,
            server,
            client: reqwest::Client::new(),
            records,
        }
    }

    pub fn mock(&self, name: &str) -> &MockHandle {
        &self.mocks[match name {
            "a" => 0,
            "b" => 1,
            _ => 2,
        }]
    }

    pub fn requests(&self, name: &str) -> u64 {
        self.mock(name).stats().requests()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr())
    }

    pub async fn send(&self, body: &Value, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url("/v1/chat/completions"))
            .header("content-type", "application/json")
            .body(body.to_string());
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request.send().await.expect("request sent")
    }

    pub async fn chat(&self, model: &str) -> reqwest::Response {
        self.send(&chat(model), &[]).await
    }

    pub async fn providers(&self) -> Value {
        let response = self
            .client
            .get(self.url("/admin/providers"))
            .bearer_auth(MASTER)
            .send()
            .await
            .expect("admin answers");
        assert_eq!(response.status(), 200);
        response.json().await.expect("json")
    }

    pub async fn breaker_state(&self, provider: &str) -> String {
        let body = self.providers().await;
        let entry = body["providers"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == provider))
            .cloned()
            .unwrap_or_default();
        entry["targets"][0]["breaker"]["state"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The record of the request with `x-request-id: id`.
    pub async fn record(&mut self, id: &str) -> Arc<Interaction> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            self.server.gateway().shared.flush().await;
            while let Ok(record) = self.records.try_recv() {
                if record.request_id == id {
                    return record;
                }
            }
            assert!(tokio::time::Instant::now() < deadline, "no record for {id}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

pub fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

pub fn stream(model: &str) -> Value {
    json!({"model": model, "stream": true, "messages": [{"role": "user", "content": "hi"}]})
}

pub fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

pub fn complete(seen: &Seen) -> bool {
    seen.ends_with_done() && !seen.body_error && seen.error_code().is_none()
}

pub const NO_BREAKER: &str = "[breaker]\nenabled = false\n";
