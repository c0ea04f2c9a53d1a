//! `sluice journal verify`: proves that no entry of a journal was altered, removed,
//! inserted or reordered, and names the first bad one. Each writer's chain is walked in
//! sequence order: sequence numbers must run 1, 2, 3, ... without a gap, each entry must
//! name its predecessor's MAC and carry its own correct MAC, and the indexed columns
//! must say what the signed JSON says. Signed checkpoints then show whether entries
//! were cut from the end of a chain.
//!
//! Must never stop at the first writer with a problem silently: the report names the
//! first bad entry and how many entries were checked.

use super::chain::{self, Checkpoint};
use super::entry::Entry;
use crate::on_pool;
use crate::store::Store;
use sqlx::Row;
use std::collections::BTreeMap;

/// One stored entry, as read back for checking.
#[derive(Debug, Clone)]
pub struct Stored {
    pub writer: String,
    pub seq: i64,
    pub id: String,
    pub at_ms: i64,
    pub key_name: Option<String>,
    pub team: Option<String>,
    pub model: String,
    pub provider: Option<String>,
    pub status: i64,
    pub cost_micros: Option<i64>,
    pub tokens_in: Option<i64>,
    pub tokens_out: Option<i64>,
    pub json: String,
    pub prev_mac: String,
    pub mac: String,
}

/// What was wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bad {
    pub writer: String,
    pub seq: i64,
    pub id: String,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub entries: u64,
    pub writers: u64,
    pub checkpoints: u64,
    pub first_bad: Option<Bad>,
}

const SELECT: &str = "SELECT writer, seq, id, at_ms, key_name, team, model, provider, status, cost_micros, tokens_in, tokens_out, entry, prev_mac, mac FROM journal ORDER BY writer, seq";

fn stored<R: Row>(r: &R) -> Stored
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Stored {
        writer: r.get(0),
        seq: r.get(1),
        id: r.get(2),
        at_ms: r.get(3),
        key_name: r.get(4),
        team: r.get(5),
        model: r.get(6),
        provider: r.get(7),
        status: r.get(8),
        cost_micros: r.get(9),
        tokens_in: r.get(10),
        tokens_out: r.get(11),
        json: r.get(12),
        prev_mac: r.get(13),
        mac: r.get(14),
    }
}

/// Reads every entry of the store, in chain order (for tests and small journals;
/// `check_store` streams).
pub async fn read_store(store: &Store) -> Result<Vec<Stored>, sqlx::Error> {
    let stored = on_pool!(store, pool => sqlx::query(SELECT)
        .fetch_all(pool)
        .await?
        .iter()
        .map(stored)
        .collect());
    Ok(stored)
}

/// Checks the whole store as `check` does, one row at a time: memory holds a row and a
/// position per writer, whatever the journal's size (`sluice journal verify`).
pub async fn check_store(
    store: &Store,
    key: &[u8],
    checkpoints: &[Checkpoint],
    pruned: &[Checkpoint],
) -> Result<Report, sqlx::Error> {
    use futures_util::TryStreamExt;
    let mut walk = Walk::new(key, checkpoints, pruned);
    on_pool!(store, pool => {
        let mut rows = sqlx::query(SELECT).fetch(pool);
        while let Some(row) = rows.try_next().await? {
            if !walk.row(&stored(&row)) {
                break;
            }
        }
    });
    Ok(walk.finish())
}

/// Checks `stored` (in chain order) against `key`, the checkpoints, and the retention
/// markers (`pruned`: where each pruned chain now starts).
pub fn check(
    stored: &[Stored],
    key: &[u8],
    checkpoints: &[Checkpoint],
    pruned: &[Checkpoint],
) -> Report {
    let mut walk = Walk::new(key, checkpoints, pruned);
    for row in stored {
        if !walk.row(row) {
            break;
        }
    }
    walk.finish()
}

/// One pass over the rows in chain order, then the checkpoints against what it saw.
struct Walk<'a> {
    key: &'a [u8],
    signer: chain::Signer,
    pruned: &'a [Checkpoint],
    /// Each writer's newest checkpoint, and the MAC of the row at its sequence, if seen.
    newest: BTreeMap<&'a str, (&'a Checkpoint, Option<String>)>,
    /// The first checkpoint whose signature does not match (reported after the rows).
    forged: Option<&'a Checkpoint>,
    /// Each writer's last sequence number seen.
    heads: BTreeMap<String, i64>,
    writer: Option<String>,
    expected_seq: i64,
    prev_mac: String,
    report: Report,
}

impl<'a> Walk<'a> {
    fn new(key: &'a [u8], checkpoints: &'a [Checkpoint], pruned: &'a [Checkpoint]) -> Self {
        let mut newest: BTreeMap<&str, (&Checkpoint, Option<String>)> = BTreeMap::new();
        let mut forged = None;
        for cp in checkpoints {
            if !cp.is_signed_by(key) {
                forged = forged.or(Some(cp));
                continue;
            }
            let slot = newest.entry(&cp.writer).or_insert((cp, None));
            if cp.seq > slot.0.seq {
                slot.0 = cp;
            }
        }
        Self {
            key,
            signer: chain::Signer::new(key),
            pruned,
            newest,
            forged,
            heads: BTreeMap::new(),
            writer: None,
            expected_seq: 1,
            prev_mac: String::new(),
            report: Report {
                entries: 0,
                writers: 0,
                checkpoints: checkpoints.len() as u64,
                first_bad: None,
            },
        }
    }

