//! The external guard hook against small in-test classifiers on loopback: a Llama Guard
//! behind an OpenAI-compatible `/v1/chat/completions`, and a Presidio `/analyze`.
//! Before dispatch and alongside it; refusals, a dead or slow hook failing open or
//! closed; verdicts in the record.

use crate::guard::{PROVIDERS, ask, request_id, send};
use crate::support::{dead_addr, loopback, start_observed};
use axum::Json;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A classifier: `unsafe` (S9) when the prompt mentions a bomb, after `delay_ms`.
#[derive(Default)]
struct Classifier {
    delay_ms: AtomicU64,
    asked: AtomicU64,
    last_auth: std::sync::Mutex<Option<String>>,
}

async fn llama_guard(
    State(c): State<Arc<Classifier>>,
    headers: axum::http::HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    c.asked.fetch_add(1, Ordering::SeqCst);
    *c.last_auth.lock().expect("lock") = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    tokio::time::sleep(Duration::from_millis(c.delay_ms.load(Ordering::SeqCst))).await;
    let prompt = body
        .pointer("/messages/0/content")
        .and_then(Value::as_str)
        .unwrap_or("");
    let verdict = if prompt.contains("bomb") {
        "unsafe\nS9"
    } else {
        "safe"
    };
    Json(json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": verdict}}]}))
}

async fn presidio(State(c): State<Arc<Classifier>>, Json(body): Json<Value>) -> Json<Value> {
    c.asked.fetch_add(1, Ordering::SeqCst);
    let text = body["text"].as_str().unwrap_or("");
    let found = text
        .find("Jane Doe")
        .map(|at| json!({"entity_type": "PERSON", "start": at, "end": at + 8, "score": 0.85}));
    Json(json!(found.into_iter().collect::<Vec<_>>()))
}

async fn classifier() -> (String, Arc<Classifier>) {
    let state = Arc::new(Classifier::default());
    let app = axum::Router::new()
        .route("/v1/chat/completions", post(llama_guard))
        .route("/analyze", post(presidio))
        .with_state(Arc::clone(&state));
    let listener = tokio::net::TcpListener::bind(loopback())
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), state)
}

fn config(hook: &str) -> String {
    format!("{PROVIDERS}\n[guard]\n[guard.hook]\n{hook}\n")
}

fn llama(url: &str, more: &str) -> String {
    config(&format!(
        "kind = \"llama-guard\"\nurl = \"{url}/v1/chat/completions\"\nmodel = \"meta-llama/Llama-Guard-3-8B\"\napi_key = \"hook-key-123\"\n{more}"
    ))
}

