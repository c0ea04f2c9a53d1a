//! Provider streams: Anthropic SSE events into canonical stream events.
//!
//! Tracks open content blocks by Anthropic's index so deltas land on the right kind of
//! content and tool calls get canonical indices counted from 0. Usage accumulates from
//! `message_start` (input split) and `message_delta` (cumulative output, sometimes a
//! fresh input split) and is emitted once, after `Finish`. Blocks of types it does not
//! know (server tools) are skipped with their deltas.
//!
//! Must never panic or trust indices from the peer: everything here is untrusted input.

use super::response::{finish_reason, join_usage};
use super::wire::{InBlock, InUsage};
use super::wire_stream::{InDelta, InEvent, InMessageDelta};
use crate::canonical::{FinishReason, StreamEvent, TranslateError};

const FORMAT: &str = "anthropic";
/// Anthropic keeps one block open at a time; a few more are tolerated.
const MAX_OPEN_BLOCKS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
    /// A tool call, by its canonical index.
    Tool(usize),
    /// A block type with no canonical form; its deltas are dropped.
    Skipped,
}

/// Reads one Anthropic stream.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    started: bool,
    /// `message_stop` or an `error` event was seen.
    ended: bool,
    /// Open blocks by Anthropic index (a handful at most; Anthropic opens one at a time).
    blocks: Vec<(u64, Kind)>,
    next_tool: usize,
    usage: InUsage,
}

