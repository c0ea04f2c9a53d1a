//! The interaction record: what happened to one client request, filled in by the
//! pipeline's stages as it moves and handed to the end-of-interaction hook (`finish`)
//! exactly once, when the request is over: response complete, stream ended, or the
//! client gone (then the outcome is `Cancelled`).
//!
//! Must never hold a key's secret or an upstream address; bodies only when the journal
//! keeps them (`journal.bodies`).

use crate::error::StreamFailure;
use sluice_protocol::canonical::Usage;
use std::time::{Duration, Instant, SystemTime};

/// How the interaction ended, as the client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Failed before any byte of a response; the name is `GatewayError::kind`.
    Error(&'static str),
    /// A stream that started and then failed; the client got an in-band error event.
    StreamError(StreamFailure),
    /// The client disconnected before the response completed.
    Cancelled,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error(kind) => kind,
            Self::StreamError(failure) => failure.code(),
            Self::Cancelled => "cancelled",
        }
    }
}

/// One upstream attempt, as the record keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptLog {
    pub provider: String,
    pub model: String,
    /// The provider's status; 0 when it never answered.
    pub status: u16,
    /// The error class of a failed attempt (`UpstreamError::kind`).
    pub error: Option<&'static str>,
    /// When the attempt began.
    pub started: Instant,
    pub latency: Duration,
    /// The attempt's span id, sent upstream in `traceparent` when tracing is on.
    pub span_id: [u8; 8],
}

#[derive(Debug, Clone)]
pub struct Interaction {
    pub request_id: String,
    /// The endpoint's name (`chat.completions`, `messages`, ...).
    pub endpoint: &'static str,
    pub model: String,
    /// The `[[models]]` entry the model matched (a pattern stays a pattern).
    pub route: Option<String>,
    pub provider: Option<String>,
    pub upstream_model: Option<String>,
    pub status: u16,
    pub stream: bool,
    pub attempts: u32,
    /// How far dispatch got: once it began, a provider may have been sent the request
    /// (and may bill it) even if the record ends before an attempt is logged (the
    /// client left mid-dispatch, the guard's hook refused alongside).
    pub dispatch: Dispatch,
    /// Every upstream attempt in order, the committed one last.
    pub attempt_log: Vec<AttemptLog>,
    pub usage: Option<Usage>,
    /// From the start of the request to the first byte of the answer's content.
    pub first_byte: Option<Duration>,
    /// From the start of the request to its end; set when the record is handed over.
    pub latency: Duration,
    /// What translation dropped or changed (features the target could not express).
    pub notes: Vec<String>,
    /// Keep request and response bodies (`journal.bodies`).
    pub keep_bodies: bool,
    /// The client's request body, when bodies are kept.
    pub request_body: Option<bytes::Bytes>,
    /// The answer (the body sent, or a stream's assembled answer), when bodies are kept.
    pub response_body: Option<String>,
    /// The request's trace (when tracing is on).
    pub trace: Option<crate::trace_context::TraceContext>,
    /// Wall-clock start, for the journal.
    pub started_at: SystemTime,
    /// The virtual key's name and team, when the request presented one.
    pub key: Option<String>,
    pub team: Option<String>,
    /// The committed target's price, for the cost.
    pub price: Option<crate::config::Price>,
    /// What the interaction cost (set by the limits' end stage from usage and price).
    pub cost_usd: Option<f64>,
    /// What the limits stage reserved, settled by the end stage.
    pub reservation: Option<Box<crate::limits::Reservation>>,
    /// The rate-limit headers of the response.
    pub rate: crate::limits::RateHeaders,
    /// What the guard found, in the prompt, the answer and the hook's verdict.
    pub guard: Vec<crate::guard::findings::Finding>,
    /// The guard hook's outcome (`pass`, `flagged`, `error`) when one was asked.
    pub hook: Option<&'static str>,
    started: Instant,
    outcome: Option<Outcome>,
}

/// How far an interaction's dispatch got, for what the limits may charge it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatch {
    NotStarted,
    /// Begun and not returned (the record ended mid-dispatch): an attempt not yet in
    /// the log may have been sent.
    Running,
    /// Returned: the log holds every attempt made.
    Returned,
}

impl Interaction {
    pub fn start(request_id: String, endpoint: &'static str, started: Instant) -> Self {
        Self {
            request_id,
            endpoint,
            model: String::new(),
            route: None,
            provider: None,
            upstream_model: None,
            status: 0,
            stream: false,
            attempts: 0,
            dispatch: Dispatch::NotStarted,
            attempt_log: Vec::new(),
            usage: None,
            first_byte: None,
            latency: Duration::ZERO,
            notes: Vec::new(),
            trace: None,
            keep_bodies: false,
            request_body: None,
            response_body: None,
            started_at: SystemTime::now(),
            key: None,
            team: None,
            price: None,
            cost_usd: None,
            reservation: None,
            rate: crate::limits::RateHeaders::default(),
            guard: Vec::new(),
            hook: None,
            started,
            outcome: None,
        }
    }

    /// When the request began.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Notes when the answer's first content reached Sluice (kept once).
    pub fn mark_first_byte(&mut self, at: Instant) {
        if self.first_byte.is_none() {
            self.first_byte = Some(at.saturating_duration_since(self.started));
        }
    }

    /// Sets how the interaction ended; the first outcome set is the one kept.
    pub fn end(&mut self, status: u16, outcome: Outcome) {
        if self.outcome.is_none() {
            self.status = status;
            self.outcome = Some(outcome);
        }
    }

    /// The outcome; a record handed over without one was cancelled by the client.
    pub fn outcome(&self) -> Outcome {
        self.outcome.unwrap_or(Outcome::Cancelled)
    }

    pub fn has_ended(&self) -> bool {
        self.outcome.is_some()
    }

    /// Closes the record for hand-over: takes it out of `self` (left empty) with its
    /// latency measured now.
    pub(crate) fn close(&mut self) -> Self {
        let empty = Self::start(String::new(), self.endpoint, self.started);
        let mut record = std::mem::replace(self, empty);
        record.latency = record.started.elapsed();
        record
    }
}
