//! Request and stream counters, the last recorded request, and the drop
//! guards that turn "the peer went away" into a `cancelled` count.
//!
//! This module only counts; it must never decide how a request is answered,
//! and its guards must never block or panic in `Drop`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

/// A request as the mock received it, kept so tests can check what the
/// gateway actually sent upstream (auth headers, rewritten bodies, ...).
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string (`api-version=...`, `alt=sse`), empty if none.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// Live counters of one mock server. Cheap to read from any thread.
#[derive(Debug, Default)]
pub struct Stats {
    connections: AtomicU64,
    requests: AtomicU64,
    active_streams: AtomicU64,
    completed_streams: AtomicU64,
    cancelled: AtomicU64,
    last_request: Mutex<Option<RecordedRequest>>,
}

impl Stats {
    /// Connections accepted (a gateway that keeps its pool across a reload opens none).
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    pub(crate) fn accepted(&self) {
        self.connections.fetch_add(1, Ordering::SeqCst);
    }

    /// Every request to a model API path (`/v1`, `/v1beta`, `/openai`),
    /// whatever its outcome.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Stream bodies currently being sent.
    pub fn active_streams(&self) -> u64 {
        self.active_streams.load(Ordering::SeqCst)
    }

    /// Stream bodies that were sent to the end.
    pub fn completed_streams(&self) -> u64 {
        self.completed_streams.load(Ordering::SeqCst)
    }

    /// Stream bodies, hanging or delayed responses that were dropped before
    /// completion because the client went away.
    pub fn cancelled(&self) -> u64 {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// The most recent model API request, if any.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.last_request_slot().clone()
    }

    pub(crate) fn record(&self, request: RecordedRequest) {
        self.requests.fetch_add(1, Ordering::SeqCst);
        *self.last_request_slot() = Some(request);
    }

    fn last_request_slot(&self) -> MutexGuard<'_, Option<RecordedRequest>> {
        // A panic while holding this lock cannot leave the Option half
        // written, so a poisoned lock is still safe to use.
        self.last_request
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// How a stream body ended, as far as the counters care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StreamEnd {
    /// Every scripted event was handed to hyper.
    Completed,
    /// The script itself cut the connection (`cut_after`); that is neither
    /// a completion nor a client cancellation.
    Aborted,
}

/// Lives inside a stream body. Counts the stream as active from creation
/// and, if hyper drops the body before [`StreamGuard::finish`], as
/// cancelled: that drop is the only signal we get that the peer left.
#[derive(Debug)]
pub(crate) struct StreamGuard {
    stats: Arc<Stats>,
    finished: bool,
}

impl StreamGuard {
    pub(crate) fn new(stats: Arc<Stats>) -> Self {
        stats.active_streams.fetch_add(1, Ordering::SeqCst);
        Self {
            stats,
            finished: false,
        }
    }

    /// Called before the last frame leaves, so a client that has read the
    /// whole body always sees the updated counters.
    pub(crate) fn finish(&mut self, end: StreamEnd) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.stats.active_streams.fetch_sub(1, Ordering::SeqCst);
        if end == StreamEnd::Completed {
            self.stats.completed_streams.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.stats.active_streams.fetch_sub(1, Ordering::SeqCst);
            self.stats.cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Held by a handler future while it hangs or sleeps before answering.
/// hyper drops that future when the client disconnects, which is how a
/// hang or delay turns into a `cancelled` count.
#[derive(Debug)]
pub(crate) struct PendingGuard {
    stats: Arc<Stats>,
    armed: bool,
}

impl PendingGuard {
    pub(crate) fn new(stats: Arc<Stats>) -> Self {
        Self { stats, armed: true }
    }

    pub(crate) fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if self.armed {
            self.stats.cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
}
