//! The relay's first step: upstream body bytes -> whole SSE events, each with its exact
//! bytes, under the stream's limits (idle gap, total deadline, total size, event size).
//!
//! Must never hand on a partial event nor read past a limit: a limit hit is a typed
//! `StreamFailure`, the caller decides what the client sees.

use crate::error::StreamFailure;
use crate::upstream::{Body, Broken};
use sluice_protocol::sse::{RawEvent, SseDecoder};
use std::time::Duration;
use tokio::time::{Instant, timeout_at};

/// Limits for one relayed stream.
#[derive(Debug, Clone, Copy)]
pub struct RelayLimits {
    /// Longest silence between two chunks.
    pub idle: Duration,
    /// End of the whole attempt.
    pub deadline: Instant,
    pub max_bytes: usize,
    pub max_event_bytes: usize,
}

pub struct Source {
    body: Body,
    sse: SseDecoder,
    limits: RelayLimits,
    received: usize,
}

impl Source {
    pub fn new(body: Body, limits: RelayLimits) -> Self {
        Self {
            body,
            sse: SseDecoder::new(limits.max_event_bytes),
            limits,
            received: 0,
        }
    }

    /// The next whole event, `Ok(None)` at the body's end. `until` bounds the wait (the
    /// first-byte deadline before the commit point) on top of the total limit; the idle
    /// limit applies from the first byte on, as before it the first-byte deadline rules.
    pub async fn next_event(&mut self, until: Instant) -> Result<Option<RawEvent>, Stop> {
        loop {
            match self.sse.next_event() {
                Ok(Some(event)) => return Ok(Some(event)),
                Ok(None) => {}
                Err(_) => return Err(Stop::Failed(StreamFailure::OversizedEvent)),
            }
            let until = until.min(self.limits.deadline);
            let idle_deadline = if self.received == 0 {
                until
            } else {
                (Instant::now() + self.limits.idle).min(until)
            };
            match timeout_at(idle_deadline, self.body.next_chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    self.received += chunk.len();
                    if self.received > self.limits.max_bytes {
                        return Err(Stop::Failed(StreamFailure::TooLarge));
                    }
                    self.sse.push(&chunk);
                }
                Ok(Ok(None)) => return Ok(None),
                Ok(Err(Broken)) => return Err(Stop::Failed(StreamFailure::Cut)),
                Err(_) if idle_deadline >= self.limits.deadline => {
                    return Err(Stop::Failed(StreamFailure::Deadline));
                }
                Err(_) if idle_deadline >= until => return Err(Stop::Waited),
                Err(_) => return Err(Stop::Failed(StreamFailure::Idle)),
            }
        }
    }

    pub fn deadline(&self) -> Instant {
        self.limits.deadline
    }

    pub fn max_bytes(&self) -> usize {
        self.limits.max_bytes
    }
}

/// Why `next_event` returned no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// A stream limit was hit or the connection broke.
    Failed(StreamFailure),
    /// The caller's own `until` passed first.
    Waited,
}
