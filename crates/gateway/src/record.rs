//! The interaction record: what happened to one request, filled in as it moves through
//! the pipeline and emitted once when it ends: when the response is complete, the stream
//! finished, or the client went away (the record is dropped unfinished). Today it is one
//! structured log line; the journal will take the same record.
//!
//! Must never hold request or response bodies, keys or upstream addresses.

use sluice_protocol::canonical::Usage;
use std::time::{Duration, Instant};

/// How the interaction ended, as the client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Failed before any byte of a response; the name is `GatewayError::kind`.
    Error(&'static str),
    /// A stream that started and then failed; the client got an in-band error event.
    StreamError(&'static str),
    /// The client disconnected before the response completed.
    Cancelled,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error(kind) | Self::StreamError(kind) => kind,
            Self::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug)]
pub struct Interaction {
    pub request_id: String,
    pub endpoint: &'static str,
    pub model: String,
    pub provider: Option<String>,
    pub upstream_model: Option<String>,
    pub status: u16,
    pub stream: bool,
    pub attempts: u32,
    pub usage: Option<Usage>,
    pub first_byte: Option<Duration>,
    /// What translation dropped or changed (features the target could not express).
    pub notes: Vec<String>,
    started: Instant,
    outcome: Option<Outcome>,
}

impl Interaction {
    pub fn start(request_id: String, endpoint: &'static str, started: Instant) -> Self {
        Self {
            request_id,
            endpoint,
            model: String::new(),
            provider: None,
            upstream_model: None,
            status: 0,
            stream: false,
            attempts: 0,
            usage: None,
            first_byte: None,
            notes: Vec::new(),
            started,
            outcome: None,
        }
    }

    pub fn mark_first_byte(&mut self) {
        if self.first_byte.is_none() {
            self.first_byte = Some(self.started.elapsed());
        }
    }

    /// Ends the interaction; the line is written when the record is dropped.
    pub fn finish(&mut self, status: u16, outcome: Outcome) {
        self.status = status;
        self.outcome = Some(outcome);
    }

    pub fn is_finished(&self) -> bool {
        self.outcome.is_some()
    }
}

impl Drop for Interaction {
    fn drop(&mut self) {
        let outcome = self.outcome.unwrap_or(Outcome::Cancelled);
        let usage = self.usage.unwrap_or_default();
        tracing::info!(
            target: "sluice::access",
            id = %self.request_id,
            endpoint = self.endpoint,
            model = %self.model,
            provider = self.provider.as_deref().unwrap_or("-"),
            upstream_model = self.upstream_model.as_deref().unwrap_or("-"),
            status = self.status,
            outcome = outcome.as_str(),
            stream = self.stream,
            attempts = self.attempts,
            // Integers: formatting floats costs more than the rest of the line.
            latency_us = micros(self.started.elapsed()),
            first_byte_us = self.first_byte.map_or(0, micros),
            input_tokens = usage.input_tokens,
            output_tokens = usage.output_tokens,
            cached_tokens = usage.cached_input_tokens,
            notes = %self.notes.join("; "),
        );
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
