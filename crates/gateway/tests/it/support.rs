//! Test harness: a mock provider and a gateway configured from TOML text, both on
//! port 0, plus helpers to read SSE streams.

use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::Value;
use sluice::finish::Sink;
use sluice::record::Interaction;
use sluice::server::RunningServer;
use sluice_mock::{MockConfig, MockHandle};
use sluice_protocol::sse::{ParsedEvent, SseDecoder};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub struct Harness {
    pub mock: MockHandle,
    pub _server: Option<RunningServer>,
    pub base: String,
    pub client: reqwest::Client,
}

/// Providers `mock` (the mock) and `dead` (a closed port); models `gpt-4o` (same name
/// upstream), `alias` (renamed to `upstream-model`), `failover` (dead first, then mock).
pub const DEFAULT_CONFIG: &str = r#"
[server]
listen = "127.0.0.1:0"
[providers.mock]
kind = "openai-compatible"
base_url = "${MOCK_URL}"
api_key = "sk-upstream-secret-key-123456"
first_byte_timeout = "2s"
idle_timeout = "2s"
[providers.dead]
kind = "openai-compatible"
base_url = "${DEAD_URL}"
connect_timeout = "1s"
[[models]]
name = "gpt-4o"
targets = [{ provider = "mock" }]
[[models]]
name = "text-embedding-3-small"
targets = [{ provider = "mock" }]
[[models]]
name = "alias"
targets = [{ provider = "mock", model = "upstream-model" }]
[[models]]
name = "failover"
targets = [{ provider = "dead", model = "gpt-4o" }, { provider = "mock", model = "gpt-4o" }]
[[models]]
name = "dead-only"
targets = [{ provider = "dead", model = "gpt-4o" }]
"#;

pub async fn start() -> Harness {
    start_with(DEFAULT_CONFIG).await
}

/// `DEFAULT_CONFIG` with `settings` (TOML lines) added to its `[server]` table.
pub fn with_server(settings: &str) -> String {
    DEFAULT_CONFIG.replacen("[server]\n", &format!("[server]\n{settings}\n"), 1)
}

/// Starts the mock, then a gateway from `toml` where `${MOCK_URL}` is the mock's base URL
/// and `${DEAD_URL}` a port nothing listens on.
pub async fn start_with(toml: &str) -> Harness {
    start_with_sinks(toml, vec![Sink::AccessLog]).await
}

/// `start_with`, plus every finished interaction record on a channel.
pub async fn start_observed(toml: &str) -> (Harness, Records) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let h = start_with_sinks(toml, vec![Sink::AccessLog, Sink::Channel(tx)]).await;
    (
        h,
        Records {
            rx,
            seen: Vec::new(),
        },
    )
}

async fn start_with_sinks(toml: &str, sinks: Vec<Sink>) -> Harness {
    sluice::install_tls_provider();
    let mock = sluice_mock::spawn(loopback(), MockConfig::default())
        .await
        .expect("mock starts");
    let mock_url = mock.base_url();
    let mock_root = format!("http://{}", mock.addr());
    let dead_url = format!("http://{}/v1", dead_addr());
    let config = sluice::config::parse(toml, |name| match name {
        "MOCK_URL" => Some(mock_url.clone()),
        "MOCK_ROOT" => Some(mock_root.clone()),
        "DEAD_URL" => Some(dead_url.clone()),
        _ => None,
    })
    .expect("test config is valid");
    let server = sluice::server::start_with_sinks(&config, sinks)
        .await
        .expect("gateway starts");
    let base = format!("http://{}", server.addr());
    Harness {
        mock,
        _server: Some(server),
        base,
        client: reqwest::Client::new(),
    }
}

/// The records the end-of-interaction hook handed over, as a test sink saw them.
pub struct Records {
    rx: tokio::sync::mpsc::UnboundedReceiver<Arc<Interaction>>,
    pub seen: Vec<Arc<Interaction>>,
}

impl Records {
    /// Waits until the hook has handed over a record for `id` (at most 5 s), and
    /// returns every record with that id seen so far.
    pub async fn of(&mut self, h: &Harness, id: &str) -> Vec<Arc<Interaction>> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            h.flush().await;
            while let Ok(record) = self.rx.try_recv() {
                self.seen.push(record);
            }
            let found: Vec<_> = self
                .seen
                .iter()
                .filter(|r| r.request_id == id)
                .cloned()
                .collect();
            if !found.is_empty() || tokio::time::Instant::now() > deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

pub fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// The mock provider, default behaviour, on a free loopback port: for tests that start
/// it themselves (a gateway binary, a proxy in front of it, several gateways).
pub async fn default_mock() -> sluice_mock::MockHandle {
    sluice_mock::spawn(loopback(), sluice_mock::MockConfig::default())
        .await
        .expect("mock")
}

/// An address that refuses connections: bound, then closed.
pub fn dead_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind(loopback()).expect("bind");
    listener.local_addr().expect("addr")
}

impl Harness {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    /// The `/metrics` page, as text.
    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("scrape")
            .text()
            .await
            .expect("text")
    }

    /// Waits until every finished interaction has passed the end hook.
    pub async fn flush(&self) {
        if let Some(server) = &self._server {
            server.gateway().shared.flush().await;
        }
    }

    /// The body the mock received last, as JSON.
    pub fn upstream_body(&self) -> Value {
        let recorded = self
            .mock
            .stats()
            .last_request()
            .expect("mock saw a request");
        serde_json::from_slice(&recorded.body).expect("upstream body is JSON")
    }

    /// Waits until `check` holds on the mock's stats, for at most 5 s.
    pub async fn wait_for(&self, what: &str, check: impl Fn(&sluice_mock::Stats) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !check(self.mock.stats()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

pub fn chat(model: &str, text: &str) -> Value {
    serde_json::json!({ "model": model, "messages": [{ "role": "user", "content": text }] })
}

pub fn chat_stream(model: &str, mock: Value) -> Value {
    serde_json::json!({
        "model": model,
        "stream": true,
        "messages": [{ "role": "user", "content": "stream please" }],
        "mock": mock,
    })
}

/// A stream as the client saw it: its events, and whether the body ended cleanly.
pub struct Seen {
    pub events: Vec<ParsedEvent>,
    pub body_error: bool,
}

impl Seen {
    pub fn data(&self) -> Vec<String> {
        self.events.iter().filter_map(|e| e.data.clone()).collect()
    }

    pub fn json(&self) -> Vec<Value> {
        self.data()
            .iter()
            .filter(|d| *d != "[DONE]")
            .map(|d| serde_json::from_str(d).expect("event data is JSON"))
            .collect()
    }

    pub fn ends_with_done(&self) -> bool {
        self.data().last().map(String::as_str) == Some("[DONE]")
    }

    /// The in-band error event's `code`, if the stream ended with one.
    pub fn error_code(&self) -> Option<String> {
        let last = self.json().pop()?;
        last.get("error")?.get("code")?.as_str().map(str::to_owned)
    }

    pub fn content(&self) -> String {
        self.json()
            .iter()
            .filter_map(|c| {
                c.pointer("/choices/0/delta/content")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect()
    }
}

pub async fn read_sse(response: reqwest::Response) -> Seen {
    let mut decoder = SseDecoder::new(1 << 20);
    let mut events = Vec::new();
    let mut body = response.bytes_stream();
    let mut body_error = false;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(bytes) => decoder.push(&bytes),
            Err(_) => {
                body_error = true;
                break;
            }
        }
        while let Ok(Some(event)) = decoder.next_event() {
            events.push(event.parse());
        }
    }
    Seen { events, body_error }
}

pub fn text(bytes: &Bytes) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
