//! Encodes a complete canonical [`ChatResponse`] as a Responses object (the body of a
//! non-streamed `POST /v1/responses`).
//!
//! Output items are grouped the way the stream encoder opens them (consecutive text
//! parts are one message, consecutive thinking parts one reasoning item), so the
//! streamed and non-streamed forms of one answer are equal. Must never add `output_text`:
//! SDKs compute it client-side.

use super::echo::Echo;
use super::object::{
    Ids, OutputItem, OutputText, Snapshot, Status, SummaryText, call_item_id, response_object,
};
use crate::canonical::{ChatRequest, ChatResponse, Part};

/// The response body; `req` is the decoded client request, for the echoed fields.
pub fn encode_response(resp: &ChatResponse, req: &ChatRequest) -> Vec<u8> {
    let echo = Echo::new(req);
    let mut ids = Ids::new(&resp.id);
    let status = Status::from_finish(resp.finish);
    let output = output_items(&resp.content, &mut ids, &status);
    let id = ids.response();
    let snap = Snapshot {
        id: &id,
        model: &resp.model,
        created: resp.created,
        status: &status,
        output: &output,
        usage: resp.usage,
    };
    // Serializing strings, numbers and `Value`s into a Vec cannot fail.
    serde_json::to_vec(&response_object(&echo, &snap)).unwrap_or_default()
}

/// Output items from canonical parts. Images, tool results and redacted thinking have
/// no Responses output form and are skipped (providers do not answer with them).
pub(crate) fn output_items(parts: &[Part], ids: &mut Ids, status: &Status) -> Vec<OutputItem> {
    let mut items: Vec<OutputItem> = Vec::new();
    for part in parts {
        match part {
            Part::Text { text, .. } if !text.is_empty() => push_text(&mut items, ids, text),
            Part::Thinking { text, .. } if !text.is_empty() => push_thinking(&mut items, ids, text),
            Part::ToolCall {
                id,
                name,
                arguments,
            } => items.push(OutputItem::FunctionCall {
                id: call_item_id(id),
                call_id: id.clone(),
                name: name.clone(),
                arguments: arguments.clone(),
                status: "completed",
            }),
            _ => {}
        }
    }
    // The item being written when the model stopped is the one cut short.
    if let Some(last) = items.last_mut() {
        last.set_status(status.item_status());
    }
    items
}

fn push_text(items: &mut Vec<OutputItem>, ids: &mut Ids, text: &str) {
    if let Some(OutputItem::Message { content, .. }) = items.last_mut()
        && let Some(part) = content.last_mut()
    {
        part.text.push_str(text);
        return;
    }
    let id = ids.next_message();
    items.push(OutputItem::message(
        id,
        "completed",
        vec![OutputText::new(text.to_owned())],
    ));
}

fn push_thinking(items: &mut Vec<OutputItem>, ids: &mut Ids, text: &str) {
    if let Some(OutputItem::Reasoning { summary, .. }) = items.last_mut() {
        summary.push(SummaryText::new(text.to_owned()));
        return;
    }
    items.push(OutputItem::Reasoning {
        id: ids.next_reasoning(),
        summary: vec![SummaryText::new(text.to_owned())],
    });
}
