//! The journal's SQLite writer: one connection of its own, on a thread of its own, that
//! takes one batch at a time and inserts it in one transaction, a row at a time through
//! one prepared statement.
//!
//! Why not sqlx, which the rest of the store reads and migrates with: the same 150-row
//! batches cost 8.3 µs of CPU per row through sqlx's multi-row statements and 6.6 µs
//! through this path (`cargo bench -p sluice --bench stages -- journal`; BENCHMARKS.md,
//! sixteenth pass). SQLite's own work is the same on either thread (5.7 and 6.2 µs per
//! row, binding included here); what went is sqlx's argument list, built on the
//! caller's thread (the runtime's, in the gateway) at 2.1 µs per row, against 0.3 µs
//! there now to hand the batch over. Both crates link the one bundled SQLite
//! (libsqlite3-sys).
//!
//! A connection of its own also keeps its page cache valid from batch to batch: a
//! SQLite connection drops its cache whenever another one wrote, so batches spread over
//! a pool each read the B-trees' pages back from the WAL.
//!
//! Must never run SQLite on the runtime's threads: every call is made on this module's
//! thread, and the async side only hands a batch over and awaits its answer. Never
//! creates the database: `Store::open` created and migrated it, and a file gone since
//! is an error (the batch is spooled), not a new empty journal.

use super::{Row, SinkError};
use crate::journal::chain::Sealed;
use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::oneshot;

/// `cache_size` of the writer's connection, in KiB (negative: SQLite's unit). Appending
/// rows touches only the right edges of the seven B-trees, so their pages stay cached
/// from batch to batch; a 16 MiB cache raised peak RSS by 12.5 MB for no CPU (measured).
const CACHE_KIB: i64 = -4096;
/// As long as the store's pool waits for a lock another connection holds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const INSERT: &str = "INSERT OR IGNORE INTO journal (writer, seq, id, at_ms, key_name, team, model, provider, status, entry, prev_mac, mac, cost_micros, tokens_in, tokens_out) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

/// The writer as the journal's writer task holds it: a way to its thread.
#[derive(Debug, Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

struct Job {
    batch: Arc<[Sealed]>,
    mark: bool,
    done: oneshot::Sender<rusqlite::Result<()>>,
}

impl Writer {
    /// Starts the thread for the database file at `path`. Its connection opens with the
    /// first batch, and again with the next batch after one failed (the file may have
    /// been replaced, or the disk was full).
    pub fn start(path: PathBuf) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("journal-sqlite".to_owned())
            .spawn(move || run(&path, &queue))?;
        Ok(Self { jobs })
    }

    /// Writes `batch` in one transaction; with `mark`, also marks its writers in
    /// `journal_writers` in the same transaction.
    pub async fn write(&self, batch: &Arc<[Sealed]>, mark: bool) -> Result<(), SinkError> {
        let (done, answer) = oneshot::channel();
        let job = Job {
            batch: Arc::clone(batch),
            mark,
            done,
        };
        self.jobs.send(job).map_err(|_| SinkError::Stopped)?;
        answer.await.map_err(|_| SinkError::Stopped)??;
        Ok(())
    }
}

/// The thread: one job at a time until every `Writer` is dropped.
fn run(path: &Path, queue: &mpsc::Receiver<Job>) {
    let mut connection: Option<Connection> = None;
    for job in queue {
        let result = match connection.take().map_or_else(|| open(path), Ok) {
            Ok(mut conn) => {
                let written = write(&mut conn, &job.batch, job.mark);
                // Kept while it works. After a failure the next batch opens a new one:
                // whatever failed may not be this connection's doing, but a new one
                // costs a few system calls a failure, and a replaced file is found.
                if written.is_ok() {
                    connection = Some(conn);
                }
                written
            }
            Err(e) => Err(e),
        };
        // The writer task may be gone (shut down mid-write): the rows are in either way.
        let _ = job.done.send(result);
    }
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    // Read-write, never create; no mutex of SQLite's own: one thread uses it.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    // rusqlite's own default is also 5 s; said here so the two waits stay the same.
    connection.busy_timeout(BUSY_TIMEOUT)?;
    // The store's own settings (`Store::open`): the file is already in WAL mode, which
    // is a property of the file. NORMAL survives a process crash; only a power loss may
    // lose the last transactions, which the spool does not cover either.
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.pragma_update(None, "temp_store", "MEMORY")?;
    connection.pragma_update(None, "cache_size", CACHE_KIB)?;
    Ok(connection)
}

fn write(connection: &mut Connection, batch: &[Sealed], mark: bool) -> rusqlite::Result<()> {
    // IMMEDIATE takes the write lock at BEGIN, waiting up to the busy timeout for
    // another connection's (retention's deletes, the key admin): a deferred transaction
    // that must upgrade from reading can fail at once instead of waiting.
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut insert = tx.prepare_cached(INSERT)?;
        for sealed in batch {
            let row = Row::of(sealed);
            let entry = &row.entry;
            insert.execute(params![
                &*sealed.writer,
                row.seq,
                entry.id,
                entry.at_ms,
                entry.key,
                entry.team,
                entry.model,
                entry.provider,
                i64::from(entry.status),
                &*sealed.json,
                &*sealed.prev_mac,
                &*sealed.mac,
                crate::journal::entry::cost_micros(entry),
                crate::journal::entry::tokens_column(entry.input_tokens),
                crate::journal::entry::tokens_column(entry.output_tokens),
            ])?;
        }
        if mark {
            let now = crate::journal::now_ms();
            let mut upsert = tx.prepare_cached(super::MARK_WRITER)?;
            for writer in super::writers(batch) {
                upsert.execute(params![writer, now])?;
            }
        }
    }
    tx.commit()
}
