//! Relays a committed upstream SSE stream to the client, event by event, forwarding each
//! event's bytes unchanged. Along the way it reads usage, notices `[DONE]` and in-band
//! errors, enforces the idle, total and size limits, and finishes the interaction record.
//!
//! Past the commit point nothing is retried: any failure ends the stream with an error
//! event in the OpenAI shape, never a silent clean finish. The relay is pulled by the
//! response body, so a slow client slows the upstream read (backpressure) and a client
//! that leaves drops the relay, which drops the upstream request.

use crate::record::{Interaction, Outcome};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::{BoxStream, Stream};
use serde::de::IgnoredAny;
use sluice_protocol::openai::error::ErrorBody;
use sluice_protocol::openai::usage::{find_usage, is_error_chunk};
use sluice_protocol::sse::{RawEvent, SseDecoder, encode_event};
use std::convert::Infallible;
use std::time::Duration;
use tokio::time::{Instant, timeout_at};

/// Limits for one relayed stream.
#[derive(Debug, Clone, Copy)]
pub struct RelayLimits {
    pub idle: Duration,
    pub deadline: Instant,
    pub max_bytes: usize,
    pub max_event_bytes: usize,
}

struct Relay {
    upstream: BoxStream<'static, reqwest::Result<Bytes>>,
    decoder: SseDecoder,
    limits: RelayLimits,
    received: usize,
    saw_done: bool,
    ended: bool,
    record: Interaction,
}

/// Streams `first` and then the rest of the upstream body as SSE events.
pub fn relay(
    first: Bytes,
    upstream: BoxStream<'static, reqwest::Result<Bytes>>,
    limits: RelayLimits,
    record: Interaction,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    let mut decoder = SseDecoder::new(limits.max_event_bytes);
    decoder.push(&first);
    let state = Relay {
        upstream,
        decoder,
        limits,
        received: first.len(),
        saw_done: false,
        ended: false,
        record,
    };
    futures_util::stream::unfold(state, |mut relay| async move {
        let bytes = relay.next_bytes().await?;
        Some((Ok(bytes), relay))
    })
}

impl Relay {
    /// The next bytes for the client; `None` once the stream is over.
    async fn next_bytes(&mut self) -> Option<Bytes> {
        loop {
            if self.ended {
                return None;
            }
            match self.decoder.next_event() {
                Ok(Some(event)) => {
                    if let Some(bytes) = self.inspect(event) {
                        return Some(bytes);
                    }
                    continue;
                }
                Ok(None) => {}
                Err(_) => {
                    return Some(self.fail(
                        "upstream_protocol",
                        "upstream sent an oversized stream event",
                    ));
                }
            }
            let idle_deadline = (Instant::now() + self.limits.idle).min(self.limits.deadline);
            match timeout_at(idle_deadline, self.upstream.next()).await {
                Ok(Some(Ok(chunk))) => {
                    self.received += chunk.len();
                    if self.received > self.limits.max_bytes {
                        return Some(self.fail(
                            "upstream_too_large",
                            "upstream stream exceeded the size limit",
                        ));
                    }
                    self.decoder.push(&chunk);
                }
                Ok(Some(Err(e))) => {
                    tracing::warn!(provider = self.record.provider.as_deref().unwrap_or("-"), error = %e, "upstream stream broke");
                    return Some(self.fail("upstream_stream", "upstream stream was interrupted"));
                }
                Ok(None) => return self.end_of_upstream(),
                Err(_) if idle_deadline >= self.limits.deadline => {
                    return Some(self.fail(
                        "upstream_timeout",
                        "upstream stream exceeded the total timeout",
                    ));
                }
                Err(_) => {
                    return Some(
                        self.fail("upstream_timeout", "upstream stream stalled (idle timeout)"),
                    );
                }
            }
        }
    }

    /// Looks at one event; returns the bytes to forward, or the error event that ends
    /// the stream when the upstream sent something a client could not parse.
    fn inspect(&mut self, event: RawEvent) -> Option<Bytes> {
        self.record.mark_first_byte();
        if let Some(data) = event.single_data() {
            if data != b"[DONE]" && serde_json::from_slice::<IgnoredAny>(data).is_err() {
                return Some(self.fail(
                    "upstream_protocol",
                    "upstream sent a malformed stream event",
                ));
            }
            if data == b"[DONE]" {
                self.saw_done = true;
                let status = self.record.status;
                if !self.record.is_finished() {
                    self.record.finish(status, Outcome::Ok);
                }
            } else if is_error_chunk(data) {
                let status = self.record.status;
                self.record
                    .finish(status, Outcome::StreamError("upstream_error_event"));
            } else if let Some(usage) = find_usage(data) {
                self.record.usage = Some(usage);
            }
        }
        Some(event.into_raw())
    }

    fn end_of_upstream(&mut self) -> Option<Bytes> {
        if self.saw_done {
            self.ended = true;
            return None;
        }
        if self.record.is_finished() {
            // An upstream error event already told the client; end there.
            self.ended = true;
            return None;
        }
        Some(self.fail("upstream_stream", "upstream stream ended before completion"))
    }

    /// Ends the stream with an OpenAI-shaped error event.
    fn fail(&mut self, kind: &'static str, message: &str) -> Bytes {
        self.ended = true;
        let status = self.record.status;
        self.record.finish(status, Outcome::StreamError(kind));
        let body = ErrorBody::new(message, "upstream_error", Some(kind));
        encode_event(None, &body.to_json())
    }
}
