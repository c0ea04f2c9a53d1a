//! Gemini request builders and stream parsers shared by the Gemini tests.
//!
//! Parsers here must never be lenient: an event that is not `data: <JSON>`
//! is an error, so a framing bug in the mock fails the test that read it.

use serde_json::{Value, json};
use sluice_mock::MockHandle;

use super::{JsonBody, client};

pub fn url(mock: &MockHandle, model: &str, method: &str) -> String {
    format!("{}/models/{model}:{method}", mock.gemini_base_url())
}

pub fn generate(mock: &MockHandle) -> String {
    url(mock, "gemini-2.5-flash", "generateContent")
}

pub fn stream_sse(mock: &MockHandle) -> String {
    url(mock, "gemini-2.5-flash", "streamGenerateContent?alt=sse")
}

pub fn user(text: &str) -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": text}]}]})
}

pub fn weather_tools() -> Value {
    json!([{"functionDeclarations": [
        {"name": "get_weather", "description": "Weather", "parameters": {"type": "OBJECT",
            "properties": {"city": {"type": "STRING"}, "days": {"type": "INTEGER"},
                           "unit": {"type": "STRING", "enum": ["C", "F"]}}}},
        {"name": "get_time", "parameters": {"type": "object",
            "properties": {"zone": {"type": "string"}}}},
    ]}])
}

/// The parsed chunks of an `alt=sse` body; every event must be `data:`.
pub fn sse_chunks(body: &str) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    body.split("\r\n\r\n")
        .filter(|event| !event.is_empty())
        .map(|event| {
            let data = event.strip_prefix("data: ").ok_or("event without data")?;
            Ok(serde_json::from_str(data)?)
        })
        .collect()
}

pub fn text_of(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter_map(|chunk| chunk["candidates"][0]["content"]["parts"][0]["text"].as_str())
        .collect()
}

pub async fn stream_text(url: &str, body: &Value) -> Result<String, Box<dyn std::error::Error>> {
    let response = client()?.post(url).json_body(body).send().await?;
    Ok(response.text().await?)
}
