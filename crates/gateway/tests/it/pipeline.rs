//! The pipeline's seams, seen from outside: the stream commit point is the first
//! decoded content event (so a 200 that fails at once in-band still fails over), the
//! ingress format decides the error shape everywhere, and the end-of-interaction hook
//! runs exactly once per client request, whatever happened.

use crate::ingress::{Client, Turn};
use crate::support::{Harness, Records, chat, chat_stream, read_sse, start_observed, start_with};
use futures_util::StreamExt;
use serde_json::{Value, json};
use sluice::record::Outcome;
use std::time::Duration;

/// Two providers of each format behind one mock; the first target of each `early-*`
/// model answers 200 and then an error event before any content.
const CONFIG: &str = r#"
[server]
listen = "127.0.0.1:0"
[providers.openai]
kind = "openai-compatible"
base_url = "${MOCK_URL}"
[providers.anthropic]
kind = "anthropic"
base_url = "${MOCK_ROOT}/v1"
api_key = "sk-ant-upstream-secret-123456"
[[models]]
name = "early-openai"
targets = [{ provider = "openai", model = "gpt-4o@error_first=true" }, { provider = "openai", model = "gpt-4o" }]
[[models]]
name = "early-anthropic"
targets = [{ provider = "anthropic", model = "claude-x@error_first=true" }, { provider = "anthropic", model = "claude-x" }]
[[models]]
name = "early-only"
targets = [{ provider = "anthropic", model = "claude-x@error_first=true" }]
[[models]]
name = "cut-early"
targets = [{ provider = "openai", model = "gpt-4o@cut_after=0" }, { provider = "anthropic", model = "claude-x" }]
[[models]]
name = "gpt-4o"
targets = [{ provider = "openai" }]
"#;

async fn fails_over_after_an_early_error_event(client: Client, model: &str) {
    let h = start_with(CONFIG).await;
    let body = client.request(model, &[Turn::User("hello there")], true);
    let response = client.send(&h, &body).await;
    assert_eq!(response.status(), 200, "{client:?} via {model}");
    assert_eq!(response.headers()["x-sluice-attempts"], "2");
    let seen = read_sse(response).await;
    assert!(
        !client.stream_error(&seen),
        "{client:?} via {model}: the early error reached the client: {:?}",
        seen.data()
    );
    assert!(client.stream_complete(&seen), "{:?}", seen.data());
    assert!(!client.stream_text(&seen).is_empty(), "{:?}", seen.data());
    assert_eq!(h.mock.stats().requests(), 2, "one failed attempt, one good");
}

#[tokio::test]
async fn early_error_event_fails_over_openai_provider_via_chat() {
    fails_over_after_an_early_error_event(Client::OpenAi, "early-openai").await;
}

#[tokio::test]
async fn early_error_event_fails_over_openai_provider_via_messages() {
    fails_over_after_an_early_error_event(Client::Anthropic, "early-openai").await;
}

#[tokio::test]
async fn early_error_event_fails_over_openai_provider_via_responses() {
    fails_over_after_an_early_error_event(Client::Responses, "early-openai").await;
}

#[tokio::test]
async fn early_error_event_fails_over_anthropic_provider_via_chat() {
    fails_over_after_an_early_error_event(Client::OpenAi, "early-anthropic").await;
}

#[tokio::test]
async fn early_error_event_fails_over_anthropic_provider_via_messages() {
    fails_over_after_an_early_error_event(Client::Anthropic, "early-anthropic").await;
}

#[tokio::test]
async fn early_error_event_fails_over_anthropic_provider_via_responses() {
    fails_over_after_an_early_error_event(Client::Responses, "early-anthropic").await;
}

#[tokio::test]
async fn early_error_event_with_no_other_target_is_an_error_response_not_a_stream() {
    let h = start_with(CONFIG).await;
    let body = Client::Anthropic.request("early-only", &[Turn::User("x")], true);
    let response = Client::Anthropic.send(&h, &body).await;
    // Anthropic's overloaded_error (529) is "try again later" for the client.
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.expect("JSON error");
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "overloaded_error", "{body}");
}

#[tokio::test]
async fn stream_cut_before_any_content_fails_over_like_a_connect_error() {
    let h = start_with(CONFIG).await;
    let response = h
        .post("/v1/chat/completions", &chat_stream("cut-early", json!({})))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-sluice-attempts"], "2");
    assert_eq!(response.headers()["x-sluice-provider"], "anthropic");
    let seen = read_sse(response).await;
    assert!(seen.ends_with_done(), "{:?}", seen.data());
    assert!(!seen.content().is_empty());
    assert_eq!(seen.error_code(), None);
}

/// One slow stream holds the only in-flight permit.
const ONE_SLOT: &str = r#"
[server]
listen = "127.0.0.1:0"
max_in_flight = 1
[providers.mock]
kind = "openai-compatible"
base_url = "${MOCK_URL}"
[[models]]
name = "gpt-4o"
targets = [{ provider = "mock" }]
"#;

async fn hold_the_only_slot(h: &Harness) -> reqwest::Response {
    let response = h
        .post(
            "/v1/chat/completions",
            &chat_stream("gpt-4o", json!({"chunks": 50, "chunk_delay_ms": 100})),
        )
        .await;
    assert_eq!(response.status(), 200);
    response
}