impl StreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// One upstream SSE event; the JSON `type` decides, not the `event:` name.
    pub fn decode(
        &mut self,
        event: Option<&str>,
        data: &[u8],
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), TranslateError> {
        if self.ended || data.trim_ascii().is_empty() {
            return Ok(());
        }
        let parsed: InEvent = crate::json::from_bytes(data).map_err(|e| {
            let name = event.unwrap_or("stream");
            TranslateError::upstream(FORMAT, format!("invalid `{name}` event: {e}"))
        })?;
        match parsed {
            InEvent::Ping | InEvent::Other => {}
            InEvent::Error { error } => {
                out.push(StreamEvent::Error {
                    kind: error.kind.unwrap_or_else(|| "api_error".to_owned()),
                    message: error.message.unwrap_or_default(),
                });
                self.ended = true;
            }
            InEvent::MessageStart { message } if !self.started => {
                self.started = true;
                self.usage = message.usage.unwrap_or_default();
                out.push(StreamEvent::Start {
                    id: message.id,
                    model: message.model,
                    created: 0,
                });
            }
            InEvent::MessageStart { .. } => {}
            _ if !self.started => {
                return Err(TranslateError::upstream(
                    FORMAT,
                    "stream content before `message_start`",
                ));
            }
            InEvent::ContentBlockStart {
                index,
                content_block,
            } => self.block_start(index, *content_block, out)?,
            InEvent::ContentBlockDelta { index, delta } => self.block_delta(index, delta, out),
            InEvent::ContentBlockStop { index } => self.blocks.retain(|(i, _)| *i != index),
            InEvent::MessageDelta { delta, usage } => self.message_delta(delta, usage, out),
            InEvent::MessageStop => {
                out.push(StreamEvent::End);
                self.ended = true;
            }
        }
        Ok(())
    }

    /// Upstream EOF: fine after `message_stop` or an error event, an error otherwise.
    pub fn finish(&mut self, _out: &mut Vec<StreamEvent>) -> Result<(), TranslateError> {
        if self.ended {
            Ok(())
        } else {
            Err(TranslateError::upstream(
                FORMAT,
                "stream ended before `message_stop`",
            ))
        }
    }

    /// The stop reason (if any) and the usage so far, after all content.
    fn message_delta(
        &mut self,
        delta: InMessageDelta,
        usage: Option<InUsage>,
        out: &mut Vec<StreamEvent>,
    ) {
        if let Some(usage) = usage {
            self.merge_usage(usage);
        }
        if let Some(reason) = delta.stop_reason {
            out.push(StreamEvent::Finish {
                // An unknown reason is still a stop.
                reason: finish_reason(&reason).unwrap_or(FinishReason::Stop),
                stop_sequence: delta.stop_sequence,
            });
        }
        out.push(StreamEvent::Usage(join_usage(self.usage)));
    }

    fn merge_usage(&mut self, delta: InUsage) {
        let u = &mut self.usage;
        u.output_tokens = delta.output_tokens.or(u.output_tokens);
        u.input_tokens = delta.input_tokens.or(u.input_tokens);
        u.cache_read_input_tokens = delta.cache_read_input_tokens.or(u.cache_read_input_tokens);
        u.cache_creation_input_tokens = delta
            .cache_creation_input_tokens
            .or(u.cache_creation_input_tokens);
    }

    fn open(&mut self, index: u64, kind: Kind) {
        self.blocks.retain(|(i, _)| *i != index);
        // A peer that never closes blocks must not grow this without bound.
        if self.blocks.len() >= MAX_OPEN_BLOCKS {
            self.blocks.remove(0);
        }
        self.blocks.push((index, kind));
    }

    fn block_start(
        &mut self,
        index: u64,
        block: InBlock,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), TranslateError> {
        match block.kind.as_str() {
            "text" => {
                self.open(index, Kind::Text);
                if let Some(text) = block.text.filter(|t| !t.is_empty()) {
                    out.push(StreamEvent::TextDelta { text });
                }
            }
            "thinking" => {
                self.open(index, Kind::Thinking);
                if let Some(text) = block.thinking.filter(|t| !t.is_empty()) {
                    out.push(StreamEvent::ThinkingDelta { text });
                }
                if let Some(signature) = block.signature.filter(|s| !s.is_empty()) {
                    out.push(StreamEvent::ThinkingSignature { signature });
                }
            }
            "redacted_thinking" => {
                self.open(index, Kind::Skipped);
                if let Some(data) = block.data {
                    out.push(StreamEvent::RedactedThinking { data });
                }
            }
            "tool_use" => {
                let (Some(id), Some(name)) = (block.id, block.name) else {
                    return Err(TranslateError::upstream(
                        FORMAT,
                        "tool_use block without `id` or `name`",
                    ));
                };
                let tool = self.next_tool;
                self.next_tool += 1;
                self.open(index, Kind::Tool(tool));
                out.push(StreamEvent::ToolCallStart {
                    index: tool,
                    id,
                    name,
                });
                // Anthropic starts with `{}` and streams the input; anything more up
                // front is the input itself.
                if let Some(input) = block
                    .input
                    .filter(|v| v.as_object().is_none_or(|o| !o.is_empty()))
                {
                    out.push(StreamEvent::ToolCallDelta {
                        index: tool,
                        arguments: input.to_string(),
                    });
                }
            }
            _ => self.open(index, Kind::Skipped),
        }
        Ok(())
    }

    fn block_delta(&mut self, index: u64, delta: InDelta, out: &mut Vec<StreamEvent>) {
        let Some(kind) = self
            .blocks
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, k)| *k)
        else {
            return;
        };
        let event = match (delta.kind.as_str(), kind) {
            ("text_delta", Kind::Text) => delta.text.map(|text| StreamEvent::TextDelta { text }),
            ("thinking_delta", Kind::Thinking) => delta
                .thinking
                .map(|text| StreamEvent::ThinkingDelta { text }),
            ("signature_delta", Kind::Thinking) => delta
                .signature
                .map(|signature| StreamEvent::ThinkingSignature { signature }),
            ("input_json_delta", Kind::Tool(tool)) => delta
                .partial_json
                .filter(|j| !j.is_empty())
                .map(|arguments| StreamEvent::ToolCallDelta {
                    index: tool,
                    arguments,
                }),
            // citations_delta, deltas of skipped blocks, mismatched kinds.
            _ => None,
        };
        out.extend(event);
    }
}
