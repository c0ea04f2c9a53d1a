//! A streamed answer's text, event by event, in the format the client receives on the
//! pass-through path: each event's text pieces by `Channel`, what the event ends, the
//! event written back with its changed pieces spliced in (every other byte as the
//! provider sent it), and new events that carry text on a channel.
//!
//! Must never forward a changed event whose other bytes moved, nor read past an event
//! that is not JSON (`read` returns `None` and the event goes on as it came).

use super::raw::{self, Scalar, Seg};
use crate::sse::encode_event;
use bytes::Bytes;
use serde_json::Value;
use std::ops::Range;

/// Which text of a streamed answer a piece belongs to: a choice (0 but for OpenAI's
/// `n`), and its lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Channel {
    pub choice: u32,
    pub lane: Lane,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    /// The answer's text (and an OpenAI refusal).
    Text,
    /// OpenAI-compatible reasoning text.
    Reasoning,
    /// The JSON arguments of the tool call with this index.
    Arguments(u32),
}

impl Channel {
    pub fn text(choice: u32) -> Self {
        Self {
            choice,
            lane: Lane::Text,
        }
    }

    /// Whether the channel's pieces are JSON source.
    pub fn json(self) -> bool {
        matches!(self.lane, Lane::Arguments(_))
    }
}

/// A streamed answer's format, as the client receives it on the pass-through path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// OpenAI Chat Completions chunks.
    Chat,
    /// OpenAI legacy completions chunks.
    Completions,
    /// Anthropic Messages events.
    Messages,
}

/// One stream's text reader and writer (keeps what it needs across events: the last
/// chunk, as a template for new ones; Anthropic's open blocks).
#[derive(Debug)]
pub struct StreamText {
    stream: Stream,
    /// OpenAI: the last chunk with text, whose identity new chunks copy.
    template: Vec<u8>,
    /// Anthropic: each open block's index and channel.
    blocks: Vec<(u64, Channel)>,
    /// Anthropic: tool-use blocks seen so far.
    tools: u32,
    /// Anthropic: a block that stopped with the last event; it stays known until the
    /// next one, so text it held can still be carried before its stop.
    stopped: Option<u64>,
}

/// One piece of text in an event.
#[derive(Debug)]
pub struct Piece {
    pub channel: Channel,
    /// The text (unescaped); the caller may change it.
    pub text: String,
    /// Its string literal's bytes in the event's data, quotes included.
    span: Range<usize>,
}

/// One event's texts, ready to be edited and written back with `write`.
#[derive(Debug, Default)]
pub struct Event {
    pub pieces: Vec<Piece>,
    /// What this event ends (a finish reason, a block's stop, the message's end): text
    /// held for those channels must reach the client with or before this event.
    pub closes: Vec<Close>,
}

/// Channels an event ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    Channel(Channel),
    /// Every lane of one choice (its finish reason).
    Choice(u32),
    /// Every channel (the message's end).
    All,
}

impl Close {
    pub fn covers(self, channel: Channel) -> bool {
        match self {
            Self::Channel(c) => c == channel,
            Self::Choice(n) => channel.choice == n,
            Self::All => true,
        }
    }
}

/// What one OpenAI choice (by its place in `choices`) said, gathered while walking.
#[derive(Debug, Default)]
struct Choice {
    number: Option<u32>,
    finished: bool,
    /// Texts: lane (with the tool call's place for arguments) and literal span.
    texts: Vec<(Lane, Option<usize>, Range<usize>)>,
    /// Tool calls' `index` by their place in `tool_calls`.
    calls: Vec<(usize, u32)>,
}

impl StreamText {
    pub fn new(stream: Stream) -> Self {
        Self {
            stream,
            template: Vec::new(),
            blocks: Vec::new(),
            tools: 0,
            stopped: None,
        }
    }

