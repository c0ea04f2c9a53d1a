//! Ingress streams: canonical stream events as Anthropic's SSE events.
//!
//! A state machine over content blocks: a block opens when the kind of content changes
//! (text, thinking, one tool call, the next tool call) and closes before the next one,
//! as Anthropic never interleaves blocks. `message_delta` and `message_stop` wait for
//! `End`, because canonical usage may follow `Finish`. `message_start` goes out before
//! usage is known, so it reports 0 input tokens; the final `message_delta` carries the
//! full usage (SDK accumulators take input counts from it when present).
//!
//! Must never write anything after an `error` event or after `message_stop`.

use super::error::stream_error_kind;
use super::response::{message_id, split_usage, stop_reason};
use super::wire::{
    Empty, OutBlock, OutErrorBody, OutErrorDetail, OutResponse, OutUsage, ToolInput,
};
use super::wire_stream::{OutDelta, OutDeltaUsage, OutEvent, OutMessageDelta};
use crate::canonical::{ChatRequest, FinishReason, StreamEvent, Usage};
use bytes::{BufMut, BytesMut};
use serde::Serialize;

/// What the open content block holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
    /// A tool call, by its canonical index.
    Tool(usize),
}

/// Writes one Anthropic stream for one response.
#[derive(Debug)]
pub struct StreamEncoder {
    id: String,
    model: String,
    started: bool,
    done: bool,
    /// The open block: its Anthropic index and kind.
    open: Option<(usize, Kind)>,
    next_index: usize,
    pinged: bool,
    saw_tool_call: bool,
    finish: Option<(FinishReason, Option<String>)>,
    usage: Option<Usage>,
}

impl StreamEncoder {
    pub fn new(req: &ChatRequest) -> Self {
        Self {
            id: "msg_sluice".to_owned(),
            model: req.model.clone(),
            started: false,
            done: false,
            open: None,
            next_index: 0,
            pinged: false,
            saw_tool_call: false,
            finish: None,
            usage: None,
        }
    }

    /// Appends the SSE events for one canonical event.
    pub fn encode(&mut self, event: &StreamEvent, out: &mut BytesMut) {
        if self.done {
            return;
        }
        match event {
            StreamEvent::Start { id, model, .. } => self.start(id, model, out),
            StreamEvent::TextDelta { text } if text.is_empty() => {}
            StreamEvent::TextDelta { text } => {
                let index = self.open_block(Kind::Text, out);
                delta(index, OutDelta::TextDelta { text }, out);
            }
            StreamEvent::ThinkingDelta { text } => {
                let index = self.open_block(Kind::Thinking, out);
                if !text.is_empty() {
                    delta(index, OutDelta::ThinkingDelta { thinking: text }, out);
                }
            }
            StreamEvent::ThinkingSignature { signature } => {
                let index = self.open_block(Kind::Thinking, out);
                delta(index, OutDelta::SignatureDelta { signature }, out);
            }
            StreamEvent::RedactedThinking { data } => self.redacted(data, out),
            StreamEvent::ToolCallStart { index, id, name } => {
                self.tool_start(*index, id, name, out)
            }
            StreamEvent::ToolCallDelta { index, arguments } => {
                // Anthropic cannot reopen a closed block, so fragments of a tool call
                // other than the open one (interleaved calls) have nowhere to go.
                if let Some((block, Kind::Tool(open))) = self.open
                    && open == *index
                    && !arguments.is_empty()
                {
                    delta(
                        block,
                        OutDelta::InputJsonDelta {
                            partial_json: arguments,
                        },
                        out,
                    );
                }
            }
            StreamEvent::Finish {
                reason,
                stop_sequence,
            } => {
                self.ensure_started(out);
                self.close(out);
                self.finish = Some((*reason, stop_sequence.clone()));
            }
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Error { kind, message } => {
                out.extend_from_slice(&error_event(stream_error_kind(kind), message));
                self.done = true;
            }
            StreamEvent::End => self.end(out),
        }
    }

    fn start(&mut self, id: &str, model: &str, out: &mut BytesMut) {
        if self.started {
            return;
        }
        self.id = message_id(id);
        if !model.is_empty() {
            model.clone_into(&mut self.model);
        }
        self.ensure_started(out);
    }

    /// Redacted thinking arrives whole: a block that opens and closes at once.
    fn redacted(&mut self, data: &str, out: &mut BytesMut) {
        self.ensure_started(out);
        self.close(out);
        let index = self.begin(OutBlock::RedactedThinking { data }, out);
        write(&OutEvent::ContentBlockStop { index }, out);
    }

