//! What one upstream event tells the relay (`Facts`): usage, content, the end, an error,
//! garbage. On the translate path they come from the canonical events (`absorb`); on the
//! pass-through path from the tap, and until the commit point also from the `probe`
//! (the canonical decoder), since only a decoded event tells content from framing.
//!
//! The tap's JSON check walks every byte of an OpenAI event, so each event is walked
//! once: a text reader's walk (a transform rewrites the stream's text) or a successful
//! probe decode stands for the check (`Provider::tap_walked`).
//!
//! Must never call an event content that the usual path would call framing or garbage:
//! both ways of reading an event give the same facts (tests below).

use sluice_protocol::canonical::{StreamEvent, Tap, Usage};
use sluice_protocol::sse::RawEvent;
use sluice_protocol::text::{Event as TextEvent, StreamText};
use sluice_protocol::translate::{Provider, StreamDecoder};

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

/// One pass-through event's facts. `probe`: the decoder until the commit point (`None`
/// after it, or for a stream it does not know, whose first data event commits);
/// `editor`: the text reader, whose reading of the event goes to `read`.
pub fn pass_through(
    provider: Provider,
    probe: Option<&mut StreamDecoder>,
    editor: Option<&mut StreamText>,
    read: &mut Option<TextEvent>,
    event: &RawEvent,
) -> Facts {
    let Some(probe) = probe else {
        let mut facts = match editor {
            Some(editor) => tap_and_read(provider, event, editor, read),
            None => tap(provider, event),
        };
        facts.content = !(facts.end || facts.error.is_some() || facts.malformed);
        return facts;
    };
    if editor.is_none()
        && let Some(facts) = probe_and_tap(provider, event, probe)
    {
        return facts;
    }
    let mut facts = match editor {
        Some(editor) => tap_and_read(provider, event, editor, read),
        None => tap(provider, event),
    };
    if !facts.end && !facts.malformed {
        let (kind, data) = event.type_and_data();
        probe_into(probe, kind, &data, &mut facts);
    }
    facts
}

/// The probe's reading of an event the tap took as JSON: its canonical facts, or
/// content when the decoder refuses it (the client gets it as sent). Whether it decoded.
fn probe_into(
    probe: &mut StreamDecoder,
    kind: Option<&str>,
    data: &[u8],
    facts: &mut Facts,
) -> bool {
    let mut probed = Vec::new();
    match probe.decode(kind, data, &mut probed) {
        Ok(()) => {
            absorb(&probed, facts);
            true
        }
        Err(_) => {
            facts.content = true;
            false
        }
    }
}

/// Before the commit point, with no text reader: the probe decodes first, and a decode
/// that succeeds proves the event JSON, so the tap does not check it again (OpenAI's
/// check: about 4,000 instructions per chunk, twice on the way to the first token).
/// What the decoder refuses gets the tap's check. `None` for what the usual path
/// handles: an event of several data lines (it joins them) and an error event (the
/// decoder reads one leniently, so its decode proves nothing about the JSON).
fn probe_and_tap(provider: Provider, event: &RawEvent, probe: &mut StreamDecoder) -> Option<Facts> {
    let data = event.single_data()?;
    let kind = event.event_name();
    let tapped = provider.tap_walked(kind, data, true);
    if tapped.error {
        return None;
    }
    let mut facts = facts_of(tapped);
    if facts.end || probe_into(probe, kind, data, &mut facts) {
        return Some(facts);
    }
    let mut facts = facts_of(provider.tap(kind, data));
    facts.content = !facts.malformed;
    Some(facts)
}

/// The pass-through tap, as facts.
fn tap(provider: Provider, event: &RawEvent) -> Facts {
    let tap = match event.single_data() {
        Some(data) => provider.tap(event.event_name(), data),
        None => Tap::default(),
    };
    facts_of(tap)
}

