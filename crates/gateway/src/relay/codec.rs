//! The relay's decode and encode steps for one stream, on either path: pass-through
//! taps each event (usage, end, error, malformed) and forwards its bytes; translate
//! decodes it into canonical events and encodes those for the ingress format. Both
//! report the same `Facts`, so the relay above them is written once.
//!
//! Until the commit point a pass-through stream is also decoded (the `probe`), since
//! only a decoded event tells content from framing; after it, the probe is dropped and
//! the fast path is bytes only.
//!
//! A pass-through stream whose text a transform rewrites keeps a `StreamText` reader:
//! its events are handed back for editing (`Encoded::Edit`, see `relay::edit`). The
//! reader walks each event once in `decode`, and that walk also stands for the tap's
//! JSON check (`Provider::tap_walked`): one walk per event instead of two.
//!
//! Must never forward a pass-through event it was told to hide, nor emit anything for
//! an event after the stream ended.

use super::path::Path;
use crate::error::StreamFailure;
use bytes::{Bytes, BytesMut};
use sluice_protocol::canonical::{StreamEvent, Tap, Usage};
use sluice_protocol::sse::RawEvent;
use sluice_protocol::text::{Channel, Event as TextEvent, StreamText};
use sluice_protocol::translate::{Ingress, Provider, StreamDecoder, StreamEncoder};

/// What one upstream event told the relay, whichever path it took.
#[derive(Debug, Default)]
pub struct Facts {
    /// Usage carried by the event (cumulative per field; the relay keeps the largest).
    pub usage: Option<Usage>,
    /// The event carries answer content (text, thinking, a tool call, a finish).
    pub content: bool,
    /// The provider's normal end marker.
    pub end: bool,
    /// An in-band error from the provider: its type and message when decoded.
    pub error: Option<(String, String)>,
    /// The event is not what the provider's format allows.
    pub malformed: bool,
}

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
            } => {
                if editor.is_none()
                    && let Some(probe) = probe
                    && let Some(facts) = probe_and_tap(*provider, event, probe)
                {
                    return facts;
                }
                let mut facts = match editor {
                    Some(editor) => {
                        let (facts, text) = tap_and_read(*provider, event, editor);
                        *read = text;
                        facts
                    }
                    None => tap(*provider, event),
                };
                if probe.is_none() && !committed_once(&facts) {
                    // No decoder for this stream: its first data event commits.
                    facts.content = true;
                }
                if let Some(probe) = probe
                    && !facts.end
                    && !facts.malformed
                {
                    let (kind, data) = event.type_and_data();
                    let mut probed = Vec::new();
                    // A chunk the decoder rejects but the tap accepted counts as content:
                    // the client gets it as sent, as the fast path always did.
                    match probe.decode(kind, &data, &mut probed) {
                        Ok(()) => absorb(&probed, &mut facts),
                        Err(_) => facts.content = true,
                    }
                }
                facts
            }
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

/// Facts that are not content even without a probe: the end, an error, garbage.
fn committed_once(facts: &Facts) -> bool {
    facts.end || facts.error.is_some() || facts.malformed
}

/// The pass-through tap, as facts.
fn tap(provider: Provider, event: &RawEvent) -> Facts {
    let event_type = event.event_name();
    let tap = match event.single_data() {
        Some(data) => provider.tap(event_type, data),
        None => Default::default(),
    };
    facts_of(tap)
}

/// Before the commit point, with no text reader: the probe's typed decode also proves
/// the event is one JSON value, so the tap does not check it again (OpenAI's check
/// walks every byte: about 4,000 instructions per chunk, twice on the way to the first
/// token). Facts as the usual path finds them: an end is not probed, and data the
/// decoder rejects is checked by the tap, content when it is JSON. `None` for what the
/// usual path handles: an event of several data lines (it joins them) and an error
/// event (the decoder reads one leniently, so it proves nothing about the JSON).
fn probe_and_tap(provider: Provider, event: &RawEvent, probe: &mut StreamDecoder) -> Option<Facts> {
    let data = event.single_data()?;
    let kind = event.event_name();
    let tapped = provider.tap_walked(kind, data, true);
    if tapped.error {
        return None;
    }
    if tapped.end {
        return Some(facts_of(tapped));
    }
    let mut probed = Vec::new();
    Some(match probe.decode(kind, data, &mut probed) {
        Ok(()) => {
            let mut facts = facts_of(tapped);
            absorb(&probed, &mut facts);
            facts
        }
        Err(_) => {
            let mut facts = facts_of(provider.tap(kind, data));
            facts.content = !facts.end && !facts.malformed;
            facts
        }
    })
}

