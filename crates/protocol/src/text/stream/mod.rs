//! A streamed answer's text, event by event, in the format the client receives on the
//! pass-through path: each event's text pieces by `Channel`, what the event ends, the
//! event written back with its changed pieces spliced in (every other byte as the
//! provider sent it), and new events that carry text on a channel.
//!
//! Must never forward a changed event whose other bytes moved, nor read past an event
//! that is not JSON (`read` returns `None` and the event goes on as it came).
//!
//! Reading is per format: [`chat`] (OpenAI chunks), [`messages`] (Anthropic events).

mod chat;
mod messages;

use super::raw;
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
        self.read_walked(data).1
    }

    /// `read`, also telling whether the walk took `data` whole as one JSON value. The
    /// walk is as strict as `openai::tap`'s check (`json_lex`), so a caller that needs
    /// both walks the event once: `true` means the check would pass. `false` also for
    /// data that is not UTF-8, or has whitespace JSON does not allow around it: there
    /// the check must still be made.
    pub fn read_walked(&mut self, data: &[u8]) -> (bool, Option<Event>) {
        if let Some(index) = self.stopped.take() {
            self.blocks.retain(|(i, _)| *i != index);
        }
        let Ok(text) = std::str::from_utf8(data) else {
            return (false, None);
        };
        let event = match self.stream {
            Stream::Chat | Stream::Completions => self.read_chunk(text),
            Stream::Messages => self.read_message_event(text),
        };
        let Some(event) = event else {
            return (false, None);
        };
        let event = (!event.pieces.is_empty() || !event.closes.is_empty()).then_some(event);
        (true, event)
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
mod tests;
