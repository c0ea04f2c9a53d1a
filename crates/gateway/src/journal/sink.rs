//! Where sealed entries go: the store (SQLite or PostgreSQL) or a JSON Lines file. A
//! batch is written in one transaction (store) or one append (file); writing the same
//! entry twice is harmless in the store (`(writer, seq)` is the primary key and a
//! replayed duplicate is ignored), which makes spool replay exactly-once.
//!
//! Must never be called on the request path: only the journal writer task calls it.

use super::chain::Sealed;
use super::entry::Entry;
use crate::on_pool;
use crate::store::Store;
use sqlx::AssertSqlSafe;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// One journal destination.
#[derive(Debug, Clone)]
pub enum Sink {
    Store(Store),
    Jsonl(PathBuf),
}

/// Why a batch could not be written (the writer spools it and retries).
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("file: {0}")]
    File(#[from] std::io::Error),
}

const COLUMNS: &str = "INTO journal (writer, seq, id, at_ms, key_name, team, model, provider, status, entry, prev_mac, mac, cost_micros, tokens_in, tokens_out) VALUES ";
const ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
/// A replayed duplicate is skipped. SQLite says it with `OR IGNORE`, not with
/// PostgreSQL's `ON CONFLICT ... DO NOTHING`: under that clause a NOT NULL column could
/// still abort the statement, so SQLite kept a statement journal for every multi-row
/// insert, a copy of each page the statement touched first (measured: about 6,500
/// instructions per row). Under `OR IGNORE` nothing can abort it; every NOT NULL column
/// is bound from a value that cannot be null.
const SQLITE_INSERT: &str = "INSERT OR IGNORE ";
const POSTGRES_INSERT: &str = "INSERT ";
const POSTGRES_ON_CONFLICT: &str = " ON CONFLICT (writer, seq) DO NOTHING";
/// Rows per statement: 15 parameters each stays far below SQLite's 32,766 and
/// PostgreSQL's 65,535 parameter limits. One statement per batch instead of one per row
/// cut the journal's CPU per request (measured in BENCHMARKS.md).
const ROWS_PER_STATEMENT: usize = 256;

/// A batch as statements of 256, 128, ..., 2 or 1 rows: only nine distinct statements,
/// so each connection prepares each once and then finds it in its statement cache (a
/// statement for every batch size was prepared anew nearly every time: about 14,000
/// instructions per entry, measured with callgrind).
fn chunk_sizes(mut n: usize) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if n == 0 {
            return None;
        }
        let size = ROWS_PER_STATEMENT.min(1 << n.ilog2());
        n -= size;
        Some(size)
    })
}

/// The statement for `rows` rows in `store`'s dialect, made once per size and dialect.
fn statement(store: &Store, rows: usize) -> &'static str {
    static SQLITE: [std::sync::OnceLock<String>; 9] = [const { std::sync::OnceLock::new() }; 9];
    static POSTGRES: [std::sync::OnceLock<String>; 9] = [const { std::sync::OnceLock::new() }; 9];
    let slot = rows.ilog2() as usize;
    let table = match store {
        Store::Sqlite(_) => &SQLITE,
        Store::Postgres(_) => &POSTGRES,
    };
    table[slot.min(8)].get_or_init(|| match store {
        Store::Sqlite(_) => insert(SQLITE_INSERT, rows, ""),
        Store::Postgres(_) => store.sql(&insert(POSTGRES_INSERT, rows, POSTGRES_ON_CONFLICT)),
    })
}

/// The upsert that marks a writer as having written at a time (both dialects say it so).
const MARK_WRITER: &str = "INSERT INTO journal_writers (writer, last_at_ms) VALUES (?, ?) ON CONFLICT (writer) DO UPDATE SET last_at_ms = excluded.last_at_ms";

fn writers_statement(store: &Store) -> &'static str {
    static POSTGRES: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    match store {
        Store::Sqlite(_) => MARK_WRITER,
        Store::Postgres(_) => POSTGRES.get_or_init(|| store.sql(MARK_WRITER)),
    }
}

/// The multi-row insert for `n` rows, with `?` placeholders.
fn insert(verb: &str, n: usize, tail: &str) -> String {
    let mut sql =
        String::with_capacity(verb.len() + COLUMNS.len() + n * (ROW.len() + 2) + tail.len());
    sql.push_str(verb);
    sql.push_str(COLUMNS);
    for i in 0..n {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(ROW);
    }
    sql.push_str(tail);
    sql
}

