//! Spend read back from the journal: requests, tokens and US dollars per key, team or model
//! since a time, for `GET /admin/spend`, and for seeding the memory limiter's budgets
//! at start-up so a restart does not give a spent budget back.
//!
//! Must never count an interaction twice: each journal row is one client request.

use super::{Store, StoreError};
use crate::on_pool;
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

/// Totals over the matching interactions.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Spend {
    pub requests: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
}

/// Which interactions to sum.
#[derive(Debug, Clone, Default)]
pub struct SpendFilter {
    pub key: Option<String>,
    pub team: Option<String>,
    /// The model name the clients asked for (a `[limits.models.NAME]` budget's scope).
    pub model: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub since_ms: Option<i64>,
}

impl Store {
    pub async fn spend(&self, filter: &SpendFilter) -> Result<Spend, StoreError> {
        let mut sql = String::from(
            // PostgreSQL sums BIGINTs as NUMERIC: cast back so both dialects read an i64.
            "SELECT COUNT(*), CAST(COALESCE(SUM(tokens_in), 0) AS BIGINT), CAST(COALESCE(SUM(tokens_out), 0) AS BIGINT), CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) FROM journal WHERE 1 = 1",
        );
        if filter.key.is_some() {
            sql.push_str(" AND key_name = ?");
        }
        if filter.team.is_some() {
            sql.push_str(" AND team = ?");
        }
        if filter.model.is_some() {
            sql.push_str(" AND model = ?");
        }
        if filter.since_ms.is_some() {
            sql.push_str(" AND at_ms >= ?");
        }
        let sql = self.sql(&sql);
        on_pool!(self, pool => {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            if let Some(key) = &filter.key {
                q = q.bind(key);
            }
            if let Some(team) = &filter.team {
                q = q.bind(team);
            }
            if let Some(model) = &filter.model {
                q = q.bind(model);
            }
            if let Some(since) = filter.since_ms {
                q = q.bind(since);
            }
            let row = q.fetch_one(pool).await?;
            Ok(Spend {
                requests: row.try_get::<i64, _>(0)?,
                input_tokens: row.try_get::<i64, _>(1)?,
                output_tokens: row.try_get::<i64, _>(2)?,
                cost_usd: row.try_get::<i64, _>(3)? as f64 / 1e6,
            })
        })
    }
}
