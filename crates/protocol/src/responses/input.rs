//! Decodes a Responses `input` (a string, or a list of items) into canonical system
//! parts and messages.
//!
//! Item mapping: messages by role (`system`/`developer` are hoisted into `system`);
//! consecutive assistant-side items (`reasoning`, assistant `message`, `function_call`)
//! form ONE canonical assistant message, since in Responses they are the items of one
//! model turn; consecutive `function_call_output` items form one user message of tool
//! results. Must never guess at items it cannot translate (files uploaded to OpenAI,
//! references to stored items, hosted tools' calls): those are `Invalid`, naming the path.

use super::wire::{ContentPart, Item, TextOr};
use crate::canonical::{ChatRequest, ImageSource, Message, Part, Role, TranslateError};

/// Appends the decoded `input` to `req.system` and `req.messages`.
pub(crate) fn decode_input(
    input: TextOr<Item>,
    req: &mut ChatRequest,
) -> Result<(), TranslateError> {
    match input {
        TextOr::Text(text) => {
            req.messages.push(Message {
                role: Role::User,
                content: vec![Part::text(text)],
            });
            Ok(())
        }
        TextOr::List(items) => items
            .into_iter()
            .enumerate()
            .try_for_each(|(i, item)| decode_item(&format!("input[{i}]"), item, req)),
    }
}

fn decode_item(at: &str, item: Item, req: &mut ChatRequest) -> Result<(), TranslateError> {
    match item.kind.as_deref() {
        None | Some("message") => decode_message(at, item, req),
        Some("function_call") => decode_function_call(at, item, req),
        Some("function_call_output") => decode_function_output(at, item, req),
        Some("reasoning") => {
            decode_reasoning(item, req);
            Ok(())
        }
        Some("item_reference") => Err(invalid(
            "item_reference is not supported: this gateway does not store responses; send the referenced item itself",
            &format!("{at}.type"),
        )),
        Some(other) => Err(invalid(
            &format!("input item type `{other}` cannot be served by this gateway"),
            &format!("{at}.type"),
        )),
    }
}

fn decode_message(at: &str, item: Item, req: &mut ChatRequest) -> Result<(), TranslateError> {
    let Some(role) = item.role else {
        return Err(invalid(
            "input message is missing `role`",
            &format!("{at}.role"),
        ));
    };
    let Some(content) = item.content else {
        return Err(invalid(
            "input message is missing `content`",
            &format!("{at}.content"),
        ));
    };
    let parts = decode_parts(&format!("{at}.content"), content)?;
    match role.as_str() {
        "system" | "developer" => {
            if let Some(i) = parts.iter().position(|p| p.as_text().is_none()) {
                return Err(invalid(
                    &format!("{role} messages may contain only text"),
                    &format!("{at}.content[{i}].type"),
                ));
            }
            req.system.extend(parts);
        }
        "user" => req.messages.push(Message {
            role: Role::User,
            content: parts,
        }),
        "assistant" => assistant_turn(req).extend(parts),
        other => {
            return Err(invalid(
                &format!(
                    "unknown role `{other}`: expected `user`, `assistant`, `system` or `developer`"
                ),
                &format!("{at}.role"),
            ));
        }
    }
    Ok(())
}

/// The assistant message that assistant-side items join: the last message when it is
/// the assistant's, a new one otherwise.
fn assistant_turn(req: &mut ChatRequest) -> &mut Vec<Part> {
    if req
        .messages
        .last()
        .is_none_or(|m| m.role != Role::Assistant)
    {
        req.messages.push(Message {
            role: Role::Assistant,
            content: Vec::new(),
        });
    }
    let last = req.messages.len() - 1;
    &mut req.messages[last].content
}

fn decode_function_call(at: &str, item: Item, req: &mut ChatRequest) -> Result<(), TranslateError> {
    let id = required(item.call_id, at, "call_id")?;
    let name = required(item.name, at, "name")?;
    // `arguments` is required by the API; an absent one means "no arguments", and
    // providers that parse it need an object.
    let arguments = item
        .arguments
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "{}".to_owned());
    assistant_turn(req).push(Part::ToolCall {
        id,
        name,
        arguments,
    });
    Ok(())
}

