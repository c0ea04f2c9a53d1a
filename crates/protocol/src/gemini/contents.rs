//! Canonical messages → Gemini `contents`: roles `user`/`model`, text, images, function
//! calls and function responses.
//!
//! Consecutive messages of one role are merged into one turn: Gemini would accept them
//! apart, but it matches a turn of parallel function calls with the *next* turn's
//! function responses, and OpenAI clients send each tool result as its own message.
//! Must never send a part Gemini cannot read back as the client meant it: images in
//! tool results are refused, not dropped.

use super::request::{CACHE_NOTE, note, unsupported};
use super::wire::{Blob, Content, FileData, FunctionCall, FunctionResponse, Part as WirePart};
use crate::canonical::{ChatRequest, ImageSource, Part, Role, TranslateError};
use serde_json::{Map, Value, json};

/// Google's documented stand-in for a thought signature, for function calls Gemini did
/// not sign (another provider's, or Gemini's own after a client dropped the signature).
/// Gemini 3 rejects unsigned function calls in the current turn without it.
const SKIP_SIGNATURE: &str = "skip_thought_signature_validator";

/// Where a part sits in the request, for error paths and tool-name lookups.
struct At<'a> {
    req: &'a ChatRequest,
    message: usize,
    part: usize,
}

impl At<'_> {
    fn param(&self, field: &str) -> String {
        format!("messages[{}].content[{}].{field}", self.message, self.part)
    }
}

pub(super) fn contents(
    req: &ChatRequest,
    notes: &mut Vec<String>,
) -> Result<Vec<Content>, TranslateError> {
    let mut out: Vec<Content> = Vec::with_capacity(req.messages.len());
    for (message, msg) in req.messages.iter().enumerate() {
        let role = match msg.role {
            Role::User => "user",
            Role::Assistant => "model",
        };
        let mut parts = Vec::with_capacity(msg.content.len());
        for (part, p) in msg.content.iter().enumerate() {
            let at = At { req, message, part };
            if let Some(wire) = encode_part(p, &at, notes)? {
                parts.push(wire);
            }
        }
        push_turn(&mut out, role, parts);
    }
    Ok(out)
}

/// Appends to the last turn when it has the same role; skips empty turns (Gemini
/// rejects a content without parts, and dropped thinking can leave one).
fn push_turn(out: &mut Vec<Content>, role: &str, parts: Vec<WirePart>) {
    if parts.is_empty() {
        return;
    }
    match out.last_mut() {
        Some(last) if last.role.as_deref() == Some(role) => last.parts.extend(parts),
        _ => out.push(Content {
            role: Some(role.to_owned()),
            parts,
        }),
    }
}

fn encode_part(
    part: &Part,
    at: &At<'_>,
    notes: &mut Vec<String>,
) -> Result<Option<WirePart>, TranslateError> {
    Ok(match part {
        Part::Text {
            text,
            cache_control,
        } => {
            if cache_control.is_some() {
                note(notes, CACHE_NOTE);
            }
            // Gemini rejects a part without data; an empty text is nothing to say.
            (!text.is_empty()).then(|| WirePart::text(text))
        }
        Part::Image {
            source,
            detail,
            cache_control,
        } => {
            if detail.is_some() {
                note(notes, "dropped image `detail`: not supported by gemini");
            }
            if cache_control.is_some() {
                note(notes, CACHE_NOTE);
            }
            Some(image(source))
        }
        Part::ToolCall {
            id,
            name,
            arguments,
        } => Some(function_call(at, id, name, arguments)?),
        Part::ToolResult {
            call_id,
            name,
            content,
            is_error,
            ..
        } => {
            let response = tool_response(content, *is_error, notes)?;
            Some(function_response(at, call_id, name.as_deref(), response)?)
        }
        Part::Thinking { .. } | Part::RedactedThinking { .. } => {
            note(
                notes,
                "dropped thinking: gemini cannot verify other providers' reasoning",
            );
            None
        }
    })
}

