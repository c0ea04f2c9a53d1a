//! The journal: every interaction, durable and queryable, written off the request path.
//!
//! ```text
//! finish (end task) -> bounded queue -> writer task: seal (chain) -> batch -> each sink
//!                                                         sink down -> spool -> replay
//! ```
//!
//! - [`entry`]: the durable shape of one interaction.
//! - [`chain`]: the HMAC chain and signed checkpoints (tamper evidence).
//! - [`sink`]: the store (SQLite, PostgreSQL) and JSON Lines.
//! - [`spool`]: where entries wait while a sink is down.
//! - [`verify`]: proves a journal whole, or names the first bad entry.
//! - [`query`]: filters and cursor pages, for `/admin/journal` and the CLI.
//!
//! Must never make a request wait: the end task hands entries over with `try_send`,
//! and an entry that finds the queue full is counted as lost and logged, never waited
//! for. Every other failure (sink down, slow, back) ends in the spool, not in a loss.

pub mod chain;
pub mod command;
pub mod entry;
pub mod query;
pub mod retention;
pub mod sink;
pub mod spool;
pub mod verify;

use crate::config::JournalConfig;
use chain::{Chain, Sealed};
use entry::Entry;
use sink::Sink;
use spool::{REPLAY_BATCH, Spool};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};

/// How long a sink that failed is left alone before the spool is replayed to it.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// How often the writer marks itself in `journal_writers` while it writes.
const MARK_EVERY: Duration = Duration::from_secs(1);

/// The journal as the end stage sees it.
#[derive(Debug)]
pub struct Journal {
    queue: mpsc::Sender<Msg>,
    counters: Arc<Counters>,
}

/// What the journal has done since start-up (for metrics and tests).
#[derive(Debug, Default)]
pub struct Counters {
    pub written: AtomicU64,
    pub spooled: AtomicU64,
    pub replayed: AtomicU64,
    /// Entries that could be kept nowhere (queue full, spool unwritable).
    pub lost: AtomicU64,
}

enum Msg {
    Entry(Box<Entry>),
    Flush(oneshot::Sender<()>),
}

impl Msg {
    fn is_flush(&self) -> bool {
        matches!(self, Self::Flush(_))
    }
}

impl Journal {
    /// Opens the spools and starts the writer task; entries an earlier run left in a
    /// spool are replayed first.
    pub async fn start(config: &JournalConfig, sinks: Vec<Sink>) -> std::io::Result<Self> {
        let mut outlets = Vec::with_capacity(sinks.len());
        for sink in sinks {
            let spool = Spool::open(&config.spool_dir, sink.name()).await?;
            outlets.push(Outlet {
                sink,
                spool,
                marked_at: None,
                retry_at: None,
            });
        }
        let writer = format!("w{}-{:08x}", now_ms(), fastrand::u32(..));
        let chain = Chain::new(config.key.as_ref().map(|k| k.expose()), writer);
        let (queue, rx) = mpsc::channel(config.queue);
        let counters = Arc::new(Counters::default());
        let task = Writer {
            chain,
            outlets,
            rx,
            batch: config.batch,
            interval: config.flush_interval,
            checkpoints: config.checkpoints.clone(),
            counters: Arc::clone(&counters),
        };
        tokio::spawn(task.run());
        Ok(Self { queue, counters })
    }

    /// Hands one entry to the writer without waiting.
    pub fn submit(&self, entry: Entry) {
        if self.queue.try_send(Msg::Entry(Box::new(entry))).is_err() {
            let lost = self.counters.lost.fetch_add(1, Ordering::Relaxed) + 1;
            if lost.is_power_of_two() {
                tracing::error!(lost, "journal queue full: entries lost");
            }
        }
    }

    /// Waits until every entry submitted before the call was written or spooled.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.queue.send(Msg::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Entries waiting for the writer.
    pub fn queue_depth(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }
}

struct Outlet {
    sink: Sink,
    spool: Spool,
    /// When this outlet last marked the writer in `journal_writers`. `tail` looks at a
    /// writer marked in the last 10 s on every poll, so a mark a second is enough, and
    /// saves an upsert per batch where batches are small.
    marked_at: Option<tokio::time::Instant>,
    /// Set while the sink is failing: when to try the spool again.
    retry_at: Option<tokio::time::Instant>,
}

struct Writer {
    chain: Chain,
    outlets: Vec<Outlet>,
    rx: mpsc::Receiver<Msg>,
    batch: usize,
    interval: Duration,
    checkpoints: Option<std::path::PathBuf>,
    counters: Arc<Counters>,
}

