//! The guard on streamed answers: values split across any chunk boundaries never reach
//! the client, on OpenAI and Anthropic ingress, passed through (only the text fields
//! rewritten) and translated; masked values restored in text and, JSON-escaped, in
//! tool-call arguments; a blocking finding ends the stream in-band (or, at the first
//! content, with a 400); held text goes on after the holdback time.

use crate::guard::{PROVIDERS, ask, guarded, observed, request_id, send};
use crate::support::{Harness, read_sse, start_with};
use serde_json::{Value, json};
use std::time::Duration;

/// The streamed answer's text, in either format.
fn streamed_text(path: &str, events: &[Value]) -> String {
    events
        .iter()
        .filter_map(|e| {
            let pointer = if path == "/v1/messages" {
                "/delta/text"
            } else {
                "/choices/0/delta/content"
            };
            e.pointer(pointer).and_then(Value::as_str)
        })
        .collect()
}

fn stream_request(path: &str, model: &str, text: &str) -> Value {
    let mut body = ask(path, model, text);
    body["stream"] = json!(true);
    body
}

/// Streams `path` -> `model` and returns the raw body and its JSON events.
async fn stream(h: &Harness, path: &str, model: &str, prompt: &str) -> (String, Vec<Value>) {
    let response = send(h, path, &stream_request(path, model, prompt)).await;
    assert_eq!(response.status(), 200, "{path} -> {model}");
    let seen = read_sse(response).await;
    assert!(!seen.body_error, "{path} -> {model}: the stream broke");
    let raw: String = seen
        .events
        .iter()
        .filter_map(|e| e.data.clone())
        .collect::<Vec<_>>()
        .join("\n");
    (raw, seen.json())
}

const STREAM_ROUTES: [(&str, &str); 4] = [
    ("/v1/chat/completions", "gpt"),
    ("/v1/chat/completions", "claude"),
    ("/v1/messages", "claude"),
    ("/v1/messages", "gpt"),
];

#[tokio::test]
async fn values_split_across_any_chunks_never_reach_the_client() {
    let h = guarded("").await;
    let answer =
        "Reach jane.doe@example.com or card 4111 1111 1111 1111 or key AKIAIOSFODNN7EXAMPLE today!";
    for chunks in [2, 7, 23, 90] {
        h.mock
            .set_script(&format!("content={answer},chunks={chunks}"));
        for (path, model) in STREAM_ROUTES {
            let (raw, events) = stream(&h, path, model, "hello").await;
            // Whole values (a bare `4111` can be part of a chunk's `created` time).
            for value in ["jane.doe@", "4111 1111", "AKIAIOSF", "@example.com"] {
                assert!(
                    !raw.contains(value),
                    "{path} -> {model}, {chunks} chunks: {value} leaked: {raw}"
                );
            }
            assert_eq!(
                streamed_text(path, &events),
                "Reach [EMAIL] or card [CARD] or key [AWS_KEY] today!",
                "{path} -> {model}, {chunks} chunks"
            );
        }
    }
}

/// An event with the fields that differ per request (ids, times) and its text taken out.
fn shape(mut event: Value) -> Value {
    for pointer in ["/id", "/created", "/message/id"] {
        if let Some((parent, key)) = pointer.rsplit_once('/')
            && let Some(Value::Object(map)) =
                event.pointer_mut(if parent.is_empty() { "" } else { parent })
        {
            map.remove(key);
        }
    }
    for pointer in ["/choices/0/delta/content", "/delta/text"] {
        if let Some(text) = event.pointer_mut(pointer) {
            *text = Value::Null;
        }
    }
    event
}

#[tokio::test]
async fn a_pass_through_stream_keeps_every_field_but_the_text() {
    let h = guarded("").await;
    let answer = "my card 4111 1111 1111 1111 is here ok!";
    h.mock.set_script(&format!("content={answer},chunks=6"));
    for (path, model, direct) in [
        ("/v1/chat/completions", "gpt", "gpt-4o"),
        ("/v1/messages", "claude", "claude-sonnet-4-5"),
    ] {
        let mut body = stream_request(path, model, "hello");
        // Asked by the client, so the gateway adds and hides nothing.
        body["stream_options"] = json!({"include_usage": true});
        let (_, through) = {
            let response = send(&h, path, &body).await;
            let seen = read_sse(response).await;
            (seen.data(), seen.json())
        };
        body["model"] = json!(direct);
        let upstream = h
            .client
            .post(format!("http://{}{path}", h.mock.addr()))
            .header("anthropic-version", "2023-06-01")
            .json(&body)
            .send()
            .await
            .expect("direct");
        let direct_events = read_sse(upstream).await.json();
        assert_eq!(
            through.len(),
            direct_events.len(),
            "{path}: one event for each"
        );
        for (got, sent) in through.iter().zip(&direct_events) {
            assert_eq!(shape(got.clone()), shape(sent.clone()), "{path}");
        }
        assert_eq!(streamed_text(path, &direct_events), answer);
        assert_eq!(streamed_text(path, &through), "my card [CARD] is here ok!");
    }
}

