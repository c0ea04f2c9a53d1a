//! Where sealed entries go: the store (SQLite or PostgreSQL) or a JSON Lines file. A
//! batch is written in one transaction (store) or one append (file); writing the same
//! entry twice is harmless in the store (`(writer, seq)` is the primary key and a
//! replayed duplicate is ignored), which makes spool replay exactly-once.
//!
//! - [`sqlite`]: a connection and a thread of its own, a prepared row at a time.
//! - [`postgres`]: multi-row inserts through the store's pool.
//!
//! Must never be called on the request path: only the journal writer task calls it.

pub mod postgres;
pub mod sqlite;

use super::chain::Sealed;
use super::entry::Entry;
use crate::store::Store;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// One journal destination.
#[derive(Debug, Clone)]
pub enum Sink {
    Sqlite(sqlite::Writer),
    Postgres(sqlx::PgPool),
    Jsonl(PathBuf),
}

/// Why a batch could not be written (the writer spools it and retries).
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the journal's SQLite thread has stopped")]
    Stopped,
    #[error("file: {0}")]
    File(#[from] std::io::Error),
}

/// The upsert that marks a writer as having written at a time (both dialects say it so).
const MARK_WRITER: &str = "INSERT INTO journal_writers (writer, last_at_ms) VALUES (?, ?) ON CONFLICT (writer) DO UPDATE SET last_at_ms = excluded.last_at_ms";

/// Each writer of `batch` once, in order of first appearance (a replayed spool may hold
/// an earlier process's entries before this one's).
fn writers(batch: &[Sealed]) -> Vec<&Arc<str>> {
    let mut seen: Vec<&Arc<str>> = Vec::new();
    for sealed in batch {
        if !seen.contains(&&sealed.writer) {
            seen.push(&sealed.writer);
        }
    }
    seen
}

impl Sink {
    /// The journal's sink in `store`. For SQLite, the writer's thread is started here;
    /// the database file must exist (`Store::open` made it): an in-memory SQLite store
    /// has no file another connection could open.
    pub fn for_store(store: &Store) -> std::io::Result<Self> {
        match (store, store.sqlite_file()) {
            (Store::Postgres(pool), _) => Ok(Self::Postgres(pool.clone())),
            (Store::Sqlite(_), Some(path)) if path.is_file() => {
                Ok(Self::Sqlite(sqlite::Writer::start(path)?))
            }
            (Store::Sqlite(_), path) => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "the journal needs a SQLite database file, and `{}` is none (an in-memory store cannot hold the journal)",
                    path.unwrap_or_default().display()
                ),
            )),
        }
    }

    /// A short name for logs, metrics and the spool file.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
            Self::Jsonl(_) => "jsonl",
        }
    }

    /// Writes `batch`; with `mark`, also marks its writers in `journal_writers` (the
    /// writer task asks for it at most once a second, and on every replay).
    pub async fn write(&self, batch: &Arc<[Sealed]>, mark: bool) -> Result<(), SinkError> {
        match self {
            Self::Sqlite(writer) => writer.write(batch, mark).await,
            Self::Postgres(pool) => postgres::write(pool, batch, mark).await,
            Self::Jsonl(path) => {
                let mut text = String::new();
                for sealed in batch.iter() {
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
                Ok(())
            }
        }
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

    #[tokio::test]
    async fn a_replayed_row_is_skipped_and_the_new_ones_are_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("j.db").display());
        let store = Store::open(&url).await.expect("store");
        let sink = Sink::for_store(&store).expect("sink");
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
        let first: Arc<[Sealed]> = ["a", "b", "c"].map(|id| chain.seal(entry(id))).into();
        sink.write(&first, false).await.expect("first write");
        assert!(marks().await.is_empty(), "a write not asked to mark marked");
        // A spool replay sends rows again, with new ones behind them.
        let mut again = first.to_vec();
        again.push(chain.seal(entry("d")));
        sink.write(&again.into(), true).await.expect("replay");
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
