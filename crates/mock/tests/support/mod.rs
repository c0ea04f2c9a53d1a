//! Helpers shared by the Gemini and Azure/model-suffix test files: a mock
//! server, a plain-HTTP client and JSON request builders.
//!
//! Test support only; it must never check a response's content itself, so
//! a failing assertion always points at the test that made it.

#![allow(dead_code)]

pub mod gemini;

use std::error::Error;
use std::time::{Duration, Instant};

use serde_json::Value;
use sluice_mock::{MockConfig, MockHandle, spawn};

pub type TestResult = Result<(), Box<dyn Error>>;

/// reqwest is built without its `json` feature in this workspace.
pub trait JsonBody {
    fn json_body(self, body: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(body.to_string())
    }
}

pub async fn mock() -> Result<MockHandle, Box<dyn Error>> {
    Ok(spawn("127.0.0.1:0".parse()?, MockConfig::default()).await?)
}

pub fn client() -> Result<reqwest::Client, Box<dyn Error>> {
    // Fails harmlessly when another test installed it first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder().no_proxy().build()?)
}

pub async fn json_of(response: reqwest::Response) -> Result<Value, Box<dyn Error>> {
    Ok(serde_json::from_slice(&response.bytes().await?)?)
}

/// POSTs `body` to `url` and returns the status and the parsed JSON body.
pub async fn post_json(url: &str, body: &Value) -> Result<(u16, Value), Box<dyn Error>> {
    let response = client()?.post(url).json_body(body).send().await?;
    let status = response.status().as_u16();
    Ok((status, json_of(response).await?))
}

/// Reads a body to its end or its error; returns the bytes received and
/// whether the body ended with an error (a cut connection).
pub async fn read_until_cut(
    mut response: reqwest::Response,
) -> Result<(String, bool), Box<dyn Error>> {
    let mut received = Vec::new();
    let cut = loop {
        match response.chunk().await {
            Ok(Some(bytes)) => received.extend_from_slice(&bytes),
            Ok(None) => break false,
            Err(_) => break true,
        }
    };
    Ok((String::from_utf8(received)?, cut))
}

pub async fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn with(mut body: Value, key: &str, value: Value) -> Value {
    if let Some(object) = body.as_object_mut() {
        object.insert(key.to_owned(), value);
    }
    body
}
