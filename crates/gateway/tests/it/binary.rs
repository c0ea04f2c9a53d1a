//! The real `sluice` binary: `check`, `serve` (demo mode, config, `--listen`) and
//! graceful shutdown on SIGTERM.

use crate::support::{chat, chat_stream, default_mock, read_sse};
use serde_json::json;
use std::io::Write;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_sluice");

fn config_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(text.as_bytes()).expect("write config");
    file
}

async fn check(text: &str) -> (bool, String) {
    let file = config_file(text);
    let out = Command::new(BIN)
        .args(["check", "--config"])
        .arg(file.path())
        .env_remove("SLUICE_TEST_UNSET")
        .output()
        .await
        .expect("run sluice check");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn check_accepts_a_good_config() {
    let (ok, out) = check("[providers.p]\nkind = \"openai-compatible\"\nbase_url = \"http://127.0.0.1:1/v1\"\n[[models]]\nname = \"m\"\ntargets = [{ provider = \"p\" }]\n").await;
    assert!(ok, "{out}");
    assert!(out.contains("ok (1 providers, 1 models)"), "{out}");
}

#[tokio::test]
async fn check_lists_every_problem_with_its_location_and_exits_1() {
    let (ok, out) = check(
        "[server]\nlisten = \"nowhere\"\ncolour = \"blue\"\n[providers.p]\nkind = \"openai\"\napi_key = \"${SLUICE_TEST_UNSET}\"\n[[models]]\nname = \"m\"\ntargets = [{ provider = \"q\" }]\n",
    )
    .await;
    assert!(!ok);
    for expected in [
        "server.colour: unknown key",
        "server.listen: invalid address",
        "providers.p.api_key: environment variable `SLUICE_TEST_UNSET` not set",
        "models[0].targets[0].provider: no provider named \"q\"",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
}

#[tokio::test]
async fn check_reports_syntax_errors_with_line_and_column() {
    let (ok, out) = check("[server]\nlisten = \n").await;
    assert!(!ok);
    assert!(out.contains("line 2, column"), "{out}");
}

#[tokio::test]
async fn serve_refuses_a_bad_config_with_the_same_messages() {
    let file = config_file("[server]\nbogus = 1\n");
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(file.path())
        .output()
        .await
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("server.bogus: unknown key"));
}

/// A running `sluice serve` and the address it listens on.
pub struct Served {
    pub child: Child,
    pub base: String,
    /// The working directory the process runs in (demo mode journals there).
    pub dir: tempfile::TempDir,
    /// Every stderr line after the listening line, as the process wrote it.
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// The start-up line.
    listening: String,
}

async fn serve(args: &[&str]) -> Served {
    serve_with_env(args, &[]).await
}

/// `serve` with extra environment variables for the child only.
pub async fn serve_with_env(args: &[&str], env: &[(&str, &str)]) -> Served {
    sluice::install_tls_provider();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir.path())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn sluice");
    let stderr = child.stderr.take().expect("stderr piped");
    let mut lines = BufReader::new(stderr).lines();
    let (addr, listening) = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(line)) = lines.next_line().await {
            // The text form says `addr=IP:PORT`, the JSON form `"addr":"IP:PORT"`.
            if let Some(rest) = line.split("addr=").nth(1) {
                let addr = rest.split_whitespace().next().map(str::to_owned);
                return addr.map(|a| (a, line));
            }
            if let Some(rest) = line.split("\"addr\":\"").nth(1) {
                let addr = rest.split('"').next().map(str::to_owned);
                return addr.map(|a| (a, line));
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("sluice printed its address");
    // Keep draining stderr so the child never blocks on a full pipe.
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&log);
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            sink.lock().expect("log lock").push(line);
        }
    });
    Served {
        child,
        base: format!("http://{addr}"),
        dir,
        log,
        listening,
    }
}

fn sigterm(child: &Child) {
    let pid = child.id().expect("child running");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    assert!(status.is_ok_and(|s| s.success()));
}

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