    /// The texts of one event's data; `None` when the event carries none and ends
    /// nothing, or is not JSON (it then goes on as it came).
    pub fn read(&mut self, data: &[u8]) -> Option<Event> {
        if let Some(index) = self.stopped.take() {
            self.blocks.retain(|(i, _)| *i != index);
        }
        let text = std::str::from_utf8(data).ok()?;
        let event = match self.stream {
            Stream::Chat | Stream::Completions => self.read_chunk(text)?,
            Stream::Messages => self.read_message_event(text)?,
        };
        (!event.pieces.is_empty() || !event.closes.is_empty()).then_some(event)
    }

    fn read_chunk(&mut self, data: &str) -> Option<Event> {
        let completions = self.stream == Stream::Completions;
        let mut choices: Vec<Choice> = Vec::new();
        let walked = raw::scalars(data, &mut |path, kind, span| {
            let [first, Seg::Index(i), rest @ ..] = path else {
                return;
            };
            if !first.is("choices") {
                return;
            }
            if choices.len() <= *i {
                choices.resize_with(*i + 1, Choice::default);
            }
            let choice = &mut choices[*i];
            match (rest, kind) {
                ([k], Scalar::Num) if k.is("index") => {
                    choice.number = data[span].parse().ok();
                }
                ([k], Scalar::Str) if k.is("finish_reason") => choice.finished = true,
                ([k], Scalar::Str) if completions && k.is("text") => {
                    choice.texts.push((Lane::Text, None, span));
                }
                ([d, k], Scalar::Str) if d.is("delta") => {
                    let lane = match k {
                        _ if k.is("content") || k.is("refusal") => Lane::Text,
                        _ if k.is("reasoning_content") || k.is("reasoning") => Lane::Reasoning,
                        _ => return,
                    };
                    choice.texts.push((lane, None, span));
                }
                ([d, t, Seg::Index(j), k], Scalar::Num)
                    if d.is("delta") && t.is("tool_calls") && k.is("index") =>
                {
                    if let Ok(n) = data[span].parse() {
                        choice.calls.push((*j, n));
                    }
                }
                ([d, t, Seg::Index(j), f, a], Scalar::Str)
                    if d.is("delta")
                        && t.is("tool_calls")
                        && f.is("function")
                        && a.is("arguments") =>
                {
                    choice.texts.push((Lane::Arguments(0), Some(*j), span));
                }
                _ => {}
            }
        });
        if !walked {
            return None;
        }
        let mut event = Event::default();
        for (i, choice) in choices.into_iter().enumerate() {
            let n = choice
                .number
                .unwrap_or_else(|| u32::try_from(i).unwrap_or(u32::MAX));
            for (lane, call, span) in choice.texts {
                let lane = match (lane, call) {
                    (Lane::Arguments(_), Some(j)) => Lane::Arguments(
                        choice
                            .calls
                            .iter()
                            .find(|(at, _)| *at == j)
                            .map_or(0, |(_, index)| *index),
                    ),
                    (lane, _) => lane,
                };
                push_piece(&mut event, data, Channel { choice: n, lane }, span);
            }
            if choice.finished {
                event.closes.push(Close::Choice(n));
            }
        }
        if !event.pieces.is_empty() {
            self.template.clear();
            self.template.extend_from_slice(data.as_bytes());
        }
        Some(event)
    }

