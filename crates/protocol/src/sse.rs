//! Incremental Server-Sent Events codec.
//!
//! The decoder is fed arbitrary byte chunks and yields whole events, each carrying the
//! exact bytes it was made of, so a relay can forward upstream events unchanged and only
//! parse the ones it needs. We keep our own decoder instead of `sse-stream` because that
//! crate yields parsed events only, and the pass-through path needs byte-exact event
//! boundaries with a hard cap on event size (untrusted upstreams).
//!
//! Must never buffer more than `max_event_bytes` of one event, and never panic on input.

use bytes::{Bytes, BytesMut};
use std::ops::Range;

/// Why a byte stream is not acceptable SSE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// One event grew past the configured limit without a terminating blank line.
    #[error("server-sent event larger than {limit} bytes")]
    EventTooLarge { limit: usize },
}

/// One event: its raw bytes (including the blank line that ended it), and where its
/// `event:` value and single `data:` value are in them, found while its lines were
/// scanned (the relay reads both for every event; scanning again cost about 750
/// instructions an event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    raw: Bytes,
    fields: Fields,
}

/// Where an event's fields are, as its lines go by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Fields {
    /// The first `event:` line's value.
    kind: Option<Range<usize>>,
    /// The `data:` value when there is exactly one data line.
    data: Option<Range<usize>>,
    data_lines: u32,
}

impl Fields {
    /// Takes in one line (`start..end` in the event, no terminator), as `event_type`
    /// and `single_data` read lines: comments and empty lines are no field.
    fn line(&mut self, line: &[u8], start: usize) {
        if line.is_empty() || line[0] == b':' {
            return;
        }
        let (name, value_at) = field(line);
        let range = start + value_at..start + line.len();
        match name {
            b"data" => {
                self.data_lines += 1;
                self.data = (self.data_lines == 1).then_some(range);
            }
            b"event" if self.kind.is_none() => self.kind = Some(range),
            _ => {}
        }
    }

    /// The fields of a whole event's bytes.
    fn of(raw: &[u8]) -> Self {
        let mut fields = Self::default();
        for (start, line) in lines_at(raw) {
            fields.line(line, start);
        }
        fields
    }
}

/// The fields of an event as the SSE specification dispatches them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedEvent {
    /// `event:` field; `None` means the default type `message`.
    pub event: Option<String>,
    /// `data:` lines joined with `\n`; `None` when the event had no data line.
    pub data: Option<String>,
    pub id: Option<String>,
}

impl RawEvent {
    /// Wraps bytes that form exactly one event.
    pub fn from_bytes(raw: Bytes) -> Self {
        let fields = Fields::of(&raw);
        Self { raw, fields }
    }

    /// The exact bytes received, terminator included.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    pub fn into_raw(self) -> Bytes {
        self.raw
    }

    /// Parses the event's fields; comments and unknown fields are skipped.
    pub fn parse(&self) -> ParsedEvent {
        let mut out = ParsedEvent::default();
        for line in lines(&self.raw) {
            if line.is_empty() || line[0] == b':' {
                continue;
            }
            let (name, value) = split_field(line);
            let value = String::from_utf8_lossy(value);
            match name {
                b"data" => match &mut out.data {
                    Some(data) => {
                        data.push('\n');
                        data.push_str(&value);
                    }
                    None => out.data = Some(value.into_owned()),
                },
                b"event" => out.event = Some(value.into_owned()),
                b"id" => out.id = Some(value.into_owned()),
                _ => {}
            }
        }
        out
    }

    /// The event type and data without copying in the common single-`data:`-line case
    /// (multi-line data is joined into an owned buffer). Non-UTF-8 event types read as
    /// absent.
    pub fn type_and_data(&self) -> (Option<&str>, std::borrow::Cow<'_, [u8]>) {
        let kind = self.event_name();
        let data = match self.single_data() {
            Some(data) => std::borrow::Cow::Borrowed(data),
            None => std::borrow::Cow::Owned(self.parse().data.unwrap_or_default().into_bytes()),
        };
        (kind, data)
    }

    /// The first `event:` field's value without allocating, when present.
    pub fn event_type(&self) -> Option<&[u8]> {
        self.raw.get(self.fields.kind.clone()?)
    }

    /// `event_type` as text; `None` also when it is not UTF-8 (no format names its
    /// events so, and the taps and decoders read such an event as unnamed).
    pub fn event_name(&self) -> Option<&str> {
        self.event_type().and_then(|t| std::str::from_utf8(t).ok())
    }

    /// The `data` payload without allocating when the event has a single data line
    /// (the common case for LLM streams).
    pub fn single_data(&self) -> Option<&[u8]> {
        self.raw.get(self.fields.data.clone()?)
    }
}

