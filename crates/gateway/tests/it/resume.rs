//! Stream resume: a committed stream that breaks (cut, stall, garbage, an in-band error)
//! goes on from another target as one answer on every ingress format, with the partial
//! answer as a prefill; bounded hops; and the error event when nothing can go on.

use crate::fleet::{Fleet, NO_BREAKER, complete, providers, stream};
use crate::support::read_sse;
use serde_json::{Value, json};

const STORY: &str = "The quick brown fox jumps over the lazy dog and keeps running far away";

/// `s` resumes: a cuts its stream after 3 of 6 pieces, b (and c) continue.
fn resuming(extra: &str, a_fault: &str) -> String {
    format!(
        "{NO_BREAKER}[[models]]\nname = \"s\"\nresume = {{ {extra} }}\ntargets = [{{ provider = \"a\", model = \"story@content={STORY},chunks=6,{a_fault}\" }}, {{ provider = \"b\", model = \"story@content={STORY},chunks=6\" }}]\n"
    )
}

#[tokio::test]
async fn a_stream_cut_mid_way_resumes_on_another_target_as_one_answer() {
    for fault in [
        "cut_after=3",
        "error_event=true",
        "malformed=sse",
        "cut_after=3,chunk_delay_ms=5",
    ] {
        let mut f = Fleet::start(&resuming("hops = 2", fault)).await;
        let response = f.send(&stream("s"), &[("x-request-id", "res-1")]).await;
        assert_eq!(response.status(), 200);
        let seen = read_sse(response).await;
        assert!(complete(&seen), "{fault}: {:?}", seen.data());
        let ids: std::collections::BTreeSet<String> = seen
            .json()
            .iter()
            .filter_map(|c| c["id"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(ids.len(), 1, "{fault}: one completion id, got {ids:?}");
        // error_event and malformed strike after the first piece, cut_after after 3.
        assert_eq!(seen.content(), STORY, "{fault}");
        let record = f.record("res-1").await;
        assert_eq!(record.attempt_log.len(), 2, "{fault}");
        assert!(
            record
                .notes
                .iter()
                .any(|n| n.contains("resumed after") && n.contains("continued on b")),
            "{fault}: {:?}",
            record.notes
        );
        // Every leg's reported usage: the cut leg reported none, the continuation's
        // prompt holds the partial answer.
        let usage = record.usage.unwrap_or_default();
        assert!(
            usage.output_tokens >= 3 && usage.input_tokens > 2,
            "{fault}: {usage:?}"
        );
        let continuation: Value =
            serde_json::from_slice(&f.mock("b").stats().last_request().expect("b asked").body)
                .expect("json");
        assert_eq!(continuation["continue_final_message"], true);
        let last = continuation["messages"]
            .as_array()
            .and_then(|m| m.last())
            .cloned()
            .unwrap_or_default();
        assert_eq!(last["role"], "assistant");
        assert!(
            STORY.starts_with(last["content"].as_str().unwrap_or("-")),
            "{last}"
        );
    }
}

/// Posts a stream to `path` in a typed-event format (Anthropic, Responses), checks it is
/// one message (`start` once, `stop` last, no error event) and returns the text of its
/// `delta` events at `text_at`, each checked by `each`.
async fn one_message(
    f: &Fleet,
    path: &str,
    body: Value,
    (start, stop, delta): (&str, &str, &str),
    text_at: &str,
    each: impl Fn(&Value),
) -> String {
    let response = f
        .client
        .post(f.url(path))
        .header("content-type", "application/json")
        .header("anthropic-version", "2023-06-01")
        .body(body.to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let events = read_sse(response).await.json();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == start).count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(kinds.last(), Some(&stop), "{kinds:?}");
    assert!(
        !kinds
            .iter()
            .any(|k| k.contains("error") || k.ends_with("failed")),
        "{kinds:?}"
    );
    events
        .iter()
        .filter(|e| e["type"] == delta)
        .map(|e| {
            each(e);
            e.pointer(text_at)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_resumed_anthropic_stream_is_one_message_with_continuing_blocks() {
    let f = Fleet::start(&resuming("", "cut_after=3")).await;
    let body = json!({"model": "s", "max_tokens": 100, "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let kinds = ("message_start", "message_stop", "content_block_delta");
    let one_block = |e: &Value| assert_eq!(e["index"], 0, "one text block");
    let text = one_message(&f, "/v1/messages", body, kinds, "/delta/text", one_block).await;
    assert_eq!(text, STORY);
}

#[tokio::test]
async fn an_anthropic_target_continues_from_a_prefill() {
    let text = format!(
        "{}[providers.claude]\nkind = \"anthropic\"\nbase_url = \"${{MOCK_b}}\"\napi_key = \"k\"\nidle_timeout = \"400ms\"\n",
        providers("")
    );
    let f = Fleet::start_with(
        &text,
        &format!("{NO_BREAKER}[[models]]\nname = \"s\"\nresume = {{}}\ntargets = [{{ provider = \"a\", model = \"story@content={STORY},chunks=6,cut_after=2\" }}, {{ provider = \"claude\", model = \"story@content={STORY},chunks=6\" }}]\n"),
    )
    .await;
    let seen = read_sse(f.send(&stream("s"), &[]).await).await;
    assert!(complete(&seen), "{:?}", seen.data());
    assert_eq!(seen.content(), STORY);
    let continuation: Value =
        serde_json::from_slice(&f.mock("b").stats().last_request().expect("asked").body)
            .expect("json");
    assert_eq!(
        f.mock("b").stats().last_request().map(|r| r.path),
        Some("/v1/messages".to_owned())
    );
    let last = continuation["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["role"], "assistant", "a prefill: {continuation}");
    assert!(continuation.get("continue_final_message").is_none());
}

#[tokio::test]
async fn a_stalled_stream_resumes_and_hops_are_bounded() {
    // a stalls past its idle timeout after the first piece; b and c cut too; with
    // hops = 1 only b is asked, and the client gets the error event.
    let config = format!(
        "{NO_BREAKER}[[models]]\nname = \"s\"\nresume = {{ hops = 1 }}\ntargets = [{{ provider = \"a\", model = \"story@content={STORY},chunks=6,chunk_delay_ms=1000\" }}, {{ provider = \"b\", model = \"story@content={STORY},chunks=6,cut_after=4\" }}, {{ provider = \"c\", model = \"story@content={STORY},chunks=6\" }}]\n"
    );
    let f = Fleet::start(&config).await;
    let seen = read_sse(f.send(&stream("s"), &[]).await).await;
    assert_eq!(seen.error_code().as_deref(), Some("upstream_stream"));
    assert_eq!(f.requests("c"), 0, "hops = 1");
    // With two hops c finishes the answer.
    let f = Fleet::start(&config.replace("hops = 1", "hops = 2")).await;
    let seen = read_sse(f.send(&stream("s"), &[]).await).await;
    assert!(complete(&seen), "{:?}", seen.data());
    assert_eq!(seen.content(), STORY);
}

#[tokio::test]
async fn without_a_target_that_can_continue_the_stream_ends_with_the_error_event() {
    let text = format!(
        "{}[providers.openai]\nkind = \"openai\"\nbase_url = \"${{MOCK_b}}\"\napi_key = \"k\"\n",
        providers("")
    );
    let config = format!(
        "{NO_BREAKER}[[models]]\nname = \"s\"\nresume = {{}}\ntargets = [{{ provider = \"a\", model = \"story@content={STORY},chunks=6,cut_after=3\" }}, {{ provider = \"openai\", model = \"story\" }}]\n"
    );
    let f = Fleet::start_with(&text, &config).await;
    let seen = read_sse(f.send(&stream("s"), &[]).await).await;
    assert_eq!(seen.error_code().as_deref(), Some("upstream_stream"));
    assert_eq!(
        f.requests("b"),
        0,
        "OpenAI itself cannot continue a prefill"
    );
    // With a configured prompt it can.
    let f = Fleet::start_with(
        &text,
        &config.replace(
            "resume = {}",
            "resume = { prompt = \"Continue exactly where you stopped.\" }",
        ),
    )
    .await;
    let seen = read_sse(f.send(&stream("s"), &[]).await).await;
    assert!(complete(&seen), "{:?}", seen.data());
    let asked: Value =
        serde_json::from_slice(&f.mock("b").stats().last_request().expect("asked").body)
            .expect("json");
    let last = asked["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["role"], "user");
    assert_eq!(last["content"], "Continue exactly where you stopped.");
}

#[tokio::test]
async fn a_resumed_responses_stream_is_one_response() {
    let f = Fleet::start(&resuming("", "cut_after=3")).await;
    let body = json!({"model": "s", "stream": true, "input": "hi"});
    let kinds = (
        "response.created",
        "response.completed",
        "response.output_text.delta",
    );
    let text = one_message(&f, "/v1/responses", body, kinds, "/delta", |_| {}).await;
    assert_eq!(text, STORY);
}
