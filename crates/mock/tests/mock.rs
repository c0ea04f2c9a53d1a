//! End-to-end tests of the mock over real HTTP: wire shapes of both
//! dialects, every fault option, embeddings, models and the recorders.

use std::error::Error;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sluice_mock::{MockConfig, MockHandle, spawn};

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

#[tokio::test]
async fn chat_non_stream_text_and_usage() -> TestResult {
    let mock = mock().await?;
    let (status, body) = post_json(&mock, "/chat/completions", &chat("Hello there")).await?;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "chat.completion");
    assert!(
        body["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("chatcmpl-mock-"))
    );
    assert_eq!(body["model"], "mock-gpt");
    assert_eq!(body["system_fingerprint"], "fp_mock");
    let choice = &body["choices"][0];
    assert_eq!(choice["message"]["content"], "Mock reply to: Hello there");
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["finish_reason"], "stop");
    // "Be brief." + "Hello there" = 20 chars -> 5 tokens; 5 words out.
    assert_eq!(body["usage"]["prompt_tokens"], 5);
    assert_eq!(body["usage"]["completion_tokens"], 5);
    assert_eq!(body["usage"]["total_tokens"], 10);
    assert_eq!(body["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    Ok(())
}

#[tokio::test]
async fn chat_max_tokens_and_json_mode() -> TestResult {
    let mock = mock().await?;
    let body = with(chat("one two three four"), "max_tokens", json!(2));
    let (_, reply) = post_json(&mock, "/chat/completions", &body).await?;
    assert_eq!(reply["choices"][0]["message"]["content"], "Mock reply");
    assert_eq!(reply["choices"][0]["finish_reason"], "length");
    let body = with(
        chat("hi"),
        "response_format",
        json!({"type": "json_object"}),
    );
    let (_, reply) = post_json(&mock, "/chat/completions", &body).await?;
    let content = reply["choices"][0]["message"]["content"]
        .as_str()
        .ok_or("no content")?;
    assert!(serde_json::from_str::<Value>(content)?.is_object());
    Ok(())
}

#[tokio::test]
async fn chat_stream_event_order_and_done() -> TestResult {
    let mock = mock().await?;
    let response = post(
        &mock,
        "/chat/completions",
        &with(chat("Hello there"), "stream", json!(true)),
    )
    .await?;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let body = response.text().await?;
    assert_eq!(events(&body).last(), Some(&"data: [DONE]"));
    let chunks = openai_chunks(&body)?;
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": "", "refusal": null})
    );
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk" && c.get("usage").is_none())
    );
    assert_eq!(text_of_chunks(&chunks), "Mock reply to: Hello there");
    // role chunk + 5 word chunks + finish chunk
    assert_eq!(chunks.len(), 7);
    let last = chunks.last().ok_or("no chunks")?;
    assert_eq!(last["choices"][0]["delta"], json!({}));
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert!(
        chunks[..6]
            .iter()
            .all(|c| c["choices"][0]["finish_reason"].is_null())
    );
    assert_eq!(mock.stats().completed_streams(), 1);
    assert_eq!(mock.stats().active_streams(), 0);
    Ok(())
}

#[tokio::test]
async fn chat_stream_include_usage() -> TestResult {
    let mock = mock().await?;
    let body = with(
        with(chat("Hello"), "stream", json!(true)),
        "stream_options",
        json!({"include_usage": true}),
    );
    let chunks = openai_chunks(
        &post(&mock, "/chat/completions", &body)
            .await?
            .text()
            .await?,
    )?;
    let (last, rest) = chunks.split_last().ok_or("no chunks")?;
    assert!(
        rest.iter()
            .all(|chunk| chunk["usage"].is_null() && chunk.get("usage").is_some())
    );
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["completion_tokens"], 4);
    assert_eq!(last["usage"]["prompt_tokens"], 4);
    Ok(())
}

