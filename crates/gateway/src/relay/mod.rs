//! The relay: one stage chain that carries a streamed answer from the provider to the
//! client, pulled by the response body.
//!
//! ```text
//! source (bytes -> SSE events, limits) -> decode -> transforms -> encode -> client
//! ```
//!
//! - [`path`]: pass-through or translate, chosen once per attempt from the formats and
//!   what the stages need.
//! - [`source`]: upstream bytes to whole events, under the idle, total and size limits.
//! - [`codec`]: decode and encode on either path, reporting the same facts.
//! - [`facts`]: what one event tells (usage, content, end, error, garbage): the tap,
//!   and the probe until the commit point.
//! - [`open`]: up to the commit point, where failures are still the attempt's.
//! - [`resume`]: going on from another target when a committed stream breaks.
//! - [`transform`]: the steps between decode and encode (output guard, cache recorder,
//!   budget cut-off plug in here).
//! - [`edit`]: the pass-through path's text hook, for transforms that rewrite text.
//!
//! [`Relay::open`] runs the chain up to the commit point, the first decoded content
//! event: an error event or an end before it is an `UpstreamError`, so dispatch fails
//! over as for a connect error. [`Relay::into_stream`] runs it after; past the commit
//! point nothing is retried and any failure ends the stream with an error event in the
//! ingress format, never a silent clean finish. Backpressure is natural: a slow client
//! slows the upstream read, and a client that leaves drops the relay, which drops the
//! upstream request.

pub mod assemble;
pub mod codec;
pub mod edit;
pub mod facts;
mod open;
pub mod path;
pub mod resume;
pub mod source;
pub mod transform;

pub use open::Opening;
pub use path::{Choice, Path, choose};
pub use resume::Resume;
pub use source::RelayLimits;
pub use transform::Needs;
pub use transform::Transforms;

use crate::error::StreamFailure;
use crate::finish::Open;
use crate::record::Outcome;
use crate::state::health::Lease;
use bytes::{Bytes, BytesMut};
use codec::{Codec, Encoded};
use facts::Facts;
use futures_util::stream::Stream;
use sluice_protocol::canonical::{StreamEvent, Usage};
use sluice_protocol::sse::RawEvent;
use sluice_protocol::translate::Ingress;
use source::{Source, Stop};
use std::collections::VecDeque;
use std::convert::Infallible;
use tokio::time::Instant;

/// Largest single SSE event accepted from an upstream (tool arguments can be large).
pub const MAX_EVENT_BYTES: usize = 4 << 20;

/// A streamed answer, from one upstream attempt to the client.
pub struct Relay {
    source: Source,
    codec: Codec,
    transforms: Transforms,
    ingress: Ingress,
    provider: String,
    /// Canonical events of the event being handled (reused buffer).
    events: Vec<StreamEvent>,
    /// Encoder output buffer (reused).
    out: BytesMut,
    /// Client bytes produced and not yet handed to the response body, in order.
    ready: VecDeque<Bytes>,
    usage: Option<Usage>,
    /// When the first content event arrived: the commit point.
    first_content: Option<Instant>,
    saw_end: bool,
    /// The provider reported an error after the commit point; its event went on.
    saw_error: bool,
    done: bool,
    /// The attempt stays in flight at its target until the relay ends, and the stream's
    /// end is the breaker's verdict on it.
    lease: Option<Lease>,
    /// The interaction's record once the stream is the client's; handed over on drop.
    /// Boxed: each event takes it out and puts it back around `step` (which borrows
    /// `self` too), and moving the record itself was two copies of its 600-odd bytes
    /// per event.
    record: Option<Box<Open>>,
    /// How to go on from another target when the stream breaks (`resume` on).
    resume: Option<Box<Resume>>,
    /// A failure waiting for `resume` to try another leg before the client hears of it.
    pending: Option<StreamFailure>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        // Also when the client left mid-stream: the record keeps what was assembled
        // and what the guard found.
        if let Some(record) = &mut self.record {
            if record.keep_bodies {
                record.response_body = self.transforms.answer();
            }
            self.transforms.findings(&mut record.guard);
        }
    }
}

