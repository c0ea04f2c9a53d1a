//! Chat Completions stream chunks ↔ canonical stream events: [`StreamDecoder`] reads an
//! upstream's `data:` events, [`StreamEncoder`] writes them for an OpenAI client.
//!
//! The decoder is lenient where compatible servers differ from OpenAI (finish reason and
//! usage in one chunk, no `[DONE]`, ids repeated on every tool-call fragment) and must
//! never panic: every byte comes from an untrusted upstream.

use super::error::{encode_stream_error, read_kind_and_message};
use super::translate_response::{
    completion_id, finish_from_wire, finish_to_wire, usage_from_wire, usage_to_wire,
};
use super::wire::WireUsage;
use super::wire_stream::{ChatCompletionChunk, ChunkChoice, Delta, DeltaFunction, DeltaToolCall};
use crate::canonical::{
    ChatRequest, FinishReason, ProviderError, StreamEvent, TranslateError, Usage,
};
use bytes::{BufMut, BytesMut};
use std::borrow::Cow;

const FORMAT: &str = "openai";

/// Turns an upstream's chunks into canonical events.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    started: bool,
    finished: bool,
    /// `[DONE]` or an error was seen: later events are ignored.
    closed: bool,
    /// OpenAI's per-call `index` and the id it started with, by canonical ordinal.
    calls: Vec<(u64, String)>,
}

impl StreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// One upstream SSE event.
    pub fn decode(
        &mut self,
        event: Option<&str>,
        data: &[u8],
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), TranslateError> {
        let data = data.trim_ascii();
        if self.closed || data.is_empty() {
            return Ok(());
        }
        if data == b"[DONE]" {
            return self.done(out);
        }
        if event == Some("error") {
            // A named error event may carry the fields at the top level or under `error`.
            let value: serde_json::Value = serde_json::from_slice(data).unwrap_or_default();
            self.error(value.get("error").unwrap_or(&value), out);
            return Ok(());
        }
        let chunk: ChatCompletionChunk = crate::json::from_bytes(data).map_err(|e| {
            TranslateError::upstream(FORMAT, format!("malformed stream chunk: {e}"))
        })?;
        if let Some(error) = &chunk.error {
            self.error(error, out);
            return Ok(());
        }
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: chunk.id.into_owned(),
                model: chunk.model.into_owned(),
                created: chunk.created,
            });
        }
        // Only choice 0 is ever asked for. Content after the finish reason would break
        // the event order encoders rely on; OpenAI never sends any.
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            if !self.finished {
                self.delta(choice.delta, out);
            }
            if let Some(reason) = choice.finish_reason.filter(|_| !self.finished) {
                self.finished = true;
                out.push(StreamEvent::Finish {
                    reason: finish_from_wire(&reason),
                    stop_sequence: None,
                });
            }
        }
        if let Some(Some(usage)) = chunk.usage {
            out.push(StreamEvent::Usage(usage_from_wire(usage)));
        }
        Ok(())
    }

    /// Upstream EOF. Servers that skip `[DONE]` (some Ollama and vLLM versions) still
    /// end cleanly when they sent a finish reason; anything else was cut off.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) -> Result<(), TranslateError> {
        if self.closed {
            return Ok(());
        }
        if self.finished {
            self.closed = true;
            out.push(StreamEvent::End);
            return Ok(());
        }
        Err(TranslateError::upstream(
            FORMAT,
            "the stream ended before a finish reason or [DONE]",
        ))
    }

    fn done(&mut self, out: &mut Vec<StreamEvent>) -> Result<(), TranslateError> {
        if !self.started {
            return Err(TranslateError::upstream(FORMAT, "[DONE] before any chunk"));
        }
        self.closed = true;
        out.push(StreamEvent::End);
        Ok(())
    }

    fn error(&mut self, error: &serde_json::Value, out: &mut Vec<StreamEvent>) {
        self.closed = true;
        let (kind, message) = read_kind_and_message(error);
        out.push(StreamEvent::Error {
            kind: kind.unwrap_or_else(|| "server_error".to_owned()),
            message: message
                .unwrap_or_else(|| "the upstream reported an error mid-stream".to_owned()),
        });
    }

    fn delta(&mut self, delta: Delta, out: &mut Vec<StreamEvent>) {
        if let Some(text) = delta
            .reasoning_content
            .or(delta.reasoning)
            .filter(|t| !t.is_empty())
        {
            out.push(StreamEvent::ThinkingDelta {
                text: text.into_owned(),
            });
        }
        for text in [delta.content, delta.refusal].into_iter().flatten() {
            if !text.is_empty() {
                out.push(StreamEvent::TextDelta {
                    text: text.into_owned(),
                });
            }
        }
        for (position, call) in delta.tool_calls.unwrap_or_default().into_iter().enumerate() {
            self.tool_call(position, call, out);
        }
    }

    /// A fragment with a new id (or for an index not seen yet) starts a call; the rest
    /// carry arguments. Servers that repeat the id on every fragment do not start a new call.
    fn tool_call(&mut self, position: usize, call: DeltaToolCall, out: &mut Vec<StreamEvent>) {
        let wire_index = call.index.unwrap_or(position as u64);
        let id = call.id.filter(|id| !id.is_empty());
        let known = self.calls.iter().rposition(|(i, _)| *i == wire_index);
        let (name, arguments) = match call.function {
            Some(DeltaFunction { name, arguments }) => (name, arguments),
            None => (None, None),
        };
        let index = match (known, id) {
            (Some(k), None) => k,
            (Some(k), Some(id)) if self.calls[k].1 == id => k,
            (_, id) => {
                let index = self.calls.len();
                let id = id.map_or_else(|| format!("call_{index}"), Cow::into_owned);
                self.calls.push((wire_index, id.clone()));
                let name = name.map(Cow::into_owned).unwrap_or_default();
                out.push(StreamEvent::ToolCallStart { index, id, name });
                index
            }
        };
        if let Some(arguments) = arguments.filter(|a| !a.is_empty()) {
            out.push(StreamEvent::ToolCallDelta {
                index,
                arguments: arguments.into_owned(),
            });
        }
    }
}

