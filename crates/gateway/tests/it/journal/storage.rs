//! Where entries are kept: a PostgreSQL outage spooled and replayed exactly once;
//! SQLite's connections and the journal's own SQLite writer.

use super::*;
use sluice::journal::chain::{Chain, Sealed};
use sluice::journal::entry::Entry;
use sluice::journal::sink::Sink;

#[tokio::test]
async fn postgres_outage_spools_and_replays_every_entry_exactly_once() {
    let Some(url) = crate::services::postgres_database().await else {
        return;
    };
    // The same database, reached through a forwarder the test can cut.
    let outage = crate::services::Outage::start("127.0.0.1:5432".parse().expect("addr")).await;
    let via = url.replacen("127.0.0.1:5432", &outage.addr.to_string(), 1);
    assert_ne!(via, url, "the test database URL names 127.0.0.1:5432");
    let dir = tempfile::tempdir().expect("dir");
    let h = start_with(&config(&via, dir.path())).await;
    let store = Store::open(&url).await.expect("direct store");

    for i in 0..5 {
        assert_eq!(
            send(&h, &format!("o-before-{i}"), &chat("gpt-4o", "x"))
                .await
                .status(),
            200
        );
    }
    assert_eq!(entries(&h, &store, 5).await.len(), 5);

    outage.down();
    for i in 0..20 {
        let response = send(&h, &format!("o-during-{i}"), &chat("gpt-4o", "x")).await;
        assert_eq!(response.status(), 200, "requests never wait on the journal");
    }
    h.flush().await;
    assert_eq!(
        verify::read_store(&store).await.expect("read").len(),
        5,
        "nothing reached the database while it was cut off"
    );
    let spool = dir.path().join("spool").join("postgres.spool.jsonl");
    let spooled = std::fs::read_to_string(&spool).expect("spool file");
    assert_eq!(
        spooled.lines().count(),
        20,
        "every entry of the outage is spooled"
    );
    assert!(
        !spooled.contains("upstream-secret"),
        "a provider key reached the spool"
    );
    assert_eq!(spool_backlog(&h).await, 20, "the metric says what waits");

    outage.up().await;
    for i in 0..3 {
        assert_eq!(
            send(&h, &format!("o-after-{i}"), &chat("gpt-4o", "x"))
                .await
                .status(),
            200
        );
    }
    let rows = {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            h.flush().await;
            let rows = verify::read_store(&store).await.expect("read");
            if rows.len() >= 28 || tokio::time::Instant::now() > deadline {
                break rows;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    assert_eq!(spool_backlog(&h).await, 0, "the spool is replayed");
    let mut ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, ids.len(), "no entry twice");
    assert_eq!(ids.len(), 28, "every entry once: {ids:?}");
    let report = verify::check(&rows, &key_bytes(Some(KEY)), &[], &[]);
    assert_eq!(
        report.first_bad, None,
        "order kept through the replay: {report:?}"
    );
    assert!(!spool.exists(), "the spool is emptied after the replay");
}

/// SQLite keeps its temporary data in memory on every pooled connection: the journal's
/// multi-row inserts run inside a transaction, each with a statement journal, and on
/// disk that journal spilled into a temporary file made and deleted for every batch.
#[tokio::test]
async fn every_sqlite_connection_keeps_its_temporary_data_in_memory() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/temp-store.db", dir.path().display());
    let Store::Sqlite(pool) = Store::open(&url).await.expect("store") else {
        panic!("a sqlite:// url opens SQLite");
    };
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut conn = pool.acquire().await.expect("connection");
        let mode: i64 = sqlx::query_scalar("PRAGMA temp_store")
            .fetch_one(&mut *conn)
            .await
            .expect("pragma");
        assert_eq!(mode, 2, "temp_store is MEMORY (2) on every connection");
        held.push(conn);
    }
}

/// A batch of `n` entries sealed by a fresh chain named `writer`.
fn batch(writer: &str, n: usize) -> std::sync::Arc<[Sealed]> {
    let mut chain = Chain::new(None, writer.to_owned());
    (0..n)
        .map(|i| {
            chain.seal(Entry {
                id: format!("{writer}-{i}"),
                model: "m".to_owned(),
                key: Some("k".to_owned()),
                ..Entry::unreadable()
            })
        })
        .collect()
}

/// The journal's SQLite writer has a connection of its own: what it writes is read
/// through the store's pool, every column as `verify` reads it, and the writer's mark.
#[tokio::test]
async fn the_sqlite_writer_writes_what_the_store_reads() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/writer.db", dir.path().display());
    let store = Store::open(&url).await.expect("store");
    let sink = Sink::for_store(&store).expect("sink");
    assert_eq!(sink.name(), "sqlite");
    let written = batch("w1", 3);
    sink.write(&written, true).await.expect("write");
    let rows = verify::read_store(&store).await.expect("read");
    assert_eq!(rows.len(), 3);
    for (row, sealed) in rows.iter().zip(written.iter()) {
        assert_eq!((row.writer.as_str(), row.seq), ("w1", sealed.seq as i64));
        assert_eq!(row.json, *sealed.json);
        assert_eq!(
            (row.prev_mac.as_str(), row.mac.as_str()),
            (&*sealed.prev_mac, &*sealed.mac)
        );
        assert_eq!(row.key_name.as_deref(), Some("k"));
    }
    let report = verify::check_store(&store, &key_bytes(None), &[], &[])
        .await
        .expect("verify");
    assert_eq!((report.entries, report.first_bad.is_none()), (3, true));
    let Store::Sqlite(pool) = &store else {
        panic!("a SQLite store")
    };
    let marked: Vec<(String,)> = sqlx::query_as("SELECT writer FROM journal_writers")
        .fetch_all(pool)
        .await
        .expect("marks");
    assert_eq!(marked, [("w1".to_owned(),)]);
}

/// Another connection holding the write lock (retention's deletes, a key change) makes
/// the writer wait for it, not fail and spool.
#[tokio::test]
async fn the_sqlite_writer_waits_for_another_connections_write_lock() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/locked.db", dir.path().display());
    let store = Store::open(&url).await.expect("store");
    let sink = Sink::for_store(&store).expect("sink");
    let Store::Sqlite(pool) = &store else {
        panic!("a SQLite store")
    };
    let mut holder = pool.acquire().await.expect("connection");
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *holder)
        .await
        .expect("lock");
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        sqlx::query("COMMIT")
            .execute(&mut *holder)
            .await
            .expect("unlock");
    });
    let started = std::time::Instant::now();
    sink.write(&batch("w2", 2), false)
        .await
        .expect("written once the lock was released");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "the write went through while another connection held the lock"
    );
    release.await.expect("released");
    assert_eq!(verify::read_store(&store).await.expect("read").len(), 2);
}

/// The writer never makes a database: a file removed under it is an error (the journal
/// spools), not a new empty file; and an in-memory store is refused at start.
#[tokio::test]
async fn the_sqlite_writer_never_creates_a_database() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("gone.db");
    let store = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("store");
    let sink = Sink::for_store(&store).expect("sink");
    // The writer has not opened its connection yet (it opens with the first batch).
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let error = sink.write(&batch("w3", 1), false).await;
    assert!(error.is_err(), "a write to a removed database succeeded");
    assert!(!path.exists(), "the writer created a new database file");

    let memory = Store::open("sqlite::memory:")
        .await
        .expect("in-memory store");
    let refused = Sink::for_store(&memory).expect_err("an in-memory journal");
    assert!(refused.to_string().contains("in-memory"), "{refused}");
}
