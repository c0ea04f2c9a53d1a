//! End-to-end tests of the Gemini dialect over real HTTP: reply shapes,
//! streams in both framings, function calls, JSON mode, usage and request
//! recording. Faults and errors are in `gemini_faults.rs`.

mod support;

use serde_json::{Value, json};
use support::gemini::{
    generate, sse_chunks, stream_sse, stream_text, text_of, url, user, weather_tools,
};
use support::{JsonBody, TestResult, client, json_of, mock, post_json, wait_until, with};

#[tokio::test]
async fn non_stream_text_usage_and_system_instruction() -> TestResult {
    let mock = mock().await?;
    let body = with(
        user("Hello there"),
        "systemInstruction",
        json!({"parts": [{"text": "Be brief."}]}),
    );
    let (status, reply) = post_json(&generate(&mock), &body).await?;
    assert_eq!(status, 200);
    let id = reply["responseId"].as_str().ok_or("responseId")?;
    assert!(id.starts_with("gemini-mock-"), "{id}");
    assert_eq!(
        reply,
        json!({
            "candidates": [{
                "content": {"role": "model", "parts": [{"text": "Mock reply to: Hello there"}]},
                "finishReason": "STOP",
                "index": 0,
            }],
            // "Be brief." + "Hello there" = 20 chars -> 5 tokens; 5 words out.
            "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 5, "totalTokenCount": 10},
            "modelVersion": "gemini-2.5-flash",
            "responseId": id,
        })
    );
    let (_, without_system) = post_json(&generate(&mock), &user("Hello there")).await?;
    assert_eq!(without_system["usageMetadata"]["promptTokenCount"], 3);
    Ok(())
}

#[tokio::test]
async fn stream_sse_chunks_and_final_usage() -> TestResult {
    let mock = mock().await?;
    let response = client()?
        .post(stream_sse(&mock))
        .json_body(&user("Hello there"))
        .send()
        .await?;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let body = response.text().await?;
    assert!(body.ends_with("}\r\n\r\n") && !body.contains("[DONE]"));
    let chunks = sse_chunks(&body)?;
    // 5 word chunks + the finish chunk.
    assert_eq!(chunks.len(), 6);
    assert_eq!(text_of(&chunks), "Mock reply to: Hello there");
    let first = &chunks[0];
    assert_eq!(first["candidates"][0]["content"]["role"], "model");
    assert!(first["candidates"][0].get("finishReason").is_none());
    assert_eq!(first["usageMetadata"]["candidatesTokenCount"], 1);
    assert_eq!(first["modelVersion"], "gemini-2.5-flash");
    assert_eq!(first["responseId"], chunks[5]["responseId"]);
    let last = &chunks[5];
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(
        last["usageMetadata"],
        json!({"promptTokenCount": 3, "candidatesTokenCount": 5, "totalTokenCount": 8})
    );
    wait_until("stream completion", || {
        mock.stats().completed_streams() == 1
    })
    .await;
    Ok(())
}

#[tokio::test]
async fn stream_without_alt_is_a_json_array() -> TestResult {
    let mock = mock().await?;
    let url = url(&mock, "gemini-2.5-flash", "streamGenerateContent");
    let response = client()?.post(&url).json_body(&user("hi")).send().await?;
    assert_eq!(response.headers()["content-type"], "application/json");
    let chunks: Vec<Value> = serde_json::from_slice(&response.bytes().await?)?;
    assert_eq!(text_of(&chunks), "Mock reply to: hi");
    let last = chunks.last().ok_or("no chunks")?;
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    Ok(())
}

#[tokio::test]
async fn function_calls_non_stream() -> TestResult {
    let mock = mock().await?;
    let forced =
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}});
    let body = with(
        with(user("weather?"), "tools", weather_tools()),
        "toolConfig",
        forced,
    );
    let (_, reply) = post_json(&generate(&mock), &body).await?;
    let candidate = &reply["candidates"][0];
    assert_eq!(candidate["finishReason"], "STOP");
    assert_eq!(
        candidate["content"]["parts"],
        json!([{"functionCall": {"name": "get_weather", "id": "call_mock_1",
            "args": {"city": "mock", "days": 1, "unit": "C"}}}])
    );
    assert!(reply["usageMetadata"]["candidatesTokenCount"].as_u64() >= Some(2));

    // AUTO with two tools: two parallel calls.
    let (_, reply) = post_json(
        &generate(&mock),
        &with(user("hi"), "tools", weather_tools()),
    )
    .await?;
    let parts = reply["candidates"][0]["content"]["parts"]
        .as_array()
        .ok_or("parts")?;
    let names: Vec<&str> = parts
        .iter()
        .filter_map(|p| p["functionCall"]["name"].as_str())
        .collect();
    assert_eq!(names, ["get_weather", "get_time"]);
    assert_eq!(parts[1]["functionCall"]["id"], "call_mock_2");

    // ANY without names: one call; NONE: text.
    for (mode, calls) in [("ANY", 1), ("NONE", 0)] {
        let config = json!({"functionCallingConfig": {"mode": mode}});
        let body = with(
            with(user("hi"), "tools", weather_tools()),
            "toolConfig",
            config,
        );
        let (_, reply) = post_json(&generate(&mock), &body).await?;
        let parts = reply["candidates"][0]["content"]["parts"]
            .as_array()
            .ok_or("parts")?;
        let found = parts
            .iter()
            .filter(|p| p.get("functionCall").is_some())
            .count();
        assert_eq!(found, calls, "mode {mode}");
    }
    Ok(())
}

