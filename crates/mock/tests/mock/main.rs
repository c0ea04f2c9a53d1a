//! End-to-end tests of the mock over real HTTP, one file per subject: the OpenAI and
//! Anthropic wire shapes, every fault option, and the other endpoints (embeddings,
//! models, the recorders, bad requests). Here: the helpers they share.

mod anthropic;
mod endpoints;
mod faults;
mod openai;

use serde_json::{Value, json};
use sluice_mock::{MockConfig, MockHandle, spawn};
use std::error::Error;
use std::time::{Duration, Instant};

type TestResult = Result<(), Box<dyn Error>>;

/// reqwest is built without its `json` feature in this workspace.
trait JsonBody {
    fn json_body(self, body: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(body.to_string())
    }
}

async fn json_of(response: reqwest::Response) -> Result<Value, Box<dyn Error>> {
    Ok(serde_json::from_slice(&response.bytes().await?)?)
}

async fn mock() -> Result<MockHandle, Box<dyn Error>> {
    Ok(spawn("127.0.0.1:0".parse()?, MockConfig::default()).await?)
}

fn client() -> Result<reqwest::Client, Box<dyn Error>> {
    // Fails harmlessly when another test installed it first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder().no_proxy().build()?)
}

async fn post(
    mock: &MockHandle,
    path: &str,
    body: &Value,
) -> Result<reqwest::Response, Box<dyn Error>> {
    let url = format!("{}{path}", mock.base_url());
    Ok(client()?.post(url).json_body(body).send().await?)
}

async fn post_json(
    mock: &MockHandle,
    path: &str,
    body: &Value,
) -> Result<(u16, Value), Box<dyn Error>> {
    let response = post(mock, path, body).await?;
    let status = response.status().as_u16();
    Ok((status, serde_json::from_slice(&response.bytes().await?)?))
}

/// Splits an SSE body into events (without the blank-line terminator).
fn events(body: &str) -> Vec<&str> {
    body.split("\n\n")
        .filter(|event| !event.is_empty())
        .collect()
}

/// The parsed `data:` payloads of an OpenAI stream, `[DONE]` excluded.
fn openai_chunks(body: &str) -> Result<Vec<Value>, Box<dyn Error>> {
    let mut chunks = Vec::new();
    for event in events(body) {
        let data = event.strip_prefix("data: ").ok_or("event without data")?;
        if data != "[DONE]" {
            chunks.push(serde_json::from_str(data)?);
        }
    }
    Ok(chunks)
}

/// `(event type, data)` pairs of an Anthropic stream.
fn anthropic_events(body: &str) -> Result<Vec<(String, Value)>, Box<dyn Error>> {
    let mut parsed = Vec::new();
    for event in events(body) {
        let (kind, data) = event.split_once('\n').ok_or("event without data line")?;
        let kind = kind.strip_prefix("event: ").ok_or("missing event line")?;
        let data = data.strip_prefix("data: ").ok_or("missing data line")?;
        parsed.push((kind.to_owned(), serde_json::from_str(data)?));
    }
    Ok(parsed)
}

fn text_of_chunks(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
        .collect()
}

async fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn chat(content: &str) -> Value {
    json!({"model": "mock-gpt", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": content},
    ]})
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    if let Some(object) = body.as_object_mut() {
        object.insert(key.to_owned(), value);
    }
    body
}

fn weather_tools() -> Value {
    json!([
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"},
                           "metric": {"type": "boolean"}, "tags": {"type": "array"}}}}},
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object",
            "properties": {"zone": {"type": "string"}}}}},
    ])
}

fn claude(content: Value) -> Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "system": "Be brief.",
           "messages": [{"role": "user", "content": content}]})
}
