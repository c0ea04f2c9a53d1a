//! The end of an interaction: the one hook every client request passes through exactly
//! once, whatever happened (answered, failed upstream, refused before routing, client
//! gone mid-stream).
//!
//! [`Open`] holds the record while the request is served; dropping it (the response
//! body ended or was dropped, or the error response was built) closes the record and
//! queues it, without waiting, to one task that runs the end stages in order:
//!
//! 1. limits settle (the real cost from usage and price; the reservation settled),
//! 2. metrics (the telemetry issue),
//! 3. journal (the journal issue: its writer queue is a sink of this task),
//! 4. the configured [`Sink`]s: the access line, and channels for embedders and tests.
//!
//! - [`access`]: the access line, one per interaction.
//!
//! Must never block the request path: the queue is bounded and a full queue drops the
//! record and counts it (`dropped()`), never waits; a dropped record's limits are
//! still settled, so nothing it reserved stays taken.

pub mod access;

use crate::journal::Journal;
use crate::journal::entry::Entry;
use crate::record::Interaction;
use crate::telemetry::metrics::Metrics;
use crate::telemetry::traces::Tracer;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{Notify, mpsc};

/// Records waiting for the end task; past this, records are dropped and counted.
const QUEUE: usize = 8192;

/// Where finished records go after the end stages.
#[derive(Debug, Clone)]
pub enum Sink {
    /// The limits' settle: cost from usage, the reservation turned into it.
    Limits(Arc<crate::limits::Limiter>),
    /// The request's and its attempts' spans, to the OTLP exporter.
    Traces(Arc<Tracer>),
    /// The Prometheus registry's per-interaction series.
    Metrics(Arc<Metrics>),
    /// The journal writer's queue: the record becomes a durable entry.
    Journal(Arc<Journal>),
    /// One structured line per interaction on the log (target `sluice::access`).
    AccessLog,
    /// Every record, for a program embedding Sluice or a test.
    Channel(mpsc::UnboundedSender<Arc<Interaction>>),
}

/// The end-of-interaction queue, shared by every request.
#[derive(Debug)]
pub struct Finisher {
    queue: mpsc::Sender<Interaction>,
    /// The limits' settle, also run for a record the full queue drops.
    limiter: Option<Arc<crate::limits::Limiter>>,
    progress: Arc<Progress>,
    dropped: AtomicU64,
}

#[derive(Debug, Default)]
struct Progress {
    queued: AtomicU64,
    done: AtomicU64,
    /// Callers waiting in `flush`; the end task notifies only when there are some.
    flushing: AtomicU64,
    changed: Notify,
}

/// Records the end task takes per wake-up: under load one wake serves many requests.
const BATCH: usize = 64;

impl Finisher {
    /// Starts the end task on the current tokio runtime. It runs until every
    /// `Finisher` handle is gone and the queue is empty.
    pub fn start(sinks: Vec<Sink>) -> Arc<Self> {
        let limiter = sinks.iter().find_map(|s| match s {
            Sink::Limits(l) => Some(Arc::clone(l)),
            _ => None,
        });
        let (queue, mut records) = mpsc::channel::<Interaction>(QUEUE);
        let progress = Arc::new(Progress::default());
        let task_progress = Arc::clone(&progress);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while records.recv_many(&mut batch, BATCH).await > 0 {
                let n = batch.len() as u64;
                for record in batch.drain(..) {
                    end(record, &sinks);
                }
                // SeqCst with `flush`: each side stores, then loads the other's counter.
                task_progress.done.fetch_add(n, Ordering::SeqCst);
                if task_progress.flushing.load(Ordering::SeqCst) > 0 {
                    task_progress.changed.notify_waiters();
                }
            }
        });
        Arc::new(Self {
            queue,
            limiter,
            progress,
            dropped: AtomicU64::new(0),
        })
    }

    /// Opens the record of a new interaction; it is handed over when dropped.
    pub fn open(self: &Arc<Self>, record: Interaction) -> Open {
        Open {
            record,
            finisher: Arc::clone(self),
        }
    }

    fn submit(&self, record: Interaction) {
        match self.queue.try_send(record) {
            Ok(()) => {
                self.progress.queued.fetch_add(1, Ordering::Release);
            }
            Err(mpsc::error::TrySendError::Full(mut record)) => {
                // A dropped record must still give back its limits (a concurrency slot
                // would otherwise stay taken): the settle runs here, without waiting.
                self.settle_dropped(&mut record);
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                // A warning per power of two: visible, but never a storm under overload.
                if n.is_power_of_two() {
                    tracing::warn!(dropped = n, id = %record.request_id, "end-of-interaction queue full; records dropped");
                }
            }
            Err(mpsc::error::TrySendError::Closed(mut record)) => {
                self.settle_dropped(&mut record);
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn settle_dropped(&self, record: &mut Interaction) {
        if let Some(limiter) = &self.limiter {
            crate::limits::settle(limiter, record);
        }
    }

    /// Records that could not be queued since start-up.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits until every record queued before this call has passed the end stages
    /// (shutdown drains with it; tests use it instead of sleeping).
    pub async fn flush(&self) {
        let target = self.progress.queued.load(Ordering::Acquire);
        self.progress.flushing.fetch_add(1, Ordering::SeqCst);
        loop {
            let changed = self.progress.changed.notified();
            tokio::pin!(changed);
            // Registered before the check, so a batch finishing in between still wakes us.
            changed.as_mut().enable();
            if self.progress.done.load(Ordering::SeqCst) >= target {
                break;
            }
            // Bounded: a wake-up lost to a race costs a few milliseconds, never a hang.
            let _ = tokio::time::timeout(std::time::Duration::from_millis(20), changed).await;
        }
        self.progress.flushing.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The end stages for one record, in order.
fn end(mut record: Interaction, sinks: &[Sink]) {
    let mut shared: Option<Arc<Interaction>> = None;
    let mut journal = None;
    for sink in sinks {
        match sink {
            Sink::Limits(limiter) => crate::limits::settle(limiter, &mut record),
            Sink::Traces(tracer) => tracer.record(&record),
            Sink::Metrics(metrics) => metrics.record(&record),
            // Last, after every other sink: the entry takes the record's texts.
            Sink::Journal(j) => journal = Some(j),
            Sink::AccessLog => access::write(&record),
            Sink::Channel(tx) => {
                let record = shared.get_or_insert_with(|| Arc::new(record.clone()));
                let _ = tx.send(Arc::clone(record));
            }
        }
    }
    if let Some(journal) = journal {
        journal.submit(Entry::from_record(record));
    }
}

/// The record of an interaction being served. Stages fill it through `Deref`; when it
/// is dropped the record is closed and queued for the end task, exactly once.
#[derive(Debug)]
pub struct Open {
    record: Interaction,
    finisher: Arc<Finisher>,
}

impl Deref for Open {
    type Target = Interaction;
    fn deref(&self) -> &Interaction {
        &self.record
    }
}

impl DerefMut for Open {
    fn deref_mut(&mut self) -> &mut Interaction {
        &mut self.record
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        let record = self.record.close();
        self.finisher.submit(record);
    }
}
