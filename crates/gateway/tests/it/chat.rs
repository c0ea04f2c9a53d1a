//! Non-stream chat completions, embeddings and models, as an OpenAI SDK sees them.

use crate::support::{chat, start};
use serde_json::{Value, json};

#[tokio::test]
async fn non_stream_reply_carries_usage_and_sluice_headers() {
    let h = start().await;
    let response = h
        .post("/v1/chat/completions", &chat("gpt-4o", "hello"))
        .await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["x-sluice-provider"], "mock");
    assert_eq!(headers["x-sluice-model"], "gpt-4o");
    assert_eq!(headers["x-sluice-attempts"], "1");
    assert!(
        headers["x-request-id"]
            .to_str()
            .is_ok_and(|id| id.starts_with("req_"))
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Mock reply to: hello"
    );
    assert!(
        body["usage"]["total_tokens"]
            .as_u64()
            .is_some_and(|n| n > 0)
    );
}

#[tokio::test]
async fn echoes_a_client_request_id_and_replaces_a_hostile_one() {
    let h = start().await;
    let url = h.url("/v1/chat/completions");
    let ok = h
        .client
        .post(&url)
        .header("x-request-id", "trace-42")
        .json(&chat("gpt-4o", "x"))
        .send()
        .await;
    assert_eq!(ok.expect("sent").headers()["x-request-id"], "trace-42");
    let bad = h
        .client
        .post(&url)
        .header("x-request-id", "a b\tc")
        .json(&chat("gpt-4o", "x"))
        .send()
        .await;
    let id = bad.expect("sent").headers()["x-request-id"]
        .to_str()
        .map(str::to_owned);
    assert!(id.is_ok_and(|id| id.starts_with("req_")));
}

#[tokio::test]
async fn alias_reaches_upstream_under_its_target_model_name() {
    let h = start().await;
    let response = h.post("/v1/chat/completions", &chat("alias", "hi")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-sluice-model"], "upstream-model");
    assert_eq!(h.upstream_body()["model"], "upstream-model");
}

#[tokio::test]
async fn tools_come_back_as_tool_calls() {
    let h = start().await;
    let body = json!({
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "weather in Paris?"}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {
            "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
        "tool_choice": "auto",
    });
    let reply: Value = h
        .post("/v1/chat/completions", &body)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(reply["choices"][0]["finish_reason"], "tool_calls");
    let call = &reply["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    let args: Value = serde_json::from_str(call["function"]["arguments"].as_str().unwrap_or(""))
        .expect("args JSON");
    assert_eq!(args["city"], "mock");
}

#[tokio::test]
async fn response_format_and_image_parts_reach_the_provider_intact() {
    let h = start().await;
    let body = json!({
        "model": "gpt-4o",
        "response_format": {"type": "json_object"},
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "describe"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}}
        ]}],
    });
    let reply: Value = h
        .post("/v1/chat/completions", &body)
        .await
        .json()
        .await
        .expect("json");
    let content = reply["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or("");
    assert!(
        serde_json::from_str::<Value>(content).is_ok_and(|v| v.is_object()),
        "{content}"
    );
    assert_eq!(h.upstream_body()["messages"], body["messages"]);
    assert_eq!(
        h.upstream_body()["response_format"],
        body["response_format"]
    );
}

#[tokio::test]
async fn embeddings_pass_through_in_float_and_base64() {
    let h = start().await;
    let floats: Value = h
        .post(
            "/v1/embeddings",
            &json!({"model": "text-embedding-3-small", "input": ["a", "b"]}),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(floats["data"].as_array().map(Vec::len), Some(2));
    assert!(floats["data"][0]["embedding"].is_array());
    let b64: Value = h
        .post(
            "/v1/embeddings",
            &json!({"model": "text-embedding-3-small", "input": "a", "encoding_format": "base64"}),
        )
        .await
        .json()
        .await
        .expect("json");
    assert!(b64["data"][0]["embedding"].is_string());
}

#[tokio::test]
async fn models_lists_names_not_patterns_and_retrieves_one() {
    let h = start().await;
    let list: Value = h
        .client
        .get(h.url("/v1/models"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert!(ids.contains(&"gpt-4o") && ids.contains(&"alias"), "{ids:?}");
    let one = h
        .client
        .get(h.url("/v1/models/alias"))
        .send()
        .await
        .expect("sent");
    assert_eq!(one.status(), 200);
    let missing = h
        .client
        .get(h.url("/v1/models/nope"))
        .send()
        .await
        .expect("sent");
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let h = start().await;
    for path in ["/healthz", "/readyz"] {
        let r = h.client.get(h.url(path)).send().await.expect("sent");
        assert_eq!(r.status(), 200, "{path}");
    }
}
