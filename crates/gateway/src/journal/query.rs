//! Reading the journal back: filters (request id, key, team, model, provider, status,
//! time range) and cursor pages, newest first. Shared by `GET /admin/journal` and `sluice journal`.
//!
//! Must never build SQL from a value: every filter is a bound parameter, and only the
//! fixed column names below ever reach the SQL text.

use super::entry::Entry;
use crate::on_pool;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Row};

/// At most this many entries per page.
pub const MAX_LIMIT: u32 = 1000;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// The request's id (`x-request-id`, echoed or generated): its interaction, through
    /// the `journal_id` index (several, if clients reused an id: a sane client id is
    /// echoed as it is).
    pub id: Option<String>,
    pub key: Option<String>,
    pub team: Option<String>,
    pub model: Option<String>,
    pub provider: Option<String>,
    pub status: Option<u16>,
    /// Milliseconds since the Unix epoch, inclusive.
    pub since: Option<i64>,
    /// Milliseconds since the Unix epoch, exclusive.
    pub until: Option<i64>,
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Found {
    pub writer: String,
    pub seq: i64,
    pub entry: Entry,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page {
    pub data: Vec<Found>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("invalid cursor")]
    Cursor,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

enum Param {
    Text(String),
    Int(i64),
}

/// The filter's conditions, each ` AND column op ?`, and their values in order. Only
/// the fixed column texts below reach the SQL.
fn conditions(filter: &Filter) -> (String, Vec<Param>) {
    let text = |v: &Option<String>| v.clone().map(Param::Text);
    let mut sql = String::new();
    let mut params = Vec::new();
    for (column, value) in [
        ("id = ", text(&filter.id)),
        ("key_name = ", text(&filter.key)),
        ("team = ", text(&filter.team)),
        ("model = ", text(&filter.model)),
        ("provider = ", text(&filter.provider)),
        ("status = ", filter.status.map(|s| Param::Int(i64::from(s)))),
        ("at_ms >= ", filter.since.map(Param::Int)),
        ("at_ms < ", filter.until.map(Param::Int)),
    ] {
        if let Some(value) = value {
            sql.push_str(" AND ");
            sql.push_str(column);
            sql.push('?');
            params.push(value);
        }
    }
    (sql, params)
}

/// Runs a `SELECT writer, seq, entry` with its parameters and reads the entries.
async fn fetch(store: &Store, sql: &str, params: Vec<Param>) -> Result<Vec<Found>, QueryError> {
    let sql = store.sql(sql);
    let rows: Vec<(String, i64, String)> = on_pool!(store, pool => {
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for p in params {
            q = match p {
                Param::Text(t) => q.bind(t),
                Param::Int(i) => q.bind(i),
            };
        }
        q.fetch_all(pool)
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    });
    Ok(rows
        .into_iter()
        .map(|(writer, seq, json)| Found {
            writer,
            seq,
            entry: serde_json::from_str(&json).unwrap_or_else(|_| Entry::unreadable()),
        })
        .collect())
}

/// One page of entries matching `filter`, newest first.
pub async fn page(store: &Store, filter: &Filter) -> Result<Page, QueryError> {
    let limit = filter.limit.unwrap_or(100).clamp(1, MAX_LIMIT);
    let cursor = filter.cursor.as_deref().map(parse_cursor).transpose()?;
    let (conditions, mut params) = conditions(filter);
    let mut sql = format!("SELECT writer, seq, entry FROM journal WHERE 1 = 1{conditions}");
    if let Some((at, writer, seq)) = cursor {
        sql.push_str(" AND (at_ms, writer, seq) < (?, ?, ?)");
        params.extend([Param::Int(at), Param::Text(writer), Param::Int(seq)]);
    }
    sql.push_str(&format!(
        " ORDER BY at_ms DESC, writer DESC, seq DESC LIMIT {}",
        limit + 1
    ));
    let mut data = fetch(store, &sql, params).await?;
    let more = data.len() > limit as usize;
    data.truncate(limit as usize);
    let next_cursor = if more {
        data.last()
            .map(|f| format!("{}.{}.{}", f.entry.at_ms, f.seq, f.writer))
    } else {
        None
    };
    Ok(Page { data, next_cursor })
}

/// Entries matching `filter` that `writer` wrote after its entry `after` and up to its
/// entry `upto`, in the order written, at most `limit` (`filter`'s own limit and cursor are not used). Served by
/// the `(writer, seq)` key: its cost is the rows it returns, whatever the table's size.
pub async fn written_after(
    store: &Store,
    filter: &Filter,
    writer: &str,
    (after, upto): (i64, i64),
    limit: u32,
) -> Result<Vec<Found>, QueryError> {
    let (conditions, filters) = conditions(filter);
    let sql = format!(
        "SELECT writer, seq, entry FROM journal WHERE writer = ? AND seq > ? AND seq <= ?{conditions} ORDER BY seq LIMIT {}",
        limit.clamp(1, MAX_LIMIT)
    );
    let mut params = vec![
        Param::Text(writer.to_owned()),
        Param::Int(after),
        Param::Int(upto),
    ];
    params.extend(filters);
    fetch(store, &sql, params).await
}

/// Every writer that has written a batch, with when it last did (milliseconds since
/// the Unix epoch, its own clock).
pub async fn writers(store: &Store) -> Result<Vec<(String, i64)>, QueryError> {
    on_pool!(store, pool => {
        Ok(sqlx::query_as("SELECT writer, last_at_ms FROM journal_writers")
            .fetch_all(pool)
            .await?)
    })
}

/// The newest sequence number `writer` has in the journal (0: none).
pub async fn last_seq(store: &Store, writer: &str) -> Result<i64, QueryError> {
    let sql = store.sql("SELECT MAX(seq) FROM journal WHERE writer = ?");
    on_pool!(store, pool => {
        let max: Option<i64> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(writer)
            .fetch_one(pool)
            .await?;
        Ok(max.unwrap_or(0))
    })
}

/// `at_ms.seq.writer` (the writer id has no dots).
fn parse_cursor(cursor: &str) -> Result<(i64, String, i64), QueryError> {
    let mut parts = cursor.splitn(3, '.');
    let at = parts.next().and_then(|p| p.parse().ok());
    let seq = parts.next().and_then(|p| p.parse().ok());
    let writer = parts.next().filter(|w| !w.is_empty() && w.len() <= 64);
    match (at, seq, writer) {
        (Some(at), Some(seq), Some(writer)) => Ok((at, writer.to_owned(), seq)),
        _ => Err(QueryError::Cursor),
    }
}
