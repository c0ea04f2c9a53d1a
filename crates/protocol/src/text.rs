//! Where the text is: every string a model reads in a request body, every string it
//! wrote in an answer, and the text pieces of a streamed answer's events, for each
//! format, so a stage that must read or rewrite text (the guard) never learns a
//! format's shape. Everything else in a body or event is left exactly as it was.
//!
//! - [`visit`]: a whole body (`Body` names its shape), each text handed to a callback
//!   that may rewrite it; tool-call arguments (JSON inside a string) are parsed and
//!   their strings handed over one by one, so a rewrite can never break their JSON.
//! - [`StreamText`]: one stream's events (`Stream` names the format): the text pieces
//!   of each event by `Channel`, which channels an event closes, the event written back
//!   with edited pieces, and new events that carry text on a channel.
//!
//! Left alone on purpose: Anthropic `thinking` (signed: a changed block fails when it
//! is sent back), images, audio and files, ids and names.
//!
//! Must never panic on input and never change a byte of a body whose texts were all
//! left as they were.

use crate::sse::encode_event;
use bytes::Bytes;
use serde_json::{Map, Value};

/// A body shape whose texts `visit` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    ChatRequest,
    ChatResponse,
    MessagesRequest,
    MessagesResponse,
    ResponsesRequest,
    ResponsesResponse,
    CompletionsRequest,
    CompletionsResponse,
    EmbeddingsRequest,
}

/// How a text handed to a callback is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Plain text (a JSON string's value).
    Plain,
    /// JSON source text (tool-call arguments that did not parse, stream fragments).
    Json,
}

/// Calls `f` on every text of `body`; `f` returns whether it changed the text. Returns
/// whether anything changed. The first error from `f` stops the walk.
pub fn visit<E>(
    body: Body,
    value: &mut Value,
    f: &mut dyn FnMut(&mut String, Form) -> Result<bool, E>,
) -> Result<bool, E> {
    let mut w = Walk { f, changed: false };
    match body {
        Body::ChatRequest => {
            for message in each(value, "messages") {
                w.content(message.get_mut("content"))?;
                w.tool_calls(message)?;
            }
        }
        Body::ChatResponse => {
            for choice in each(value, "choices") {
                if let Some(message) = choice.get_mut("message") {
                    for key in ["content", "refusal", "reasoning_content", "reasoning"] {
                        w.string(message.get_mut(key))?;
                    }
                    w.tool_calls(message)?;
                }
            }
        }
        Body::MessagesRequest => {
            w.blocks(value.get_mut("system"))?;
            for message in each(value, "messages") {
                w.blocks(message.get_mut("content"))?;
            }
        }
        Body::MessagesResponse => w.blocks(value.get_mut("content"))?,
        Body::ResponsesRequest => {
            w.string(value.get_mut("instructions"))?;
            match value.get_mut("input") {
                Some(Value::String(s)) => w.call(s, Form::Plain)?,
                Some(Value::Array(items)) => {
                    for item in items {
                        w.response_item(item)?;
                    }
                }
                _ => {}
            }
        }
        Body::ResponsesResponse => {
            for item in each(value, "output") {
                w.response_item(item)?;
            }
        }
        Body::CompletionsRequest => {
            w.strings(value.get_mut("prompt"))?;
            w.string(value.get_mut("suffix"))?;
        }
        Body::CompletionsResponse => {
            for choice in each(value, "choices") {
                w.string(choice.get_mut("text"))?;
            }
        }
        Body::EmbeddingsRequest => w.strings(value.get_mut("input"))?,
    }
    Ok(w.changed)
}

/// Every string of a JSON document (keys too), unescaped, each followed by a newline,
/// appended to `out`; `false` when `body` is not UTF-8 or a string is broken. No tree
/// is built, so it costs a fraction of `visit`: a stage can scan this first and skip
/// the walk when nothing in the document could need it (a superset of the texts
/// `visit` reaches).
///
/// Hand-written rather than a serde visitor: measured at about a fifth of the
/// instructions of `serde_json` with an ignoring visitor on a chat answer (BENCHMARKS.md,
/// "The guard"). It relies on the body being JSON already (the head decoder or the
/// answer's check read it); on anything else it may only return `false` or collect
/// more than the strings, never less.
pub fn strings(body: &[u8], out: &mut String) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(open) = memchr::memchr(b'"', &bytes[at..]) {
        let mut from = at + open + 1;
        loop {
            let Some(stop) = memchr::memchr2(b'"', b'\\', &bytes[from..]) else {
                return false;
            };
            let stop = from + stop;
            out.push_str(&text[from..stop]);
            if bytes[stop] == b'"' {
                at = stop + 1;
                break;
            }
            let Some((c, len)) = unescape(&bytes[stop + 1..]) else {
                return false;
            };
            out.push(c);
            from = stop + 1 + len;
        }
        out.push('\n');
    }
    true
}

