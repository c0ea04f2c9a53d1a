//! The binary's lifecycle: demo mode, SIGTERM with streams in flight, the drain
//! deadline, and one worker thread carrying every task.

use super::{config_file, serve, serve_with_env, sigterm, stop_and_read_the_demo_journal};
use crate::support::{chat, chat_stream, default_mock, read_sse};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn demo_mode_answers_any_model_from_the_built_in_mock() {
    let mut served = serve(&["--listen", "127.0.0.1:0"]).await;
    // The start-up line says it is demo mode, where logs go and what is on.
    let line = &served.listening;
    for said in [
        "mode=demo",
        "any API key is accepted",
        "logs=stderr",
        "journal (sqlite://sluice.db",
        "metrics /metrics",
    ] {
        assert!(line.contains(said), "{said:?} not in {line}");
    }
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{}/v1/chat/completions", served.base))
        .json(&chat("whatever-model", "hello demo"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-sluice-provider"], "mock");
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Mock reply to: hello demo"
    );
    let models: serde_json::Value = client
        .get(format!("{}/v1/models", served.base))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert!(models["data"].as_array().is_some_and(|d| !d.is_empty()));
    sigterm(&served.child);
    let status = tokio::time::timeout(Duration::from_secs(10), served.child.wait()).await;
    assert!(status.is_ok_and(|s| s.is_ok_and(|s| s.success())));
}

fn mock_config(mock_url: &str, drain: &str) -> tempfile::NamedTempFile {
    config_file(&format!(
        "[server]\nlisten = \"127.0.0.1:1\"\ndrain_timeout = \"{drain}\"\n[providers.m]\nkind = \"mock\"\nbase_url = \"{mock_url}\"\n[[models]]\nname = \"*\"\ntargets = [{{ provider = \"m\" }}]\n"
    ))
}

#[tokio::test]
async fn sigterm_lets_in_flight_streams_finish_then_exits_0() {
    let mock = default_mock().await;
    let file = mock_config(&mock.base_url(), "10s");
    let path = file.path().to_string_lossy().into_owned();
    // --listen overrides the config's port 1, which nobody could bind as non-root in CI.
    let mut served = serve(&["--config", &path, "--listen", "127.0.0.1:0"]).await;
    let line = &served.listening;
    assert!(line.contains(&format!("mode=config {path}")), "{line}");
    assert!(
        line.contains("journal off") && line.contains("reload on SIGHUP and on edits"),
        "{line}"
    );
    let client = reqwest::Client::new();
    let url = format!("{}/v1/chat/completions", served.base);
    let response = client
        .post(&url)
        .json(&chat_stream(
            "m",
            json!({"chunks": 20, "chunk_delay_ms": 40}),
        ))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    sigterm(&served.child);
    let seen = read_sse(response).await;
    assert!(
        seen.ends_with_done(),
        "stream cut by shutdown: {:?}",
        seen.data()
    );
    assert_eq!(seen.content().split_whitespace().count(), 20);
    let status = tokio::time::timeout(Duration::from_secs(10), served.child.wait()).await;
    assert!(status.is_ok_and(|s| s.is_ok_and(|s| s.success())));
    // Nothing listens any more.
    assert!(
        client
            .post(&url)
            .json(&chat("m", "late"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn drain_deadline_cuts_what_is_left_and_still_exits_0() {
    let mock = default_mock().await;
    let file = mock_config(&mock.base_url(), "300ms");
    let path = file.path().to_string_lossy().into_owned();
    let mut served = serve(&["--config", &path, "--listen", "127.0.0.1:0"]).await;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", served.base))
        .json(&chat_stream(
            "m",
            json!({"chunks": 200, "chunk_delay_ms": 50}),
        ))
        .send()
        .await
        .expect("sent");
    sigterm(&served.child);
    let status = tokio::time::timeout(Duration::from_secs(5), served.child.wait()).await;
    assert!(status.is_ok_and(|s| s.is_ok_and(|s| s.success())));
    let seen = read_sse(response).await;
    assert!(!seen.ends_with_done());
    // At exit either side can go first: the client's connection closes mid-body, or the
    // upstream's closes first and the relay ends the stream with its error event.
    // Either is an honest end; a clean finish is not.
    assert!(
        seen.body_error || seen.error_code().is_some(),
        "the cut stream must not look like a clean finish: {:?}",
        seen.data()
    );
}

/// One worker thread runs a current-thread runtime: every task of the gateway (the
/// connections, the journal writer, the end task, the drain on SIGTERM) then shares the
/// main thread, so this drives all of them at once through it.
#[tokio::test]
async fn one_worker_thread_serves_overlapping_streams_journals_them_and_drains() {
    let mut served = serve_with_env(
        &["--listen", "127.0.0.1:0"],
        &[("SLUICE_WORKER_THREADS", "1")],
    )
    .await;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/chat/completions", served.base);
    let streams = (0..8).map(|i| {
        let request = client
            .post(&url)
            .header("x-request-id", format!("one-worker-stream-{i}"))
            .json(&chat_stream(
                "mock-gpt",
                json!({"chunks": 10, "chunk_delay_ms": 20}),
            ));
        async move {
            let response = request.send().await.expect("sent");
            assert_eq!(response.status(), 200);
            read_sse(response).await
        }
    });
    let plain = (0..8).map(|i| {
        let request = client
            .post(&url)
            .header("x-request-id", format!("one-worker-plain-{i}"))
            .json(&chat("mock-gpt", "hello"));
        async move { request.send().await.expect("sent").status() }
    });
    let (seen, statuses) = tokio::join!(
        futures_util::future::join_all(streams),
        futures_util::future::join_all(plain)
    );
    for s in &seen {
        assert!(s.ends_with_done(), "stream cut: {:?}", s.data());
        assert_eq!(s.content().split_whitespace().count(), 10);
    }
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let rows = stop_and_read_the_demo_journal(&mut served).await;
    assert_eq!(rows.len(), 16, "every interaction journaled");
    assert!(rows.iter().all(|r| r.id.starts_with("one-worker-")));
}
