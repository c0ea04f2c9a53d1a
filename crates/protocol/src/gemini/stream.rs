//! Gemini `streamGenerateContent?alt=sse` → canonical stream events.
//!
//! Each SSE `data:` is one whole `GenerateContentResponse` holding the next slice of
//! the answer; function calls arrive whole, never split. There is no end marker: the
//! stream is over after the chunk with a `finishReason`, so EOF before one is a
//! truncated answer. Must never panic or emit events out of the canonical order,
//! whatever the upstream sends.

use super::error::error_event;
use super::response::{CallIds, Piece, arguments, outcome, parse, piece, response_id, usage};
use super::wire::{Candidate, GenerateContentResponse};
use crate::canonical::{StreamEvent, TranslateError, Usage};

#[derive(Debug, Default)]
pub struct StreamDecoder {
    started: bool,
    /// A finish reason was seen: content is over, usage may still come.
    finished: bool,
    /// `End` was emitted.
    ended: bool,
    /// Gemini reported an error in the stream; nothing after it counts.
    errored: bool,
    ids: CallIds,
    /// The latest usage: Gemini repeats it on every chunk, so it is sent once, at the end.
    usage: Option<Usage>,
}

impl StreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// One upstream SSE event (Gemini sets no `event:` field, so `event` is ignored).
    pub fn decode(
        &mut self,
        _event: Option<&str>,
        data: &[u8],
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), TranslateError> {
        if self.ended || self.errored || data.trim_ascii().is_empty() {
            return Ok(());
        }
        let chunk: GenerateContentResponse = parse(data)?;
        if let Some(status) = &chunk.error {
            self.errored = true;
            out.push(error_event(status));
            return Ok(());
        }
        if !self.started {
            self.start(&chunk, out);
        }
        if let Some(u) = &chunk.usage_metadata {
            self.usage = Some(usage(u));
        }
        if self.finished {
            // A trailing usage-only chunk; content after the finish would break the order.
            if let Some(u) = chunk.usage_metadata.as_ref().map(usage) {
                out.push(StreamEvent::Usage(u));
            }
            return Ok(());
        }
        if let Some(candidate) = chunk.candidate() {
            self.content(candidate, out);
        }
        if let Some(reason) = outcome(&chunk, self.ids.count() > 0) {
            self.finished = true;
            out.push(StreamEvent::Finish {
                reason,
                stop_sequence: None,
            });
            if let Some(u) = self.usage {
                out.push(StreamEvent::Usage(u));
            }
        }
        Ok(())
    }

    /// Upstream EOF: `End` after a finish reason, otherwise the answer was cut short.
    /// After an in-stream error there is nothing more to say.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) -> Result<(), TranslateError> {
        if self.ended || self.errored {
            return Ok(());
        }
        if !self.finished {
            return Err(TranslateError::upstream(
                "gemini",
                "stream ended before a finish reason",
            ));
        }
        self.ended = true;
        out.push(StreamEvent::End);
        Ok(())
    }

    fn start(&mut self, chunk: &GenerateContentResponse, out: &mut Vec<StreamEvent>) {
        self.started = true;
        self.ids = CallIds::new(chunk.response_id.as_deref());
        out.push(StreamEvent::Start {
            id: response_id(chunk.response_id.as_deref()),
            model: chunk.model_version.clone().unwrap_or_default(),
            created: 0,
        });
    }

    fn content(&mut self, candidate: &Candidate, out: &mut Vec<StreamEvent>) {
        let Some(content) = &candidate.content else {
            return;
        };
        for part in &content.parts {
            match piece(part) {
                Some(Piece::Text(text)) => out.push(StreamEvent::TextDelta {
                    text: text.to_owned(),
                }),
                Some(Piece::Thinking(text)) => out.push(StreamEvent::ThinkingDelta {
                    text: text.to_owned(),
                }),
                Some(Piece::Call(call)) => {
                    let (index, id) = self.ids.next(call);
                    out.push(StreamEvent::ToolCallStart {
                        index,
                        id,
                        name: call.name.clone(),
                    });
                    out.push(StreamEvent::ToolCallDelta {
                        index,
                        arguments: arguments(call),
                    });
                }
                None => {}
            }
        }
    }
}