    fn ensure_started(&mut self, out: &mut BytesMut) {
        if self.started {
            return;
        }
        self.started = true;
        let usage = self
            .usage
            .as_ref()
            .map(split_usage)
            .map_or(OutUsage::default(), |u| OutUsage {
                output_tokens: 0,
                ..u
            });
        let message = OutResponse {
            id: self.id.clone(),
            kind: "message",
            role: "assistant",
            model: &self.model,
            content: Vec::new(),
            stop_reason: None,
            stop_sequence: None,
            usage,
        };
        write(&OutEvent::MessageStart { message }, out);
    }

    /// Opens a text or thinking block unless one of that kind is open; returns its index.
    fn open_block(&mut self, kind: Kind, out: &mut BytesMut) -> usize {
        self.ensure_started(out);
        if let Some((index, open)) = self.open
            && open == kind
        {
            return index;
        }
        self.close(out);
        let block = match kind {
            Kind::Thinking => OutBlock::Thinking {
                thinking: "",
                signature: "",
            },
            // Tool blocks open in `tool_start`, with their id and name.
            Kind::Text | Kind::Tool(_) => OutBlock::Text {
                text: "",
                cache_control: None,
            },
        };
        let index = self.begin(block, out);
        self.open = Some((index, kind));
        index
    }

    fn tool_start(&mut self, tool: usize, id: &str, name: &str, out: &mut BytesMut) {
        self.ensure_started(out);
        self.close(out);
        let block = OutBlock::ToolUse {
            id,
            name,
            input: ToolInput::Empty(Empty {}),
        };
        let index = self.begin(block, out);
        self.open = Some((index, Kind::Tool(tool)));
        self.saw_tool_call = true;
    }

    /// Writes `content_block_start` (and the first `ping`, as Anthropic does).
    fn begin(&mut self, block: OutBlock<'_>, out: &mut BytesMut) -> usize {
        let index = self.next_index;
        self.next_index += 1;
        write(
            &OutEvent::ContentBlockStart {
                index,
                content_block: block,
            },
            out,
        );
        if !self.pinged {
            self.pinged = true;
            write(&OutEvent::Ping, out);
        }
        index
    }

    fn close(&mut self, out: &mut BytesMut) {
        if let Some((index, _)) = self.open.take() {
            write(&OutEvent::ContentBlockStop { index }, out);
        }
    }

    fn end(&mut self, out: &mut BytesMut) {
        self.ensure_started(out);
        self.close(out);
        // A provider that never said why it stopped: infer from what it sent.
        let (reason, stop_sequence) = self.finish.take().unwrap_or(if self.saw_tool_call {
            (FinishReason::ToolCalls, None)
        } else {
            (FinishReason::Stop, None)
        });
        let usage = match &self.usage {
            Some(usage) => {
                let split = split_usage(usage);
                OutDeltaUsage {
                    input_tokens: Some(split.input_tokens),
                    cache_creation_input_tokens: Some(split.cache_creation_input_tokens),
                    cache_read_input_tokens: Some(split.cache_read_input_tokens),
                    output_tokens: split.output_tokens,
                }
            }
            None => OutDeltaUsage::default(),
        };
        let delta = OutMessageDelta {
            stop_reason: Some(stop_reason(reason)),
            stop_sequence: stop_sequence.as_deref(),
        };
        write(&OutEvent::MessageDelta { delta, usage }, out);
        write(&OutEvent::MessageStop, out);
        self.done = true;
    }
}

fn delta(index: usize, delta: OutDelta<'_>, out: &mut BytesMut) {
    write(&OutEvent::ContentBlockDelta { index, delta }, out);
}

fn write(event: &OutEvent<'_>, out: &mut BytesMut) {
    let name = match event {
        OutEvent::MessageStart { .. } => "message_start",
        OutEvent::ContentBlockStart { .. } => "content_block_start",
        OutEvent::Ping => "ping",
        OutEvent::ContentBlockDelta { .. } => "content_block_delta",
        OutEvent::ContentBlockStop { .. } => "content_block_stop",
        OutEvent::MessageDelta { .. } => "message_delta",
        OutEvent::MessageStop => "message_stop",
    };
    write_sse(name, event, out);
}

/// `event: <name>\ndata: <json>\n\n`; serde_json escapes newlines, so one data line.
fn write_sse<T: Serialize>(name: &str, data: &T, out: &mut BytesMut) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    // Serializing strings and numbers into memory cannot fail.
    let _ = serde_json::to_writer((&mut *out).writer(), data);
    out.extend_from_slice(b"\n\n");
}

/// One `error` SSE event.
pub fn error_event(kind: &str, message: &str) -> BytesMut {
    let body = OutErrorBody {
        kind: "error",
        error: OutErrorDetail { kind, message },
    };
    let mut out = BytesMut::new();
    write_sse("error", &body, &mut out);
    out
}