#[tokio::test]
async fn chat_tool_calls_non_stream() -> TestResult {
    let mock = mock().await?;
    let body = with(chat("weather?"), "tools", weather_tools());
    let (_, reply) = post_json(&mock, "/chat/completions", &body).await?;
    let choice = &reply["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert!(choice["message"]["content"].is_null());
    let calls = choice["message"]["tool_calls"]
        .as_array()
        .ok_or("no tool_calls")?;
    assert_eq!(calls.len(), 2, "parallel by default with two tools");
    assert_eq!(calls[0]["id"], "call_mock_1");
    assert_eq!(calls[1]["function"]["name"], "get_time");
    let arguments: Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().ok_or("args")?)?;
    assert_eq!(
        arguments,
        json!({"city": "mock", "days": 1, "metric": true, "tags": []})
    );

    let single = with(body.clone(), "parallel_tool_calls", json!(false));
    let (_, reply) = post_json(&mock, "/chat/completions", &single).await?;
    assert_eq!(
        reply["choices"][0]["message"]["tool_calls"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let named = with(
        body.clone(),
        "tool_choice",
        json!({"type": "function", "function": {"name": "get_time"}}),
    );
    let (_, reply) = post_json(&mock, "/chat/completions", &named).await?;
    let calls = &reply["choices"][0]["message"]["tool_calls"];
    assert_eq!(
        (
            calls[0]["function"]["name"].as_str(),
            calls.as_array().map(Vec::len)
        ),
        (Some("get_time"), Some(1))
    );
    let none = with(body.clone(), "tool_choice", json!("none"));
    let (_, reply) = post_json(&mock, "/chat/completions", &none).await?;
    assert_eq!(
        reply["choices"][0]["message"]["content"],
        "Mock reply to: weather?"
    );

    let after_tool = json!({"model": "m", "tools": weather_tools(), "messages": [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": null, "tool_calls": calls},
        {"role": "tool", "tool_call_id": "call_mock_1", "content": "22C and sunny"},
    ]});
    let (_, reply) = post_json(&mock, "/chat/completions", &after_tool).await?;
    assert_eq!(
        reply["choices"][0]["message"]["content"],
        "Mock reply to tool result: 22C and sunny"
    );
    assert_eq!(reply["choices"][0]["finish_reason"], "stop");
    Ok(())
}

#[tokio::test]
async fn chat_tool_calls_stream_fragments_reassemble() -> TestResult {
    let mock = mock().await?;
    let body = with(
        with(chat("weather?"), "tools", weather_tools()),
        "stream",
        json!(true),
    );
    let chunks = openai_chunks(
        &post(&mock, "/chat/completions", &body)
            .await?
            .text()
            .await?,
    )?;
    let mut arguments = [String::new(), String::new()];
    let mut fragments = 0;
    for chunk in &chunks {
        for call in chunk["choices"][0]["delta"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let index = call["index"].as_u64().ok_or("index")? as usize;
            if let Some(id) = call["id"].as_str() {
                assert_eq!(id, format!("call_mock_{}", index + 1));
                assert_eq!(call["function"]["arguments"], "");
            } else {
                fragments += 1;
            }
            arguments[index].push_str(call["function"]["arguments"].as_str().ok_or("arguments")?);
        }
    }
    assert!(
        fragments >= 4,
        "each call's arguments come in 2-3 fragments"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&arguments[0])?["city"],
        "mock"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&arguments[1])?,
        json!({"zone": "mock"})
    );
    let last = chunks.last().ok_or("no chunks")?;
    assert_eq!(last["choices"][0]["finish_reason"], "tool_calls");
    Ok(())
}

fn claude(content: Value) -> Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "system": "Be brief.",
           "messages": [{"role": "user", "content": content}]})
}

