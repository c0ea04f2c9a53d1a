//! Translation beyond the conformance pairs: features a target cannot express, header
//! handling per provider kind, Anthropic ingress rules, and Responses' stored state.

use crate::conformance::CONFIG;
use crate::ingress::{Client, Turn};
use crate::support::{Harness, start_with, text};
use serde_json::{Value, json};

const FALLBACK: &str = r#"
[[models]]
name = "claude-then-gpt"
targets = [{ provider = "anthropic", model = "claude" }, { provider = "openai", model = "gpt" }]
"#;

async fn harness() -> Harness {
    start_with(&format!("{CONFIG}{FALLBACK}")).await
}

fn header(h: &Harness, name: &str) -> Option<String> {
    let seen = h.mock.stats().last_request()?;
    seen.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

#[tokio::test]
async fn a_feature_the_target_lacks_is_a_400_naming_it() {
    let h = harness().await;
    let mut body = Client::OpenAi.request("anthropic-model", &[Turn::User("x")], false);
    body["n"] = json!(2);
    let response = Client::OpenAi.send(&h, &body).await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["error"]["param"], "n", "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("anthropic")),
        "{error}"
    );
    assert_eq!(
        h.mock.stats().requests(),
        0,
        "nothing may reach the provider"
    );
}

#[tokio::test]
async fn a_target_that_cannot_serve_the_request_is_skipped_for_one_that_can() {
    let h = harness().await;
    let mut body = Client::OpenAi.request("claude-then-gpt", &[Turn::User("x")], false);
    body["response_format"] = json!({"type": "json_object"});
    let response = Client::OpenAi.send(&h, &body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-sluice-provider"], "openai");
    assert_eq!(response.headers()["x-sluice-attempts"], "1");
}

#[tokio::test]
async fn anthropic_ingress_requires_anthropic_version_like_anthropic() {
    let h = harness().await;
    let body = Client::Anthropic.request("anthropic-model", &[Turn::User("x")], false);
    let response = h
        .client
        .post(h.url("/v1/messages"))
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn anthropic_errors_from_sluice_use_the_anthropic_shape() {
    let h = harness().await;
    let body = Client::Anthropic.request("no-such-model", &[Turn::User("x")], false);
    let response = Client::Anthropic.send(&h, &body).await;
    assert_eq!(response.status(), 404);
    // The Anthropic SDK's `request-id` is the same id as `x-request-id`.
    assert_eq!(
        response.headers().get("request-id"),
        response.headers().get("x-request-id")
    );
    assert!(response.headers().contains_key("request-id"));
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "not_found_error");
    let response = h
        .client
        .post(h.url("/v1/messages"))
        .header("anthropic-version", "2023-06-01")
        .body("{")
        .send()
        .await;
    let error: Value = response.expect("sent").json().await.expect("json");
    assert_eq!(error["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn anthropic_beta_reaches_anthropic_providers_only() {
    let h = harness().await;
    let body = Client::Anthropic.request("anthropic-model", &[Turn::User("x")], false);
    let response = h
        .client
        .post(h.url("/v1/messages"))
        .header("anthropic-version", "2023-06-01")
        .header("anthropic-beta", "prompt-caching-2024-07-31")
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&h, "anthropic-beta").as_deref(),
        Some("prompt-caching-2024-07-31")
    );
    let body = Client::Anthropic.request("openai-model", &[Turn::User("x")], false);
    h.client
        .post(h.url("/v1/messages"))
        .header("anthropic-version", "2023-06-01")
        .header("anthropic-beta", "prompt-caching-2024-07-31")
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_eq!(header(&h, "anthropic-beta"), None);
}

#[tokio::test]
async fn anthropic_to_anthropic_passes_the_body_through_byte_for_byte() {
    let h = harness().await;
    let body = r#"{"model":"anthropic-model","max_tokens":64,"messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}],"x_new_field":{"n":1.50}}"#;
    let response = h
        .client
        .post(h.url("/v1/messages"))
        .header("anthropic-version", "2023-06-01")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let seen = h.mock.stats().last_request().expect("seen");
    assert_eq!(text(&seen.body), body);
}

#[tokio::test]
async fn each_provider_kind_gets_its_own_auth_and_version_headers() {
    let h = harness().await;
    let cases = [
        (
            "anthropic-model",
            "x-api-key",
            "sk-ant-upstream-secret-123456",
        ),
        ("gemini-model", "x-goog-api-key", "AIzaUpstreamSecret123456"),
        ("azure-model", "api-key", "azure-upstream-secret-123456"),
        (
            "openai-model",
            "authorization",
            "Bearer sk-upstream-secret-key-123456",
        ),
    ];
    for (model, name, value) in cases {
        let response = Client::OpenAi
            .send(
                &h,
                &Client::OpenAi.request(model, &[Turn::User("x")], false),
            )
            .await;
        assert_eq!(response.status(), 200, "{model}");
        assert_eq!(header(&h, name).as_deref(), Some(value), "{model}");
    }
    Client::OpenAi
        .send(
            &h,
            &Client::OpenAi.request("anthropic-model", &[Turn::User("x")], false),
        )
        .await;
    assert_eq!(
        header(&h, "anthropic-version").as_deref(),
        Some("2023-06-01")
    );
    Client::OpenAi
        .send(
            &h,
            &Client::OpenAi.request("azure-model", &[Turn::User("x")], false),
        )
        .await;
    let seen = h.mock.stats().last_request().expect("seen");
    assert_eq!(
        seen.path,
        "/openai/deployments/azure-model/chat/completions"
    );
    assert_eq!(seen.query, "api-version=2024-10-21");
}

#[tokio::test]
async fn responses_previous_response_id_is_a_clear_400() {
    let h = harness().await;
    let mut body = Client::Responses.request("openai-model", &[Turn::User("x")], false);
    body["previous_response_id"] = json!("resp_123");
    let response = Client::Responses.send(&h, &body).await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["error"]["param"], "previous_response_id");
}

#[tokio::test]
async fn embeddings_to_a_provider_without_them_is_a_400() {
    let h = harness().await;
    let response = h
        .client
        .post(h.url("/v1/embeddings"))
        .json(&json!({"model": "anthropic-model", "input": "x"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["error"]["param"], "embeddings");
}

#[tokio::test]
async fn translated_non_stream_reply_keeps_stop_reason_and_usage() {
    let h = harness().await;
    let body = Client::Anthropic.request(
        "gemini-model@content=one two three",
        &[Turn::User("x")],
        false,
    );
    let response = Client::Anthropic.send(&h, &body).await;
    let reply: Value = response.json().await.expect("json");
    assert_eq!(reply["type"], "message");
    assert_eq!(reply["stop_reason"], "end_turn");
    assert_eq!(reply["content"][0]["text"], "one two three");
    assert!(
        reply["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("msg_"))
    );
}