    fn read_message_event(&mut self, data: &str) -> Option<Event> {
        let mut kind = None;
        let mut index = None;
        let mut block = None;
        let mut block_text = None;
        let mut delta = None;
        let mut delta_text = None;
        let walked = raw::scalars(data, &mut |path, scalar, span| match (path, scalar) {
            ([k], Scalar::Str) if k.is("type") => kind = raw::decode(&data[span]),
            ([k], Scalar::Num) if k.is("index") => index = data[span].parse::<u64>().ok(),
            ([c, k], Scalar::Str) if c.is("content_block") && k.is("type") => {
                block = raw::decode(&data[span]);
            }
            ([c, k], Scalar::Str) if c.is("content_block") && k.is("text") => {
                block_text = Some(span);
            }
            ([d, k], Scalar::Str) if d.is("delta") && k.is("type") => {
                delta = raw::decode(&data[span]);
            }
            ([d, k], Scalar::Str) if d.is("delta") && (k.is("text") || k.is("partial_json")) => {
                delta_text = Some(span);
            }
            _ => {}
        });
        if !walked {
            return None;
        }
        let mut event = Event::default();
        match (kind.as_deref(), index) {
            (Some("content_block_start"), Some(index)) => {
                let channel = match block.as_deref() {
                    Some("text") => Channel::text(0),
                    Some("tool_use") => {
                        self.tools += 1;
                        Channel {
                            choice: 0,
                            lane: Lane::Arguments(self.tools - 1),
                        }
                    }
                    _ => return Some(event),
                };
                self.blocks.push((index, channel));
                if let (Lane::Text, Some(span)) = (channel.lane, block_text) {
                    push_piece(&mut event, data, channel, span);
                }
            }
            (Some("content_block_delta"), Some(index)) => {
                let Some(channel) = self.channel_of(index) else {
                    return Some(event);
                };
                let expected = match channel.lane {
                    Lane::Arguments(_) => "input_json_delta",
                    Lane::Text | Lane::Reasoning => "text_delta",
                };
                if let (Some(span), true) = (delta_text, delta.as_deref() == Some(expected)) {
                    push_piece(&mut event, data, channel, span);
                }
            }
            (Some("content_block_stop"), Some(index)) => {
                if let Some(channel) = self.channel_of(index) {
                    event.closes.push(Close::Channel(channel));
                    self.stopped = Some(index);
                }
            }
            (Some("message_delta" | "message_stop"), _) => event.closes.push(Close::All),
            _ => {}
        }
        Some(event)
    }

