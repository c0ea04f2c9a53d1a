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

/// One page of entries matching `filter`, newest first.
pub async fn page(store: &Store, filter: &Filter) -> Result<Page, QueryError> {
    let limit = filter.limit.unwrap_or(100).clamp(1, MAX_LIMIT);
    let mut clauses: Vec<(&str, Param)> = Vec::new();
    let text = |v: &Option<String>| v.clone().map(Param::Text);
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
            clauses.push((column, value));
        }
    }
    let cursor = filter.cursor.as_deref().map(parse_cursor).transpose()?;
    let mut sql = String::from("SELECT writer, seq, entry FROM journal WHERE 1 = 1");
    for (column, _) in &clauses {
        sql.push_str(&format!(" AND {column}?"));
    }
    let mut params: Vec<Param> = clauses.into_iter().map(|(_, p)| p).collect();
    if let Some((at, writer, seq)) = cursor {
        sql.push_str(" AND (at_ms, writer, seq) < (?, ?, ?)");
        params.extend([Param::Int(at), Param::Text(writer), Param::Int(seq)]);
    }
    sql.push_str(&format!(
        " ORDER BY at_ms DESC, writer DESC, seq DESC LIMIT {}",
        limit + 1
    ));
    let sql = store.sql(&sql);
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
    let more = rows.len() > limit as usize;
    let data: Vec<Found> = rows
        .into_iter()
        .take(limit as usize)
        .map(|(writer, seq, json)| Found {
            writer,
            seq,
            entry: serde_json::from_str(&json).unwrap_or_else(|_| Entry::unreadable()),
        })
        .collect();
    let next_cursor = if more {
        data.last()
            .map(|f| format!("{}.{}.{}", f.entry.at_ms, f.seq, f.writer))
    } else {
        None
    };
    Ok(Page { data, next_cursor })
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
