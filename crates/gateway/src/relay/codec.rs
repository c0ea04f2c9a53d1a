//! The relay's decode and encode steps for one stream, on either path: pass-through
//! taps each event (usage, end, error, malformed) and forwards its bytes; translate
//! decodes it into canonical events and encodes those for the ingress format. Both
//! report the same `Facts`, so the relay above them is written once.
//!
//! What a pass-through event tells (the tap, the probe until the commit point, the text
//! reader) is `relay::facts`. A pass-through stream whose text a transform rewrites
//! keeps a `StreamText` reader: its events are handed back for editing
//! (`Encoded::Edit`, see `relay::edit`).
//!
//! Must never forward a pass-through event it was told to hide, nor emit anything for
//! an event after the stream ended.

use super::facts::{self, Facts, absorb};
use super::path::Path;
use crate::error::StreamFailure;
use bytes::{Bytes, BytesMut};
use sluice_protocol::canonical::{StreamEvent, Usage};
use sluice_protocol::sse::RawEvent;
use sluice_protocol::text::{Channel, Event as TextEvent, StreamText};
use sluice_protocol::translate::{Ingress, Provider, StreamDecoder, StreamEncoder};

pub enum Codec {
    PassThrough {
        provider: Provider,
        hide_usage_chunk: bool,
        /// Decodes events until the commit point; `None` after it.
        probe: Option<Box<StreamDecoder>>,
        /// Reads each event's text for the transforms that rewrite it.
        editor: Option<Box<StreamText>>,
        /// The text of the event `decode` just read, for `encode` to hand to the edit.
        read: Option<TextEvent>,
    },
    /// Boxed: the codecs' state is large and pass-through streams should not pay for it.
    Translate(Box<Codecs>),
}

pub struct Codecs {
    decoder: StreamDecoder,
    encoder: StreamEncoder,
    /// Usage of earlier legs of a resumed answer, added to this leg's (`Some` once a
    /// stream was resumed: this leg's framing is then not the client's).
    carried: Option<Usage>,
}

impl Codec {
    pub fn new(path: Path, ingress: Ingress) -> Self {
        match path {
            Path::PassThrough {
                provider,
                hide_usage_chunk,
                probe,
                edit,
            } => Self::PassThrough {
                provider,
                hide_usage_chunk,
                probe: probe.then(|| Box::new(StreamDecoder::new(provider))),
                editor: edit.map(|stream| Box::new(StreamText::new(stream))),
                read: None,
            },
            Path::Translate { provider, request } => Self::Translate(Box::new(Codecs {
                decoder: StreamDecoder::new(provider),
                encoder: StreamEncoder::new(ingress, &request),
                carried: None,
            })),
        }
    }

    /// A resumed answer goes on from `provider`: a fresh decoder for its stream, the
    /// same encoder for the client. The new leg's start is dropped (the client has
    /// one already) and its usage counts on top of `carried`. Only a translating codec
    /// can go on; a pass-through one returns `false`.
    pub fn continue_with(&mut self, provider: Provider, carried: Option<Usage>) -> bool {
        match self {
            Self::Translate(codecs) => {
                codecs.decoder = StreamDecoder::new(provider);
                codecs.carried = Some(carried.unwrap_or_default());
                true
            }
            Self::PassThrough { .. } => false,
        }
    }

    /// The commit point passed: pass-through no longer needs to decode.
    pub fn committed(&mut self) {
        if let Self::PassThrough { probe, .. } = self {
            *probe = None;
        }
    }

    /// Decodes one upstream event into `events` (translate, or the probe) and its facts.
    pub fn decode(&mut self, event: &RawEvent, events: &mut Vec<StreamEvent>) -> Facts {
        match self {
            Self::PassThrough {
                provider,
                probe,
                editor,
                read,
                ..
            } => facts::pass_through(
                *provider,
                probe.as_deref_mut(),
                editor.as_deref_mut(),
                read,
                event,
            ),
            Self::Translate(codecs) => {
                let (kind, data) = event.type_and_data();
                // Each event's facts are its own: what an abandoned leg left behind
                // (an error before its content) must not count for the next.
                events.clear();
                let result = codecs.decoder.decode(kind, &data, events);
                if let Some(carried) = codecs.carried {
                    events.retain(|e| !matches!(e, StreamEvent::Start { .. }));
                    for e in events.iter_mut() {
                        if let StreamEvent::Usage(usage) = e {
                            *usage = add_usage(carried, *usage);
                        }
                    }
                }
                let mut facts = Facts::default();
                absorb(events, &mut facts);
                if let Err(e) = result {
                    tracing::warn!(error = %e, "upstream stream could not be translated");
                    facts.malformed = true;
                }
                facts
            }
        }
    }

