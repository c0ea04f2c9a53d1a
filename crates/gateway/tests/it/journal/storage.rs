//! Where entries are kept: a PostgreSQL outage spooled and replayed exactly once;
//! SQLite's connections and its single writer.

use super::*;

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

/// The journal's writer has one SQLite connection of its own (its page cache stays valid
/// from batch to batch), to the same database and with the same settings as the store's.
#[tokio::test]
async fn the_single_writer_is_one_connection_to_the_same_database_with_its_settings() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/single-writer.db", dir.path().display());
    let store = Store::open(&url).await.expect("store");
    let (Store::Sqlite(shared), Store::Sqlite(writer)) = (&store, store.single_writer()) else {
        panic!("a sqlite:// url opens SQLite");
    };
    assert_eq!(writer.options().get_max_connections(), 1);
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&writer)
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
    let temp: i64 = sqlx::query_scalar("PRAGMA temp_store")
        .fetch_one(&writer)
        .await
        .expect("pragma");
    assert_eq!(temp, 2);
    let cache: i64 = sqlx::query_scalar("PRAGMA cache_size")
        .fetch_one(&writer)
        .await
        .expect("pragma");
    assert_eq!(cache, -4096, "the writer's own cache, 4 MiB");
    sqlx::query("CREATE TABLE written (x INTEGER)")
        .execute(&writer)
        .await
        .expect("create");
    sqlx::query("INSERT INTO written VALUES (7)")
        .execute(&writer)
        .await
        .expect("insert");
    let seen: i64 = sqlx::query_scalar("SELECT x FROM written")
        .fetch_one(shared)
        .await
        .expect("read through the shared pool");
    assert_eq!(seen, 7);
}