#[tokio::test]
async fn masked_values_come_back_in_a_stream_even_when_a_placeholder_is_split() {
    let h = guarded("").await;
    for chunks in [3, 11, 40] {
        // The model writes the placeholder it was given, cut anywhere.
        h.mock.set_script(&format!(
            "content=Dear <EMAIL_1>: noted <b> 3 < 4.,chunks={chunks}"
        ));
        for (path, model) in STREAM_ROUTES {
            let (raw, events) = stream(&h, path, model, "write to jane@example.com today").await;
            assert!(h.upstream_body().to_string().contains("<EMAIL_1>"));
            assert!(
                !raw.contains("<EMAIL_"),
                "{path} -> {model}: a placeholder reached the client"
            );
            assert_eq!(
                streamed_text(path, &events),
                "Dear jane@example.com: noted <b> 3 < 4.",
                "{path} -> {model}, {chunks} chunks"
            );
        }
    }
}

#[tokio::test]
async fn masked_values_come_back_json_escaped_inside_streamed_tool_arguments() {
    let config = format!(
        "{PROVIDERS}\n[guard]\ninput = [\"quoted\"]\n[[guard.rules]]\nname = \"quoted\"\nwords = ['Project \"Bluebird\"']\naction = \"mask\"\n"
    );
    let h = start_with(&config).await;
    // The tool's only choice is the placeholder: the mock calls it with that argument.
    let tools = json!([{"type": "function", "function": {"name": "file", "parameters": {
        "type": "object", "properties": {"title": {"type": "string", "enum": ["<QUOTED_1>"]}}}}}]);
    let body = json!({
        "model": "gpt", "stream": true, "tools": tools,
        "messages": [{"role": "user", "content": "file Project \"Bluebird\" please"}]
    });
    let response = send(&h, "/v1/chat/completions", &body).await;
    let events = read_sse(response).await.json();
    assert!(h.upstream_body().to_string().contains("<QUOTED_1>"));
    let arguments: String = events
        .iter()
        .filter_map(|e| e.pointer("/choices/0/delta/tool_calls/0/function/arguments"))
        .filter_map(Value::as_str)
        .collect();
    let parsed: Value = serde_json::from_str(&arguments).expect("arguments are still JSON");
    assert_eq!(parsed["title"], "Project \"Bluebird\"");
    // And in a whole answer.
    let mut whole = body.clone();
    whole["stream"] = json!(false);
    let answer: Value = send(&h, "/v1/chat/completions", &whole)
        .await
        .json()
        .await
        .expect("json");
    let arguments = answer
        .pointer("/choices/0/message/tool_calls/0/function/arguments")
        .and_then(Value::as_str)
        .expect("arguments");
    let parsed: Value = serde_json::from_str(arguments).expect("arguments are still JSON");
    assert_eq!(parsed["title"], "Project \"Bluebird\"");
}

#[tokio::test]
async fn a_blocked_stream_ends_in_band_and_the_value_never_leaves() {
    let (h, mut records) = observed("output_actions = { secrets = \"block\" }").await;
    h.mock
        .set_script("content=first a few words then AKIAIOSFODNN7EXAMPLE and more,chunks=9");
    for (path, model) in STREAM_ROUTES {
        let response = send(&h, path, &stream_request(path, model, "hello")).await;
        assert_eq!(response.status(), 200);
        let id = request_id(&response);
        let seen = read_sse(response).await;
        let raw = seen.data().join("\n");
        assert!(!raw.contains("AKIA"), "{path} -> {model}: {raw}");
        if path == "/v1/messages" {
            // Anthropic's error events carry a type and a message, no code.
            assert_eq!(
                seen.events.last().and_then(|e| e.event.as_deref()),
                Some("error")
            );
            assert!(raw.contains("Sluice's guard stopped the answer"), "{raw}");
        } else {
            assert_eq!(seen.error_code().as_deref(), Some("guard_blocked"));
        }
        let record = records.of(&h, &id).await.pop().expect("record");
        assert_eq!(record.outcome().as_str(), "guard_blocked");
        assert!(
            record.guard.iter().any(|f| f.action == "block"),
            "{:?}",
            record.guard
        );
    }
    // Found in the very first content: nothing was sent, so it is a plain 400.
    h.mock
        .set_script("content=AKIAIOSFODNN7EXAMPLE is the key,chunks=1");
    let response = send(
        &h,
        "/v1/chat/completions",
        &stream_request("/v1/chat/completions", "gpt", "hi"),
    )
    .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "guard_blocked");
}

#[tokio::test]
async fn held_text_goes_on_after_the_holdback_time_while_the_upstream_pauses() {
    let h = guarded("holdback_time = \"100ms\"").await;
    // "Hello ab" then, 5 s later, "cdefghij": "ab" could still grow into an email.
    h.mock
        .set_script("content=Hello abcdefghij,chunks=2,chunk_delay_ms=5000");
    let response = send(
        &h,
        "/v1/chat/completions",
        &stream_request("/v1/chat/completions", "gpt", "hi"),
    )
    .await;
    let mut body = response.bytes_stream();
    let mut decoder = sluice_protocol::sse::SseDecoder::new(1 << 20);
    let mut text = String::new();
    let early = tokio::time::timeout(Duration::from_secs(3), async {
        use futures_util::StreamExt;
        while let Some(Ok(chunk)) = body.next().await {
            decoder.push(&chunk);
            while let Ok(Some(event)) = decoder.next_event() {
                let data = event.parse().data.unwrap_or_default();
                let value: Value = serde_json::from_str(&data).unwrap_or_default();
                if let Some(piece) = value
                    .pointer("/choices/0/delta/content")
                    .and_then(Value::as_str)
                {
                    text.push_str(piece);
                }
            }
            if text == "Hello ab" {
                return;
            }
        }
    })
    .await;
    assert!(
        early.is_ok(),
        "held text waited for the upstream: got {text:?}"
    );
}
