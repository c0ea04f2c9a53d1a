//! Chat Completions messages → canonical messages, for `translate_request`.
//!
//! OpenAI spreads a conversation over roles (`system`, `developer`, `tool`, ...) where
//! the canonical model uses parts: system text is hoisted into `ChatRequest::system`,
//! tool messages become `ToolResult` parts of one user turn. Must never drop what
//! changes the answer (a message's `name` is the one field left out):
//! what the canonical model cannot carry is refused with its JSON path.

use super::wire::{Content, ContentPart, FunctionCall, WireMessage, WireToolCall};
use crate::canonical::{ChatRequest, ImageSource, Message, Part, Role, TranslateError};
use crate::openai::wire::reasoning_part;

/// Decodes message `i` into `req`. Returns whether the conversation now ends in tool
/// results, so that consecutive tool messages share one user turn.
pub(crate) fn decode_message(
    req: &mut ChatRequest,
    m: WireMessage,
    i: usize,
    after_tool: bool,
) -> Result<bool, TranslateError> {
    if m.function_call.as_ref().is_some_and(|v| !v.is_null()) {
        return Err(invalid(
            "legacy `function_call` cannot be translated; use `tool_calls`",
            format!("messages[{i}].function_call"),
        ));
    }
    match m.role.as_str() {
        "system" | "developer" => {
            let parts = text_parts(m.content, i, "system")?;
            req.system.extend(parts);
            // Hoisted out of the conversation: tool messages around it stay adjacent.
            Ok(after_tool)
        }
        "user" => {
            let content = user_parts(m.content, i)?;
            req.messages.push(Message {
                role: Role::User,
                content,
            });
            Ok(false)
        }
        "assistant" => {
            let content = assistant_parts(m, i)?;
            req.messages.push(Message {
                role: Role::Assistant,
                content,
            });
            Ok(false)
        }
        "tool" => {
            let result = tool_result(req, m, i)?;
            match req.messages.last_mut() {
                Some(last) if after_tool => last.content.push(result),
                _ => req.messages.push(Message {
                    role: Role::User,
                    content: vec![result],
                }),
            }
            Ok(true)
        }
        "function" => Err(invalid(
            "legacy `function` role cannot be translated; use `tool`",
            format!("messages[{i}].role"),
        )),
        other => Err(invalid(
            format!("unknown role `{other}`"),
            format!("messages[{i}].role"),
        )),
    }
}

fn invalid(message: impl Into<String>, param: String) -> TranslateError {
    TranslateError::Invalid {
        message: message.into(),
        param: Some(param),
    }
}

/// Content that may only hold text (system, developer and tool messages).
fn text_parts(content: Option<Content>, i: usize, role: &str) -> Result<Vec<Part>, TranslateError> {
    match content {
        Some(Content::Text(text)) => Ok(vec![Part::text(text)]),
        Some(Content::Parts(parts)) => parts
            .into_iter()
            .enumerate()
            .map(|(j, p)| match p.kind.as_str() {
                "text" => part_text(p.text, i, j).map(Part::text),
                other => Err(invalid(
                    format!("content part type `{other}` is not allowed in {role} messages"),
                    format!("messages[{i}].content[{j}].type"),
                )),
            })
            .collect(),
        None => Err(invalid(
            "`content` is required",
            format!("messages[{i}].content"),
        )),
    }
}

fn part_text(text: Option<String>, i: usize, j: usize) -> Result<String, TranslateError> {
    text.ok_or_else(|| {
        invalid(
            "`text` is required",
            format!("messages[{i}].content[{j}].text"),
        )
    })
}

fn user_parts(content: Option<Content>, i: usize) -> Result<Vec<Part>, TranslateError> {
    let parts = match content {
        Some(Content::Text(text)) => return Ok(vec![Part::text(text)]),
        Some(Content::Parts(parts)) => parts,
        None => {
            return Err(invalid(
                "`content` is required",
                format!("messages[{i}].content"),
            ));
        }
    };
    parts
        .into_iter()
        .enumerate()
        .map(|(j, p)| user_part(p, i, j))
        .collect()
}

fn user_part(p: ContentPart, i: usize, j: usize) -> Result<Part, TranslateError> {
    match p.kind.as_str() {
        "text" => part_text(p.text, i, j).map(Part::text),
        "image_url" => {
            let image = p.image_url.ok_or_else(|| {
                invalid(
                    "`image_url` is required",
                    format!("messages[{i}].content[{j}].image_url"),
                )
            })?;
            Ok(Part::Image {
                source: ImageSource::from_url(&image.url),
                detail: image.detail,
                cache_control: None,
            })
        }
        "input_audio" | "file" => Err(invalid(
            format!("content part type `{}` cannot be translated", p.kind),
            format!("messages[{i}].content[{j}].type"),
        )),
        other => Err(invalid(
            format!("unknown content part type `{other}`"),
            format!("messages[{i}].content[{j}].type"),
        )),
    }
}

/// Reasoning first (it came before the answer), then text and refusal, then tool calls.
fn assistant_parts(mut m: WireMessage, i: usize) -> Result<Vec<Part>, TranslateError> {
    let mut out: Vec<Part> = reasoning_part(&mut m).into_iter().collect();
    match m.content {
        Some(Content::Text(text)) => out.push(Part::text(text)),
        Some(Content::Parts(parts)) => {
            for (j, p) in parts.into_iter().enumerate() {
                let text = match p.kind.as_str() {
                    "text" => part_text(p.text, i, j)?,
                    "refusal" => p.refusal.unwrap_or_default(),
                    other => {
                        return Err(invalid(
                            format!(
                                "content part type `{other}` is not allowed in assistant messages"
                            ),
                            format!("messages[{i}].content[{j}].type"),
                        ));
                    }
                };
                out.push(Part::text(text));
            }
        }
        None => {}
    }
    if let Some(refusal) = m.refusal {
        out.push(Part::text(refusal));
    }
    out.retain(|p| p.as_text() != Some(""));
    for (k, call) in m.tool_calls.unwrap_or_default().into_iter().enumerate() {
        out.push(tool_call(call, i, k)?);
    }
    Ok(out)
}

fn tool_call(call: WireToolCall, i: usize, k: usize) -> Result<Part, TranslateError> {
    match call.function {
        Some(FunctionCall { name, arguments }) if call.kind == "function" => Ok(Part::ToolCall {
            id: call.id,
            name,
            arguments,
        }),
        _ => Err(invalid(
            format!("tool call type `{}` cannot be translated", call.kind),
            format!("messages[{i}].tool_calls[{k}].type"),
        )),
    }
}

fn tool_result(req: &ChatRequest, m: WireMessage, i: usize) -> Result<Part, TranslateError> {
    let call_id = m.tool_call_id.filter(|id| !id.is_empty()).ok_or_else(|| {
        invalid(
            "tool messages need a `tool_call_id`",
            format!("messages[{i}].tool_call_id"),
        )
    })?;
    let content = text_parts(m.content, i, "tool")?;
    Ok(Part::ToolResult {
        name: req.tool_name_for(&call_id).map(str::to_owned),
        call_id,
        content,
        is_error: false,
        cache_control: None,
    })
}
