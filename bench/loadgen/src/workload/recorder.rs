//! Accumulates the outcomes of a run: counts, error kinds, status codes, latency samples,
//! warm-up counts.
//!
//! It must never time or send anything; it only adds up `Outcome`s handed to it.

use super::request::{ErrKind, Outcome};
use crate::stats::Samples;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone, Serialize)]
pub struct Errors {
    pub status: u64,
    pub connect: u64,
    pub timeout: u64,
    pub incomplete: u64,
    pub bad_body: u64,
    pub other: u64,
    /// Open loop only: requests skipped because `--max-in-flight` was reached.
    pub not_sent: u64,
}

impl Errors {
    pub fn total(&self) -> u64 {
        self.status
            + self.connect
            + self.timeout
            + self.incomplete
            + self.bad_body
            + self.other
            + self.not_sent
    }

    pub(super) fn add(&mut self, kind: ErrKind) {
        match kind {
            ErrKind::Status => self.status += 1,
            ErrKind::Connect => self.connect += 1,
            ErrKind::Timeout => self.timeout += 1,
            ErrKind::Incomplete => self.incomplete += 1,
            ErrKind::BadBody => self.bad_body += 1,
            ErrKind::Other => self.other += 1,
        }
    }

    pub(super) fn merge(&mut self, o: &Errors) {
        self.status += o.status;
        self.connect += o.connect;
        self.timeout += o.timeout;
        self.incomplete += o.incomplete;
        self.bad_body += o.bad_body;
        self.other += o.other;
        self.not_sent += o.not_sent;
    }
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct WarmupCounts {
    pub sent: u64,
    pub ok: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventsRange {
    pub min: u64,
    pub max: u64,
}

const MAX_ERROR_SAMPLES: usize = 5;

/// Accumulates outcomes of the measured part of a run.
#[derive(Debug, Default)]
pub struct Recorder {
    pub(super) sent: u64,
    pub(super) ok: u64,
    pub(super) errors: Errors,
    pub(super) status_codes: BTreeMap<String, u64>,
    pub(super) latency: Samples,
    pub(super) ttft: Samples,
    pub(super) send_lag: Samples,
    pub(super) events: Option<EventsRange>,
    pub(super) warmup: WarmupCounts,
    pub(super) error_samples: Vec<String>,
}

impl Recorder {
    pub(super) fn with_capacity(n: usize) -> Self {
        Self {
            latency: Samples::with_capacity(n),
            ..Self::default()
        }
    }

    pub(super) fn add(&mut self, o: Outcome) {
        if !o.measured {
            self.warmup.sent += 1;
            match o.result {
                Ok(()) => self.warmup.ok += 1,
                Err(_) => self.warmup.errors += 1,
            }
            return;
        }
        self.sent += 1;
        self.send_lag.record(o.send_lag);
        if o.events > 0 || o.ttft.is_some() {
            self.note_events(o.events);
        }
        match o.result {
            Ok(()) => {
                self.ok += 1;
                self.latency.record(o.latency);
                if let Some(t) = o.ttft {
                    self.ttft.record(t);
                }
            }
            Err(f) => {
                self.errors.add(f.kind);
                if let Some(code) = f.status {
                    *self.status_codes.entry(code.to_string()).or_insert(0) += 1;
                }
                if self.error_samples.len() < MAX_ERROR_SAMPLES
                    && !self.error_samples.contains(&f.message)
                {
                    self.error_samples.push(f.message);
                }
            }
        }
    }

    fn note_events(&mut self, n: u64) {
        match &mut self.events {
            Some(r) => {
                r.min = r.min.min(n);
                r.max = r.max.max(n);
            }
            None => self.events = Some(EventsRange { min: n, max: n }),
        }
    }

    pub(super) fn merge(&mut self, mut o: Recorder) {
        self.sent += o.sent;
        self.ok += o.ok;
        self.errors.merge(&o.errors);
        for (k, v) in o.status_codes {
            *self.status_codes.entry(k).or_insert(0) += v;
        }
        self.latency.append(&mut o.latency);
        self.ttft.append(&mut o.ttft);
        self.send_lag.append(&mut o.send_lag);
        if let Some(r) = o.events {
            self.note_events(r.min);
            self.note_events(r.max);
        }
        self.warmup.sent += o.warmup.sent;
        self.warmup.ok += o.warmup.ok;
        self.warmup.errors += o.warmup.errors;
        for m in o.error_samples {
            if self.error_samples.len() < MAX_ERROR_SAMPLES && !self.error_samples.contains(&m) {
                self.error_samples.push(m);
            }
        }
    }

    /// Requests of the measured window, for CPU per request.
    pub(super) fn window_requests(&self) -> u64 {
        self.sent
    }
}