/// The tap and the text reader over one walk of the event (see the module doc).
fn tap_and_read(
    provider: Provider,
    event: &RawEvent,
    editor: &mut StreamText,
) -> (Facts, Option<TextEvent>) {
    let Some(data) = event.single_data() else {
        return (facts_of(Tap::default()), None);
    };
    let (walked, text) = editor.read_walked(data);
    let event_type = event.event_name();
    (
        facts_of(provider.tap_walked(event_type, data, walked)),
        text,
    )
}

fn facts_of(tap: Tap) -> Facts {
    Facts {
        usage: tap.usage,
        content: false,
        end: tap.end,
        error: tap.error.then(|| (String::new(), String::new())),
        malformed: tap.malformed,
    }
}

/// Adds what decoded canonical events say to `facts`.
fn absorb(events: &[StreamEvent], facts: &mut Facts) {
    for event in events {
        match event {
            StreamEvent::Usage(usage) => facts.usage = Some(*usage),
            StreamEvent::End => facts.end = true,
            StreamEvent::Error { kind, message } => {
                facts.error = Some((kind.clone(), message.clone()));
            }
            StreamEvent::TextDelta { .. }
            | StreamEvent::ThinkingDelta { .. }
            | StreamEvent::ThinkingSignature { .. }
            | StreamEvent::RedactedThinking { .. }
            | StreamEvent::ToolCallStart { .. }
            | StreamEvent::ToolCallDelta { .. }
            | StreamEvent::Finish { .. } => facts.content = true,
            StreamEvent::Start { .. } => {}
        }
    }
}

/// OpenAI's final usage chunk carries no choices (servers that report usage on every
/// chunk keep their choices and are forwarded).
fn is_usage_only_chunk(event: &RawEvent) -> bool {
    event
        .single_data()
        .is_some_and(|data| memchr::memmem::find(data, b"\"choices\":[]").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The facts a pass-through OpenAI stream's probe and tap find in each event, in
    /// order, before the commit point.
    fn probed(events: &[&str]) -> Vec<Facts> {
        let path = Path::PassThrough {
            provider: Provider::OpenAiChat,
            hide_usage_chunk: false,
            probe: true,
            edit: None,
        };
        let mut codec = Codec::new(path, Ingress::OpenAiChat);
        let mut out = Vec::new();
        events
            .iter()
            .map(|e| codec.decode(&RawEvent::from_bytes(Bytes::from(e.to_string())), &mut out))
            .collect()
    }

    #[test]
    fn before_the_commit_point_the_probe_and_the_tap_tell_content_from_framing() {
        let role = r#"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#;
        let text = r#"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#;
        let facts = probed(&[&format!("{role}\n\n"), &format!("{text}\n\n")]);
        assert!(!facts[0].content && !facts[0].malformed && !facts[0].end);
        assert!(facts[1].content && !facts[1].malformed);

        // Not JSON: malformed, not content (the attempt fails over).
        let facts = probed(&["data: {\"choices\":[\n\n"]);
        assert!(facts[0].malformed && !facts[0].content);

        // JSON the decoder does not take as a chunk: the client gets it as sent.
        let facts = probed(&["data: {\"choices\":\"none\"}\n\n", "data: [1,2]\n\n"]);
        assert!(facts.iter().all(|f| f.content && !f.malformed));

        // The end marker is not probed, and ends.
        let facts = probed(&["data: [DONE]\n\n"]);
        assert!(facts[0].end && !facts[0].content);

        // An error event: its details from the decoder; broken data is malformed.
        let facts = probed(&[
            "event: error\ndata: {\"error\":{\"type\":\"overloaded\",\"message\":\"busy\"}}\n\n",
        ]);
        let (kind, message) = facts[0].error.clone().unwrap_or_default();
        assert_eq!((kind.as_str(), message.as_str()), ("overloaded", "busy"));
        let facts = probed(&["event: error\ndata: {oops\n\n"]);
        assert!(facts[0].malformed && facts[0].error.is_none());

        // Usage is read whichever way the chunk went.
        let usage = r#"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}"#;
        let facts = probed(&[&format!("{usage}\n\n")]);
        let seen = facts[0].usage.unwrap_or_default();
        assert_eq!((seen.input_tokens, seen.output_tokens), (3, 5));
    }
}
