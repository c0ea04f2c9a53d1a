//! What the binary writes about each interaction: one access line, a journal entry,
//! `sluice journal verify|query`, and never a provider's key.

use super::{BIN, config_file, serve, serve_with_env, sigterm, stop_and_read_the_demo_journal};
use crate::support::{chat, chat_stream, default_mock, read_sse};
use serde_json::json;
use std::time::Duration;
use tokio::process::Command;

/// The number after `key=` in a log line.
fn field(line: &str, key: &str) -> Option<u64> {
    let rest = line.split(&format!(" {key}=")).nth(1)?;
    rest.split_whitespace()
        .next()?
        .trim_matches('"')
        .parse()
        .ok()
}

#[tokio::test]
async fn every_interaction_is_one_access_line_with_tokens_streams_included() {
    let served = serve(&["--listen", "127.0.0.1:0"]).await;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/chat/completions", served.base);
    let plain = client
        .post(&url)
        .header("x-request-id", "plain-1")
        .json(&chat("gpt-4o", "hello"))
        .send()
        .await
        .expect("sent");
    assert_eq!(plain.status(), 200);
    let _ = plain.bytes().await;
    // A stream whose client did not ask for usage: Sluice asks upstream and logs it.
    let stream = client
        .post(&url)
        .header("x-request-id", "stream-1")
        .json(&chat_stream("gpt-4o", json!({"chunks": 3})))
        .send()
        .await
        .expect("sent");
    assert!(read_sse(stream).await.ends_with_done());
    let missing = client
        .post(&url)
        .header("x-request-id", "missing-1")
        .body("{")
        .send()
        .await
        .expect("sent");
    assert_eq!(missing.status(), 400);
    for (id, stream, status) in [("plain-1", "false", 200), ("stream-1", "true", 200)] {
        let line = served
            .access_line(&[&format!("id={id}"), &format!("stream={stream}")])
            .await;
        assert_eq!(field(&line, "status"), Some(status), "{line}");
        assert!(
            line.contains("provider=\"mock\"") && line.contains("outcome=\"ok\""),
            "{line}"
        );
        assert!(
            field(&line, "input_tokens").is_some_and(|n| n > 0),
            "{line}"
        );
        assert!(
            field(&line, "output_tokens").is_some_and(|n| n > 0),
            "{line}"
        );
        assert!(field(&line, "latency_us").is_some(), "{line}");
    }
    let line = served.access_line(&["id=missing-1"]).await;
    assert_eq!(field(&line, "status"), Some(400), "{line}");
    assert!(line.contains("outcome=\"bad_request\""), "{line}");
}

#[tokio::test]
async fn demo_mode_journals_every_interaction_to_sluice_db() {
    let mut served = serve(&["--listen", "127.0.0.1:0"]).await;
    let client = reqwest::Client::new();
    for text in ["one", "two"] {
        let response = client
            .post(format!("{}/v1/chat/completions", served.base))
            .header("x-request-id", format!("demo-{text}"))
            .json(&chat("mock-gpt", text))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200);
    }
    let bad = client
        .post(format!("{}/v1/chat/completions", served.base))
        .header("x-request-id", "demo-bad")
        .body("{not json")
        .send()
        .await
        .expect("sent");
    assert_eq!(bad.status(), 400);
    let rows = stop_and_read_the_demo_journal(&mut served).await;
    let mut ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["demo-bad", "demo-one", "demo-two"]);
    assert_eq!(rows.len(), 3);
}