#[tokio::test]
async fn admission_503_comes_in_each_ingress_format_error_shape() {
    let h = start_with(ONE_SLOT).await;
    let _held = hold_the_only_slot(&h).await;

    let messages = Client::Anthropic
        .send(
            &h,
            &Client::Anthropic.request("gpt-4o", &[Turn::User("x")], false),
        )
        .await;
    assert_eq!(messages.status(), 503);
    assert_eq!(messages.headers()["retry-after"], "1");
    let body: Value = messages.json().await.expect("JSON");
    assert_eq!(body["type"], "error", "Anthropic shape: {body}");
    assert_eq!(body["error"]["type"], "overloaded_error", "{body}");

    let responses = Client::Responses
        .send(
            &h,
            &Client::Responses.request("gpt-4o", &[Turn::User("x")], false),
        )
        .await;
    assert_eq!(responses.status(), 503);
    let body: Value = responses.json().await.expect("JSON");
    let expected: Value = serde_json::from_slice(
        &sluice_protocol::translate::Ingress::Responses
            .encode_error(&sluice::error::GatewayError::Overloaded.to_provider_error()),
    )
    .expect("JSON");
    assert_eq!(body, expected);
    assert_eq!(body["error"]["code"], "overloaded");
}

#[tokio::test]
async fn unknown_path_under_messages_answers_in_anthropic_shape() {
    let h = start_with(CONFIG).await;
    let response = h.post("/v1/messages/nope", &json!({})).await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["type"], "error", "{body}");
    let response = h.post("/v1/nope", &json!({})).await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("JSON");
    assert!(body["error"]["message"].is_string(), "{body}");
}

async fn send_with_id(h: &Harness, id: &str, path: &str, body: &Value) -> reqwest::Response {
    h.client
        .post(h.url(path))
        .header("x-request-id", id)
        .json(body)
        .send()
        .await
        .expect("request sent")
}

/// Exactly one record for `id`, with this outcome; none more after a further flush.
async fn one_record(records: &mut Records, h: &Harness, id: &str, outcome: Outcome) {
    let found = records.of(h, id).await;
    assert_eq!(found.len(), 1, "records for {id}: {found:?}");
    assert_eq!(found[0].outcome(), outcome, "{id}: {:?}", found[0]);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(records.of(h, id).await.len(), 1, "a second record for {id}");
}

#[tokio::test]
async fn end_hook_runs_once_for_each_outcome() {
    let (h, mut records) = start_observed(&format!(
        "{}{}",
        crate::support::DEFAULT_CONFIG,
        "[[models]]\nname = \"early-only\"\ntargets = [{ provider = \"mock\", model = \"gpt-4o@error_first=true\" }]\n"
    ))
    .await;

    let ok = send_with_id(&h, "ok", "/v1/chat/completions", &chat("gpt-4o", "hi")).await;
    assert_eq!(ok.status(), 200);
    ok.bytes().await.expect("body");
    one_record(&mut records, &h, "ok", Outcome::Ok).await;

    let stream = send_with_id(
        &h,
        "stream",
        "/v1/chat/completions",
        &chat_stream("gpt-4o", json!({})),
    )
    .await;
    read_sse(stream).await;
    one_record(&mut records, &h, "stream", Outcome::Ok).await;
    let streamed = records.of(&h, "stream").await;
    assert!(streamed[0].usage.is_some_and(|u| u.output_tokens > 0));
    assert!(streamed[0].first_byte.is_some());

    let bad = send_with_id(&h, "bad", "/v1/chat/completions", &json!({"model": 1})).await;
    assert_eq!(bad.status(), 400);
    one_record(&mut records, &h, "bad", Outcome::Error("bad_request")).await;

    let unknown = send_with_id(&h, "unknown", "/v1/chat/completions", &chat("nope", "hi")).await;
    assert_eq!(unknown.status(), 404);
    one_record(
        &mut records,
        &h,
        "unknown",
        Outcome::Error("model_not_found"),
    )
    .await;

    let dead = send_with_id(&h, "dead", "/v1/chat/completions", &chat("dead-only", "hi")).await;
    assert_eq!(dead.status(), 502);
    one_record(&mut records, &h, "dead", Outcome::Error("upstream_connect")).await;

    let early = send_with_id(
        &h,
        "early",
        "/v1/chat/completions",
        &chat_stream("early-only", json!({})),
    )
    .await;
    assert_eq!(early.status(), 502, "an OpenAI server_error before content");
    one_record(
        &mut records,
        &h,
        "early",
        Outcome::Error("upstream_error_event"),
    )
    .await;

    let cut = send_with_id(
        &h,
        "cut",
        "/v1/chat/completions",
        &chat_stream("gpt-4o", json!({"chunks": 10, "cut_after": 3})),
    )
    .await;
    read_sse(cut).await;
    one_record(
        &mut records,
        &h,
        "cut",
        Outcome::StreamError(sluice::error::StreamFailure::Cut),
    )
    .await;

    let gone = send_with_id(
        &h,
        "gone",
        "/v1/chat/completions",
        &chat_stream("gpt-4o", json!({"chunks": 100, "chunk_delay_ms": 20})),
    )
    .await;
    let mut body = gone.bytes_stream();
    body.next().await.expect("a first chunk").expect("bytes");
    drop(body);
    one_record(&mut records, &h, "gone", Outcome::Cancelled).await;

    assert_eq!(
        records.seen.len(),
        8,
        "one record per request: {:?}",
        records.seen
    );
}

#[tokio::test]
async fn end_hook_records_admission_refusals() {
    let (h, mut records) = start_observed(ONE_SLOT).await;
    let _held = hold_the_only_slot(&h).await;
    let refused = send_with_id(&h, "refused", "/v1/chat/completions", &chat("gpt-4o", "hi")).await;
    assert_eq!(refused.status(), 503);
    one_record(&mut records, &h, "refused", Outcome::Error("overloaded")).await;
}