    /// The upstream ended: a translating decoder may still have events to give.
    pub fn finish(&mut self, events: &mut Vec<StreamEvent>) -> Facts {
        let mut facts = Facts::default();
        if let Self::Translate(codecs) = self {
            let result = codecs.decoder.finish(events);
            absorb(events, &mut facts);
            facts.malformed = result.is_err();
        }
        facts
    }

    /// The client's bytes for one event: the event itself (pass-through), the event
    /// handed back for its text to be edited, or the encoding of `events` (translate,
    /// drained).
    pub fn encode(
        &mut self,
        event: Option<RawEvent>,
        facts: &Facts,
        events: &mut Vec<StreamEvent>,
        out: &mut BytesMut,
    ) -> Encoded<'_> {
        match self {
            Self::PassThrough {
                hide_usage_chunk,
                editor,
                read,
                ..
            } => {
                events.clear();
                let text = read.take();
                match (event, editor) {
                    (Some(event), _)
                        if *hide_usage_chunk
                            && facts.usage.is_some()
                            && is_usage_only_chunk(&event) =>
                    {
                        Encoded::Nothing
                    }
                    (Some(event), Some(editor)) => Encoded::Edit(event, editor, text),
                    (Some(event), None) => Encoded::Bytes(event.into_raw()),
                    (None, _) => Encoded::Nothing,
                }
            }
            Self::Translate(codecs) => {
                for event in events.drain(..) {
                    codecs.encoder.encode(&event, out);
                }
                if out.is_empty() {
                    Encoded::Nothing
                } else {
                    Encoded::Bytes(out.split().freeze())
                }
            }
        }
    }

    /// The client's bytes for text the transforms released on their own (held too
    /// long): new events that carry it, in the client's format.
    pub fn carry(&mut self, released: Vec<(Channel, String)>, out: &mut BytesMut) -> Vec<Bytes> {
        match self {
            Self::PassThrough {
                editor: Some(editor),
                ..
            } => released
                .iter()
                .filter_map(|(channel, text)| editor.carry(*channel, text))
                .collect(),
            Self::PassThrough { editor: None, .. } => Vec::new(),
            Self::Translate(codecs) => {
                for (channel, text) in released {
                    let event = crate::guard::stream::event_for(channel, text);
                    codecs.encoder.encode(&event, out);
                }
                if out.is_empty() {
                    Vec::new()
                } else {
                    vec![out.split().freeze()]
                }
            }
        }
    }

    /// The error event that ends a failed stream, in the ingress format.
    pub fn encode_failure(&mut self, failure: StreamFailure, ingress: Ingress) -> Bytes {
        let error = failure.to_provider_error();
        match self {
            Self::Translate(codecs) => {
                let mut out = BytesMut::new();
                codecs.encoder.encode_error(&error, &mut out);
                out.freeze()
            }
            Self::PassThrough { .. } => ingress.encode_stream_error(&error),
        }
    }
}

/// What `Codec::encode` made of one event.
pub enum Encoded<'c> {
    Nothing,
    Bytes(Bytes),
    /// A pass-through event whose text pieces the transforms rewrite (`relay::edit`),
    /// with what the reader found in it (`None`: no text, nothing ended, or not JSON).
    Edit(RawEvent, &'c mut StreamText, Option<TextEvent>),
}

/// Two legs' usage together.
pub fn add_usage(a: Usage, b: Usage) -> Usage {
    Usage {
        input_tokens: a.input_tokens + b.input_tokens,
        output_tokens: a.output_tokens + b.output_tokens,
        cached_input_tokens: a.cached_input_tokens + b.cached_input_tokens,
        cache_creation_input_tokens: a.cache_creation_input_tokens + b.cache_creation_input_tokens,
        reasoning_tokens: a.reasoning_tokens + b.reasoning_tokens,
    }
}

/// OpenAI's final usage chunk carries no choices (servers that report usage on every
/// chunk keep their choices and are forwarded).
fn is_usage_only_chunk(event: &RawEvent) -> bool {
    event
        .single_data()
        .is_some_and(|data| memchr::memmem::find(data, b"\"choices\":[]").is_some())
}
