//! The payloads of Responses stream events and their SSE framing: each event is
//! `event: <type>` plus `data: {"type": <type>, ..., "sequence_number": n}`.
//!
//! Must never decide which events to send or in what order (that is `stream.rs` and
//! `items.rs`); it only spells them.

use super::object::{OutputItem, OutputText, ResponseObject, SummaryText};
use crate::sse::encode_event;
use bytes::BytesMut;
use serde::Serialize;

/// Numbers events from 0 and writes them as SSE into a buffer the encoder hands on
/// after each canonical event.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    next: u64,
    buf: BytesMut,
}

impl Sink {
    /// The number the next event will carry.
    pub(crate) fn next_number(&self) -> u64 {
        self.next
    }

    /// Writes an event encoded elsewhere (the `error` event) and counts it.
    pub(crate) fn raw(&mut self, event: &[u8]) {
        self.buf.extend_from_slice(event);
        self.next += 1;
    }

    pub(crate) fn emit<T: Serialize>(&mut self, kind: &str, body: T) {
        let framed = Framed {
            kind,
            body,
            sequence_number: self.next,
        };
        self.next += 1;
        // Payloads are strings, numbers and `Value`s: serializing cannot fail.
        let json = serde_json::to_string(&framed).unwrap_or_default();
        self.buf.extend_from_slice(&encode_event(Some(kind), &json));
    }

    /// Moves what was written so far to `out`.
    pub(crate) fn drain_into(&mut self, out: &mut BytesMut) {
        out.extend_from_slice(&self.buf);
        self.buf.clear();
    }
}

#[derive(Serialize)]
struct Framed<'a, T> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(flatten)]
    body: T,
    sequence_number: u64,
}

/// `response.created`, `response.in_progress`, `response.completed`, ...
#[derive(Serialize)]
pub(crate) struct Lifecycle<'a> {
    pub response: ResponseObject<'a>,
}

/// `response.output_item.added` / `.done`.
#[derive(Serialize)]
pub(crate) struct ItemEvent<'a> {
    pub output_index: usize,
    pub item: &'a OutputItem,
}

/// `response.content_part.added` / `.done`.
#[derive(Serialize)]
pub(crate) struct PartEvent<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    pub content_index: usize,
    pub part: &'a OutputText,
}

/// `response.output_text.delta` (`text` is the delta) / `.done` (the whole text).
#[derive(Serialize)]
pub(crate) struct TextEvent<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    pub content_index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'a str>,
    pub logprobs: [(); 0],
}

/// `response.function_call_arguments.delta`.
#[derive(Serialize)]
pub(crate) struct ArgsDelta<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    pub delta: &'a str,
}

/// `response.function_call_arguments.done`.
#[derive(Serialize)]
pub(crate) struct ArgsDone<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    pub name: &'a str,
    pub arguments: &'a str,
}

/// `response.reasoning_summary_part.added` / `.done`.
#[derive(Serialize)]
pub(crate) struct SummaryPart<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    pub summary_index: usize,
    pub part: &'a SummaryText,
}

/// `response.reasoning_summary_text.delta` (`delta`) / `.done` (`text`).
#[derive(Serialize)]
pub(crate) struct SummaryTextEvent<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    pub summary_index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'a str>,
}