impl Served {
    /// Waits (at most 5 s) for an access line containing every one of `parts`.
    async fn access_line(&self, parts: &[&str]) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let found = self
                .log
                .lock()
                .expect("log lock")
                .iter()
                .find(|l| l.contains("sluice::access") && parts.iter().all(|p| l.contains(p)))
                .cloned();
            if let Some(line) = found {
                return line;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no access line with {parts:?}: {:?}",
                self.log.lock().expect("log lock")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

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

/// Stops the demo-mode gateway with SIGTERM (it must exit 0) and reads back its journal,
/// whose chain must verify.
async fn stop_and_read_the_demo_journal(
    served: &mut Served,
) -> Vec<sluice::journal::verify::Stored> {
    sigterm(&served.child);
    let status = tokio::time::timeout(Duration::from_secs(10), served.child.wait())
        .await
        .expect("exits")
        .expect("status");
    assert!(status.success());
    let url = format!("sqlite://{}", served.dir.path().join("sluice.db").display());
    let store = sluice::store::Store::open(&url)
        .await
        .expect("journal opens");
    let rows = sluice::journal::verify::read_store(&store)
        .await
        .expect("rows");
    let report =
        sluice::journal::verify::check(&rows, &sluice::journal::chain::key_bytes(None), &[], &[]);
    assert_eq!(report.first_bad, None, "{report:?}");
    assert_eq!(report.entries, rows.len() as u64);
    rows
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

#[tokio::test]
async fn sighup_reloads_the_config_and_keeps_streams_and_the_last_good_config() {
    sluice::install_tls_provider();
    let mock = default_mock().await;
    let base = format!(
        "[providers.mock]\nkind = \"openai-compatible\"\nbase_url = \"{}\"\n[[models]]\nname = \"first\"\ntargets = [{{ provider = \"mock\", model = \"gpt-4o\" }}]\n",
        mock.base_url()
    );
    let file = config_file(&base);
    let path = file.path().to_string_lossy().into_owned();
    let mut served = serve(&["--config", &path, "--listen", "127.0.0.1:0"]).await;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/chat/completions", served.base);
    assert_eq!(status_for(&client, &served, "second").await, 404);

    // A stream started on the old config must finish on it.
    let stream = client
        .post(&url)
        .json(&chat_stream(
            "first",
            json!({"chunks": 20, "chunk_delay_ms": 30}),
        ))
        .send()
        .await
        .expect("stream");
    std::fs::write(
        file.path(),
        format!("{base}[[models]]\nname = \"second\"\ntargets = [{{ provider = \"mock\", model = \"gpt-4o\" }}]\n"),
    )
    .expect("rewrite config");
    let hup = |child: &Child| {
        let pid = child.id().expect("running").to_string();
        std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
    };
    assert!(hup(&served.child).is_ok_and(|s| s.success()));
    until_served(&client, &served, "second", "the reload never took effect").await;
    let seen = read_sse(stream).await;
    assert!(
        seen.ends_with_done() && !seen.body_error,
        "the stream was cut by the reload"
    );

    // An invalid config is refused; the last good one keeps serving.
    std::fs::write(file.path(), "[server]\nbogus = 1\n").expect("break config");
    assert!(hup(&served.child).is_ok_and(|s| s.success()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !served
        .log
        .lock()
        .expect("log")
        .iter()
        .any(|l| l.contains("config reload refused"))
    {
        assert!(tokio::time::Instant::now() < deadline, "no refusal logged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        served
            .log
            .lock()
            .expect("log")
            .iter()
            .any(|l| l.contains("server.bogus")),
        "the problem is named"
    );
    assert_eq!(status_for(&client, &served, "second").await, 200);
    assert_eq!(status_for(&client, &served, "first").await, 200);
    assert!(
        served.child.try_wait().expect("status").is_none(),
        "still running"
    );
}

fn two_models(mock: &sluice_mock::MockHandle, second: bool) -> String {
    let mut text = format!(
        "[providers.mock]\nkind = \"openai-compatible\"\nbase_url = \"{}\"\n[[models]]\nname = \"first\"\ntargets = [{{ provider = \"mock\", model = \"gpt-4o\" }}]\n",
        mock.base_url()
    );
    if second {
        text.push_str("[[models]]\nname = \"second\"\ntargets = [{ provider = \"mock\", model = \"gpt-4o\" }]\n");
    }
    text
}

/// A mock, a config file with model `first` in a directory of its own, and a gateway
/// serving it with `extra` arguments.
struct Reloadable {
    mock: sluice_mock::MockHandle,
    dir: tempfile::TempDir,
    path: std::path::PathBuf,
    served: Served,
}

async fn reloadable(extra: &[&str]) -> Reloadable {
    sluice::install_tls_provider();
    let mock = default_mock().await;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("sluice.toml");
    std::fs::write(&path, two_models(&mock, false)).expect("write");
    let path_text = path.to_string_lossy().into_owned();
    let mut args = vec!["--config", &path_text, "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let served = serve(&args).await;
    Reloadable {
        mock,
        dir,
        path,
        served,
    }
}

impl Reloadable {
    /// Saves the config with model `second` added, as editors do: a new file beside
    /// it, renamed over the old.
    fn save_with_second_model(&self) {
        let fresh = self.dir.path().join(".sluice.toml.swp");
        std::fs::write(&fresh, two_models(&self.mock, true)).expect("write new");
        std::fs::rename(&fresh, &self.path).expect("rename over");
    }
}

/// The status of a chat request for `model` through `served`.
async fn status_for(client: &reqwest::Client, served: &Served, model: &str) -> u16 {
    client
        .post(format!("{}/v1/chat/completions", served.base))
        .json(&chat(model, "hi"))
        .send()
        .await
        .expect("sent")
        .status()
        .as_u16()
}

/// Asks for `model` every 50 ms until it is served (a reload took effect), 5 s at most;
/// `what` says what did not happen otherwise.
async fn until_served(client: &reqwest::Client, served: &Served, model: &str, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while status_for(client, served, model).await != 200 {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn editing_the_config_file_under_load_reloads_it_with_no_failed_request() {
    let reloadable = reloadable(&[]).await;
    let served = &reloadable.served;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/chat/completions", served.base);

    let load = {
        let client = client.clone();
        let url = url.clone();
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..200 {
                let status = client
                    .post(&url)
                    .json(&chat("first", "hi"))
                    .send()
                    .await
                    .map(|r| r.status().as_u16());
                statuses.push(status.unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            statuses
        })
    };
    let stream = client
        .post(&url)
        .json(&chat_stream(
            "first",
            json!({"chunks": 30, "chunk_delay_ms": 30}),
        ))
        .send()
        .await
        .expect("stream");
    reloadable.save_with_second_model();
    until_served(&client, served, "second", "the edit was never picked up").await;
    let statuses = load.await.expect("load task");
    assert!(
        statuses.iter().all(|s| *s == 200),
        "a request failed during the reload: {statuses:?}"
    );
    let seen = read_sse(stream).await;
    assert!(
        seen.ends_with_done() && !seen.body_error,
        "the stream was cut by the reload"
    );
}

fn reloads_logged(served: &Served) -> usize {
    served
        .log
        .lock()
        .expect("log")
        .iter()
        .filter(|l| l.contains("config reloaded"))
        .count()
}

/// A watched config reloads once per edit and never by itself: reading the file (by
/// anyone, the reload included) raised access events, which set off a reload, which read
/// the file: about 13 reloads a second from then on, each emptying the providers'
/// connection pools.
#[tokio::test]
async fn a_watched_config_reloads_once_per_edit_and_never_by_itself() {
    let reloadable = reloadable(&[]).await;
    let served = &reloadable.served;
    let client = reqwest::Client::new();
    assert_eq!(status_for(&client, served, "first").await, 200);
    // Anyone reading the file (`cat`, an editor opening it, another gateway starting
    // with it) raised the events that started the loop.
    let text = std::fs::read_to_string(&reloadable.path).expect("read the config");
    assert!(text.contains("first"));
    // Several of the watcher's 300 ms settle times.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(reloads_logged(served), 0, "reloaded with no edit");

    reloadable.save_with_second_model();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while reloads_logged(served) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the edit was never picked up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(reloads_logged(served), 1, "one edit, one reload");
    assert_eq!(status_for(&client, served, "second").await, 200);
}

/// A reload that leaves a provider's client settings alone keeps its client and so its
/// open connections: for a real provider, no new TLS handshake after every edit.
#[tokio::test]
async fn a_reload_keeps_the_open_upstream_connections() {
    let reloadable = reloadable(&[]).await;
    let (served, mock) = (&reloadable.served, &reloadable.mock);
    let client = reqwest::Client::new();
    // The connection goes back to the pool once its response is read: requests 50 ms
    // apart find it there.
    let pause = || tokio::time::sleep(Duration::from_millis(50));
    for _ in 0..3 {
        assert_eq!(status_for(&client, served, "first").await, 200);
        pause().await;
    }
    assert_eq!(mock.stats().connections(), 1, "one pooled connection");

    reloadable.save_with_second_model();
    until_served(&client, served, "second", "the edit was never picked up").await;
    pause().await;
    assert_eq!(status_for(&client, served, "first").await, 200);
    assert_eq!(
        mock.stats().connections(),
        1,
        "the reload opened a new upstream connection"
    );
}

/// A config mounted from a Kubernetes ConfigMap is a symlink through `..data`, and an
/// update renames a new `..data` over the old: no event names the file itself.
#[cfg(unix)]
#[tokio::test]
async fn a_kubernetes_configmap_update_is_picked_up() {
    use std::os::unix::fs::symlink;
    sluice::install_tls_provider();
    let mock = default_mock().await;
    let dir = tempfile::tempdir().expect("dir");
    let version = |n: u32, second: bool| {
        let data = dir.path().join(format!("..2026_12_06_v{n}"));
        std::fs::create_dir(&data).expect("version dir");
        std::fs::write(data.join("sluice.toml"), two_models(&mock, second)).expect("write");
        format!("..2026_12_06_v{n}")
    };
    let first = version(1, false);
    symlink(&first, dir.path().join("..data")).expect("..data");
    symlink("..data/sluice.toml", dir.path().join("sluice.toml")).expect("sluice.toml");
    let path = dir
        .path()
        .join("sluice.toml")
        .to_string_lossy()
        .into_owned();
    let served = serve(&["--config", &path, "--listen", "127.0.0.1:0"]).await;
    let client = reqwest::Client::new();
    assert_eq!(status_for(&client, &served, "second").await, 404);

    // The kubelet's atomic update: a new version, a new `..data` renamed over the old.
    let second = version(2, true);
    symlink(&second, dir.path().join("..data_tmp")).expect("..data_tmp");
    std::fs::rename(dir.path().join("..data_tmp"), dir.path().join("..data")).expect("swap");
    std::fs::remove_dir_all(dir.path().join(&first)).expect("old version");
    until_served(
        &client,
        &served,
        "second",
        "the ConfigMap update was never picked up",
    )
    .await;
    assert_eq!(status_for(&client, &served, "first").await, 200);
}

#[tokio::test]
async fn no_watch_leaves_file_edits_to_sighup() {
    let Reloadable {
        mock,
        dir: _dir,
        path,
        served,
    } = reloadable(&["--no-watch"]).await;
    let client = reqwest::Client::new();
    std::fs::write(&path, two_models(&mock, true)).expect("edit");
    // Well past the watcher's 300 ms settle time: nothing may have reloaded.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(status_for(&client, &served, "second").await, 404);
    let pid = served.child.id().expect("running").to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .is_ok_and(|s| s.success())
    );
    until_served(&client, &served, "second", "SIGHUP did not reload").await;
}

#[tokio::test]
async fn healthcheck_exits_0_for_a_live_sluice_and_1_otherwise() {
    let served = serve(&["--listen", "127.0.0.1:0"]).await;
    let run = |url: String| async move {
        Command::new(BIN)
            .args(["healthcheck", "--url", &url])
            .output()
            .await
            .expect("run sluice healthcheck")
    };
    let ok = run(format!("{}/healthz", served.base)).await;
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let dead = run(format!("http://{}/healthz", crate::support::dead_addr())).await;
    assert_eq!(dead.status.code(), Some(1));
    let missing = run(format!("{}/nope", served.base)).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("404"));
}