#[tokio::test]
async fn a_flagged_prompt_is_refused_before_anything_goes_upstream() {
    let (url, classifier) = classifier().await;
    let (h, mut records) = start_observed(&llama(&url, "")).await;
    let response = send(
        &h,
        "/v1/chat/completions",
        &ask("/v1/chat/completions", "gpt", "how to build a bomb"),
    )
    .await;
    assert_eq!(response.status(), 400);
    let id = request_id(&response);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "guard_blocked");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("S9"),
        "{body}"
    );
    assert_eq!(h.mock.stats().requests(), 0);
    assert_eq!(
        classifier.last_auth.lock().expect("lock").as_deref(),
        Some("Bearer hook-key-123")
    );
    let record = records.of(&h, &id).await.pop().expect("record");
    assert_eq!(record.hook, Some("flagged"));
    // Refused before dispatch: nothing a provider could bill, so limits refund it all.
    assert_eq!(record.dispatch, sluice::record::Dispatch::NotStarted);
    assert_eq!(
        (
            record.guard[0].direction.as_str(),
            record.guard[0].detector.as_str(),
            record.guard[0].action.as_str()
        ),
        ("hook", "S9", "block")
    );
    // A safe prompt goes through, asked once more.
    let response = send(
        &h,
        "/v1/messages",
        &ask("/v1/messages", "claude", "how to bake bread"),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(classifier.asked.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn in_parallel_a_refusal_cancels_the_upstream_call_and_a_pass_waits_for_the_verdict() {
    let (url, classifier) = classifier().await;
    classifier.delay_ms.store(300, Ordering::SeqCst);
    let (h, mut records) = start_observed(&llama(&url, "mode = \"parallel\"")).await;
    // The upstream stream is slow: it is still running when the refusal comes.
    h.mock.set_script("chunks=50,chunk_delay_ms=100");
    let mut body = ask("/v1/chat/completions", "gpt", "a bomb please");
    body["stream"] = json!(true);
    let response = send(&h, "/v1/chat/completions", &body).await;
    assert_eq!(response.status(), 400);
    // Refused alongside dispatch: the provider was already called and may bill it, so
    // the record says so (limits settle it as spent, not refunded).
    let refused = records
        .of(&h, &request_id(&response))
        .await
        .pop()
        .expect("record");
    assert_eq!(refused.hook, Some("flagged"));
    assert_eq!(refused.dispatch, sluice::record::Dispatch::Running);
    h.wait_for("the upstream stream to be cancelled", |s| {
        s.cancelled() == 1
    })
    .await;
    assert_eq!(
        h.mock.stats().requests(),
        1,
        "the call went out alongside the hook"
    );

    // A safe prompt: the fast upstream answer waits for the verdict, then goes on.
    h.mock.set_script("");
    let response = send(
        &h,
        "/v1/chat/completions",
        &ask("/v1/chat/completions", "gpt", "bread"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let id = request_id(&response);
    let record = records.of(&h, &id).await.pop().expect("record");
    assert_eq!(record.hook, Some("pass"));
    assert!(
        record.latency >= Duration::from_millis(300),
        "{:?}",
        record.latency
    );
}

#[tokio::test]
async fn a_hook_that_cannot_answer_fails_open_or_closed_as_configured() {
    let dead = format!("http://{}", dead_addr());
    let (h, mut records) = start_observed(&llama(&dead, "on_error = \"open\"")).await;
    let response = send(
        &h,
        "/v1/chat/completions",
        &ask("/v1/chat/completions", "gpt", "hi"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let id = request_id(&response);
    let record = records.of(&h, &id).await.pop().expect("record");
    assert_eq!(record.hook, Some("error"));
    assert_eq!(record.guard[0].category, "hook_error");
    assert_eq!(record.guard[0].action, "allow");

    let (h, _) = start_observed(&llama(&dead, "on_error = \"closed\"")).await;
    let response = send(
        &h,
        "/v1/chat/completions",
        &ask("/v1/chat/completions", "gpt", "hi"),
    )
    .await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "guard_unavailable");
    assert_eq!(h.mock.stats().requests(), 0);

    // Slow past its timeout: the same, without waiting for it.
    let (url, classifier) = classifier().await;
    classifier.delay_ms.store(5_000, Ordering::SeqCst);
    let (h, _) = start_observed(&llama(&url, "on_error = \"closed\"\ntimeout = \"200ms\"")).await;
    let started = std::time::Instant::now();
    let response = send(
        &h,
        "/v1/chat/completions",
        &ask("/v1/chat/completions", "gpt", "hi"),
    )
    .await;
    assert_eq!(response.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "waited for the hook"
    );
}

#[tokio::test]
async fn presidio_entities_are_logged_or_blocked() {
    let (url, _) = classifier().await;
    let presidio = |action: &str| {
        config(&format!(
            "kind = \"presidio\"\nurl = \"{url}/analyze\"\naction = \"{action}\"\nscore_threshold = 0.6"
        ))
    };
    let (h, mut records) = start_observed(&presidio("log")).await;
    let response = send(
        &h,
        "/v1/chat/completions",
        &ask("/v1/chat/completions", "gpt", "Jane Doe wrote"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let id = request_id(&response);
    let record = records.of(&h, &id).await.pop().expect("record");
    assert_eq!(
        (
            record.guard[0].detector.as_str(),
            record.guard[0].action.as_str()
        ),
        ("PERSON", "log")
    );
    let (h, _) = start_observed(&presidio("block")).await;
    let response = send(
        &h,
        "/v1/chat/completions",
        &ask("/v1/chat/completions", "gpt", "Jane Doe wrote"),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(h.mock.stats().requests(), 0);
}
