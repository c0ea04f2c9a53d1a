//! End-to-end tests of Azure OpenAI's URL scheme and of fault options
//! given as a `model@key=value,...` suffix, in every wire format.

mod support;

use serde_json::{Value, json};
use sluice_mock::MockHandle;
use support::gemini::{url as gemini_url, user};
use support::{JsonBody, TestResult, client, json_of, mock, post_json, read_until_cut, with};

fn azure(mock: &MockHandle, deployment: &str, operation: &str, query: &str) -> String {
    format!(
        "{}/deployments/{deployment}/{operation}{query}",
        mock.azure_base_url()
    )
}

const API_VERSION: &str = "?api-version=2024-10-21";

fn messages(text: &str) -> Value {
    json!({"messages": [{"role": "user", "content": text}]})
}

fn chat(model: &str) -> Value {
    with(messages("hi"), "model", json!(model))
}

fn claude(model: &str) -> Value {
    json!({"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn azure_chat_embeddings_and_stream() -> TestResult {
    let mock = mock().await?;
    let url = azure(&mock, "my-gpt", "chat/completions", API_VERSION);
    let response = client()?
        .post(&url)
        .header("api-key", "az-key")
        .json_body(&messages("Hello there"))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 200);
    let reply = json_of(response).await?;
    assert_eq!(reply["object"], "chat.completion");
    assert_eq!(
        reply["model"], "my-gpt",
        "the deployment stands in for the model"
    );
    assert_eq!(
        reply["choices"][0]["message"]["content"],
        "Mock reply to: Hello there"
    );
    let recorded = mock.stats().last_request().ok_or("nothing recorded")?;
    assert_eq!(recorded.path, "/openai/deployments/my-gpt/chat/completions");
    assert_eq!(recorded.query, "api-version=2024-10-21");
    assert!(
        recorded
            .headers
            .iter()
            .any(|(n, v)| n == "api-key" && v == "az-key")
    );

    let (_, reply) = post_json(&url, &chat("body-model")).await?;
    assert_eq!(reply["model"], "body-model", "a body model wins");

    let body = with(messages("hi"), "stream", json!(true));
    let text = client()?
        .post(&url)
        .json_body(&body)
        .send()
        .await?
        .text()
        .await?;
    assert!(text.contains("chat.completion.chunk") && text.ends_with("data: [DONE]\n\n"));

    let embed = azure(&mock, "my-embed", "embeddings", API_VERSION);
    let (status, reply) = post_json(&embed, &json!({"input": "hello"})).await?;
    assert_eq!((status, reply["model"].as_str()), (200, Some("my-embed")));

    let response = client()?
        .post(&url)
        .header("x-mock-status", "429")
        .json_body(&messages("hi"))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(
        json_of(response).await?["error"]["type"],
        "rate_limit_error"
    );
    Ok(())
}

#[tokio::test]
async fn azure_without_api_version_is_not_found() -> TestResult {
    let mock = mock().await?;
    let not_found = json!({"error": {"code": "404", "message": "Resource not found"}});
    for url in [
        azure(&mock, "my-gpt", "chat/completions", ""),
        azure(&mock, "my-gpt", "chat/completions", "?api-version="),
        azure(&mock, "my-embed", "embeddings", "?foo=bar"),
        azure(&mock, "my-gpt", "audio/speech", API_VERSION),
    ] {
        let (status, body) = post_json(&url, &messages("hi")).await?;
        assert_eq!((status, &body), (404, &not_found), "{url}");
    }
    assert_eq!(mock.stats().requests(), 4, "still counted and recorded");
    Ok(())
}

#[tokio::test]
async fn model_suffix_faults_openai_and_anthropic() -> TestResult {
    let mock = mock().await?;
    let chat_url = format!("{}/chat/completions", mock.base_url());
    let (status, error) = post_json(&chat_url, &chat("gpt-4o@status=503")).await?;
    assert_eq!(
        (status, error["error"]["type"].as_str()),
        (503, Some("server_error"))
    );
    let (_, reply) = post_json(&chat_url, &chat("gpt-4o@content=hello there,chunks=2")).await?;
    assert_eq!(reply["model"], "gpt-4o", "echoed without the suffix");
    assert_eq!(reply["choices"][0]["message"]["content"], "hello there");
    assert_eq!(reply["usage"]["completion_tokens"], 2);

    let embed_url = format!("{}/embeddings", mock.base_url());
    let body = json!({"model": "text-embedding-3-small@status=429", "input": "x"});
    assert_eq!(post_json(&embed_url, &body).await?.0, 429);

    let messages_url = format!("{}/messages", mock.base_url());
    let body = with(
        claude("claude-sonnet-4-5@chunks=5,cut_after=2"),
        "stream",
        json!(true),
    );
    let response = client()?
        .post(&messages_url)
        .json_body(&body)
        .send()
        .await?;
    let (text, cut) = read_until_cut(response).await?;
    assert!(cut);
    assert_eq!(text.matches("event: content_block_delta").count(), 2);
    assert!(text.contains("\"model\":\"claude-sonnet-4-5\""), "{text}");
    let (status, error) = post_json(&messages_url, &claude("claude-sonnet-4-5@status=529")).await?;
    assert_eq!(
        (status, error["error"]["type"].as_str()),
        (529, Some("overloaded_error"))
    );
    Ok(())
}

#[tokio::test]
async fn model_suffix_faults_gemini_and_azure() -> TestResult {
    let mock = mock().await?;
    let url = gemini_url(&mock, "gemini-2.5-flash@status=429", "generateContent");
    let (status, error) = post_json(&url, &user("hi")).await?;
    assert_eq!(
        (status, error["error"]["status"].as_str()),
        (429, Some("RESOURCE_EXHAUSTED"))
    );

    let url = gemini_url(
        &mock,
        "gemini-2.5-flash@error_event=true",
        "streamGenerateContent?alt=sse",
    );
    let text = client()?
        .post(&url)
        .json_body(&user("hi"))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        text.contains("\"modelVersion\":\"gemini-2.5-flash\""),
        "{text}"
    );
    assert!(
        text.trim_end().ends_with(r#""status":"INTERNAL"}}"#),
        "{text}"
    );

    // Escaped by a client or gateway, the suffix still works.
    let url = gemini_url(&mock, "gemini-2.5-flash%40content%3Dok", "generateContent");
    let (_, reply) = post_json(&url, &user("hi")).await?;
    assert_eq!(reply["modelVersion"], "gemini-2.5-flash");
    assert_eq!(reply["candidates"][0]["content"]["parts"][0]["text"], "ok");

    let url = azure(&mock, "dep@status=500", "chat/completions", API_VERSION);
    assert_eq!(post_json(&url, &messages("hi")).await?.0, 500);
    let url = azure(&mock, "dep@content=fine", "chat/completions", API_VERSION);
    let (_, reply) = post_json(&url, &messages("hi")).await?;
    assert_eq!(reply["model"], "dep");
    assert_eq!(reply["choices"][0]["message"]["content"], "fine");
    Ok(())
}

#[tokio::test]
async fn model_suffix_precedence_and_validation() -> TestResult {
    let mock = mock().await?;
    let url = format!("{}/chat/completions", mock.base_url());
    let response = client()?
        .post(&url)
        .header("x-mock-status", "200")
        .header("x-mock-content", "header")
        .json_body(&chat("gpt-4o@status=503,content=suffix"))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 200, "header beats suffix");
    assert_eq!(
        json_of(response).await?["choices"][0]["message"]["content"],
        "header"
    );

    let body = with(
        chat("gpt-4o@content=suffix"),
        "mock",
        json!({"content": "body"}),
    );
    let response = client()?
        .post(&url)
        .header("x-mock-content", "header")
        .json_body(&body)
        .send()
        .await?;
    assert_eq!(
        json_of(response).await?["choices"][0]["message"]["content"],
        "body"
    );

    let (status, reply) = post_json(&url, &chat("claude-3-5-sonnet@20240620")).await?;
    assert_eq!(
        (status, reply["model"].as_str()),
        (200, Some("claude-3-5-sonnet@20240620"))
    );

    let (status, error) = post_json(&url, &chat("gpt-4o@stauts=503")).await?;
    assert_eq!(status, 400);
    let message = error["error"]["message"].as_str().ok_or("message")?;
    assert!(message.contains("stauts"), "{message}");
    Ok(())
}
