//! `sluice journal tail`: every entry written after it starts, once, including a long
//! stream's, which is stamped with its start but written at its end, after shorter
//! requests that began later.

use super::{BIN, serve};
use crate::support::{chat, chat_stream, read_sse};
use serde_json::{Value, json};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// Sends one plain chat request with `id`.
async fn ask(client: &reqwest::Client, base: &str, id: &str) {
    let response = client
        .post(format!("{base}/v1/chat/completions"))
        .header("x-request-id", id)
        .json(&chat("mock-gpt", id))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let _ = response.bytes().await;
}

/// The printed entries so far, as (request id, at_ms).
fn printed(lines: &Mutex<Vec<String>>) -> Vec<(String, i64)> {
    lines
        .lock()
        .expect("lines lock")
        .iter()
        .map(|line| {
            let found: Value = serde_json::from_str(line).expect("tail prints JSON lines");
            let entry = &found["entry"];
            (
                entry["id"].as_str().unwrap_or_default().to_owned(),
                entry["at_ms"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

/// Waits (at most 10 s) until an entry with `id` was printed.
async fn wait_for(lines: &Mutex<Vec<String>>, id: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !printed(lines).iter().any(|(seen, _)| seen == id) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "tail never printed {id}: {:?}",
            printed(lines)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn tail_prints_each_new_entry_once_a_long_stream_written_late_included() {
    let served = serve(&["--listen", "127.0.0.1:0"]).await;
    let client = reqwest::Client::new();
    ask(&client, &served.base, "before-1").await;
    // Written before `tail` starts (the journal writes batches every 200 ms at most).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let out = Command::new(BIN)
            .args(["journal", "query", "--id", "before-1"])
            .current_dir(served.dir.path())
            .env_remove("SLUICE_CONFIG")
            .output()
            .await
            .expect("run query");
        if !out.stdout.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "before-1 never journaled"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut tail = Command::new(BIN)
        .args(["journal", "tail"])
        .current_dir(served.dir.path())
        .env_remove("SLUICE_CONFIG")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn tail");
    let stdout = tail.stdout.take().expect("stdout piped");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    tokio::spawn(async move {
        let mut reader = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            sink.lock().expect("lines lock").push(line);
        }
    });
    // `tail` has no ready signal: probe until it prints one.
    let mut probe = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !printed(&lines)
        .iter()
        .any(|(id, _)| id.starts_with("probe-"))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "tail printed nothing"
        );
        probe += 1;
        ask(&client, &served.base, &format!("probe-{probe}")).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // A stream of about two seconds, and two short requests that begin and end during it.
    let long = client
        .post(format!("{}/v1/chat/completions", served.base))
        .header("x-request-id", "long-1")
        .json(&chat_stream(
            "mock-gpt",
            json!({"chunks": 40, "chunk_delay_ms": 50}),
        ))
        .send()
        .await
        .expect("sent");
    tokio::time::sleep(Duration::from_millis(300)).await;
    ask(&client, &served.base, "short-1").await;
    wait_for(&lines, "short-1").await;
    ask(&client, &served.base, "short-2").await;
    assert!(read_sse(long).await.ends_with_done());
    wait_for(&lines, "long-1").await;
    wait_for(&lines, "short-2").await;

    let seen = printed(&lines);
    let at = |id: &str| seen.iter().find(|(s, _)| s == id).map(|(_, at)| *at);
    // The case `tail` used to lose: printed after an entry stamped later than it.
    assert!(at("long-1") < at("short-1"), "{seen:?}");
    assert!(
        !seen.iter().any(|(id, _)| id == "before-1"),
        "an entry from before tail started was printed: {seen:?}"
    );
    for id in ["long-1", "short-1", "short-2"] {
        let times = seen.iter().filter(|(s, _)| s == id).count();
        assert_eq!(times, 1, "{id} printed {times} times: {seen:?}");
    }
    let _ = tail.kill().await;
}
