//! The answer assembler: a transform that reads a streamed answer's canonical events and
//! keeps the answer as a whole (text, thinking, tool calls, finish), for the journal's
//! `bodies = true`. It only reads: the events go on unchanged.
//!
//! Must never hold more than `MAX_ANSWER_BYTES`: past it the answer is cut and marked.

use serde::Serialize;
use sluice_protocol::canonical::{FinishReason, StreamEvent};

/// The most of an answer the journal keeps.
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

#[derive(Debug, Default, Serialize)]
pub struct Assembler {
    text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    thinking: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCall>,
    finish: Option<FinishReason>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    truncated: bool,
    #[serde(skip)]
    held: usize,
}

#[derive(Debug, Default, Serialize)]
struct ToolCall {
    id: String,
    name: String,
    arguments: String,
}

impl Assembler {
    pub fn read(&mut self, events: &[StreamEvent]) {
        for event in events {
            match event {
                StreamEvent::TextDelta { text } => {
                    if self.room(text.len()) {
                        self.text.push_str(text);
                    }
                }
                StreamEvent::ThinkingDelta { text } => {
                    if self.room(text.len()) {
                        self.thinking.push_str(text);
                    }
                }
                StreamEvent::ToolCallStart { id, name, .. } => {
                    if self.room(id.len() + name.len()) {
                        self.tool_calls.push(ToolCall {
                            id: id.clone(),
                            name: name.clone(),
                            arguments: String::new(),
                        });
                    }
                }
                StreamEvent::ToolCallDelta { index, arguments } => {
                    if self.room(arguments.len())
                        && let Some(call) = self.tool_calls.get_mut(*index)
                    {
                        call.arguments.push_str(arguments);
                    }
                }
                StreamEvent::Finish { reason, .. } => self.finish = Some(*reason),
                StreamEvent::Start { .. }
                | StreamEvent::ThinkingSignature { .. }
                | StreamEvent::RedactedThinking { .. }
                | StreamEvent::Usage(_)
                | StreamEvent::Error { .. }
                | StreamEvent::End => {}
            }
        }
    }

    fn room(&mut self, n: usize) -> bool {
        if self.held + n > MAX_ANSWER_BYTES {
            self.truncated = true;
            return false;
        }
        self.held += n;
        true
    }

    /// The answer so far, as JSON.
    pub fn answer(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assembles_text_and_tool_calls_and_stops_at_the_cap() {
        let mut a = Assembler::default();
        a.read(&[
            StreamEvent::TextDelta { text: "Hel".into() },
            StreamEvent::TextDelta { text: "lo".into() },
            StreamEvent::ToolCallStart {
                index: 0,
                id: "c1".into(),
                name: "f".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                arguments: "{\"a\":1}".into(),
            },
            StreamEvent::Finish {
                reason: FinishReason::ToolCalls,
                stop_sequence: None,
            },
        ]);
        let answer: serde_json::Value = serde_json::from_str(&a.answer()).unwrap_or_default();
        assert_eq!(answer["text"], "Hello");
        assert_eq!(answer["tool_calls"][0]["arguments"], "{\"a\":1}");
        a.read(&[StreamEvent::TextDelta {
            text: "x".repeat(MAX_ANSWER_BYTES),
        }]);
        let answer: serde_json::Value = serde_json::from_str(&a.answer()).unwrap_or_default();
        assert_eq!(answer["truncated"], true);
        assert_eq!(answer["text"], "Hello");
    }
}
