//! The guard on prompts and whole answers: what the provider received (the mock's
//! request log) and what the client got, for each action, on OpenAI, Anthropic and
//! Responses ingress, passed through and translated; refusals in each format's shape;
//! policies per key and team; findings in the record, the journal and the metrics.
//!
//! One file per subject; here, the config and the helpers they (and `guard_stream`,
//! `guard_hook`) share.

mod answers;
mod policies;
mod prompts;

use crate::support::{Harness, Records, start_observed, start_with};
use serde_json::{Value, json};

/// Two providers on one mock: `gpt` speaks OpenAI, `claude` Anthropic; so OpenAI
/// ingress passes through to `gpt` and is translated to `claude`, and the other way
/// round for Anthropic ingress.
pub const PROVIDERS: &str = r#"
[server]
listen = "127.0.0.1:0"
[providers.oai]
kind = "openai-compatible"
base_url = "${MOCK_URL}"
api_key = "sk-upstream-secret-key-123456"
[providers.ant]
kind = "anthropic"
base_url = "${MOCK_URL}"
api_key = "sk-ant-upstream-secret-0123456789abcdef"
[[models]]
name = "gpt"
targets = [{ provider = "oai", model = "gpt-4o" }]
[[models]]
name = "claude"
targets = [{ provider = "ant", model = "claude-sonnet-4-5" }]
"#;

/// The `[guard]` section, with `more` added to it (before its rules).
pub fn guard(more: &str) -> String {
    format!(
        r#"
[guard]
input = ["pii", "secrets", "invisible", "injection", "codename"]
output = ["pii", "secrets"]
actions = {{ injection = "block", email = "mask", phone = "mask" }}
{more}
[[guard.rules]]
name = "codename"
words = ["Bluebird"]
"#
    )
}

/// The two providers and the guard (with `more` in `[guard]`), then `extra` sections.
pub fn config(more: &str, extra: &str) -> String {
    format!("{PROVIDERS}{}{extra}", guard(more))
}

pub async fn guarded(more: &str) -> Harness {
    start_with(&config(more, "")).await
}

/// Posts `body` to `path` (Anthropic's version header always set).
pub async fn send(h: &Harness, path: &str, body: &Value) -> reqwest::Response {
    h.client
        .post(h.url(path))
        .header("anthropic-version", "2023-06-01")
        .json(body)
        .send()
        .await
        .expect("request sent")
}

/// The response's `x-request-id`, to find its record.
pub fn request_id(response: &reqwest::Response) -> String {
    response.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_owned()
}

/// A one-message request for `model` in the format of `path`.
pub fn ask(path: &str, model: &str, text: &str) -> Value {
    match path {
        "/v1/messages" => json!({
            "model": model, "max_tokens": 256,
            "messages": [{"role": "user", "content": text}]
        }),
        "/v1/responses" => json!({ "model": model, "input": text }),
        _ => json!({ "model": model, "messages": [{"role": "user", "content": text}] }),
    }
}

/// The answer's text in any of the three formats.
pub fn answer_text(path: &str, body: &Value) -> String {
    let pointer = match path {
        "/v1/messages" => "/content/0/text",
        "/v1/responses" => "/output/0/content/0/text",
        _ => "/choices/0/message/content",
    };
    body.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Every (endpoint, model) pair: passed through and translated, for each ingress.
pub const ROUTES: [(&str, &str); 5] = [
    ("/v1/chat/completions", "gpt"),
    ("/v1/chat/completions", "claude"),
    ("/v1/messages", "claude"),
    ("/v1/messages", "gpt"),
    ("/v1/responses", "gpt"),
];

/// A guarded gateway (with `more` in `[guard]`) and its records.
pub async fn observed(more: &str) -> (Harness, Records) {
    start_observed(&config(more, "")).await
}