/// The tap and the text reader over one walk of the event.
fn tap_and_read(
    provider: Provider,
    event: &RawEvent,
    editor: &mut StreamText,
    read: &mut Option<TextEvent>,
) -> Facts {
    let Some(data) = event.single_data() else {
        *read = None;
        return facts_of(Tap::default());
    };
    let (walked, text) = editor.read_walked(data);
    *read = text;
    facts_of(provider.tap_walked(event.event_name(), data, walked))
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
pub fn absorb(events: &[StreamEvent], facts: &mut Facts) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use sluice_protocol::text::Stream;

    const ROLE: &str = r#"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#;
    const TEXT: &str = r#"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#;
    const USAGE: &str = r#"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}"#;

    /// The facts of each event of one OpenAI pass-through stream before the commit
    /// point: read by the probe alone, or with a text reader (the usual path).
    fn probed(events: &[&str], with_reader: bool) -> Vec<Facts> {
        let mut probe = StreamDecoder::new(Provider::OpenAiChat);
        let mut reader = StreamText::new(Stream::Chat);
        let mut read = None;
        events
            .iter()
            .map(|e| {
                let event = RawEvent::from_bytes(Bytes::from(format!("{e}\n\n")));
                let editor = with_reader.then_some(&mut reader);
                pass_through(
                    Provider::OpenAiChat,
                    Some(&mut probe),
                    editor,
                    &mut read,
                    &event,
                )
            })
            .collect()
    }

    fn summary(f: &Facts) -> (bool, bool, bool, Option<(String, String)>, Option<Usage>) {
        (f.content, f.end, f.malformed, f.error.clone(), f.usage)
    }

    #[test]
    fn before_the_commit_point_the_probe_and_the_tap_tell_content_from_framing() {
        let streams: [&[&str]; 7] = [
            &[ROLE, TEXT],
            // Not JSON: malformed, not content (the attempt fails over).
            &["data: {\"choices\":["],
            // JSON the decoder does not take as a chunk: the client gets it as sent.
            &["data: {\"choices\":\"none\"}", "data: [1,2]"],
            &["data: [DONE]"],
            &["event: error\ndata: {\"error\":{\"type\":\"overloaded\",\"message\":\"busy\"}}"],
            &["event: error\ndata: {oops"],
            &[USAGE],
        ];
        let facts: Vec<Vec<Facts>> = streams.iter().map(|s| probed(s, false)).collect();
        assert!(!facts[0][0].content && !facts[0][0].malformed && !facts[0][0].end);
        assert!(facts[0][1].content && !facts[0][1].malformed);
        assert!(facts[1][0].malformed && !facts[1][0].content);
        assert!(facts[2].iter().all(|f| f.content && !f.malformed));
        assert!(facts[3][0].end && !facts[3][0].content);
        let (kind, message) = facts[4][0].error.clone().unwrap_or_default();
        assert_eq!((kind.as_str(), message.as_str()), ("overloaded", "busy"));
        assert!(facts[5][0].malformed && facts[5][0].error.is_none());
        let usage = facts[6][0].usage.unwrap_or_default();
        assert_eq!((usage.input_tokens, usage.output_tokens), (3, 5));

        // The probe alone finds what the usual path (tap, text reader, probe) finds.
        for (stream, alone) in streams.iter().zip(&facts) {
            let usual = probed(stream, true);
            let (alone, usual): (Vec<_>, Vec<_>) = (
                alone.iter().map(summary).collect(),
                usual.iter().map(summary).collect(),
            );
            assert_eq!(alone, usual, "{stream:?}");
        }
    }

    #[test]
    fn without_a_probe_the_first_data_event_commits() {
        let mut read = None;
        let facts: Vec<Facts> = [ROLE, "data: [DONE]", "data: {oops"]
            .iter()
            .map(|e| {
                let event = RawEvent::from_bytes(Bytes::from(format!("{e}\n\n")));
                pass_through(Provider::OpenAiChat, None, None, &mut read, &event)
            })
            .collect();
        assert!(
            facts[0].content,
            "framing commits when nothing can tell it apart"
        );
        assert!(facts[1].end && !facts[1].content);
        assert!(facts[2].malformed && !facts[2].content);
    }
}
