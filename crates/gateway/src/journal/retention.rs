//! Retention: entries older than `journal.retention` are deleted in the background, as
//! whole chain prefixes. Where a writer's chain was cut, a signed marker (the last entry
//! removed) is kept in `journal_pruned`, so `verify` starts that chain after it and still
//! catches any other removal.
//!
//! Must never delete from the middle of a chain, and never delete without leaving the
//! signed marker in the same transaction.

use super::chain::Checkpoint;
use crate::on_pool;
use crate::store::Store;
use sqlx::{AssertSqlSafe, Row};
use std::time::Duration;

/// Deletes, per writer, the longest prefix of the chain that ends before the first entry
/// at or after `cutoff_ms`; returns how many entries went.
pub async fn prune(store: &Store, key: &[u8], cutoff_ms: i64) -> Result<u64, sqlx::Error> {
    let writers_sql = store.sql(
        "SELECT writer, MAX(seq), MIN(CASE WHEN at_ms >= ? THEN seq END) FROM journal GROUP BY writer",
    );
    let writers: Vec<(String, i64, Option<i64>)> = on_pool!(store, pool => {
        sqlx::query(AssertSqlSafe(writers_sql))
            .bind(cutoff_ms)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    });
    let mut removed = 0;
    for (writer, last, keep_from) in writers {
        let upto = keep_from.map_or(last, |k| k - 1);
        if upto < 1 {
            continue;
        }
        removed += prune_writer(store, key, &writer, upto).await?;
    }
    Ok(removed)
}

async fn prune_writer(
    store: &Store,
    key: &[u8],
    writer: &str,
    upto: i64,
) -> Result<u64, sqlx::Error> {
    let mac_sql = store.sql("SELECT mac FROM journal WHERE writer = ? AND seq = ?");
    let delete_sql = store.sql("DELETE FROM journal WHERE writer = ? AND seq <= ?");
    let marker_sql = store.sql(
        "INSERT INTO journal_pruned (writer, seq, mac, at_ms, sig) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (writer) DO UPDATE SET seq = excluded.seq, mac = excluded.mac, at_ms = excluded.at_ms, sig = excluded.sig",
    );
    let now = super::now_ms();
    on_pool!(store, pool => {
        let mut tx = pool.begin().await?;
        let Some(row) = sqlx::query(AssertSqlSafe(mac_sql))
            .bind(writer)
            .bind(upto)
            .fetch_optional(&mut *tx)
            .await?
        else {
            // Already pruned this far.
            return Ok(0);
        };
        let mac: String = row.get(0);
        let marker = Checkpoint::sign(key, writer, u64::try_from(upto).unwrap_or_default(), &mac, now);
        let done = sqlx::query(AssertSqlSafe(delete_sql))
            .bind(writer)
            .bind(upto)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query(AssertSqlSafe(marker_sql))
            .bind(writer)
            .bind(upto)
            .bind(&marker.mac)
            .bind(marker.at_ms)
            .bind(&marker.sig)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done)
    })
}

/// The signed markers of every pruned chain.
pub async fn markers(store: &Store) -> Result<Vec<Checkpoint>, sqlx::Error> {
    const SQL: &str = "SELECT writer, seq, mac, at_ms, sig FROM journal_pruned";
    Ok(on_pool!(store, pool => {
        sqlx::query(SQL)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| Checkpoint {
                writer: r.get(0),
                seq: u64::try_from(r.get::<i64, _>(1)).unwrap_or_default(),
                mac: r.get(2),
                at_ms: r.get(3),
                sig: r.get(4),
            })
            .collect()
    }))
}

/// Prunes every `every` until the process ends.
pub fn spawn(store: Store, key: Vec<u8>, retention: Duration) {
    let every = (retention / 10).clamp(Duration::from_secs(1), Duration::from_secs(3600));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let cutoff = super::now_ms() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
            match prune(&store, &key, cutoff).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "journal retention removed old entries"),
                Err(e) => tracing::warn!(error = %e, "journal retention failed; will retry"),
            }
        }
    });
}
