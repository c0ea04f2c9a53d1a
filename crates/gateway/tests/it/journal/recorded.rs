//! What each entry records: one per request with its outcome, attempts, guard
//! findings and limits, in SQLite and in PostgreSQL; bodies, a stream's as the assembled
//! answer.

use super::*;

async fn journals_every_request_once(store_url: &str) {
    let dir = tempfile::tempdir().expect("dir");
    let h = start_with(&config(store_url, dir.path())).await;
    let ids = mixed_requests(&h).await;
    let store = Store::open(store_url).await.expect("store");
    let rows = entries(&h, &store, ids.len()).await;
    let mut seen: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    seen.sort_unstable();
    let mut want = ids.clone();
    want.sort_unstable();
    assert_eq!(seen, want, "exactly one entry per request");

    let ok = entry(&rows, "j-ok");
    assert_eq!(ok["status"], 200);
    assert_eq!(ok["outcome"], "ok");
    assert_eq!(ok["provider"], "mock");
    assert!(ok["input_tokens"].as_u64() > Some(0), "{ok}");
    let stream = entry(&rows, "j-stream");
    assert_eq!(stream["stream"], true);
    assert!(stream["output_tokens"].as_u64() > Some(0), "{stream}");
    assert!(stream["first_byte_us"].as_u64().is_some());
    let failover = entry(&rows, "j-failover");
    assert_eq!(failover["attempts"][0]["provider"], "dead");
    assert_eq!(failover["attempts"][0]["error"], "upstream_connect");
    assert_eq!(failover["attempts"][1]["status"], 200);
    assert_eq!(entry(&rows, "j-bad")["outcome"], "bad_request");
    assert_eq!(entry(&rows, "j-unknown")["status"], 404);
    assert_eq!(entry(&rows, "j-cut")["outcome"], "upstream_stream");
    assert_eq!(entry(&rows, "j-gone")["outcome"], "cancelled");
    let guard = entry(&rows, "j-guard");
    assert_eq!(
        (guard["status"].as_u64(), guard["outcome"].as_str()),
        (Some(400), Some("guard_blocked"))
    );
    assert_eq!(guard["guard"][0]["category"], "injection");
    assert_eq!(guard["guard"][0]["action"], "block");
    assert!(
        guard["attempts"].as_array().is_some_and(Vec::is_empty),
        "{guard}"
    );
    assert_eq!(entry(&rows, "j-limit-1")["status"], 200);
    let limited = entry(&rows, "j-limit-2");
    assert_eq!(
        (limited["status"].as_u64(), limited["outcome"].as_str()),
        (Some(429), Some("rate_limited"))
    );

    // The query by request id, in this store's dialect.
    let by_id = sluice::journal::query::page(
        &store,
        &sluice::journal::query::Filter {
            id: Some("j-failover".to_owned()),
            ..Default::default()
        },
    )
    .await
    .expect("query by id");
    assert_eq!(by_id.data.len(), 1);
    assert_eq!(by_id.data[0].entry.id, "j-failover");
    assert_eq!(by_id.data[0].entry.attempts.len(), 2);

    let checkpoints =
        verify::read_checkpoints(&dir.path().join("checkpoints.jsonl")).expect("checkpoints");
    assert!(!checkpoints.is_empty());
    let report = verify::check(&rows, &key_bytes(Some(KEY)), &checkpoints, &[]);
    assert_eq!(report.first_bad, None, "{report:?}");
    assert_eq!(report.entries, ids.len() as u64);

    let all = rows.iter().map(|r| r.json.as_str()).collect::<String>();
    assert!(
        !all.contains("upstream-secret"),
        "a provider key reached the journal"
    );
}

#[tokio::test]
async fn journals_every_request_once_in_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("journal.db").display());
    journals_every_request_once(&url).await;
}

#[tokio::test]
async fn journals_every_request_once_in_postgres() {
    let Some(url) = crate::services::postgres_database().await else {
        return;
    };
    journals_every_request_once(&url).await;
}

#[tokio::test]
async fn bodies_are_journaled_with_streams_as_the_assembled_answer() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("journal.db").display());
    let toml = config(&url, dir.path()).replace("[journal]\n", "[journal]\nbodies = true\n");
    let h = start_with(&toml).await;

    let plain = send(&h, "b-plain", &chat("gpt-4o", "plain question")).await;
    let plain_body = plain.text().await.expect("body");
    let stream = send(&h, "b-stream", &chat_stream("gpt-4o", json!({"chunks": 4}))).await;
    let seen = read_sse(stream).await;
    assert!(
        seen.ends_with_done(),
        "the stream still ends as OpenAI's: {:?}",
        seen.data()
    );
    let streamed_text = seen.content();
    assert!(!streamed_text.is_empty());
    let gone = send(
        &h,
        "b-gone",
        &chat_stream("gpt-4o", json!({"chunks": 100, "chunk_delay_ms": 20})),
    )
    .await;
    let mut body = gone.bytes_stream();
    body.next().await.expect("first").expect("bytes");
    body.next().await.expect("second").expect("bytes");
    drop(body);

    let store = Store::open(&url).await.expect("store");
    let rows = entries(&h, &store, 3).await;
    let plain = entry(&rows, "b-plain");
    assert!(
        plain["request_body"]
            .as_str()
            .is_some_and(|b| b.contains("plain question")),
        "{plain}"
    );
    assert_eq!(plain["response_body"].as_str(), Some(plain_body.as_str()));
    let stream = entry(&rows, "b-stream");
    let answer: Value =
        serde_json::from_str(stream["response_body"].as_str().expect("answer")).expect("JSON");
    assert_eq!(
        answer["text"].as_str(),
        Some(streamed_text.as_str()),
        "{answer}"
    );
    assert_eq!(answer["finish"], "stop");
    let gone = entry(&rows, "b-gone");
    assert_eq!(gone["outcome"], "cancelled");
    let partial: Value =
        serde_json::from_str(gone["response_body"].as_str().expect("partial")).expect("JSON");
    assert!(
        partial["text"].as_str().is_some_and(|t| !t.is_empty()),
        "the part the client saw: {partial}"
    );
}