fn decode_function_output(
    at: &str,
    item: Item,
    req: &mut ChatRequest,
) -> Result<(), TranslateError> {
    let call_id = required(item.call_id, at, "call_id")?;
    let Some(output) = item.output else {
        return Err(invalid(
            "function_call_output is missing `output`",
            &format!("{at}.output"),
        ));
    };
    let content = decode_parts(&format!("{at}.output"), output)?;
    let name = item
        .name
        .or_else(|| req.tool_name_for(&call_id).map(str::to_owned));
    let result = Part::ToolResult {
        call_id,
        name,
        content,
        is_error: false,
        cache_control: None,
    };
    match req.messages.last_mut() {
        Some(last)
            if last.role == Role::User
                && last
                    .content
                    .iter()
                    .all(|p| matches!(p, Part::ToolResult { .. })) =>
        {
            last.content.push(result);
        }
        _ => req.messages.push(Message {
            role: Role::User,
            content: vec![result],
        }),
    }
    Ok(())
}

/// A reasoning item becomes one `Thinking` part per text: its raw `content` when the
/// client sent it, its `summary` otherwise. `encrypted_content` is dropped: only OpenAI
/// can read it, and no canonical part can carry it to them.
fn decode_reasoning(item: Item, req: &mut ChatRequest) {
    let texts: Vec<String> = match item.content {
        Some(TextOr::List(parts)) if !parts.is_empty() => {
            parts.into_iter().filter_map(|p| p.text).collect()
        }
        Some(TextOr::Text(text)) => vec![text],
        _ => item
            .summary
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.text)
            .collect(),
    };
    let thinking: Vec<Part> = texts
        .into_iter()
        .filter(|t| !t.is_empty())
        .map(|text| Part::Thinking {
            text,
            signature: None,
        })
        .collect();
    if !thinking.is_empty() {
        assistant_turn(req).extend(thinking);
    }
}

fn decode_parts(at: &str, content: TextOr<ContentPart>) -> Result<Vec<Part>, TranslateError> {
    match content {
        TextOr::Text(text) => Ok(vec![Part::text(text)]),
        TextOr::List(parts) => parts
            .into_iter()
            .enumerate()
            .map(|(j, part)| decode_part(&format!("{at}[{j}]"), part))
            .collect(),
    }
}

fn decode_part(at: &str, part: ContentPart) -> Result<Part, TranslateError> {
    match part.kind.as_deref() {
        // Text of either direction is accepted in any message: replayed assistant turns
        // carry `output_text`, hand-written ones often `input_text`.
        Some("input_text" | "output_text" | "text") => {
            Ok(Part::text(required(part.text, at, "text")?))
        }
        // Canonical has no refusal part; the refusal's words are what the model said.
        Some("refusal") => Ok(Part::text(required(
            part.refusal.or(part.text),
            at,
            "refusal",
        )?)),
        Some("input_image") => decode_image(at, part),
        Some("input_file") => Err(invalid(
            "input_file cannot be translated: this gateway does not forward files; send the file's text as input_text",
            &format!("{at}.type"),
        )),
        Some(other) => Err(invalid(
            &format!("content type `{other}` cannot be served by this gateway"),
            &format!("{at}.type"),
        )),
        None => Err(invalid(
            "content part is missing `type`",
            &format!("{at}.type"),
        )),
    }
}

fn decode_image(at: &str, part: ContentPart) -> Result<Part, TranslateError> {
    match (part.image_url, part.file_id) {
        (Some(url), _) if !url.is_empty() => Ok(Part::Image {
            source: ImageSource::from_url(&url),
            detail: part.detail,
            cache_control: None,
        }),
        (_, Some(_)) => Err(invalid(
            "input_image with `file_id` cannot be translated: this gateway cannot read files stored by OpenAI; send `image_url` (an https or data: URL)",
            &format!("{at}.file_id"),
        )),
        _ => Err(invalid(
            "input_image needs `image_url`",
            &format!("{at}.image_url"),
        )),
    }
}

fn required(value: Option<String>, at: &str, field: &str) -> Result<String, TranslateError> {
    value.ok_or_else(|| invalid(&format!("`{field}` is required"), &format!("{at}.{field}")))
}

fn invalid(message: &str, param: &str) -> TranslateError {
    TranslateError::invalid(message, Some(param))
}