#[tokio::test]
async fn anthropic_non_stream() -> TestResult {
    let mock = mock().await?;
    let (status, body) = post_json(
        &mock,
        "/messages",
        &claude(json!([{"type": "text", "text": "Hello there"}])),
    )
    .await?;
    assert_eq!(status, 200);
    assert_eq!(body["type"], "message");
    assert!(
        body["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("msg_mock_"))
    );
    assert_eq!(
        body["content"],
        json!([{"type": "text", "text": "Mock reply to: Hello there"}])
    );
    assert_eq!(body["stop_reason"], "end_turn");
    assert!(body["stop_sequence"].is_null());
    assert_eq!(
        body["usage"],
        json!({"input_tokens": 5, "output_tokens": 5,
        "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0})
    );

    let stop = with(
        claude(json!("Hello there")),
        "stop_sequences",
        json!(["there"]),
    );
    let (_, body) = post_json(&mock, "/messages", &stop).await?;
    assert_eq!(body["content"][0]["text"], "Mock reply to: Hello ");
    assert_eq!(
        (body["stop_reason"].as_str(), body["stop_sequence"].as_str()),
        (Some("stop_sequence"), Some("there"))
    );
    let (_, body) = post_json(
        &mock,
        "/messages",
        &with(claude(json!("a b c d")), "max_tokens", json!(3)),
    )
    .await?;
    assert_eq!(
        (
            body["content"][0]["text"].as_str(),
            body["stop_reason"].as_str()
        ),
        (Some("Mock reply to:"), Some("max_tokens"))
    );
    Ok(())
}

#[tokio::test]
async fn anthropic_stream_exact_event_order() -> TestResult {
    let mock = mock().await?;
    let body = with(claude(json!("Hello there")), "stream", json!(true));
    let events = anthropic_events(&post(&mock, "/messages", &body).await?.text().await?)?;
    let kinds: Vec<&str> = events.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert!(
        events
            .iter()
            .all(|(kind, data)| data["type"] == kind.as_str())
    );
    let start = &events[0].1["message"];
    assert_eq!(
        (
            start["usage"]["input_tokens"].as_u64(),
            start["usage"]["output_tokens"].as_u64()
        ),
        (Some(5), Some(1))
    );
    assert_eq!(start["content"], json!([]));
    assert_eq!(
        events[1].1["content_block"],
        json!({"type": "text", "text": ""})
    );
    let text: String = events
        .iter()
        .filter_map(|(_, data)| data["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, "Mock reply to: Hello there");
    assert_eq!(
        events[9].1["delta"],
        json!({"stop_reason": "end_turn", "stop_sequence": null})
    );
    assert_eq!(events[9].1["usage"]["output_tokens"], 5);
    Ok(())
}

#[tokio::test]
async fn anthropic_tool_use() -> TestResult {
    let mock = mock().await?;
    let tools = json!([{"name": "get_weather", "input_schema": {"type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "number"}}}}, {"name": "other"}]);
    let body = with(claude(json!("weather?")), "tools", tools.clone());
    let (_, reply) = post_json(&mock, "/messages", &body).await?;
    assert_eq!(reply["stop_reason"], "tool_use");
    assert_eq!(
        reply["content"],
        json!([{"type": "tool_use", "id": "toolu_mock_1", "name": "get_weather",
        "input": {"city": "mock", "days": 1}}])
    );

    let events = anthropic_events(
        &post(&mock, "/messages", &with(body, "stream", json!(true)))
            .await?
            .text()
            .await?,
    )?;
    assert_eq!(
        events[1].1["content_block"],
        json!({"type": "tool_use", "id": "toolu_mock_1", "name": "get_weather", "input": {}})
    );
    let partial: String = events
        .iter()
        .filter_map(|(_, data)| data["delta"]["partial_json"].as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&partial)?,
        json!({"city": "mock", "days": 1})
    );
    let stop = events
        .iter()
        .find(|(kind, _)| kind == "message_delta")
        .ok_or("no message_delta")?;
    assert_eq!(stop.1["delta"]["stop_reason"], "tool_use");

    let result = json!({"model": "c", "max_tokens": 50, "tools": tools, "messages": [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": reply["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_mock_1", "content": "22C"}]},
    ]});
    let (_, reply) = post_json(&mock, "/messages", &result).await?;
    assert_eq!(
        reply["content"][0]["text"],
        "Mock reply to tool result: 22C"
    );
    let none = with(
        with(claude(json!("x")), "tools", tools),
        "tool_choice",
        json!({"type": "none"}),
    );
    assert_eq!(
        post_json(&mock, "/messages", &none).await?.1["stop_reason"],
        "end_turn"
    );
    Ok(())
}

#[tokio::test]
async fn status_fault_both_formats() -> TestResult {
    let mock = mock().await?;
    let body = with(chat("hi"), "mock", json!({"status": 429, "retry_after": 7}));
    let response = post(&mock, "/chat/completions", &body).await?;
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    let error = json_of(response).await?;
    assert_eq!(
        error,
        json!({"error": {"message": "mock fault: status 429", "type": "rate_limit_error",
        "param": null, "code": null}})
    );

    let body = with(claude(json!("hi")), "mock", json!({"status": 529}));
    let (status, error) = post_json(&mock, "/messages", &body).await?;
    assert_eq!(status, 529);
    assert_eq!(
        error,
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "mock fault: status 529"}})
    );
    let (status, error) = post_json(
        &mock,
        "/chat/completions",
        &with(chat("hi"), "mock", json!({"status": 503})),
    )
    .await?;
    assert_eq!(
        (status, error["error"]["type"].as_str()),
        (503, Some("server_error"))
    );
    Ok(())
}

#[tokio::test]
async fn header_options_and_body_precedence() -> TestResult {
    let mock = mock().await?;
    let url = format!("{}/chat/completions", mock.base_url());
    let response = client()?
        .post(&url)
        .header("x-mock-status", "503")
        .json_body(&chat("hi"))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 503);
    let body = with(
        chat("hi"),
        "mock",
        json!({"status": 200, "content": "body wins"}),
    );
    let response = client()?
        .post(&url)
        .header("x-mock-status", "503")
        .header("x-mock-content", "header")
        .json_body(&body)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        json_of(response).await?["choices"][0]["message"]["content"],
        "body wins"
    );
    let response = client()?
        .post(&url)
        .header("x-mock-bogus", "1")
        .json_body(&chat("hi"))
        .send()
        .await?;
    assert_eq!(
        response.status().as_u16(),
        400,
        "unknown options are rejected"
    );
    Ok(())
}

#[tokio::test]
async fn hang_counts_as_cancelled_when_client_leaves() -> TestResult {
    let mock = mock().await?;
    let body = with(chat("hi"), "mock", json!({"hang": true}));
    let request = post(&mock, "/chat/completions", &body);
    let outcome = tokio::time::timeout(Duration::from_millis(200), request).await;
    assert!(
        outcome.is_err(),
        "a hanging request must not get a response"
    );
    wait_until("hang cancellation", || mock.stats().cancelled() == 1).await;
    assert_eq!(mock.stats().requests(), 1);
    Ok(())
}

#[tokio::test]
async fn dropped_stream_counts_as_cancelled() -> TestResult {
    let mock = mock().await?;
    let body = with(
        with(chat("hi"), "stream", json!(true)),
        "mock",
        json!({"chunks": 50, "chunk_delay_ms": 50}),
    );
    let mut response = post(&mock, "/chat/completions", &body).await?;
    assert!(response.chunk().await?.is_some());
    assert_eq!(mock.stats().active_streams(), 1);
    drop(response);
    wait_until("stream cancellation", || mock.stats().cancelled() == 1).await;
    wait_until("stream to stop being active", || {
        mock.stats().active_streams() == 0
    })
    .await;
    assert_eq!(mock.stats().completed_streams(), 0);
    Ok(())
}

#[tokio::test]
async fn first_token_delay() -> TestResult {
    let mock = mock().await?;
    let delay = Duration::from_millis(300);
    let body = with(
        with(chat("hi"), "stream", json!(true)),
        "mock",
        json!({"first_token_delay_ms": 300}),
    );
    let started = Instant::now();
    let mut response = post(&mock, "/chat/completions", &body).await?;
    assert!(started.elapsed() < delay, "stream headers are sent at once");
    assert!(response.chunk().await?.is_some());
    assert!(
        started.elapsed() >= delay,
        "first event waits for the delay"
    );

    let started = Instant::now();
    let (status, _) = post_json(
        &mock,
        "/chat/completions",
        &with(chat("hi"), "mock", json!({"first_token_delay_ms": 300})),
    )
    .await?;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= delay);
    Ok(())
}

#[tokio::test]
async fn cut_after_aborts_the_stream() -> TestResult {
    let mock = mock().await?;
    let body = with(
        with(chat("hi"), "stream", json!(true)),
        "mock",
        json!({"chunks": 10, "cut_after": 3}),
    );
    let mut response = post(&mock, "/chat/completions", &body).await?;
    let mut received = Vec::new();
    let error = loop {
        match response.chunk().await {
            Ok(Some(bytes)) => received.extend_from_slice(&bytes),
            Ok(None) => return Err("stream ended cleanly despite cut_after".into()),
            Err(error) => break error,
        }
    };
    assert!(
        error.is_body() || error.is_decode() || error.is_request(),
        "{error:?}"
    );
    let text = String::from_utf8(received)?;
    assert!(!text.contains("[DONE]"));
    assert_eq!(text_of_chunks(&openai_chunks(&text)?), "tok1 tok2 tok3");
    assert_eq!(mock.stats().completed_streams(), 0);
    Ok(())
}

#[tokio::test]
async fn malformed_json_and_sse() -> TestResult {
    let mock = mock().await?;
    let response = post(
        &mock,
        "/chat/completions",
        &with(chat("hi"), "mock", json!({"malformed": "json"})),
    )
    .await?;
    assert_eq!(response.status().as_u16(), 200);
    assert!(serde_json::from_slice::<Value>(&response.bytes().await?).is_err());

    let body = with(
        with(chat("hi"), "stream", json!(true)),
        "mock",
        json!({"malformed": "sse"}),
    );
    let text = post(&mock, "/chat/completions", &body)
        .await?
        .text()
        .await?;
    let all = events(&text);
    assert_eq!(
        all[2], "data: {\"choices\": [tru",
        "bad event right after the first delta"
    );
    assert_eq!(
        all.last(),
        Some(&"data: [DONE]"),
        "stream continues normally"
    );
    Ok(())
}

#[tokio::test]
async fn error_event_ends_the_stream() -> TestResult {
    let mock = mock().await?;
    let body = with(
        with(chat("one two three"), "stream", json!(true)),
        "mock",
        json!({"error_event": true}),
    );
    let text = post(&mock, "/chat/completions", &body)
        .await?
        .text()
        .await?;
    let chunks = openai_chunks(&text)?;
    assert_eq!(chunks.len(), 3);
    assert_eq!(
        chunks[2]["error"]["message"],
        "mock fault: mid-stream error"
    );
    assert!(!text.contains("[DONE]"));

    let body = with(
        with(claude(json!("one two")), "stream", json!(true)),
        "mock",
        json!({"error_event": true}),
    );
    let events = anthropic_events(&post(&mock, "/messages", &body).await?.text().await?)?;
    let (kind, data) = events.last().ok_or("no events")?;
    assert_eq!(kind, "error");
    assert_eq!(data["error"]["type"], "overloaded_error");
    assert!(events.iter().all(|(kind, _)| kind != "message_stop"));
    Ok(())
}

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
async fn http2_stream_and_hang_cancellation() -> TestResult {
    let mock = mock().await?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let h2 = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()?;
    let body = with(chat("Hello there"), "stream", json!(true));
    let response = h2
        .post(format!("{}/chat/completions", mock.base_url()))
        .json_body(&body)
        .send()
        .await?;
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    let chunks = openai_chunks(&response.text().await?)?;
    assert_eq!(text_of_chunks(&chunks), "Mock reply to: Hello there");
    // On HTTP/2 the client resets the stream rather than closing the
    // connection; the handler must still be dropped and counted.
    let hang = with(chat("hi"), "mock", json!({"hang": true}));
    let request = h2
        .post(format!("{}/chat/completions", mock.base_url()))
        .json_body(&hang);
    let outcome = tokio::time::timeout(Duration::from_millis(200), request.send()).await;
    assert!(outcome.is_err());
    wait_until("h2 hang cancellation", || mock.stats().cancelled() == 1).await;
    Ok(())
}

#[tokio::test]
async fn anthropic_cut_after_and_malformed_sse() -> TestResult {
    let mock = mock().await?;
    let options = json!({"chunks": 5, "cut_after": 2});
    let body = with(
        with(claude(json!("hi")), "stream", json!(true)),
        "mock",
        options,
    );
    let mut response = post(&mock, "/messages", &body).await?;
    let mut received = Vec::new();
    let outcome = loop {
        match response.chunk().await {
            Ok(Some(bytes)) => received.extend_from_slice(&bytes),
            Ok(None) => break Ok(()),
            Err(error) => break Err(error),
        }
    };
    assert!(
        outcome.is_err(),
        "the connection is cut, not closed cleanly"
    );
    let text = String::from_utf8(received)?;
    assert_eq!(text.matches("event: content_block_delta").count(), 2);
    assert!(!text.contains("message_stop"));

    let options = json!({"malformed": "sse"});
    let body = with(
        with(claude(json!("hi")), "stream", json!(true)),
        "mock",
        options,
    );
    let text = post(&mock, "/messages", &body).await?.text().await?;
    let all = events(&text);
    assert!(all[4].ends_with("\"text\": tru"), "{}", all[4]);
    assert_eq!(
        all.last(),
        Some(&"event: message_stop\ndata: {\"type\":\"message_stop\"}")
    );
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
