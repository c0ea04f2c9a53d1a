//! Opening a stream: reading it up to its first content event (the commit point),
//! holding the framing before it for the client, and turning whatever goes wrong
//! before it into an `UpstreamError`, so dispatch can fail over (a resumed leg opens
//! the same way).
//!
//! `resume_leg` opens the legs of a resumed stream, after a committed one broke.
//!
//! Must never let a pre-commit failure reach the client: it is the attempt's error.

use super::codec::Codec;
use super::source::{RelayLimits, Source, Stop};
use super::{Relay, Resume, Transforms};
use crate::error::{Phase, StreamFailure, UpstreamError};
use crate::upstream::Body;
use bytes::BytesMut;
use sluice_protocol::translate::Ingress;
use std::collections::VecDeque;
use tokio::time::Instant;

/// What `open` needs besides the body.
pub struct Opening {
    pub codec: Codec,
    pub transforms: Transforms,
    pub ingress: Ingress,
    pub provider: String,
    pub limits: RelayLimits,
    pub first_byte_deadline: Instant,
    /// How to go on from another target when the stream breaks (`resume` on).
    pub resume: Option<Resume>,
}

impl Relay {
    /// Reads the stream up to its first content event: the commit point. Framing
    /// events before it (a role chunk, `message_start`) are held for the client.
    pub async fn open(body: Body, opening: Opening) -> Result<Self, UpstreamError> {
        let Opening {
            codec,
            transforms,
            ingress,
            provider,
            limits,
            first_byte_deadline,
            resume,
        } = opening;
        let mut relay = Self {
            source: Source::new(body, limits),
            codec,
            transforms,
            ingress,
            provider,
            events: Vec::new(),
            out: BytesMut::new(),
            ready: VecDeque::new(),
            usage: None,
            first_content: None,
            saw_end: false,
            saw_error: false,
            done: false,
            lease: None,
            record: None,
            resume: resume.map(Box::new),
            pending: None,
        };
        relay.until_content(first_byte_deadline).await?;
        Ok(relay)
    }

    /// Reads events up to the first content (the commit point of this leg).
    pub(super) async fn until_content(
        &mut self,
        first_byte_deadline: Instant,
    ) -> Result<(), UpstreamError> {
        loop {
            let event = match self.source.next_event(first_byte_deadline).await {
                Ok(Some(event)) => event,
                Ok(None) => return Err(self.no_content()),
                Err(Stop::Waited) => return Err(self.timeout(Phase::FirstByte)),
                Err(Stop::Failed(failure)) => return Err(self.before_commit(failure)),
            };
            let facts = self.codec.decode(&event, &mut self.events);
            if facts.malformed {
                return Err(self.before_commit(StreamFailure::Malformed));
            }
            if let Some((kind, message)) = facts.error {
                return Err(self.in_band(kind, message));
            }
            let content = facts.content;
            let end = facts.end;
            if let Err(failure) = self.pass(Some(event), &facts) {
                return Err(self.before_commit(failure));
            }
            if content {
                self.first_content.get_or_insert_with(Instant::now);
                self.codec.committed();
                return Ok(());
            }
            if end {
                return Err(self.no_content());
            }
        }
    }

    fn no_content(&self) -> UpstreamError {
        tracing::warn!(provider = %self.provider, "stream ended before any content");
        UpstreamError::NoContent {
            provider: self.provider.clone(),
        }
    }

    fn timeout(&self, phase: Phase) -> UpstreamError {
        UpstreamError::Timeout {
            provider: self.provider.clone(),
            phase,
        }
    }

    fn in_band(&self, kind: String, message: String) -> UpstreamError {
        tracing::warn!(provider = %self.provider, %kind, "error event before any content");
        UpstreamError::in_band(
            self.provider.clone(),
            kind,
            crate::upstream::scrub(&message),
        )
    }

    /// A stream limit or a broken stream before the commit point.
    fn before_commit(&self, failure: StreamFailure) -> UpstreamError {
        let provider = self.provider.clone();
        match failure {
            StreamFailure::Cut | StreamFailure::Truncated => self.no_content(),
            StreamFailure::Idle => self.timeout(Phase::Idle),
            StreamFailure::Deadline => self.timeout(Phase::Total),
            StreamFailure::Guarded(category) => UpstreamError::Guarded { provider, category },
            StreamFailure::TooLarge => UpstreamError::TooLarge {
                provider,
                limit: self.source.max_bytes(),
            },
            StreamFailure::OversizedEvent
            | StreamFailure::Malformed
            | StreamFailure::ErrorEvent
            | StreamFailure::Budget => {
                tracing::warn!(provider = %self.provider, error = %failure, "invalid stream before any content");
                UpstreamError::Protocol { provider }
            }
        }
    }

    /// A broken stream continued: the broken leg gets its verdict, then legs are tried
    /// in plan order until one reaches content. `false` when none could.
    pub(super) async fn resume_leg(&mut self, failure: StreamFailure) -> bool {
        let Some(seam) = self.resume.as_ref().map(|r| r.partial_chars()) else {
            return false;
        };
        self.settle(false);
        self.lease = None;
        let broken = std::mem::take(&mut self.provider);
        let mut log = Vec::new();
        let mut resumed = false;
        loop {
            // The resume state stays in `self` while a leg opens, so the leg's first
            // content is part of the next prefill too.
            let Some(mut resume) = self.resume.take() else {
                break;
            };
            let leg = resume.next_leg(&mut log).await;
            self.resume = Some(resume);
            let Some(leg) = leg else { break };
            if !self.codec.continue_with(leg.upstream.format(), self.usage) {
                break;
            }
            self.source = Source::new(leg.body, leg.limits);
            self.provider = leg.upstream.name.clone();
            self.saw_end = false;
            let mut entry = leg.log;
            let mut lease = leg.lease;
            match self.until_content(leg.first_byte_deadline).await {
                Ok(()) => {
                    entry.latency = entry.started.elapsed();
                    lease.committed(entry.latency);
                    self.lease = Some(lease);
                    log.push(entry);
                    tracing::info!(from = %broken, to = %self.provider, error = %failure, "stream resumed");
                    if let Some(record) = &mut self.record {
                        record.notes.push(format!(
                            "resumed after {seam} characters: {failure} at {broken}; continued on {}/{}",
                            self.provider, leg.model
                        ));
                    }
                    resumed = true;
                    break;
                }
                Err(e) => {
                    lease.settle(!e.class().is_provider_fault());
                    entry.status = e.upstream_status();
                    entry.error = Some(e.kind());
                    entry.latency = entry.started.elapsed();
                    log.push(entry);
                }
            }
        }
        if let Some(record) = &mut self.record {
            record.attempts += u32::try_from(log.len()).unwrap_or(0);
            record.attempt_log.extend(log);
        }
        if !resumed {
            self.provider = broken;
        }
        resumed
    }
}
