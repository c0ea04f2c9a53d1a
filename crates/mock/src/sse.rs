//! Scripted event-stream bodies: the ordered list of SSE events a dialect
//! produced, with stream faults (`cut_after`, `malformed: sse`,
//! `error_event`, `error_first`) spliced in and delays applied while sending.
//!
//! This module never builds dialect JSON itself (the dialect hands it the
//! bytes of each event and of its fault events), and it must never end a
//! stream without telling the [`StreamGuard`] how it ended.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use futures_util::Stream;
use tokio::time::{Sleep, sleep};

use crate::faults::{Malformed, Options};
use crate::stats::{Stats, StreamEnd, StreamGuard};

#[derive(Debug)]
enum Step {
    /// One SSE event; `pause` means wait `chunk_delay` before sending it.
    Event { bytes: Bytes, pause: bool },
    /// Fail the body so hyper drops the connection without a clean end.
    Abort,
}

/// The dialect's fault events, as complete SSE event bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FaultEvents {
    pub malformed: &'static str,
    pub error: &'static str,
}

/// Collects a stream's events in order. After a fault ends the script,
/// further events are ignored, so dialect code can stay straight-line.
#[derive(Debug)]
pub(crate) struct Script {
    steps: Vec<Step>,
    deltas: usize,
    ended: bool,
    cut_after: Option<usize>,
    malformed: bool,
    malformed_first: bool,
    error_event: bool,
    error_first: bool,
    faults: FaultEvents,
}

impl Script {
    pub(crate) fn new(options: &Options, faults: FaultEvents) -> Self {
        Self {
            steps: Vec::new(),
            deltas: 0,
            ended: false,
            cut_after: options.cut_after,
            // `json` and `sse` corrupt whatever shape the response has, after the
            // first delta; `sse_first` before it.
            malformed: matches!(options.malformed, Some(Malformed::Json | Malformed::Sse)),
            malformed_first: options.malformed == Some(Malformed::SseFirst),
            error_event: options.error_event,
            error_first: options.error_first,
            faults,
        }
    }

    /// Whether further events will be kept; lets callers skip building them.
    pub(crate) fn is_open(&self) -> bool {
        !self.ended
    }

    /// A framing event that carries no generated content.
    pub(crate) fn event(&mut self, bytes: impl Into<Bytes>) {
        if !self.ended {
            self.steps.push(Step::Event {
                bytes: bytes.into(),
                pause: false,
            });
        }
    }

    /// A content delta (text or tool-argument fragment): paced by
    /// `chunk_delay` and the trigger point for every stream fault.
    pub(crate) fn delta(&mut self, bytes: impl Into<Bytes>) {
        if self.ended {
            return;
        }
        if self.cut_after == Some(self.deltas) {
            self.abort();
            return;
        }
        if self.error_first && self.deltas == 0 {
            self.error_before_content();
            return;
        }
        if self.malformed_first && self.deltas == 0 {
            self.event(self.faults.malformed);
        }
        let pause = self.deltas > 0;
        self.steps.push(Step::Event {
            bytes: bytes.into(),
            pause,
        });
        self.deltas += 1;
        if self.deltas == 1 {
            self.after_first_delta();
        }
    }

    /// Called once all content deltas are in and before the closing events.
    /// Faults whose trigger never came (too few deltas) fire here, so a
    /// requested fault is never silently skipped.
    pub(crate) fn content_done(&mut self) {
        if self.ended {
            return;
        }
        if self.cut_after.is_some() {
            self.abort();
        } else if self.error_first {
            self.error_before_content();
        } else if self.deltas == 0 {
            self.after_first_delta();
        }
    }

    fn after_first_delta(&mut self) {
        if self.malformed {
            self.event(self.faults.malformed);
        }
        if self.error_event {
            self.event(self.faults.error);
            self.ended = true;
        }
    }

    /// The error event in place of the first content delta: a 200 whose stream fails
    /// before any content (Anthropic's `overloaded_error` does this).
    fn error_before_content(&mut self) {
        self.event(self.faults.error);
        self.ended = true;
    }

    fn abort(&mut self) {
        self.steps.push(Step::Abort);
        self.ended = true;
    }

    /// The `200 text/event-stream` response that plays this script.
    pub(crate) fn into_response(self, stats: Arc<Stats>, pacing: Pacing) -> Response {
        let stream = EventStream {
            steps: self.steps.into_iter(),
            sleep: (!pacing.first.is_zero()).then(|| Box::pin(sleep(pacing.first))),
            gap: pacing.gap,
            drained: false,
            guard: StreamGuard::new(stats),
        };
        let mut response = Response::new(Body::from_stream(stream));
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }
}

/// Delays of one stream: before the first event and between deltas.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pacing {
    pub first: Duration,
    pub gap: Duration,
}

/// How long the body stalls before a `cut_after` abort. hyper drops
/// whatever is still in its write buffer when a body fails, so the events
/// before the cut must be flushed first, and a stall is what makes hyper
/// flush.
const DRAIN_BEFORE_ABORT: Duration = Duration::from_millis(10);

struct EventStream {
    steps: std::vec::IntoIter<Step>,
    sleep: Option<Pin<Box<Sleep>>>,
    gap: Duration,
    drained: bool,
    guard: StreamGuard,
}

impl Stream for EventStream {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(delay) = this.sleep.as_mut() {
                if delay.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.sleep = None;
            }
            if !this.drained && matches!(this.steps.as_slice().first(), Some(Step::Abort)) {
                this.drained = true;
                this.sleep = Some(Box::pin(sleep(DRAIN_BEFORE_ABORT)));
                continue;
            }
            return Poll::Ready(this.next_step());
        }
    }
}

impl EventStream {
    fn next_step(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        let next = match self.steps.next() {
            None => {
                self.guard.finish(StreamEnd::Completed);
                return None;
            }
            Some(Step::Abort) => {
                self.guard.finish(StreamEnd::Aborted);
                let kind = std::io::ErrorKind::ConnectionAborted;
                return Some(Err(std::io::Error::new(kind, "mock cut_after")));
            }
            Some(Step::Event { bytes, .. }) => bytes,
        };
        // Pauses are armed after the event before the paced one, so the
        // wait happens once that event has been handed to hyper.
        if !self.gap.is_zero()
            && let Some(Step::Event { pause: true, .. }) = self.steps.as_slice().first()
        {
            self.sleep = Some(Box::pin(sleep(self.gap)));
        }
        Some(Ok(next))
    }
}
