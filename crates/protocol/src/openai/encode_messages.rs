//! Canonical messages → Chat Completions messages, for `translate_request`.
//!
//! The reverse of `decode_messages`: system parts become one leading `system` message,
//! `ToolResult` parts become `tool` messages placed right after the assistant turn that
//! asked for them (OpenAI requires it). Must never send what compatible servers reject
//! (thinking blocks, cache markers); each kind of drop is named once in `notes`.

use super::wire::{Content, ContentPart, ImageUrl, WireMessage, WireToolCall};
use crate::canonical::{ChatRequest, ImageSource, Message, Part, Role, TranslateError};

const TARGET: &str = "openai";

/// What the encoder dropped, noted once per request rather than once per part.
#[derive(Default)]
struct Dropped {
    thinking: bool,
    redacted_thinking: bool,
    tool_images: bool,
    tool_errors: bool,
}

/// The OpenAI messages for `req`: one system message, then the conversation.
pub(crate) fn encode_messages(
    req: &ChatRequest,
    notes: &mut Vec<String>,
) -> Result<Vec<WireMessage>, TranslateError> {
    let mut out = Vec::with_capacity(req.messages.len() + 1);
    let mut dropped = Dropped::default();
    if !req.system.is_empty() {
        let text: Vec<&str> = req.system.iter().filter_map(Part::as_text).collect();
        out.push(message("system", Some(Content::Text(text.join("\n\n")))));
    }
    for m in &req.messages {
        match m.role {
            Role::User => encode_user(m, &mut out, &mut dropped)?,
            Role::Assistant => out.push(encode_assistant(m, &mut dropped)?),
        }
    }
    dropped.into_notes(notes);
    Ok(out)
}

impl Dropped {
    fn into_notes(self, notes: &mut Vec<String>) {
        let all = [
            (
                self.thinking,
                "dropped thinking blocks from assistant turns: openai-compatible servers reject them in requests",
            ),
            (
                self.redacted_thinking,
                "dropped `redacted_thinking` blocks: only anthropic can read them",
            ),
            (
                self.tool_images,
                "moved images of tool results into a following user message: openai tool messages carry text only",
            ),
            (
                self.tool_errors,
                "dropped the error flag of tool results (`is_error`): openai tool messages have none",
            ),
        ];
        notes.extend(
            all.into_iter()
                .filter(|(hit, _)| *hit)
                .map(|(_, note)| note.to_owned()),
        );
    }
}

fn message(role: &str, content: Option<Content>) -> WireMessage {
    WireMessage {
        role: role.to_owned(),
        content,
        ..WireMessage::default()
    }
}

/// Whether any prompt-caching marker is set (system, messages, tool results, tools).
pub(crate) fn uses_cache_control(req: &ChatRequest) -> bool {
    let messages = req.messages.iter().flat_map(|m| &m.content);
    req.system.iter().chain(messages).any(has_cache_control)
        || req.tools.iter().any(|t| t.cache_control.is_some())
}

fn has_cache_control(p: &Part) -> bool {
    match p {
        Part::Text { cache_control, .. } | Part::Image { cache_control, .. } => {
            cache_control.is_some()
        }
        Part::ToolResult {
            cache_control,
            content,
            ..
        } => cache_control.is_some() || content.iter().any(has_cache_control),
        _ => false,
    }
}

/// Tool results first, as `tool` messages (they must follow the assistant's calls),
/// then one user message with the rest, led by any images the tool results held.
fn encode_user(
    m: &Message,
    out: &mut Vec<WireMessage>,
    dropped: &mut Dropped,
) -> Result<(), TranslateError> {
    let mut images = Vec::new();
    let mut rest = Vec::new();
    for part in &m.content {
        match part {
            Part::Text { text, .. } => rest.push(text_part(text)),
            Part::Image { source, detail, .. } => rest.push(image_part(source, detail)),
            Part::ToolResult {
                call_id,
                content,
                is_error,
                ..
            } => {
                dropped.tool_errors |= *is_error;
                let text: Vec<&str> = content.iter().filter_map(Part::as_text).collect();
                for p in content {
                    if let Part::Image { source, detail, .. } = p {
                        dropped.tool_images = true;
                        images.push(image_part(source, detail));
                    }
                }
                let mut tool = message("tool", Some(Content::Text(text.join("\n\n"))));
                tool.tool_call_id = Some(call_id.clone());
                out.push(tool);
            }
            Part::Thinking { .. } => dropped.thinking = true,
            Part::RedactedThinking { .. } => dropped.redacted_thinking = true,
            Part::ToolCall { .. } => {
                return Err(TranslateError::unsupported(
                    "tool call in a user message",
                    TARGET,
                ));
            }
        }
    }
    images.append(&mut rest);
    let content = match images.as_slice() {
        [] => return Ok(()),
        [
            ContentPart {
                kind,
                text: Some(text),
                ..
            },
        ] if kind == "text" => Content::Text(text.clone()),
        _ => Content::Parts(images),
    };
    out.push(message("user", Some(content)));
    Ok(())
}

fn text_part(text: &str) -> ContentPart {
    ContentPart {
        kind: "text".to_owned(),
        text: Some(text.to_owned()),
        ..ContentPart::default()
    }
}

fn image_part(source: &ImageSource, detail: &Option<String>) -> ContentPart {
    ContentPart {
        kind: "image_url".to_owned(),
        image_url: Some(ImageUrl {
            url: source.to_url(),
            detail: detail.clone(),
        }),
        ..ContentPart::default()
    }
}

/// Text parts are concatenated as they are: they are usually one answer split by a stream.
fn encode_assistant(m: &Message, dropped: &mut Dropped) -> Result<WireMessage, TranslateError> {
    let mut text = String::new();
    let mut calls = Vec::new();
    for part in &m.content {
        match part {
            Part::Text { text: t, .. } => text.push_str(t),
            Part::ToolCall {
                id,
                name,
                arguments,
            } => calls.push(WireToolCall::function(id, name, arguments)),
            Part::Thinking { .. } => dropped.thinking = true,
            Part::RedactedThinking { .. } => dropped.redacted_thinking = true,
            Part::Image { .. } => {
                return Err(TranslateError::unsupported(
                    "image in an assistant message",
                    TARGET,
                ));
            }
            Part::ToolResult { .. } => {
                return Err(TranslateError::unsupported(
                    "tool result in an assistant message",
                    TARGET,
                ));
            }
        }
    }
    // OpenAI wants `null` content beside tool calls and a string otherwise.
    let content = (!text.is_empty() || calls.is_empty()).then_some(Content::Text(text));
    let mut wire = message("assistant", content);
    wire.tool_calls = (!calls.is_empty()).then_some(calls);
    Ok(wire)
}
