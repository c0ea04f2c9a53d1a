//! The Anthropic dialect: a message, the stream's exact event order, tool use.

use super::{TestResult, anthropic_events, claude, mock, post, post_json, with};
use serde_json::{Value, json};

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