fn function_call(
    at: &At<'_>,
    id: &str,
    name: &str,
    arguments: &str,
) -> Result<WirePart, TranslateError> {
    Ok(WirePart {
        function_call: Some(FunctionCall {
            id: (!id.is_empty()).then(|| id.to_owned()),
            name: name.to_owned(),
            args: Some(arguments_object(arguments, at)?),
        }),
        thought_signature: Some(SKIP_SIGNATURE.to_owned()),
        ..WirePart::default()
    })
}

fn function_response(
    at: &At<'_>,
    call_id: &str,
    name: Option<&str>,
    response: Value,
) -> Result<WirePart, TranslateError> {
    let name = match name {
        Some(name) => name.to_owned(),
        None => tool_name(at, call_id)?,
    };
    Ok(WirePart {
        function_response: Some(FunctionResponse {
            id: (!call_id.is_empty()).then(|| call_id.to_owned()),
            name,
            response,
        }),
        ..WirePart::default()
    })
}

fn image(source: &ImageSource) -> WirePart {
    match source {
        ImageSource::Base64 { media_type, data } => WirePart {
            inline_data: Some(Blob {
                mime_type: media_type.clone(),
                data: data.clone(),
            }),
            ..WirePart::default()
        },
        ImageSource::Url(url) => WirePart {
            file_data: Some(FileData {
                mime_type: Some(mime_from_extension(url).to_owned()),
                file_uri: url.clone(),
            }),
            ..WirePart::default()
        },
    }
}

/// Gemini wants a `mimeType` with every `fileData`; a URL only hints at it by its
/// extension, and JPEG is the likeliest guess for the rest.
fn mime_from_extension(url: &str) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let file = path.rsplit('/').next().unwrap_or(path);
    let ext = file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        Some("heic") => "image/heic",
        Some("heif") => "image/heif",
        _ => "image/jpeg",
    }
}

/// Gemini's `args` is an object; canonical arguments are the model's JSON text.
fn arguments_object(arguments: &str, at: &At<'_>) -> Result<Value, TranslateError> {
    if arguments.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(TranslateError::invalid(
            "tool call arguments must be a JSON object to be sent to gemini",
            Some(&at.param("arguments")),
        )),
    }
}

/// The function a result answers: Gemini needs its name, OpenAI results carry only the
/// call id. The nearest earlier call with that id wins (ids can repeat across turns).
fn tool_name(at: &At<'_>, call_id: &str) -> Result<String, TranslateError> {
    let earlier = at.req.messages.get(..at.message).unwrap_or_default();
    let nearest = earlier
        .iter()
        .rev()
        .flat_map(|m| m.content.iter().rev())
        .find_map(|p| match p {
            Part::ToolCall { id, name, .. } if id == call_id => Some(name.as_str()),
            _ => None,
        });
    nearest
        .or_else(|| at.req.tool_name_for(call_id))
        .map(str::to_owned)
        .ok_or_else(|| {
            TranslateError::invalid(
                format!("tool result for call `{call_id}` has no function name and no earlier tool call has that id; gemini needs the name"),
                Some(&at.param("call_id")),
            )
        })
}

/// Gemini's `response` must be an object: a JSON-object result is sent as itself, other
/// text as `{"content": text}`; errors go under `error`, the key Gemini documents for them.
fn tool_response(
    content: &[Part],
    is_error: bool,
    notes: &mut Vec<String>,
) -> Result<Value, TranslateError> {
    let mut texts = Vec::with_capacity(content.len());
    for part in content {
        match part {
            Part::Text {
                text,
                cache_control,
            } => {
                if cache_control.is_some() {
                    note(notes, CACHE_NOTE);
                }
                texts.push(text.as_str());
            }
            Part::Image { .. } => return Err(unsupported("image in tool result")),
            _ => note(
                notes,
                "dropped non-text tool result content: not supported by gemini",
            ),
        }
    }
    let text = texts.join("\n");
    let object = serde_json::from_str::<Value>(&text)
        .ok()
        .filter(Value::is_object);
    Ok(match (object, is_error) {
        (Some(object), false) => object,
        (Some(object), true) => json!({ "error": object }),
        (None, false) => json!({ "content": text }),
        (None, true) => json!({ "error": text }),
    })
}
