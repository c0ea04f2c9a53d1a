//! `POST /v1/messages/count_tokens`: answered by an Anthropic-format target with its own
//! credentials, estimated with the tokenizer for other providers or when the provider
//! fails, in Anthropic's shapes, behind the same key checks as any `/v1` call.

use crate::support::{DEFAULT_CONFIG, Harness, start_with};
use serde_json::{Value, json};

fn config(extra: &str) -> String {
    format!(
        "{DEFAULT_CONFIG}\n[providers.anth]\nkind = \"anthropic\"\nbase_url = \"${{MOCK_URL}}\"\napi_key = \"sk-ant-upstream-0123456789\"\n[[models]]\nname = \"claude\"\ntargets = [{{ provider = \"anth\", model = \"claude-sonnet-4-5\" }}]\n{extra}"
    )
}

fn body(model: &str) -> Value {
    json!({"model": model, "system": "Be brief.", "messages": [{"role": "user", "content": "Count the tokens of this sentence, please."}]})
}

async fn count(h: &Harness, key: Option<&str>, body: &Value) -> reqwest::Response {
    let mut req = h
        .client
        .post(h.url("/v1/messages/count_tokens"))
        .header("anthropic-version", "2023-06-01")
        .json(body);
    if let Some(key) = key {
        req = req.header("x-api-key", key);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn an_anthropic_target_answers_with_its_own_key_and_model() {
    let h = start_with(&config("")).await;
    let r = count(&h, Some("sk-client-key"), &body("claude")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-sluice-provider"], "anth");
    assert!(r.headers().get("x-sluice-estimate").is_none());
    let answer: Value = r.json().await.unwrap();
    // The mock counts a quarter of the characters: "Be brief." and the message.
    let chars = "Be brief.".len() + "Count the tokens of this sentence, please.".len();
    assert_eq!(answer["input_tokens"], chars.div_ceil(4) as u64);
    let seen = h.mock.stats().last_request().unwrap();
    assert_eq!(seen.path, "/v1/messages/count_tokens");
    let header = |name: &str| {
        seen.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        header("x-api-key").as_deref(),
        Some("sk-ant-upstream-0123456789")
    );
    let sent: Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(sent["model"], "claude-sonnet-4-5");
}

#[tokio::test]
async fn other_providers_and_failures_get_the_tokenizers_estimate() {
    let h = start_with(&config("")).await;
    let r = count(&h, None, &body("gpt-4o")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-sluice-estimate"], "true");
    let answer: Value = r.json().await.unwrap();
    let tokens = answer["input_tokens"].as_u64().unwrap();
    assert!((8..=20).contains(&tokens), "{tokens}");
    assert_eq!(h.mock.stats().requests(), 0, "no provider was asked");
    h.mock.set_script("status=500");
    let r = count(&h, None, &body("claude")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-sluice-estimate"], "true");
    let estimate: Value = r.json().await.unwrap();
    assert_eq!(estimate["input_tokens"], tokens);
}

#[tokio::test]
async fn bad_requests_and_keys_are_refused_in_anthropics_shape() {
    let h = start_with(&config(
        "[[keys]]\nname = \"k\"\nkey = \"sk-count-0123456789abcdef\"\nmodels = [\"claude\"]\n",
    ))
    .await;
    let r = count(&h, None, &body("claude")).await;
    assert_eq!(r.status(), 401);
    let error: Value = r.json().await.unwrap();
    assert_eq!(error["error"]["type"], "authentication_error");
    let key = Some("sk-count-0123456789abcdef");
    let r = count(&h, key, &body("gpt-4o")).await;
    assert_eq!(r.status(), 403);
    let r = count(&h, key, &json!({"model": "claude"})).await;
    assert_eq!(r.status(), 400);
    let error: Value = r.json().await.unwrap();
    assert_eq!(error["type"], "error");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("messages")
    );
    let r = h
        .client
        .post(h.url("/v1/messages/count_tokens"))
        .header("x-api-key", "sk-count-0123456789abcdef")
        .json(&body("claude"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "anthropic-version is required");
    let r = h
        .client
        .get(h.url("/v1/messages/count_tokens"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(count(&h, key, &body("claude")).await.status(), 200);
}
