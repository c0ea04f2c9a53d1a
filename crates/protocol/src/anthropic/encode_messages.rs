//! Canonical messages as Anthropic's, for `request_encode`: roles strictly alternating,
//! tool results first in a turn, images and tool results as Anthropic's blocks, every
//! dropped part that carried something noted.
//!
//! Must never drop a part that changes the answer without refusing instead.

use super::content::{self, out_source};
use super::request_encode::note;
use super::wire::{OutBlock, OutMessage};
use crate::canonical::{Message, Part, Role, TranslateError};

/// Messages as Anthropic requires them: strictly alternating roles (consecutive
/// same-role messages merged, empty ones dropped) and tool results first in a turn.
pub(super) fn messages<'a>(
    messages: &'a [Message],
    notes: &mut Vec<String>,
) -> Result<Vec<OutMessage<'a>>, TranslateError> {
    let mut out: Vec<OutMessage<'a>> = Vec::with_capacity(messages.len());
    for message in messages {
        let role = match message.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        let mut blocks = Vec::with_capacity(message.content.len());
        for part in &message.content {
            if let Some(block) = block(part, notes)? {
                blocks.push(block);
            }
        }
        if blocks.is_empty() {
            note(
                notes,
                "dropped an empty message: anthropic rejects empty content".into(),
            );
            continue;
        }
        match out.last_mut() {
            Some(last) if last.role == role => last.content.append(&mut blocks),
            _ => out.push(OutMessage {
                role,
                content: blocks,
            }),
        }
    }
    for message in out.iter_mut().filter(|m| m.role == "user") {
        // Stable: tool results keep their order, and so does the rest.
        message
            .content
            .sort_by_key(|b| !matches!(b, OutBlock::ToolResult { .. }));
    }
    Ok(out)
}

/// One part as a block; `None` for parts Anthropic would reject and that carry nothing
/// (empty text) or that it cannot verify (thinking without a signature).
fn block<'a>(
    part: &'a Part,
    notes: &mut Vec<String>,
) -> Result<Option<OutBlock<'a>>, TranslateError> {
    Ok(Some(match part {
        Part::Text { text, .. } if text.is_empty() => return Ok(None),
        Part::Text {
            text,
            cache_control,
        } => OutBlock::Text {
            text,
            cache_control: cache_control.as_ref().map(|c| &c.0),
        },
        Part::Image { .. } => return Ok(image(part, notes)),
        Part::ToolCall {
            id,
            name,
            arguments,
        } => OutBlock::ToolUse {
            id,
            name,
            input: content::tool_input(arguments).ok_or_else(|| {
                TranslateError::invalid(
                    format!("arguments of tool call `{id}` ({name}) are not a JSON object"),
                    None,
                )
            })?,
        },
        Part::ToolResult {
            call_id,
            content,
            is_error,
            cache_control,
            ..
        } => OutBlock::ToolResult {
            tool_use_id: call_id,
            content: tool_result_content(content, notes),
            is_error: *is_error,
            cache_control: cache_control.as_ref().map(|c| &c.0),
        },
        Part::Thinking {
            text,
            signature: Some(signature),
        } => OutBlock::Thinking {
            thinking: text,
            signature,
        },
        Part::Thinking {
            signature: None, ..
        } => {
            note(
                notes,
                "dropped unsigned thinking: anthropic accepts only its own signed thinking".into(),
            );
            return Ok(None);
        }
        Part::RedactedThinking { data } => OutBlock::RedactedThinking { data },
    }))
}

fn image<'a>(part: &'a Part, notes: &mut Vec<String>) -> Option<OutBlock<'a>> {
    let Part::Image {
        source,
        detail,
        cache_control,
    } = part
    else {
        return None;
    };
    if detail.is_some() {
        note(
            notes,
            "dropped image `detail`: not supported by anthropic".into(),
        );
    }
    Some(OutBlock::Image {
        source: out_source(source),
        cache_control: cache_control.as_ref().map(|c| &c.0),
    })
}

fn tool_result_content<'a>(parts: &'a [Part], notes: &mut Vec<String>) -> Vec<OutBlock<'a>> {
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        match part {
            Part::Text {
                text,
                cache_control,
            } if !text.is_empty() => out.push(OutBlock::Text {
                text,
                cache_control: cache_control.as_ref().map(|c| &c.0),
            }),
            Part::Image { .. } => out.extend(image(part, notes)),
            Part::Text { .. } => {}
            _ => note(
                notes,
                "dropped a tool result part other than text or image".into(),
            ),
        }
    }
    out
}