impl Writer {
    async fn run(mut self) {
        let mut msgs = Vec::with_capacity(self.batch);
        loop {
            let first =
                tokio::time::timeout(self.interval, self.rx.recv_many(&mut msgs, self.batch)).await;
            let mut closed = matches!(first, Ok(0));
            // Fill the batch for up to one interval: one transaction of many rows costs a
            // fraction of many transactions of a few (measured: BENCHMARKS.md).
            let until = tokio::time::Instant::now() + self.interval;
            while !closed && msgs.len() < self.batch && !msgs.iter().any(Msg::is_flush) {
                let room = self.batch - msgs.len();
                match tokio::time::timeout_at(until, self.rx.recv_many(&mut msgs, room)).await {
                    Ok(0) => closed = true,
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            let mut waiters = Vec::new();
            let batch: Arc<[Sealed]> = msgs
                .drain(..)
                .filter_map(|msg| match msg {
                    Msg::Entry(entry) => Some(self.chain.seal(*entry)),
                    Msg::Flush(tx) => {
                        waiters.push(tx);
                        None
                    }
                })
                .collect();
            self.deliver(&batch).await;
            if !batch.is_empty() {
                self.checkpoint().await;
            }
            for waiter in waiters {
                let _ = waiter.send(());
            }
            // The queue closed (every handle gone) and is drained: the journal is done.
            if closed {
                return;
            }
        }
    }

    /// Writes `batch` to every sink: replaying its spool first when one is waiting, and
    /// spooling instead of writing while the sink is failing, so order is kept.
    async fn deliver(&mut self, batch: &Arc<[Sealed]>) {
        let now = tokio::time::Instant::now();
        for outlet in &mut self.outlets {
            let backlog = outlet.spool.held() > 0;
            let may_try = outlet.retry_at.is_none_or(|at| now >= at);
            if backlog && may_try {
                replay(outlet, &self.counters).await;
            }
            if batch.is_empty() {
                continue;
            }
            if outlet.spool.held() == 0 && outlet.retry_at.is_none() {
                let mark = outlet
                    .marked_at
                    .is_none_or(|at| now.duration_since(at) >= MARK_EVERY);
                match outlet.sink.write(batch, mark).await {
                    Ok(()) => {
                        if mark {
                            outlet.marked_at = Some(now);
                        }
                        self.counters
                            .written
                            .fetch_add(batch.len() as u64, Ordering::Relaxed);
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(sink = outlet.sink.name(), error = %e, "journal sink failed; spooling");
                        outlet.retry_at = Some(now + RETRY_AFTER);
                    }
                }
            }
            spool(outlet, batch, &self.counters).await;
        }
    }

    async fn checkpoint(&self) {
        let Some(path) = &self.checkpoints else {
            return;
        };
        let line = serde_json::to_string(&self.chain.checkpoint(now_ms())).unwrap_or_default();
        if let Err(e) = append_line(path, &line).await {
            tracing::warn!(error = %e, "journal checkpoint could not be written");
        }
    }
}

async fn spool(outlet: &mut Outlet, batch: &[Sealed], counters: &Counters) {
    match outlet.spool.append(batch).await {
        Ok(()) => {
            counters
                .spooled
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
        Err(e) => {
            counters
                .lost
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            tracing::error!(sink = outlet.sink.name(), error = %e, lost = batch.len(), "journal spool unwritable: entries lost");
        }
    }
}

/// Sends the spool to its sink in order, a chunk at a time; on success the spool is
/// emptied and the sink is healthy again, on failure it waits `RETRY_AFTER` and the
/// retry resumes after the last chunk written.
async fn replay(outlet: &mut Outlet, counters: &Counters) {
    let mut replayed = 0u64;
    loop {
        let chunk = match outlet.spool.next_chunk(REPLAY_BATCH).await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(sink = outlet.sink.name(), error = %e, "journal spool unreadable");
                outlet.retry_at = Some(tokio::time::Instant::now() + RETRY_AFTER);
                return;
            }
        };
        let entries: Arc<[Sealed]> = chunk.entries.into();
        if !entries.is_empty()
            && let Err(e) = outlet.sink.write(&entries, true).await
        {
            tracing::warn!(sink = outlet.sink.name(), error = %e, "journal sink still failing");
            outlet.retry_at = Some(tokio::time::Instant::now() + RETRY_AFTER);
            return;
        }
        outlet.spool.advance(chunk.end);
        replayed += entries.len() as u64;
        counters
            .replayed
            .fetch_add(entries.len() as u64, Ordering::Relaxed);
        if chunk.torn > 0 {
            counters.lost.fetch_add(chunk.torn, Ordering::Relaxed);
            tracing::error!(
                sink = outlet.sink.name(),
                lost = chunk.torn,
                "journal spool had torn lines"
            );
        }
    }
    // Written whole: a crash before this line replays again, which the store ignores.
    if let Err(e) = outlet.spool.clear().await {
        tracing::warn!(sink = outlet.sink.name(), error = %e, "journal spool could not be emptied");
        return;
    }
    tracing::info!(
        sink = outlet.sink.name(),
        replayed,
        "journal sink back; spool replayed"
    );
    outlet.retry_at = None;
}

async fn append_line(path: &std::path::Path, line: &str) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await?;
    file.write_all(format!("{line}\n").as_bytes()).await
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
