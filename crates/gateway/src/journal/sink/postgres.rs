//! The journal's PostgreSQL writes: a batch in one transaction, as multi-row inserts
//! (one round trip per statement, where a row per statement paid one per row).
//!
//! Must never be called on the request path: only the journal writer task calls it.

use super::{Row, SinkError};
use crate::journal::chain::Sealed;
use crate::store::Store;
use sqlx::{AssertSqlSafe, PgPool};
use std::sync::{Arc, OnceLock};

const COLUMNS: &str = "INSERT INTO journal (writer, seq, id, at_ms, key_name, team, model, provider, status, entry, prev_mac, mac, cost_micros, tokens_in, tokens_out) VALUES ";
const ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
/// A replayed duplicate is skipped.
const ON_CONFLICT: &str = " ON CONFLICT (writer, seq) DO NOTHING";
/// Rows per statement: 15 parameters each stays far below PostgreSQL's 65,535
/// parameter limit. One statement per batch instead of one per row cut the journal's
/// CPU per request (measured in BENCHMARKS.md).
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

/// The statement for `rows` rows, made once per size.
fn statement(rows: usize) -> &'static str {
    static MADE: [OnceLock<String>; 9] = [const { OnceLock::new() }; 9];
    let slot = (rows.ilog2() as usize).min(8);
    MADE[slot].get_or_init(|| Store::postgres_sql(&insert(rows)))
}

fn mark_statement() -> &'static str {
    static MADE: OnceLock<String> = OnceLock::new();
    MADE.get_or_init(|| Store::postgres_sql(super::MARK_WRITER))
}

/// The multi-row insert for `n` rows, with `?` placeholders.
fn insert(n: usize) -> String {
    let mut sql = String::with_capacity(COLUMNS.len() + n * (ROW.len() + 2) + ON_CONFLICT.len());
    sql.push_str(COLUMNS);
    for i in 0..n {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(ROW);
    }
    sql.push_str(ON_CONFLICT);
    sql
}

/// Writes `batch` in one transaction; with `mark`, also marks its writers.
pub async fn write(pool: &PgPool, batch: &[Sealed], mark: bool) -> Result<(), SinkError> {
    let mut tx = pool.begin().await?;
    let mut rest = batch;
    for size in chunk_sizes(batch.len()) {
        let (chunk, later) = rest.split_at(size);
        rest = later;
        let rows: Vec<Row<'_>> = chunk.iter().map(Row::of).collect();
        let mut q = sqlx::query(AssertSqlSafe(statement(size)));
        for (sealed, row) in chunk.iter().zip(&rows) {
            // Texts bound as `Arc<str>` by value: sqlx's arguments keep the shared text
            // itself; a `&String` it copied into a new `Arc<String>`.
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
                .bind(crate::journal::entry::cost_micros(&row.entry))
                .bind(crate::journal::entry::tokens_column(row.entry.input_tokens))
                .bind(crate::journal::entry::tokens_column(
                    row.entry.output_tokens,
                ));
        }
        q.execute(&mut *tx).await?;
    }
    if mark {
        let now = crate::journal::now_ms();
        for writer in super::writers(batch) {
            sqlx::query(AssertSqlSafe(mark_statement()))
                .bind(Arc::clone(writer))
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
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

    #[test]
    fn statements_number_their_placeholders_for_postgres() {
        let two = statement(2);
        assert!(two.contains("($16, $17,"), "{two}");
        assert!(
            two.ends_with("$30) ON CONFLICT (writer, seq) DO NOTHING"),
            "{two}"
        );
        assert!(!two.contains('?'));
    }
}
