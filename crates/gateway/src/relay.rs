//! Relays a committed upstream SSE stream to the client. In pass-through mode each event's
//! bytes are forwarded unchanged and only tapped (usage, end marker, in-band errors,
//! malformed data); in translate mode each event goes through the provider's stream
//! decoder into canonical events and out through the ingress format's encoder. Either way
//! the idle, total and size limits apply and the interaction record is finished.
//!
//! Past the commit point nothing is retried: any failure ends the stream with an error
//! event in the ingress format, never a silent clean finish. The relay is pulled by the
//! response body, so a slow client slows the upstream read (backpressure) and a client
//! that leaves drops the relay, which drops the upstream request.

use crate::record::{Interaction, Outcome};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use futures_util::stream::{BoxStream, Stream};
use sluice_protocol::canonical::{ProviderError, StreamEvent, Usage};
use sluice_protocol::sse::{RawEvent, SseDecoder};
use sluice_protocol::translate::{Ingress, Provider, StreamDecoder, StreamEncoder};
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

/// How events cross the relay.
pub enum Translation {
    PassThrough {
        provider: Provider,
        /// Drop the final usage-only chunk: Sluice asked for it, the client did not.
        hide_usage_chunk: bool,
    },
    /// Boxed: the codecs' state is large and pass-through streams should not pay for it.
    Translate(Box<Codecs>),
}

pub struct Codecs {
    pub decoder: StreamDecoder,
    pub encoder: StreamEncoder,
}

struct Relay {
    upstream: BoxStream<'static, reqwest::Result<Bytes>>,
    sse: SseDecoder,
    translation: Translation,
    ingress: Ingress,
    limits: RelayLimits,
    received: usize,
    saw_end: bool,
    ended: bool,
    events: Vec<StreamEvent>,
    out: BytesMut,
    record: Interaction,
}

/// Streams `first` and then the rest of the upstream body to the client.
pub fn relay(
    first: Bytes,
    upstream: BoxStream<'static, reqwest::Result<Bytes>>,
    (ingress, translation): (Ingress, Translation),
    limits: RelayLimits,
    record: Interaction,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    let mut sse = SseDecoder::new(limits.max_event_bytes);
    sse.push(&first);
    let state = Relay {
        upstream,
        sse,
        translation,
        ingress,
        limits,
        received: first.len(),
        saw_end: false,
        ended: false,
        events: Vec::new(),
        out: BytesMut::new(),
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
            match self.sse.next_event() {
                Ok(Some(event)) => {
                    self.record.mark_first_byte();
                    match self.on_event(event) {
                        Some(bytes) if !bytes.is_empty() => return Some(bytes),
                        _ => continue,
                    }
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
                    self.sse.push(&chunk);
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

    /// Handles one upstream event; returns the bytes for the client (maybe empty).
    fn on_event(&mut self, event: RawEvent) -> Option<Bytes> {
        match &mut self.translation {
            Translation::PassThrough {
                provider,
                hide_usage_chunk,
            } => {
                let hide_usage_chunk = *hide_usage_chunk;
                let tap = {
                    let event_type = event.event_type().and_then(|t| std::str::from_utf8(t).ok());
                    match event.single_data() {
                        Some(data) => provider.tap(event_type, data),
                        None => Default::default(),
                    }
                };
                if tap.malformed {
                    return Some(self.fail(
                        "upstream_protocol",
                        "upstream sent a malformed stream event",
                    ));
                }
                if let Some(usage) = tap.usage {
                    self.record.usage = Some(merge_usage(self.record.usage, usage));
                    if hide_usage_chunk && is_usage_only_chunk(&event) {
                        return Some(Bytes::new());
                    }
                }
                if tap.error {
                    self.finish_record(Outcome::StreamError("upstream_error_event"));
                } else if tap.end {
                    self.saw_end = true;
                    self.finish_record(Outcome::Ok);
                }
                Some(event.into_raw())
            }
            Translation::Translate(codecs) => {
                let (kind, data) = event.type_and_data();
                let mut events = std::mem::take(&mut self.events);
                let result = codecs.decoder.decode(kind, &data, &mut events);
                let bytes = self.emit(&mut events);
                self.events = events;
                match result {
                    Ok(()) => Some(bytes),
                    Err(e) => {
                        tracing::warn!(error = %e, "upstream stream could not be translated");
                        let mut out = BytesMut::from(&bytes[..]);
                        out.extend_from_slice(&self.fail(
                            "upstream_protocol",
                            "upstream sent a malformed stream event",
                        ));
                        Some(out.freeze())
                    }
                }
            }
        }
    }

    /// Encodes decoded canonical events for the client, noting usage, errors and the end.
    fn emit(&mut self, events: &mut Vec<StreamEvent>) -> Bytes {
        let Translation::Translate(codecs) = &mut self.translation else {
            return Bytes::new();
        };
        for event in events.drain(..) {
            match &event {
                StreamEvent::Usage(usage) => self.record.usage = Some(*usage),
                StreamEvent::End => self.saw_end = true,
                StreamEvent::Error { .. } => {
                    let status = self.record.status;
                    self.record
                        .finish(status, Outcome::StreamError("upstream_error_event"));
                }
                _ => {}
            }
            codecs.encoder.encode(&event, &mut self.out);
        }
        if self.saw_end && !self.record.is_finished() {
            self.finish_record(Outcome::Ok);
        }
        self.out.split().freeze()
    }

    fn end_of_upstream(&mut self) -> Option<Bytes> {
        if let Translation::Translate(codecs) = &mut self.translation {
            let mut events = std::mem::take(&mut self.events);
            let result = codecs.decoder.finish(&mut events);
            let bytes = self.emit(&mut events);
            if result.is_ok() && self.saw_end {
                self.ended = true;
                return Some(bytes).filter(|b| !b.is_empty());
            }
        }
        if self.saw_end || self.record.is_finished() {
            // Ended normally, or an upstream error event already told the client.
            self.ended = true;
            return None;
        }
        Some(self.fail("upstream_stream", "upstream stream ended before completion"))
    }

    fn finish_record(&mut self, outcome: Outcome) {
        if !self.record.is_finished() {
            let status = self.record.status;
            self.record.finish(status, outcome);
        }
    }

    /// Ends the stream with an error event in the ingress format.
    fn fail(&mut self, kind: &'static str, message: &str) -> Bytes {
        self.ended = true;
        let status = self.record.status;
        self.record.finish(status, Outcome::StreamError(kind));
        let error = ProviderError {
            status: 502,
            kind: "upstream_error".to_owned(),
            message: message.to_owned(),
            param: None,
            code: Some(kind.to_owned()),
        };
        match &mut self.translation {
            Translation::Translate(codecs) => {
                codecs.encoder.encode_error(&error, &mut self.out);
                self.out.split().freeze()
            }
            Translation::PassThrough { .. } => self.ingress.encode_stream_error(&error),
        }
    }
}

/// Pass-through events report usage piecemeal (Anthropic: input tokens in
/// `message_start`, output tokens in `message_delta`); every field is cumulative, so the
/// largest value seen for each is the total.
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

/// OpenAI's final usage chunk carries no choices (servers that report usage on every
/// chunk keep their choices and are forwarded).
fn is_usage_only_chunk(event: &RawEvent) -> bool {
    event
        .single_data()
        .is_some_and(|data| memchr::memmem::find(data, b"\"choices\":[]").is_some())
}