fn split_field(line: &[u8]) -> (&[u8], &[u8]) {
    let (name, value_at) = field(line);
    (name, &line[value_at..])
}

/// A line's field name and where its value starts: after the first colon and one space
/// (the end of the line when there is no colon: the whole line is the name).
fn field(line: &[u8]) -> (&[u8], usize) {
    match memchr::memchr(b':', line) {
        Some(i) => {
            let value_at = i + 1 + usize::from(line.get(i + 1) == Some(&b' '));
            (&line[..i], value_at)
        }
        None => (line, line.len()),
    }
}

/// Splits on CRLF, LF or CR, as the SSE specification allows.
fn lines(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    lines_at(raw).map(|(_, line)| line)
}

/// `lines`, each with where it starts in `raw`.
fn lines_at(raw: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let rest = raw.get(at..).filter(|rest| !rest.is_empty())?;
        let start = at;
        match memchr::memchr2(b'\n', b'\r', rest) {
            Some(i) => {
                let skip = if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                at += i + skip;
                Some((start, &rest[..i]))
            }
            None => {
                at = raw.len();
                Some((start, rest))
            }
        }
    })
}

/// Incremental decoder: `push` bytes, then drain with `next_event` until `Ok(None)`.
#[derive(Debug)]
pub struct SseDecoder {
    buf: BytesMut,
    /// Where the line being scanned starts, relative to `buf`.
    line_start: usize,
    /// The fields of the event being scanned, from its complete lines.
    fields: Fields,
    max_event_bytes: usize,
}

impl SseDecoder {
    pub fn new(max_event_bytes: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            line_start: 0,
            fields: Fields::default(),
            max_event_bytes,
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// True when bytes of an unfinished event are buffered.
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty()
    }

    /// The next complete event, `Ok(None)` when more bytes are needed.
    pub fn next_event(&mut self) -> Result<Option<RawEvent>, SseError> {
        loop {
            let Some(rel) = memchr::memchr2(b'\n', b'\r', &self.buf[self.line_start..]) else {
                return self.check_size().map(|()| None);
            };
            let at = self.line_start + rel;
            let term_len = if self.buf[at] == b'\r' {
                match self.buf.get(at + 1) {
                    // A lone CR at the end may be the first half of CRLF: wait.
                    None => return self.check_size().map(|()| None),
                    Some(b'\n') => 2,
                    Some(_) => 1,
                }
            } else {
                1
            };
            let line_is_empty = at == self.line_start;
            if !line_is_empty {
                self.fields
                    .line(&self.buf[self.line_start..at], self.line_start);
            }
            self.line_start = at + term_len;
            if line_is_empty {
                let raw = self.buf.split_to(self.line_start).freeze();
                self.line_start = 0;
                let fields = std::mem::take(&mut self.fields);
                return Ok(Some(RawEvent { raw, fields }));
            }
        }
    }

    /// Called at end of input: an unterminated trailing event, if any. The SSE spec
    /// discards it; callers decide (a truncated upstream stream is an error for us).
    pub fn finish(&mut self) -> Option<Bytes> {
        if self.buf.is_empty() {
            None
        } else {
            self.line_start = 0;
            self.fields = Fields::default();
            Some(self.buf.split().freeze())
        }
    }

    fn check_size(&self) -> Result<(), SseError> {
        if self.buf.len() > self.max_event_bytes {
            Err(SseError::EventTooLarge {
                limit: self.max_event_bytes,
            })
        } else {
            Ok(())
        }
    }
}

/// Encodes one event. Multi-line data becomes several `data:` lines.
pub fn encode_event(event: Option<&str>, data: &str) -> Bytes {
    let mut out = String::with_capacity(data.len() + 16);
    if let Some(event) = event {
        out.push_str("event: ");
        out.push_str(event);
        out.push('\n');
    }
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(line.strip_suffix('\r').unwrap_or(line));
        out.push('\n');
    }
    out.push('\n');
    Bytes::from(out)
}

#[cfg(test)]
mod tests;