impl Sink {
    /// A short name for logs, metrics and the spool file.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Store(store) => store.dialect(),
            Self::Jsonl(_) => "jsonl",
        }
    }

    /// Writes `batch`; with `mark`, also marks its writers in `journal_writers` (the
    /// writer task asks for it at most once a second, and on every replay).
    pub async fn write(&self, batch: &[Sealed], mark: bool) -> Result<(), SinkError> {
        match self {
            Self::Store(store) => {
                on_pool!(store, pool => {
                    let mut tx = pool.begin().await?;
                    let mut rest = batch;
                    for size in chunk_sizes(batch.len()) {
                        let (chunk, later) = rest.split_at(size);
                        rest = later;
                        let rows: Vec<Row<'_>> = chunk.iter().map(Row::of).collect();
                        let mut q = sqlx::query(AssertSqlSafe(statement(store, size)));
                        for (sealed, row) in chunk.iter().zip(&rows) {
                            // Texts bound as `Arc<str>` by value: sqlx's arguments keep
                            // the shared text itself; a `&String` it copied into a new
                            // `Arc<String>` (two allocations per column and row). SQLite
                            // still copies each text as it binds it (sqlx binds with
                            // SQLITE_TRANSIENT): about 4,600 instructions per row.
                            q = q
                                .bind(Arc::clone(&sealed.writer))
                                .bind(row.seq)
                                .bind(Arc::<str>::from(row.entry.id.as_str()))
                                .bind(row.entry.at_ms)
                                .bind(row.entry.key.as_deref().map(Arc::<str>::from))
                                .bind(row.entry.team.as_deref().map(Arc::<str>::from))
                                .bind(Arc::<str>::from(row.entry.model.as_str()))
                                .bind(row.entry.provider.as_deref().map(Arc::<str>::from))
                                .bind(i64::from(row.entry.status))
                                .bind(Arc::clone(&sealed.json))
                                .bind(Arc::clone(&sealed.prev_mac))
                                .bind(Arc::clone(&sealed.mac))
                                .bind(super::entry::cost_micros(&row.entry))
                                .bind(super::entry::tokens_column(row.entry.input_tokens))
                                .bind(super::entry::tokens_column(row.entry.output_tokens));
                        }
                        q.execute(&mut *tx).await?;
                    }
                    // Each writer in the batch (a replayed spool may hold an earlier
                    // process's) marked as writing now, in the same transaction: `tail`
                    // reads this to know whose sequence numbers moved.
                    if mark {
                        let now = super::now_ms();
                        let mut marked: Vec<&Arc<str>> = Vec::new();
                        for sealed in batch {
                            if marked.contains(&&sealed.writer) {
                                continue;
                            }
                            marked.push(&sealed.writer);
                            sqlx::query(AssertSqlSafe(writers_statement(store)))
                                .bind(Arc::clone(&sealed.writer))
                                .bind(now)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                    tx.commit().await?;
                });
            }
            Self::Jsonl(path) => {
                let mut text = String::new();
                for sealed in batch {
                    text.push_str(&jsonl_line(sealed));
                    text.push('\n');
                }
                let mut file = tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .await?;
                file.write_all(text.as_bytes()).await?;
                file.flush().await?;
            }
        }
        Ok(())
    }
}

/// A JSON Lines record: the entry as a JSON object (its exact signed bytes) with its seal.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Line<'a> {
    pub writer: std::borrow::Cow<'a, str>,
    pub seq: u64,
    #[serde(borrow)]
    pub entry: &'a serde_json::value::RawValue,
    pub prev_mac: std::borrow::Cow<'a, str>,
    pub mac: std::borrow::Cow<'a, str>,
}

fn jsonl_line(sealed: &Sealed) -> String {
    let Ok(entry) = serde_json::value::RawValue::from_string(sealed.json.to_string()) else {
        return String::new();
    };
    let line = Line {
        writer: (&*sealed.writer).into(),
        seq: sealed.seq,
        entry: &entry,
        prev_mac: (&*sealed.prev_mac).into(),
        mac: (&*sealed.mac).into(),
    };
    serde_json::to_string(&line).unwrap_or_default()
}

/// The query columns of one row, from its entry.
struct Row<'a> {
    entry: std::borrow::Cow<'a, Entry>,
    seq: i64,
}

impl<'a> Row<'a> {
    fn of(sealed: &'a Sealed) -> Self {
        let entry = match &sealed.entry {
            Some(entry) => std::borrow::Cow::Borrowed(entry),
            // A replayed entry: its JSON is what was signed, so read the columns from it.
            None => std::borrow::Cow::Owned(
                serde_json::from_str(&sealed.json).unwrap_or_else(|_| Entry::unreadable()),
            ),
        };
        Self {
            seq: i64::try_from(sealed.seq).unwrap_or(i64::MAX),
            entry,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_cut_into_power_of_two_statements() {
        assert_eq!(chunk_sizes(37).collect::<Vec<_>>(), [32, 4, 1]);
        assert_eq!(chunk_sizes(600).collect::<Vec<_>>(), [256, 256, 64, 16, 8]);
        assert_eq!(chunk_sizes(1).collect::<Vec<_>>(), [1]);
        assert_eq!(chunk_sizes(0).count(), 0);
    }

    #[tokio::test]
    async fn a_replayed_row_is_skipped_and_the_new_ones_are_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("j.db").display());
        let store = Store::open(&url).await.expect("store");
        let sink = Sink::Store(store.clone());
        let mut chain = super::super::chain::Chain::new(None, "w".to_owned());
        let entry = |id: &str| Entry {
            id: id.to_owned(),
            model: "m".to_owned(),
            ..Entry::unreadable()
        };
        let Store::Sqlite(pool) = &store else {
            panic!("a SQLite store")
        };
        let marks = || async {
            sqlx::query_as::<_, (String,)>("SELECT writer FROM journal_writers")
                .fetch_all(pool)
                .await
                .expect("marks")
        };
        let first: Vec<Sealed> = ["a", "b", "c"].map(|id| chain.seal(entry(id))).into();
        sink.write(&first, false).await.expect("first write");
        assert!(marks().await.is_empty(), "a write not asked to mark marked");
        // A spool replay sends rows again, with new ones behind them.
        let mut again = first.clone();
        again.push(chain.seal(entry("d")));
        sink.write(&again, true).await.expect("replay");
        assert_eq!(marks().await, [("w".to_owned(),)], "one mark per writer");
        let ids: Vec<(String, i64)> = sqlx::query_as("SELECT id, seq FROM journal ORDER BY seq")
            .fetch_all(pool)
            .await
            .expect("rows");
        let expected =
            [("a", 1), ("b", 2), ("c", 3), ("d", 4)].map(|(id, seq)| (id.to_owned(), seq));
        assert_eq!(ids, expected);
    }
}
