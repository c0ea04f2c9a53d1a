//! Beyond chat: the `chunks` option and config defaults, embeddings (float and
//! base64), the model list, the request recorders and stats, and 400s in each format.

use super::{
    JsonBody, TestResult, chat, claude, client, json_of, mock, openai_chunks, post, post_json,
    text_of_chunks, with,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sluice_mock::{MockConfig, spawn};
use std::time::{Duration, Instant};

#[tokio::test]
async fn chunks_option_sets_delta_count() -> TestResult {
    let mock = mock().await?;
    let body = with(
        with(chat("hi"), "stream", json!(true)),
        "mock",
        json!({"chunks": 30}),
    );
    let chunks = openai_chunks(
        &post(&mock, "/chat/completions", &body)
            .await?
            .text()
            .await?,
    )?;
    let deltas: Vec<&str> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(deltas.len(), 30);
    assert_eq!(
        (deltas[0], deltas[1], deltas[29]),
        ("tok1", " tok2", " tok30")
    );

    let body = with(
        chat("hi"),
        "mock",
        json!({"chunks": 4, "content": "abcdefgh"}),
    );
    let (_, reply) = post_json(&mock, "/chat/completions", &body).await?;
    assert_eq!(reply["choices"][0]["message"]["content"], "abcdefgh");
    assert_eq!(reply["usage"]["completion_tokens"], 4);
    Ok(())
}

#[tokio::test]
async fn embeddings_float_and_base64() -> TestResult {
    let mock = mock().await?;
    let body = json!({"model": "text-embedding-3-small", "input": ["hello", "world"]});
    let (_, floats) = post_json(&mock, "/embeddings", &body).await?;
    assert_eq!(floats["object"], "list");
    assert_eq!(
        floats["usage"],
        json!({"prompt_tokens": 3, "total_tokens": 3})
    );
    let first: Vec<f64> = floats["data"][0]["embedding"]
        .as_array()
        .ok_or("floats")?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    assert_eq!(first.len(), 8);
    assert!((first.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-4);
    assert_ne!(
        floats["data"][0]["embedding"],
        floats["data"][1]["embedding"]
    );
    assert_eq!(floats["data"][1]["index"], 1);

    let (_, encoded) = post_json(
        &mock,
        "/embeddings",
        &with(body, "encoding_format", json!("base64")),
    )
    .await?;
    let bytes = STANDARD.decode(encoded["data"][0]["embedding"].as_str().ok_or("base64")?)?;
    let decoded: Vec<f64> = bytes
        .chunks_exact(4)
        .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        .collect();
    assert_eq!(decoded, first);

    let tokens = json!({"model": "e", "input": [[1, 2, 3], [4]], "dimensions": 3});
    let (_, reply) = post_json(&mock, "/embeddings", &tokens).await?;
    assert_eq!(
        reply["data"][1]["embedding"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(reply["usage"]["prompt_tokens"], 4);
    Ok(())
}

#[tokio::test]
async fn models_list() -> TestResult {
    let mock = mock().await?;
    let list = json_of(
        client()?
            .get(format!("{}/models", mock.base_url()))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(list["object"], "list");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .ok_or("data")?
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert!(ids.contains(&"mock-gpt") && ids.contains(&"claude-sonnet-4-5"));
    assert_eq!(list["data"][0]["owned_by"], "sluice-mock");
    assert_eq!(list["data"][0]["object"], "model");
    Ok(())
}

#[tokio::test]
async fn records_last_request_and_serves_stats() -> TestResult {
    let mock = mock().await?;
    let base = format!("http://{}", mock.addr());
    let missing = client()?
        .get(format!("{base}/mock/last-request"))
        .send()
        .await?;
    assert_eq!(missing.status().as_u16(), 404);
    let body = claude(json!("hi"));
    client()?
        .post(format!("{base}/v1/messages"))
        .header("x-api-key", "sk-test")
        .json_body(&body)
        .send()
        .await?;
    let recorded = mock.stats().last_request().ok_or("nothing recorded")?;
    assert_eq!(
        (recorded.method.as_str(), recorded.path.as_str()),
        ("POST", "/v1/messages")
    );
    assert!(
        recorded
            .headers
            .iter()
            .any(|(name, value)| name == "x-api-key" && value == "sk-test")
    );
    assert_eq!(serde_json::from_slice::<Value>(&recorded.body)?, body);

    let over_http = json_of(
        client()?
            .get(format!("{base}/mock/last-request"))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(over_http["headers"]["x-api-key"], "sk-test");
    assert_eq!(
        serde_json::from_str::<Value>(over_http["body"].as_str().ok_or("body")?)?,
        body
    );
    let stats = json_of(client()?.get(format!("{base}/mock/stats")).send().await?).await?;
    // Four clients, a connection each: the stats request's own counts too.
    assert_eq!(
        stats,
        json!({"connections": 4, "requests": 1, "active_streams": 0, "completed_streams": 0, "cancelled": 0})
    );
    Ok(())
}

#[tokio::test]
async fn bad_requests_get_400_in_each_format() -> TestResult {
    let mock = mock().await?;
    let url = format!("{}/chat/completions", mock.base_url());
    let response = client()?.post(&url).body("{not json").send().await?;
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        json_of(response).await?["error"]["type"],
        "invalid_request_error"
    );
    let response = client()?
        .post(format!("{}/messages", mock.base_url()))
        .body("[")
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        json_of(response).await?["error"]["type"],
        "invalid_request_error"
    );
    let (status, _) = post_json(&mock, "/chat/completions", &json!({"messages": []})).await?;
    assert_eq!(status, 400);
    assert_eq!(mock.stats().requests(), 3);
    Ok(())
}

#[tokio::test]
async fn config_default_chunks_and_delay() -> TestResult {
    let config = MockConfig {
        default_chunk_delay: Duration::from_millis(40),
        default_chunks: Some(3),
    };
    let mock = spawn("127.0.0.1:0".parse()?, config).await?;
    let started = Instant::now();
    let body = with(chat("hi"), "stream", json!(true));
    let chunks = openai_chunks(
        &post(&mock, "/chat/completions", &body)
            .await?
            .text()
            .await?,
    )?;
    assert_eq!(text_of_chunks(&chunks), "tok1 tok2 tok3");
    assert!(
        started.elapsed() >= Duration::from_millis(80),
        "two pauses between three deltas"
    );
    Ok(())
}