    fn channel_of(&self, index: u64) -> Option<Channel> {
        self.blocks
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, c)| *c)
    }

    /// A new event that carries `text` on `channel`, in the stream's format; `None`
    /// when the channel has no open place in this format (an Anthropic block that
    /// already stopped).
    pub fn carry(&self, channel: Channel, text: &str) -> Option<Bytes> {
        match self.stream {
            Stream::Chat => {
                let delta = match channel.lane {
                    Lane::Text => serde_json::json!({ "content": text }),
                    Lane::Reasoning => serde_json::json!({ "reasoning_content": text }),
                    Lane::Arguments(index) => serde_json::json!({
                        "tool_calls": [{ "index": index, "function": { "arguments": text } }]
                    }),
                };
                let choice = serde_json::json!({
                    "index": channel.choice, "delta": delta, "finish_reason": null
                });
                Some(self.chunk(choice))
            }
            Stream::Completions => {
                let choice = serde_json::json!({
                    "index": channel.choice, "text": text, "logprobs": null, "finish_reason": null
                });
                Some(self.chunk(choice))
            }
            Stream::Messages => {
                let index = self
                    .blocks
                    .iter()
                    .find(|(_, c)| *c == channel)
                    .map(|(i, _)| *i)?;
                let delta = match channel.lane {
                    Lane::Arguments(_) => {
                        serde_json::json!({ "type": "input_json_delta", "partial_json": text })
                    }
                    Lane::Text | Lane::Reasoning => {
                        serde_json::json!({ "type": "text_delta", "text": text })
                    }
                };
                let data = serde_json::json!({
                    "type": "content_block_delta", "index": index, "delta": delta
                });
                Some(encode_event(Some("content_block_delta"), &data.to_string()))
            }
        }
    }

    /// A chunk like the last one with text (its id, model, times, fingerprint), with
    /// `choice` as its only choice and no usage. Rare: only held text that must go on
    /// without an event of its own comes here.
    fn chunk(&self, choice: Value) -> Bytes {
        let mut top = match serde_json::from_slice::<Value>(&self.template) {
            Ok(Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        top.remove("usage");
        top.insert("choices".to_owned(), Value::Array(vec![choice]));
        encode_event(None, &Value::Object(top).to_string())
    }
}

fn push_piece(event: &mut Event, data: &str, channel: Channel, span: Range<usize>) {
    let Some(text) = raw::decode(&data[span.clone()]) else {
        return;
    };
    if !text.is_empty() {
        event.pieces.push(Piece {
            channel,
            text: text.into_owned(),
            span,
        });
    }
}

impl Event {
    /// `data` (the event's data `read` was given) with each piece whose text changed
    /// written in its place; every other byte as it was.
    pub fn write(&self, data: &str) -> String {
        let mut pieces: Vec<&Piece> = self.pieces.iter().collect();
        pieces.sort_by_key(|p| p.span.start);
        let mut out = String::with_capacity(data.len() + 16);
        let mut at = 0;
        for piece in pieces {
            let original = &data[piece.span.clone()];
            if raw::decode(original).as_deref() == Some(piece.text.as_str()) {
                continue;
            }
            out.push_str(&data[at..piece.span.start]);
            out.push_str(&raw::literal(&piece.text));
            at = piece.span.end;
        }
        out.push_str(&data[at..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_chunks_give_pieces_by_channel_and_write_back_only_texts() {
        let mut st = StreamText::new(Stream::Chat);
        let data = br#"{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":"hel","tool_calls":[{"index":1,"function":{"arguments":"{\"a"}}]},"logprobs":null,"finish_reason":null}]}"#;
        let mut event = st.read(data).unwrap_or_else(|| panic!("no texts"));
        let data = std::str::from_utf8(data).unwrap_or_default();
        assert_eq!(event.pieces.len(), 2);
        assert_eq!(event.pieces[0].channel, Channel::text(0));
        assert_eq!(event.pieces[1].channel.lane, Lane::Arguments(1));
        assert_eq!(event.write(data), data, "unchanged texts: the same bytes");
        event.pieces[0].text = "HEL".into();
        let written = event.write(data);
        assert_eq!(
            written,
            r#"{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":"HEL","tool_calls":[{"index":1,"function":{"arguments":"{\"a"}}]},"logprobs":null,"finish_reason":null}]}"#
        );
        let carried = st.carry(Channel::text(0), "lo").unwrap_or_default();
        let text = String::from_utf8_lossy(&carried);
        assert!(text.starts_with("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":\"m\",\"system_fingerprint\":\"fp\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}"), "{text}");
        let finish = br#"{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
        let event = st.read(finish).unwrap_or_else(|| panic!("no close"));
        assert_eq!(event.closes, [Close::Choice(0)]);
        assert!(
            st.read(br#"{"id":"c1","choices":[],"usage":{"prompt_tokens":1}}"#)
                .is_none()
        );
    }

    #[test]
    fn anthropic_blocks_have_channels_closes_and_carried_deltas() {
        let mut st = StreamText::new(Stream::Messages);
        assert!(
            st.read(br#"{"type":"message_start","message":{}}"#)
                .is_none()
        );
        let start = st.read(br#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#);
        assert!(start.is_none());
        let delta = st
            .read(br#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}"#)
            .unwrap_or_else(|| panic!("no text"));
        assert_eq!(delta.pieces[0].text, "hi");
        let carried = st.carry(Channel::text(0), "there").unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&carried),
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"there\"}}\n\n"
        );
        let stop = st
            .read(br#"{"type":"content_block_stop","index":0}"#)
            .unwrap_or_else(|| panic!("no close"));
        assert_eq!(stop.closes, [Close::Channel(Channel::text(0))]);
        // What the block held can still be carried before its stop goes out.
        assert!(st.carry(Channel::text(0), "held").is_some());
        st.read(br#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}"#);
        assert!(st.carry(Channel::text(0), "late").is_none());
        let json = st
            .read(br#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\":"}}"#)
            .unwrap_or_else(|| panic!("no json"));
        assert_eq!(json.pieces[0].channel.lane, Lane::Arguments(0));
        assert!(json.pieces[0].channel.json());
        let thinking = st.read(br#"{"type":"content_block_delta","index":2,"delta":{"type":"thinking_delta","thinking":"x"}}"#);
        assert!(thinking.is_none());
    }
}
