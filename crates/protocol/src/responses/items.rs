//! The output items of a streamed response: opens, fills and closes them, writing each
//! item's events (`response.output_item.added`, its content's `.added`/`.delta`/`.done`,
//! `response.output_item.done`) with the ids and output indexes the final object uses.
//!
//! Items are written one at a time, in output order: a new item closes the open one.
//! Must never write lifecycle events (`response.created`, `.completed`, ...): that is
//! `stream.rs`.

use super::events::{
    ArgsDelta, ArgsDone, ItemEvent, PartEvent, Sink, SummaryPart, SummaryTextEvent, TextEvent,
};
use super::object::{Ids, OutputItem, OutputText, SummaryText, call_item_id};

#[derive(Debug, Default)]
pub(super) struct Items {
    pub(super) sink: Sink,
    /// Every item so far, the open one included, as the final object will show them.
    pub(super) output: Vec<OutputItem>,
    pub(super) ids: Ids,
    open: Option<Open>,
    /// Canonical tool-call index -> output index.
    calls: Vec<(usize, usize)>,
}

/// The item being written, by output index.
#[derive(Debug, Clone, Copy)]
enum Open {
    Message(usize),
    /// `part_open`: a summary part is being written (a thinking block's end closes it).
    Reasoning {
        index: usize,
        part_open: bool,
    },
    Call(usize),
}