/// Turns canonical events into OpenAI chunks for a client.
#[derive(Debug)]
pub struct StreamEncoder {
    id: String,
    model: String,
    created: u64,
    include_usage: bool,
    started: bool,
    finished: bool,
    /// After `End` or `Error` nothing more is written.
    closed: bool,
    usage: Option<Usage>,
}

impl StreamEncoder {
    pub fn new(req: &ChatRequest) -> Self {
        Self {
            id: String::new(),
            model: req.model.clone(),
            created: 0,
            include_usage: req.include_usage,
            started: false,
            finished: false,
            closed: false,
            usage: None,
        }
    }

    /// Appends the SSE bytes for one canonical event.
    pub fn encode(&mut self, event: &StreamEvent, out: &mut BytesMut) {
        if self.closed {
            return;
        }
        if let StreamEvent::Start { id, model, created } = event {
            self.id = completion_id(id);
            if !model.is_empty() {
                self.model.clone_from(model);
            }
            self.created = *created;
        }
        if !self.started && !matches!(event, StreamEvent::Error { .. }) {
            self.started = true;
            let first = Delta {
                role: Some("assistant".into()),
                content: Some("".into()),
                ..Delta::default()
            };
            self.chunk(first, None, out);
        }
        match event {
            StreamEvent::Finish { reason, .. } => self.finish(*reason, out),
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Error { kind, message } => {
                self.closed = true;
                out.put_slice(&encode_stream_error(&ProviderError {
                    status: 500,
                    kind: kind.clone(),
                    message: message.clone(),
                    param: None,
                    code: None,
                }));
            }
            StreamEvent::End => self.end(out),
            content => {
                if let Some(delta) = content_delta(content) {
                    self.chunk(delta, None, out);
                }
            }
        }
    }

    fn finish(&mut self, reason: FinishReason, out: &mut BytesMut) {
        if !self.finished {
            self.finished = true;
            self.chunk(Delta::default(), Some(finish_to_wire(reason)), out);
        }
    }

    /// SDK stream helpers expect a finish reason before `[DONE]`: a stream that ended
    /// normally without one gets `stop`.
    fn end(&mut self, out: &mut BytesMut) {
        self.finish(FinishReason::Stop, out);
        self.closed = true;
        if let (true, Some(usage)) = (self.include_usage, self.usage) {
            let mut chunk = self.envelope(Vec::new());
            chunk.usage = Some(Some(usage_to_wire(&usage)));
            write_chunk(&chunk, out);
        }
        out.put_slice(b"data: [DONE]\n\n");
    }

    fn chunk(&self, delta: Delta, finish_reason: Option<&str>, out: &mut BytesMut) {
        let choice = ChunkChoice {
            index: 0,
            delta,
            logprobs: None,
            finish_reason: finish_reason.map(Cow::Borrowed),
        };
        write_chunk(&self.envelope(vec![choice]), out);
    }

    fn envelope<'a>(&'a self, choices: Vec<ChunkChoice<'a>>) -> ChatCompletionChunk<'a> {
        ChatCompletionChunk {
            id: Cow::Borrowed(&self.id),
            object: Cow::Borrowed("chat.completion.chunk"),
            created: self.created,
            model: Cow::Borrowed(&self.model),
            system_fingerprint: None,
            choices,
            usage: self.include_usage.then_some(None::<WireUsage>),
            error: None,
        }
    }
}

/// The delta of a content event; `None` for events OpenAI has no form for
/// (signatures, redacted thinking) and for the ones that are not content.
fn content_delta(event: &StreamEvent) -> Option<Delta<'_>> {
    let delta = match event {
        StreamEvent::TextDelta { text } => Delta {
            content: Some(text.into()),
            ..Delta::default()
        },
        StreamEvent::ThinkingDelta { text } => Delta {
            reasoning_content: Some(text.into()),
            ..Delta::default()
        },
        StreamEvent::ToolCallStart { index, id, name } => tool_call_delta(DeltaToolCall {
            index: Some(*index as u64),
            id: Some(id.into()),
            kind: Some("function".into()),
            function: Some(DeltaFunction {
                name: Some(name.into()),
                arguments: Some("".into()),
            }),
        }),
        StreamEvent::ToolCallDelta { index, arguments } => tool_call_delta(DeltaToolCall {
            index: Some(*index as u64),
            function: Some(DeltaFunction {
                name: None,
                arguments: Some(arguments.into()),
            }),
            ..DeltaToolCall::default()
        }),
        _ => return None,
    };
    Some(delta)
}

fn tool_call_delta(call: DeltaToolCall<'_>) -> Delta<'_> {
    Delta {
        tool_calls: Some(vec![call]),
        ..Delta::default()
    }
}

/// `data: <json>\n\n`. Serialized JSON holds no raw newline, so one data line suffices.
fn write_chunk(chunk: &ChatCompletionChunk, out: &mut BytesMut) {
    out.put_slice(b"data: ");
    let mut writer = out.writer();
    // Strings and numbers only: serializing cannot fail.
    let _ = serde_json::to_writer(&mut writer, chunk);
    let out = writer.into_inner();
    out.put_slice(b"\n\n");
}