#[tokio::test]
async fn journal_verify_passes_then_names_an_edited_entry() {
    let mut served = serve(&["--listen", "127.0.0.1:0"]).await;
    let client = reqwest::Client::new();
    for text in ["a", "b", "c"] {
        client
            .post(format!("{}/v1/chat/completions", served.base))
            .header("x-request-id", format!("cli-{text}"))
            .json(&chat("mock-gpt", text))
            .send()
            .await
            .expect("sent");
    }
    sigterm(&served.child);
    let _ = tokio::time::timeout(Duration::from_secs(10), served.child.wait()).await;
    let verify = || {
        Command::new(BIN)
            .args(["journal", "verify"])
            .current_dir(served.dir.path())
            .env_remove("SLUICE_CONFIG")
            .output()
    };
    let out = verify().await.expect("run verify");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("journal ok: 3 entries"), "{stdout}");

    let query = Command::new(BIN)
        .args(["journal", "query", "--model", "mock-gpt", "--limit", "2"])
        .current_dir(served.dir.path())
        .env_remove("SLUICE_CONFIG")
        .output()
        .await
        .expect("run query");
    assert_eq!(String::from_utf8_lossy(&query.stdout).lines().count(), 2);
    let by_id = Command::new(BIN)
        .args(["journal", "query", "--id", "cli-b"])
        .current_dir(served.dir.path())
        .env_remove("SLUICE_CONFIG")
        .output()
        .await
        .expect("run query --id");
    let by_id = String::from_utf8_lossy(&by_id.stdout);
    assert_eq!(by_id.lines().count(), 1, "{by_id}");
    assert!(by_id.contains("\"cli-b\""), "{by_id}");

    let url = format!("sqlite://{}", served.dir.path().join("sluice.db").display());
    let store = sluice::store::Store::open(&url).await.expect("open");
    let sluice::store::Store::Sqlite(pool) = &store else {
        panic!("sqlite store")
    };
    sqlx::query("UPDATE journal SET entry = replace(entry, '\"status\":200', '\"status\":201') WHERE id = 'cli-b'")
        .execute(pool)
        .await
        .expect("tamper");
    let out = verify().await.expect("run verify");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cli-b") && stderr.contains("altered"),
        "{stderr}"
    );
}

#[tokio::test]
async fn provider_keys_never_reach_logs_journal_spool_or_metrics() {
    const SECRET: &str = "sk-upstream-secret-never-shown-0123";
    sluice::install_tls_provider();
    let mock = default_mock().await;
    let dir = tempfile::tempdir().expect("dir");
    let file = config_file(&format!(
        r#"[server]
listen = "127.0.0.1:0"
[providers.mock]
kind = "openai-compatible"
base_url = "{}"
api_key = "{SECRET}"
[[models]]
name = "gpt-4o"
targets = [{{ provider = "mock" }}]
[store]
url = "sqlite://{db}"
[journal]
bodies = true
jsonl = "{jsonl}"
spool_dir = "{spool}"
"#,
        mock.base_url(),
        db = dir.path().join("j.db").display(),
        jsonl = dir.path().join("j.jsonl").display(),
        spool = dir.path().join("spool").display(),
    ));
    let config = file.path().to_string_lossy().into_owned();
    let served = serve_with_env(
        &["--config", &config],
        &[("RUST_LOG", "debug"), ("SLUICE_LOG_FORMAT", "json")],
    )
    .await;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/chat/completions", served.base);
    for body in [
        chat("gpt-4o", "hello"),
        chat_stream("gpt-4o", json!({})),
        chat("gpt-4o", "x"),
    ] {
        client
            .post(&url)
            .json(&body)
            .send()
            .await
            .expect("sent")
            .bytes()
            .await
            .expect("body");
    }
    // The provider refusing Sluice's key: its error text must not carry the key onwards.
    let mut unauthorized = chat("gpt-4o", "x");
    unauthorized["mock"] = json!({"status": 401});
    let refused = client
        .post(&url)
        .json(&unauthorized)
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), 502);
    assert!(!refused.text().await.expect("body").contains(SECRET));
    let metrics = client
        .get(format!("{}/metrics", served.base))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    let mut served = served;
    sigterm(&served.child);
    let _ = tokio::time::timeout(Duration::from_secs(10), served.child.wait()).await;
    // The stderr reader may still be taking the last lines.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = served.log.lock().expect("log").join("\n");
    assert!(
        log.contains("\"target\":\"sluice::access\""),
        "JSON access lines: {log}"
    );
    assert!(!log.contains(SECRET), "the key reached the log");
    assert!(!metrics.contains(SECRET), "the key reached /metrics");
    for name in ["j.db", "j.db-wal", "j.jsonl"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(name)) {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(SECRET),
                "the key reached {name}"
            );
        }
    }
    let jsonl = std::fs::read_to_string(dir.path().join("j.jsonl")).expect("jsonl");
    assert_eq!(jsonl.lines().count(), 4, "one JSONL entry per request");
}