impl Items {
    pub(super) fn text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let index = match self.open {
            Some(Open::Message(index)) => index,
            _ => self.open_message(),
        };
        let Some(OutputItem::Message { id, content, .. }) = self.output.get_mut(index) else {
            return;
        };
        if let Some(part) = content.first_mut() {
            part.text.push_str(text);
        }
        let event = TextEvent {
            item_id: id,
            output_index: index,
            content_index: 0,
            delta: Some(text),
            text: None,
            logprobs: [],
        };
        self.sink.emit("response.output_text.delta", event);
    }

    fn open_message(&mut self) -> usize {
        self.close_open("completed");
        let index = self.output.len();
        let id = self.ids.next_message();
        self.output
            .push(OutputItem::message(id.clone(), "in_progress", Vec::new()));
        self.item_event("response.output_item.added", index);
        let part = OutputText::new(String::new());
        let event = PartEvent {
            item_id: &id,
            output_index: index,
            content_index: 0,
            part: &part,
        };
        self.sink.emit("response.content_part.added", event);
        if let Some(OutputItem::Message { content, .. }) = self.output.get_mut(index) {
            content.push(part);
        }
        self.open = Some(Open::Message(index));
        index
    }

    pub(super) fn thinking(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let index = match self.open {
            Some(Open::Reasoning {
                index,
                part_open: true,
            }) => index,
            Some(Open::Reasoning {
                index,
                part_open: false,
            }) => {
                self.open_summary_part(index);
                index
            }
            _ => {
                self.close_open("completed");
                let index = self.output.len();
                let id = self.ids.next_reasoning();
                self.output.push(OutputItem::Reasoning {
                    id,
                    summary: Vec::new(),
                });
                self.item_event("response.output_item.added", index);
                self.open_summary_part(index);
                index
            }
        };
        let Some(OutputItem::Reasoning { id, summary }) = self.output.get_mut(index) else {
            return;
        };
        let summary_index = summary.len().saturating_sub(1);
        if let Some(part) = summary.last_mut() {
            part.text.push_str(text);
        }
        let event = SummaryTextEvent {
            item_id: id,
            output_index: index,
            summary_index,
            delta: Some(text),
            text: None,
        };
        self.sink
            .emit("response.reasoning_summary_text.delta", event);
    }

    fn open_summary_part(&mut self, index: usize) {
        let Some(OutputItem::Reasoning { id, summary }) = self.output.get_mut(index) else {
            return;
        };
        let part = SummaryText::new(String::new());
        let event = SummaryPart {
            item_id: id,
            output_index: index,
            summary_index: summary.len(),
            part: &part,
        };
        self.sink
            .emit("response.reasoning_summary_part.added", event);
        summary.push(part);
        self.open = Some(Open::Reasoning {
            index,
            part_open: true,
        });
    }

    /// Closes the open summary part (a thinking block ended); the item stays open.
    pub(super) fn end_summary_part(&mut self) {
        let Some(Open::Reasoning {
            index,
            part_open: true,
        }) = self.open
        else {
            return;
        };
        self.open = Some(Open::Reasoning {
            index,
            part_open: false,
        });
        let Some(OutputItem::Reasoning { id, summary }) = self.output.get(index) else {
            return;
        };
        let (Some(part), summary_index) = (summary.last(), summary.len().saturating_sub(1)) else {
            return;
        };
        let event = SummaryTextEvent {
            item_id: id,
            output_index: index,
            summary_index,
            delta: None,
            text: Some(&part.text),
        };
        self.sink
            .emit("response.reasoning_summary_text.done", event);
        let event = SummaryPart {
            item_id: id,
            output_index: index,
            summary_index,
            part,
        };
        self.sink
            .emit("response.reasoning_summary_part.done", event);
    }

    pub(super) fn call_start(&mut self, tool_index: usize, call_id: &str, name: &str) {
        self.close_open("completed");
        let index = self.output.len();
        self.output.push(OutputItem::FunctionCall {
            id: call_item_id(call_id),
            call_id: call_id.to_owned(),
            name: name.to_owned(),
            arguments: String::new(),
            status: "in_progress",
        });
        self.item_event("response.output_item.added", index);
        self.calls.push((tool_index, index));
        self.open = Some(Open::Call(index));
    }

    /// Arguments for a call. Canonical decoders send a call's fragments before the next
    /// item starts; a late fragment still reaches the final object (and SDKs that
    /// accumulate by `output_index`), though that call's `done` events went out earlier.
    pub(super) fn call_delta(&mut self, tool_index: usize, fragment: &str) {
        let Some(&(_, index)) = self.calls.iter().find(|(t, _)| *t == tool_index) else {
            return;
        };
        let Some(OutputItem::FunctionCall { id, arguments, .. }) = self.output.get_mut(index)
        else {
            return;
        };
        if fragment.is_empty() {
            return;
        }
        arguments.push_str(fragment);
        let event = ArgsDelta {
            item_id: id,
            output_index: index,
            delta: fragment,
        };
        self.sink
            .emit("response.function_call_arguments.delta", event);
    }

    /// Writes the open item's closing events with `status`.
    pub(super) fn close_open(&mut self, status: &'static str) {
        let Some(open) = self.open.take() else {
            return;
        };
        let index = match open {
            Open::Message(index) | Open::Call(index) => index,
            Open::Reasoning { index, part_open } => {
                if part_open {
                    self.open = Some(open);
                    self.end_summary_part();
                    self.open = None;
                }
                index
            }
        };
        if let Some(item) = self.output.get_mut(index) {
            item.set_status(status);
        }
        self.content_done(index);
        self.item_event("response.output_item.done", index);
    }

    /// The `.done` events of a message's text or a call's arguments.
    fn content_done(&mut self, index: usize) {
        match self.output.get(index) {
            Some(OutputItem::Message { id, content, .. }) => {
                let Some(part) = content.first() else {
                    return;
                };
                let event = TextEvent {
                    item_id: id,
                    output_index: index,
                    content_index: 0,
                    delta: None,
                    text: Some(&part.text),
                    logprobs: [],
                };
                self.sink.emit("response.output_text.done", event);
                let event = PartEvent {
                    item_id: id,
                    output_index: index,
                    content_index: 0,
                    part,
                };
                self.sink.emit("response.content_part.done", event);
            }
            Some(OutputItem::FunctionCall {
                id,
                name,
                arguments,
                ..
            }) => {
                let event = ArgsDone {
                    item_id: id,
                    output_index: index,
                    name,
                    arguments,
                };
                self.sink
                    .emit("response.function_call_arguments.done", event);
            }
            _ => {}
        }
    }

    fn item_event(&mut self, kind: &str, index: usize) {
        if let Some(item) = self.output.get(index) {
            let event = ItemEvent {
                output_index: index,
                item,
            };
            self.sink.emit(kind, event);
        }
    }

    /// Marks the open item cut short, without its closing events (the stream failed).
    pub(super) fn abandon_open(&mut self) {
        if let Some(Open::Message(index) | Open::Call(index) | Open::Reasoning { index, .. }) =
            self.open.take()
            && let Some(item) = self.output.get_mut(index)
        {
            item.set_status("incomplete");
        }
    }
}
