//! The OpenAI dialect: text and usage, `max_tokens` and JSON mode, the stream's event
//! order and its usage chunk, tool calls whole and in fragments.

use super::{
    TestResult, chat, events, mock, openai_chunks, post, post_json, text_of_chunks, weather_tools,
    with,
};
use serde_json::{Value, json};

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