    /// Checks the next row; false once one is bad (the report names it).
    fn row(&mut self, row: &Stored) -> bool {
        if self.writer.as_deref() != Some(row.writer.as_str()) {
            self.writer = Some(row.writer.clone());
            self.report.writers += 1;
            self.expected_seq = 1;
            self.prev_mac.clear();
            if let Some(marker) = self.pruned.iter().find(|m| m.writer == row.writer) {
                if !marker.is_signed_by(self.key) {
                    return self.bad(row, "a retention marker's signature does not match");
                }
                self.expected_seq = i64::try_from(marker.seq).unwrap_or(i64::MAX) + 1;
                self.prev_mac.clone_from(&marker.mac);
            }
        }
        self.report.entries += 1;
        if let Some(why) = problem(row, &self.signer, self.expected_seq, &self.prev_mac) {
            return self.bad(row, &why);
        }
        if let Some((cp, found)) = self.newest.get_mut(row.writer.as_str())
            && i64::try_from(cp.seq).is_ok_and(|seq| seq == row.seq)
        {
            *found = Some(row.mac.clone());
        }
        self.heads.insert(row.writer.clone(), row.seq);
        self.expected_seq = row.seq + 1;
        self.prev_mac.clone_from(&row.mac);
        true
    }

    fn bad(&mut self, row: &Stored, why: &str) -> bool {
        self.report.first_bad = Some(Bad {
            writer: row.writer.clone(),
            seq: row.seq,
            id: row.id.clone(),
            why: why.to_owned(),
        });
        false
    }

    /// The newest checkpoint of each writer must still be in the chain, unchanged.
    fn finish(mut self) -> Report {
        if self.report.first_bad.is_some() {
            return self.report;
        }
        if let Some(cp) = self.forged {
            self.report.first_bad = Some(Bad {
                writer: cp.writer.clone(),
                seq: i64::try_from(cp.seq).unwrap_or(i64::MAX),
                id: String::new(),
                why: "a checkpoint's signature does not match".to_owned(),
            });
            return self.report;
        }
        for (writer, (cp, present)) in &self.newest {
            let seq = i64::try_from(cp.seq).unwrap_or(i64::MAX);
            // Entries up to a retention marker were removed on purpose.
            if let Some(marker) = self.pruned.iter().find(|m| m.writer == *writer)
                && (cp.seq < marker.seq || (cp.seq == marker.seq && cp.mac == marker.mac))
            {
                continue;
            }
            let why = match (self.heads.get(*writer), present) {
                (_, Some(mac)) if *mac == cp.mac => continue,
                (_, Some(_)) => "the entry at a checkpoint was replaced",
                (Some(last), None) if *last < seq => {
                    "entries after the last one present were removed (a checkpoint names a later one)"
                }
                _ => "the entry a checkpoint names is missing",
            };
            self.report.first_bad = Some(Bad {
                writer: (*writer).to_owned(),
                seq,
                id: String::new(),
                why: why.to_owned(),
            });
            return self.report;
        }
        self.report
    }
}

fn problem(
    row: &Stored,
    signer: &chain::Signer,
    expected_seq: i64,
    prev_mac: &str,
) -> Option<String> {
    if row.seq < expected_seq {
        return Some(format!(
            "sequence {} repeats or goes back (expected {expected_seq})",
            row.seq
        ));
    }
    if row.seq > expected_seq {
        return Some(format!(
            "entries {expected_seq}..{} are missing",
            row.seq - 1
        ));
    }
    if row.prev_mac != prev_mac {
        return Some(
            "does not follow the entry before it (inserted, removed or reordered)".to_owned(),
        );
    }
    let seq = u64::try_from(row.seq).unwrap_or_default();
    if signer.mac(&row.writer, seq, &row.prev_mac, &row.json) != row.mac {
        return Some("its MAC does not match its content (altered)".to_owned());
    }
    match serde_json::from_str::<Entry>(&row.json) {
        Ok(entry) => altered_column(row, &entry).map(|column| {
            format!("its column `{column}` differs from its signed content (altered)")
        }),
        Err(_) => Some("its signed content is not a journal entry".to_owned()),
    }
}

/// The first column that does not say what the signed entry says. Every column is
/// checked: spend, budgets seeded at start-up and the query filters read them, not the
/// JSON, so an edited column would change what they answer without breaking the MAC.
///
/// A row with none of the three cost columns is from before they existed (migration
/// 0003): its spend was never in them to alter.
fn altered_column(row: &Stored, entry: &Entry) -> Option<&'static str> {
    let before_costs =
        row.cost_micros.is_none() && row.tokens_in.is_none() && row.tokens_out.is_none();
    let checks = [
        ("id", entry.id == row.id),
        ("at_ms", entry.at_ms == row.at_ms),
        ("key_name", entry.key == row.key_name),
        ("team", entry.team == row.team),
        ("model", entry.model == row.model),
        ("provider", entry.provider == row.provider),
        ("status", i64::from(entry.status) == row.status),
        (
            "cost_micros",
            before_costs || super::entry::cost_micros(entry) == row.cost_micros,
        ),
        (
            "tokens_in",
            before_costs || row.tokens_in == Some(super::entry::tokens_column(entry.input_tokens)),
        ),
        (
            "tokens_out",
            before_costs
                || row.tokens_out == Some(super::entry::tokens_column(entry.output_tokens)),
        ),
    ];
    checks
        .iter()
        .find(|(_, same)| !same)
        .map(|(column, _)| *column)
}

/// Reads a checkpoints file (missing: none).
pub fn read_checkpoints(path: &std::path::Path) -> std::io::Result<Vec<Checkpoint>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}