#[tokio::test]
async fn function_calls_stream_whole_in_one_chunk() -> TestResult {
    let mock = mock().await?;
    let body = with(user("hi"), "tools", weather_tools());
    let chunks = sse_chunks(&stream_text(&stream_sse(&mock), &body).await?)?;
    assert_eq!(chunks.len(), 2, "one call chunk and the finish chunk");
    let parts = chunks[0]["candidates"][0]["content"]["parts"]
        .as_array()
        .ok_or("parts")?;
    assert_eq!(parts.len(), 2);
    assert_eq!(
        parts[0]["functionCall"]["args"],
        json!({"city": "mock", "days": 1, "unit": "C"})
    );
    assert_eq!(parts[1]["functionCall"]["args"], json!({"zone": "mock"}));
    assert_eq!(chunks[1]["candidates"][0]["finishReason"], "STOP");
    let (_, whole) = post_json(&generate(&mock), &body).await?;
    assert_eq!(chunks[1]["usageMetadata"], whole["usageMetadata"]);
    Ok(())
}

#[tokio::test]
async fn tool_result_turn_replies_to_the_result() -> TestResult {
    let mock = mock().await?;
    let body = json!({
        "contents": [
            {"role": "user", "parts": [{"text": "weather in Paris?"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"result": "sunny"}}}]},
        ],
        "tools": weather_tools(),
    });
    let (_, reply) = post_json(&generate(&mock), &body).await?;
    assert_eq!(
        reply["candidates"][0]["content"]["parts"],
        json!([{"text": "Mock reply to tool result: sunny"}])
    );
    // "weather in Paris?" (17) + "sunny" (5) = 22 chars -> 6 tokens.
    assert_eq!(reply["usageMetadata"]["promptTokenCount"], 6);
    Ok(())
}

#[tokio::test]
async fn json_mode_limits_and_stop_sequences() -> TestResult {
    let mock = mock().await?;
    let config = json!({"responseMimeType": "application/json"});
    let (_, reply) = post_json(
        &generate(&mock),
        &with(user("hi"), "generationConfig", config),
    )
    .await?;
    let text = reply["candidates"][0]["content"]["parts"][0]["text"]
        .as_str()
        .ok_or("text")?;
    assert_eq!(
        serde_json::from_str::<Value>(text)?,
        json!({"mock": "reply"})
    );

    let config = json!({"responseMimeType": "application/json", "responseSchema":
        {"type": "OBJECT", "properties": {"answer": {"type": "STRING"}, "score": {"type": "NUMBER"}}}});
    let (_, reply) = post_json(
        &generate(&mock),
        &with(user("hi"), "generationConfig", config),
    )
    .await?;
    let text = reply["candidates"][0]["content"]["parts"][0]["text"]
        .as_str()
        .ok_or("text")?;
    assert_eq!(
        serde_json::from_str::<Value>(text)?,
        json!({"answer": "mock", "score": 1})
    );

    let config = json!({"maxOutputTokens": 2});
    let (_, reply) = post_json(
        &generate(&mock),
        &with(user("a b c"), "generationConfig", config),
    )
    .await?;
    assert_eq!(reply["candidates"][0]["finishReason"], "MAX_TOKENS");
    assert_eq!(
        reply["candidates"][0]["content"]["parts"][0]["text"],
        "Mock reply"
    );
    assert_eq!(reply["usageMetadata"]["candidatesTokenCount"], 2);

    let config = json!({"stopSequences": [" to:"]});
    let (_, reply) = post_json(
        &generate(&mock),
        &with(user("hi"), "generationConfig", config),
    )
    .await?;
    assert_eq!(reply["candidates"][0]["finishReason"], "STOP");
    assert_eq!(
        reply["candidates"][0]["content"]["parts"][0]["text"],
        "Mock reply"
    );
    Ok(())
}

#[tokio::test]
async fn records_gemini_requests() -> TestResult {
    let mock = mock().await?;
    let body = user("hi");
    client()?
        .post(stream_sse(&mock))
        .header("x-goog-api-key", "g-key")
        .json_body(&body)
        .send()
        .await?
        .text()
        .await?;
    let recorded = mock.stats().last_request().ok_or("nothing recorded")?;
    assert_eq!(
        recorded.path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    );
    assert_eq!(recorded.query, "alt=sse");
    assert!(
        recorded
            .headers
            .iter()
            .any(|(n, v)| n == "x-goog-api-key" && v == "g-key")
    );
    assert_eq!(serde_json::from_slice::<Value>(&recorded.body)?, body);
    let over_http = json_of(
        client()?
            .get(format!("http://{}/mock/last-request", mock.addr()))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(over_http["query"], "alt=sse");
    assert_eq!(mock.stats().requests(), 1);
    Ok(())
}