/// One JSON escape after its backslash: the char and how many bytes it took.
fn unescape(rest: &[u8]) -> Option<(char, usize)> {
    let simple = match rest.first()? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let high = hex4(rest.get(1..5)?)?;
            if (0xD800..0xDC00).contains(&high)
                && rest.get(5..7) == Some(b"\\u")
                && let Some(low) = rest.get(7..11).and_then(hex4)
                && (0xDC00..0xE000).contains(&low)
            {
                let c = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                return Some((char::from_u32(c).unwrap_or('\u{FFFD}'), 11));
            }
            return Some((char::from_u32(high).unwrap_or('\u{FFFD}'), 5));
        }
        _ => return None,
    };
    Some((simple, 1))
}

fn hex4(digits: &[u8]) -> Option<u32> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|d| u32::from_str_radix(d, 16).ok())
}

/// The items of the array at `key`, or none.
fn each<'a>(value: &'a mut Value, key: &str) -> impl Iterator<Item = &'a mut Value> {
    value
        .get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

struct Walk<'f, E> {
    f: &'f mut dyn FnMut(&mut String, Form) -> Result<bool, E>,
    changed: bool,
}

impl<E> Walk<'_, E> {
    fn call(&mut self, s: &mut String, form: Form) -> Result<(), E> {
        self.changed |= (self.f)(s, form)?;
        Ok(())
    }

    fn string(&mut self, v: Option<&mut Value>) -> Result<(), E> {
        if let Some(Value::String(s)) = v {
            self.call(s, Form::Plain)?;
        }
        Ok(())
    }

    /// A string, or an array whose strings are texts (embeddings, prompts).
    fn strings(&mut self, v: Option<&mut Value>) -> Result<(), E> {
        match v {
            Some(Value::String(s)) => self.call(s, Form::Plain),
            Some(Value::Array(items)) => {
                for item in items {
                    if let Value::String(s) = item {
                        self.call(s, Form::Plain)?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Every string inside a JSON value (Anthropic tool inputs, parsed arguments).
    fn all(&mut self, v: &mut Value) -> Result<(), E> {
        match v {
            Value::String(s) => self.call(s, Form::Plain),
            Value::Array(items) => items.iter_mut().try_for_each(|i| self.all(i)),
            Value::Object(map) => map.values_mut().try_for_each(|i| self.all(i)),
            _ => Ok(()),
        }
    }

    /// JSON inside a string: parsed and walked, written back only if changed; text that
    /// is not JSON is handed over as JSON source.
    fn json(&mut self, v: Option<&mut Value>) -> Result<(), E> {
        let Some(Value::String(s)) = v else {
            return Ok(());
        };
        let Ok(mut parsed) = serde_json::from_str::<Value>(s) else {
            return self.call(s, Form::Json);
        };
        let mut inner = Walk {
            f: &mut *self.f,
            changed: false,
        };
        inner.all(&mut parsed)?;
        if inner.changed {
            *s = parsed.to_string();
            self.changed = true;
        }
        Ok(())
    }

    /// OpenAI message content: a string, or parts whose text parts are texts.
    fn content(&mut self, v: Option<&mut Value>) -> Result<(), E> {
        match v {
            Some(Value::String(s)) => self.call(s, Form::Plain),
            Some(Value::Array(parts)) => {
                for part in parts {
                    if matches!(
                        part.get("type").and_then(Value::as_str),
                        Some("text" | "input_text" | "output_text")
                    ) {
                        self.string(part.get_mut("text"))?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// OpenAI `tool_calls[].function.arguments` and the legacy `function_call`.
    fn tool_calls(&mut self, message: &mut Value) -> Result<(), E> {
        if let Some(Value::Array(calls)) = message.get_mut("tool_calls") {
            for call in calls {
                if let Some(function) = call.get_mut("function") {
                    self.json(function.get_mut("arguments"))?;
                }
            }
        }
        if let Some(function) = message.get_mut("function_call") {
            self.json(function.get_mut("arguments"))?;
        }
        Ok(())
    }

    /// Anthropic content: a string, or blocks (text, tool use input, tool results,
    /// plain-text documents).
    fn blocks(&mut self, v: Option<&mut Value>) -> Result<(), E> {
        match v {
            Some(Value::String(s)) => self.call(s, Form::Plain),
            Some(Value::Array(blocks)) => {
                for block in blocks {
                    match block.get("type").and_then(Value::as_str) {
                        Some("text") => self.string(block.get_mut("text"))?,
                        Some("tool_use") => {
                            if let Some(input) = block.get_mut("input") {
                                self.all(input)?;
                            }
                        }
                        Some("tool_result") => self.blocks(block.get_mut("content"))?,
                        Some("document") => {
                            if let Some(source) = block.get_mut("source")
                                && source.get("type").and_then(Value::as_str) == Some("text")
                            {
                                self.string(source.get_mut("data"))?;
                            }
                        }
                        _ => {}
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// One Responses input or output item.
    fn response_item(&mut self, item: &mut Value) -> Result<(), E> {
        match item.get("type").and_then(Value::as_str) {
            Some("message") | None => self.content(item.get_mut("content")),
            Some("function_call") => self.json(item.get_mut("arguments")),
            Some("function_call_output") => match item.get_mut("output") {
                Some(Value::String(s)) => self.call(s, Form::Plain),
                other => self.content(other),
            },
            _ => Ok(()),
        }
    }
}

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

/// One stream's text reader and writer (keeps what it needs across events: the
/// chunk's identity for new chunks, Anthropic's block kinds).
#[derive(Debug)]
pub struct StreamText {
    stream: Stream,
    /// OpenAI: the last chunk's top-level fields but `choices` and `usage`.
    template: Map<String, Value>,
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
    pub text: String,
    /// Where it sits in the event: keys and indexes from the top.
    at: Vec<Step>,
}

#[derive(Debug, Clone)]
enum Step {
    Key(&'static str),
    Index(usize),
}

/// One event's texts, ready to be edited and written back.
#[derive(Debug)]
pub struct Event {
    value: Value,
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
            template: Map::new(),
            blocks: Vec::new(),
            tools: 0,
            stopped: None,
        }
    }

    /// The texts of one event's data; `None` when the event carries none and ends
    /// nothing (it then goes on as it came).
    pub fn read(&mut self, data: &[u8]) -> Option<Event> {
        if let Some(index) = self.stopped.take() {
            self.blocks.retain(|(i, _)| *i != index);
        }
        let value: Value = serde_json::from_slice(data).ok()?;
        let mut event = Event {
            value,
            pieces: Vec::new(),
            closes: Vec::new(),
        };
        match self.stream {
            Stream::Chat | Stream::Completions => self.read_chunk(&mut event),
            Stream::Messages => self.read_message_event(&mut event),
        }
        (!event.pieces.is_empty() || !event.closes.is_empty()).then_some(event)
    }

    fn read_chunk(&mut self, event: &mut Event) {
        let Value::Object(top) = &event.value else {
            return;
        };
        if top.contains_key("choices") {
            self.template = top
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "choices" | "usage"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
        }
        let Some(choices) = top.get("choices").and_then(Value::as_array) else {
            return;
        };
        let mut found = Vec::new();
        let mut closes = Vec::new();
        for (i, choice) in choices.iter().enumerate() {
            let n = choice
                .get("index")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0);
            let base = [Step::Key("choices"), Step::Index(i)];
            if self.stream == Stream::Completions {
                push_piece(
                    &mut found,
                    choice.get("text"),
                    Channel::text(n),
                    &base,
                    &[Step::Key("text")],
                );
            } else if let Some(delta) = choice.get("delta") {
                let at = |key| [Step::Key("delta"), Step::Key(key)];
                for (key, lane) in [
                    ("content", Lane::Text),
                    ("refusal", Lane::Text),
                    ("reasoning_content", Lane::Reasoning),
                    ("reasoning", Lane::Reasoning),
                ] {
                    let channel = Channel { choice: n, lane };
                    push_piece(&mut found, delta.get(key), channel, &base, &at(key));
                }
                let calls = delta.get("tool_calls").and_then(Value::as_array);
                for (j, call) in calls.into_iter().flatten().enumerate() {
                    let index = call
                        .get("index")
                        .and_then(Value::as_u64)
                        .and_then(|n| u32::try_from(n).ok())
                        .unwrap_or(0);
                    let channel = Channel {
                        choice: n,
                        lane: Lane::Arguments(index),
                    };
                    let arguments = call.get("function").and_then(|f| f.get("arguments"));
                    let path = [
                        Step::Key("delta"),
                        Step::Key("tool_calls"),
                        Step::Index(j),
                        Step::Key("function"),
                        Step::Key("arguments"),
                    ];
                    push_piece(&mut found, arguments, channel, &base, &path);
                }
            }
            if choice.get("finish_reason").is_some_and(|r| !r.is_null()) {
                closes.push(n);
            }
        }
        event.pieces = found;
        event.closes = closes.into_iter().map(Close::Choice).collect();
    }

    fn read_message_event(&mut self, event: &mut Event) {
        let kind = event
            .value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("");
        let index = event.value.get("index").and_then(Value::as_u64);
        match (kind, index) {
            ("content_block_start", Some(index)) => {
                let block = event.value.get("content_block");
                let channel = match block.and_then(|b| b.get("type")).and_then(Value::as_str) {
                    Some("text") => Some(Channel::text(0)),
                    Some("tool_use") => {
                        self.tools += 1;
                        Some(Channel {
                            choice: 0,
                            lane: Lane::Arguments(self.tools - 1),
                        })
                    }
                    _ => None,
                };
                if let Some(channel) = channel {
                    self.blocks.push((index, channel));
                    if channel.lane == Lane::Text {
                        let path = [Step::Key("content_block"), Step::Key("text")];
                        push_piece(
                            &mut event.pieces,
                            block.and_then(|b| b.get("text")),
                            channel,
                            &[],
                            &path,
                        );
                    }
                }
            }
            ("content_block_delta", Some(index)) => {
                let Some(channel) = self.channel_of(index) else {
                    return;
                };
                let key = match event.value.pointer("/delta/type").and_then(Value::as_str) {
                    Some("text_delta") => "text",
                    Some("input_json_delta") => "partial_json",
                    _ => return,
                };
                let text = event.value.get("delta").and_then(|d| d.get(key));
                push_piece(
                    &mut event.pieces,
                    text,
                    channel,
                    &[],
                    &[Step::Key("delta"), Step::Key(key)],
                );
            }
            ("content_block_stop", Some(index)) => {
                if let Some(channel) = self.channel_of(index) {
                    event.closes.push(Close::Channel(channel));
                    self.stopped = Some(index);
                }
            }
            ("message_delta" | "message_stop", _) => event.closes.push(Close::All),
            _ => {}
        }
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

    fn chunk(&self, choice: Value) -> Bytes {
        let mut top = self.template.clone();
        top.insert("choices".to_owned(), Value::Array(vec![choice]));
        encode_event(None, &Value::Object(top).to_string())
    }
}

fn push_piece(
    out: &mut Vec<Piece>,
    text: Option<&Value>,
    channel: Channel,
    base: &[Step],
    rest: &[Step],
) {
    if let Some(Value::String(s)) = text
        && !s.is_empty()
    {
        out.push(Piece {
            channel,
            text: s.clone(),
            at: base.iter().chain(rest).cloned().collect(),
        });
    }
}

impl Event {
    /// The event's data with each piece's (edited) text written back.
    pub fn write(mut self) -> String {
        for piece in self.pieces {
            if let Some(Value::String(s)) = locate(&mut self.value, &piece.at) {
                *s = piece.text;
            }
        }
        self.value.to_string()
    }
}

fn locate<'v>(mut at: &'v mut Value, steps: &[Step]) -> Option<&'v mut Value> {
    for step in steps {
        at = match step {
            Step::Key(key) => at.get_mut(*key)?,
            Step::Index(i) => at.get_mut(*i)?,
        };
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upper(s: &mut String, _: Form) -> Result<bool, ()> {
        let up = s.to_uppercase();
        let changed = up != *s;
        *s = up;
        Ok(changed)
    }

    #[test]
    fn every_request_text_is_visited_and_arguments_stay_json() {
        let mut chat = serde_json::json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "data:x"}}]},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{\"to\":\"bob\",\"n\":1}"}}]},
                {"role": "tool", "tool_call_id": "c", "content": "result"}
            ]
        });
        assert_eq!(visit(Body::ChatRequest, &mut chat, &mut upper), Ok(true));
        assert_eq!(chat["messages"][0]["content"], "SYS");
        assert_eq!(chat["messages"][1]["content"][0]["text"], "HI");
        assert_eq!(
            chat["messages"][1]["content"][1]["image_url"]["url"],
            "data:x"
        );
        assert_eq!(
            chat["messages"][2]["tool_calls"][0]["function"]["arguments"],
            "{\"to\":\"BOB\",\"n\":1}"
        );
        assert_eq!(chat["messages"][3]["content"], "RESULT");
        assert_eq!(chat["model"], "m");

        let mut messages = serde_json::json!({
            "system": [{"type": "text", "text": "sys"}],
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": "s"}, {"type": "tool_use", "id": "t", "name": "f", "input": {"q": ["a"]}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "out"}]}]}
            ]
        });
        assert_eq!(
            visit(Body::MessagesRequest, &mut messages, &mut upper),
            Ok(true)
        );
        assert_eq!(messages["system"][0]["text"], "SYS");
        assert_eq!(messages["messages"][1]["content"][0]["thinking"], "t");
        assert_eq!(messages["messages"][1]["content"][1]["input"]["q"][0], "A");
        assert_eq!(
            messages["messages"][2]["content"][0]["content"][0]["text"],
            "OUT"
        );

        let mut responses = serde_json::json!({
            "instructions": "be brief",
            "input": [
                {"role": "user", "content": "hi"},
                {"type": "function_call", "call_id": "c", "name": "f", "arguments": "not json"},
                {"type": "function_call_output", "call_id": "c", "output": "done"}
            ]
        });
        let mut forms = Vec::new();
        let mut record = |s: &mut String, form: Form| -> Result<bool, ()> {
            forms.push((s.clone(), form));
            Ok(false)
        };
        assert_eq!(
            visit(Body::ResponsesRequest, &mut responses, &mut record),
            Ok(false)
        );
        assert_eq!(
            forms,
            [
                ("be brief".to_owned(), Form::Plain),
                ("hi".to_owned(), Form::Plain),
                ("not json".to_owned(), Form::Json),
                ("done".to_owned(), Form::Plain)
            ]
        );
    }

    #[test]
    fn strings_are_every_string_unescaped() {
        let mut out = String::new();
        let body =
            br#"{"model":"m","c":"a\nb \u00e9 \ud83d\ude00 \"q\" \\","n":1,"x":[true,null,"z"]}"#;
        assert!(strings(body, &mut out));
        assert_eq!(
            out,
            "model\nm\nc\na\nb \u{e9} \u{1F600} \"q\" \\\nn\nx\nz\n"
        );
        // As serde reads it, every value is in there.
        let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        assert!(out.contains(value["c"].as_str().unwrap_or("none")));
        assert!(!strings(br#"{"a":"open"#, &mut String::new()));
        assert!(!strings(br#"{"a":"\x"}"#, &mut String::new()));
    }

    #[test]
    fn chat_chunks_give_pieces_by_channel_and_write_back_only_texts() {
        let mut st = StreamText::new(Stream::Chat);
        let data = br#"{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":"hel","tool_calls":[{"index":1,"function":{"arguments":"{\"a"}}]},"logprobs":null,"finish_reason":null}]}"#;
        let mut event = st.read(data).unwrap_or_else(|| panic!("no texts"));
        assert_eq!(event.pieces.len(), 2);
        assert_eq!(event.pieces[0].channel, Channel::text(0));
        assert_eq!(event.pieces[1].channel.lane, Lane::Arguments(1));
        event.pieces[0].text = "HEL".into();
        let written = event.write();
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