impl Relay {
    /// Keeps the attempt's lease until the stream ends.
    pub fn hold(&mut self, lease: Lease) {
        self.lease = Some(lease);
    }

    /// The stream's end as the breaker's verdict on its target.
    fn settle(&mut self, ok: bool) {
        if let Some(lease) = &mut self.lease
            && !lease.is_settled()
        {
            if !ok {
                lease.provider().broken_stream();
            }
            lease.settle(ok);
        }
    }

    /// The response body: the held bytes, then the rest of the stream. Fills `record`
    /// (usage, time to first content, outcome) as the stream goes and hands it to the
    /// end hook when the body is dropped: at the end, or when the client leaves.
    pub fn into_stream(
        mut self: Box<Self>,
        mut record: Open,
    ) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
        if let Some(at) = self.first_content {
            record.mark_first_byte(at.into_std());
        }
        record.usage = self.usage;
        self.record = Some(Box::new(record));
        futures_util::stream::unfold(self, |mut relay| async move {
            let bytes = relay.next_bytes().await?;
            Some((Ok(bytes), relay))
        })
    }

    /// The next bytes for the client; `None` once the stream is over. The record stays
    /// in `self` across the wait for the upstream, so a client that leaves mid-wait
    /// still leaves a complete record (see `Drop`).
    async fn next_bytes(&mut self) -> Option<Bytes> {
        loop {
            if let Some(bytes) = self.ready.pop_front() {
                return Some(bytes);
            }
            if self.done {
                return None;
            }
            let deadline = self.source.deadline();
            // Text a transform holds back goes on by its own deadline, upstream or not.
            let hold = self.transforms.hold_deadline().filter(|h| *h < deadline);
            let next = self.source.next_event(hold.unwrap_or(deadline)).await;
            if hold.is_some() && matches!(next, Err(Stop::Waited)) {
                self.release_held();
                continue;
            }
            let mut record = self.record.take()?;
            self.step(next, &mut record);
            self.record = Some(record);
            if let Some(failure) = self.pending.take()
                && !self.resume_leg(failure).await
            {
                let mut record = self.record.take()?;
                self.fail_now(failure, &mut record);
                self.record = Some(record);
            }
        }
    }

    /// Handles what the source gave: an event, the end, or a failure.
    fn step(&mut self, next: Result<Option<RawEvent>, Stop>, record: &mut Open) {
        let facts = match next {
            Ok(Some(event)) => {
                let facts = self.codec.decode(&event, &mut self.events);
                // A resumable break shows the client nothing of the broken leg.
                let resumable = |failure| {
                    self.resume
                        .as_ref()
                        .is_some_and(|r| r.can_continue(failure))
                };
                if (facts.malformed && resumable(StreamFailure::Malformed))
                    || (facts.error.is_some() && resumable(StreamFailure::ErrorEvent))
                {
                    self.events.clear();
                    let failure = if facts.malformed {
                        StreamFailure::Malformed
                    } else {
                        StreamFailure::ErrorEvent
                    };
                    return self.fail(failure, record);
                }
                if facts.malformed {
                    self.pass(None, &facts).ok();
                    return self.fail(StreamFailure::Malformed, record);
                }
                if let Err(failure) = self.pass(Some(event), &facts) {
                    return self.fail(failure, record);
                }
                facts
            }
            Ok(None) => return self.end_of_upstream(record),
            Err(Stop::Failed(failure)) => return self.fail(failure, record),
            Err(Stop::Waited) => return self.fail(StreamFailure::Deadline, record),
        };
        record.usage = self.usage;
        if facts.error.is_some() {
            self.saw_error = true;
            self.settle(false);
            record.end(200, Outcome::StreamError(StreamFailure::ErrorEvent));
        } else if facts.end {
            self.settle(true);
            record.end(200, Outcome::Ok);
        }
    }

    /// Runs one decoded event through the transforms and the encoder, keeping its
    /// facts; the client's bytes join `ready`.
    fn pass(&mut self, event: Option<RawEvent>, facts: &Facts) -> Result<(), StreamFailure> {
        if let Some(usage) = facts.usage {
            self.usage = Some(merge_usage(self.usage, usage));
        }
        self.saw_end |= facts.end;
        let transformed = self.transforms.on_events(&mut self.events);
        if let Some(resume) = &mut self.resume {
            resume.observe(&self.events);
        }
        let edited = match self
            .codec
            .encode(event, facts, &mut self.events, &mut self.out)
        {
            Encoded::Nothing => Ok(()),
            Encoded::Bytes(bytes) => {
                self.ready.push_back(bytes);
                Ok(())
            }
            Encoded::Edit(event, text, read) => edit::Editing {
                text,
                transforms: &mut self.transforms,
                ready: &mut self.ready,
            }
            .event(event, read, facts.end),
        };
        transformed.and(edited)
    }

    /// Text the transforms held past their holdback time goes on now.
    fn release_held(&mut self) {
        let mut released = Vec::new();
        match self.transforms.release_due(&mut released) {
            Ok(()) => {
                let bytes = self.codec.carry(released, &mut self.out);
                self.ready.extend(bytes);
            }
            Err(failure) => {
                if let Some(mut record) = self.record.take() {
                    self.fail_now(failure, &mut record);
                    self.record = Some(record);
                }
            }
        }
    }

    fn end_of_upstream(&mut self, record: &mut Open) {
        let facts = self.codec.finish(&mut self.events);
        let _ = self.pass(None, &facts);
        record.usage = self.usage;
        if self.saw_end || self.saw_error {
            // Ended normally, or an upstream error event already told the client.
            self.done = true;
            self.settle(self.saw_end);
            record.end(200, Outcome::Ok);
            return;
        }
        self.fail(StreamFailure::Truncated, record);
    }

    /// A failure after the commit point: handed to `resume` when it can go on,
    /// otherwise the end of the stream.
    fn fail(&mut self, failure: StreamFailure, record: &mut Open) {
        if !record.has_ended()
            && self
                .resume
                .as_ref()
                .is_some_and(|r| r.can_continue(failure))
        {
            self.pending = Some(failure);
            return;
        }
        self.fail_now(failure, record);
    }

    /// Ends the stream with an error event in the ingress format.
    fn fail_now(&mut self, failure: StreamFailure, record: &mut Open) {
        self.done = true;
        if !record.has_ended() {
            tracing::warn!(provider = %self.provider, error = %failure, "stream failed after the commit point");
            // A stream Sluice ended (budget) was no fault of the provider's.
            self.settle(!failure.blames_upstream());
        }
        record.usage = self.usage;
        record.end(200, Outcome::StreamError(failure));
        let bytes = self.codec.encode_failure(failure, self.ingress);
        self.ready.push_back(bytes);
    }
}

/// Events report usage piecemeal (Anthropic: input tokens in `message_start`, output
/// tokens in `message_delta`); every field is cumulative, so the largest value seen for
/// each is the total.
fn merge_usage(seen: Option<Usage>, new: Usage) -> Usage {
    let Some(old) = seen else { return new };
    Usage {
        input_tokens: old.input_tokens.max(new.input_tokens),
        output_tokens: old.output_tokens.max(new.output_tokens),
        cached_input_tokens: old.cached_input_tokens.max(new.cached_input_tokens),
        cache_creation_input_tokens: old
            .cache_creation_input_tokens
            .max(new.cache_creation_input_tokens),
        reasoning_tokens: old.reasoning_tokens.max(new.reasoning_tokens),
    }
}
