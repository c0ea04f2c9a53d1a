//! Decodes a Responses request body into a canonical [`ChatRequest`]: the top-level
//! members, tools, tool choice and output format (`input` items are `input.rs`'s job).
//!
//! Must never accept silently what it cannot serve: features that need state stored by
//! OpenAI (`previous_response_id`, `conversation`, `prompt`, `background`) and OpenAI's
//! hosted tools are refused with `Invalid` naming the field, never dropped.

use super::input;
use super::wire::{FormatWire, KNOWN_FIELDS, RequestWire, TextConfig, ToolChoiceWire, ToolWire};
use crate::canonical::{
    ChatRequest, Format, ReasoningConfig, ResponseFormat, Tool, ToolChoice, TranslateError,
};
use serde_json::{Map, Value};

/// Decodes `POST /v1/responses`. `Invalid { message, param }` names the offending field
/// as a JSON path (`input[2].content[0].type`).
pub fn decode_request(body: &[u8]) -> Result<ChatRequest, TranslateError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        TranslateError::invalid(format!("request body is not valid JSON: {e}"), None)
    })?;
    let Value::Object(map) = value else {
        return Err(TranslateError::invalid(
            "request body must be a JSON object",
            None,
        ));
    };
    // Unknown members go to `extra`; the rest is deserialized by value, so large
    // strings (base64 images) move instead of being copied.
    let (known, mut extra): (Map<String, Value>, Map<String, Value>) = map
        .into_iter()
        .partition(|(key, _)| KNOWN_FIELDS.contains(&key.as_str()));
    // `null` means "not set": keeping it would only produce notes about dropping nothing.
    extra.retain(|_, value| !value.is_null());
    let wire = parse_wire(Value::Object(known))?;
    refuse_stored_state(&wire)?;

    let mut req = ChatRequest::new(wire.model, Format::OpenAiResponses);
    if let Some(text) = wire.instructions.filter(|t| !t.is_empty()) {
        req.system.push(crate::canonical::Part::text(text));
    }
    if let Some(items) = wire.input {
        input::decode_input(items, &mut req)?;
    }
    req.tools = decode_tools(wire.tools.unwrap_or_default())?;
    req.tool_choice = wire.tool_choice.map(decode_tool_choice).transpose()?;
    req.parallel_tool_calls = wire.parallel_tool_calls;
    req.max_tokens = wire.max_output_tokens;
    req.temperature = wire.temperature;
    req.top_p = wire.top_p;
    req.response_format = wire.text.map(decode_text).transpose()?.flatten();
    // A reasoning object without an effort only asks for summaries; it must not switch
    // thinking on for providers where thinking is opt-in.
    req.reasoning = wire
        .reasoning
        .and_then(|r| r.effort)
        .map(|effort| ReasoningConfig {
            effort: Some(effort),
            budget_tokens: None,
        });
    req.stream = wire.stream.unwrap_or(false);
    // Responses always reports usage, streamed or not.
    req.include_usage = true;
    req.user = wire.user;
    req.extra = extra;
    Ok(req)
}

fn parse_wire(value: Value) -> Result<RequestWire, TranslateError> {
    let wire: Result<RequestWire, _> = serde_path_to_error::deserialize(value);
    wire.map_err(|e| {
        let message = e.inner().to_string();
        let mut path = e.path().to_string();
        if path == "." {
            path.clear();
        }
        // serde reports a missing member at its parent; the client wants the member.
        if let Some(field) = missing_field(&message) {
            path = if path.is_empty() {
                field.to_owned()
            } else {
                format!("{path}.{field}")
            };
        }
        TranslateError::invalid(message, (!path.is_empty()).then_some(path.as_str()))
    })
}

fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

fn refuse_stored_state(wire: &RequestWire) -> Result<(), TranslateError> {
    let refuse = |param: &str, message: &str| Err(TranslateError::invalid(message, Some(param)));
    if wire
        .previous_response_id
        .as_ref()
        .is_some_and(|v| !v.is_null())
    {
        return refuse(
            "previous_response_id",
            "previous_response_id is not supported: this gateway does not store responses; send the full conversation in `input`",
        );
    }
    if wire.conversation.as_ref().is_some_and(|v| !v.is_null()) {
        return refuse(
            "conversation",
            "conversation is not supported: this gateway does not store conversations; send the full conversation in `input`",
        );
    }
    if wire.prompt.as_ref().is_some_and(|v| !v.is_null()) {
        return refuse(
            "prompt",
            "prompt is not supported: this gateway cannot read prompt templates stored by OpenAI; send the instructions and input instead",
        );
    }
    if wire.background == Some(true) {
        return refuse(
            "background",
            "background is not supported: this gateway does not store responses to poll later; send the request without `background`",
        );
    }
    Ok(())
}

fn decode_tools(tools: Vec<ToolWire>) -> Result<Vec<Tool>, TranslateError> {
    tools
        .into_iter()
        .enumerate()
        .map(|(i, t)| decode_tool(i, t))
        .collect()
}

fn decode_tool(i: usize, tool: ToolWire) -> Result<Tool, TranslateError> {
    let kind = tool.kind.as_deref().unwrap_or("");
    if kind != "function" {
        let message = if kind.is_empty() {
            "tool is missing `type`".to_owned()
        } else {
            format!("tool type `{kind}` cannot be served by this gateway")
        };
        return Err(TranslateError::invalid(
            message,
            Some(&format!("tools[{i}].type")),
        ));
    }
    let Some(name) = tool.name.filter(|n| !n.is_empty()) else {
        return Err(TranslateError::invalid(
            "function tool is missing `name`",
            Some(&format!("tools[{i}].name")),
        ));
    };
    Ok(Tool {
        name,
        description: tool.description,
        // `parameters: null` means a function without arguments; canonical tools always
        // carry an object schema.
        parameters: tool
            .parameters
            .filter(|p| !p.is_null())
            .unwrap_or_else(|| serde_json::json!({"type": "object", "properties": {}})),
        strict: tool.strict,
        cache_control: None,
    })
}

fn decode_tool_choice(choice: ToolChoiceWire) -> Result<ToolChoice, TranslateError> {
    match choice {
        ToolChoiceWire::Mode(mode) => match mode.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Required),
            other => Err(TranslateError::invalid(
                format!(
                    "unknown tool_choice `{other}`: expected `auto`, `none`, `required` or a function"
                ),
                Some("tool_choice"),
            )),
        },
        ToolChoiceWire::Object(object) => match (object.kind.as_deref(), object.name) {
            (Some("function"), Some(name)) if !name.is_empty() => Ok(ToolChoice::Tool(name)),
            (Some("function"), _) => Err(TranslateError::invalid(
                "tool_choice of type `function` is missing `name`",
                Some("tool_choice.name"),
            )),
            (Some(kind), _) => Err(TranslateError::invalid(
                format!("tool_choice type `{kind}` cannot be served by this gateway"),
                Some("tool_choice.type"),
            )),
            (None, _) => Err(TranslateError::invalid(
                "tool_choice is missing `type`",
                Some("tool_choice.type"),
            )),
        },
    }
}

/// `text.format`; `None` when the client did not pick one.
fn decode_text(text: TextConfig) -> Result<Option<ResponseFormat>, TranslateError> {
    text.format.map(decode_format).transpose()
}

fn decode_format(format: FormatWire) -> Result<ResponseFormat, TranslateError> {
    match format.kind.as_deref() {
        Some("text") => Ok(ResponseFormat::Text),
        Some("json_object") => Ok(ResponseFormat::JsonObject),
        Some("json_schema") => {
            let Some(schema) = format.schema.filter(|s| s.is_object()) else {
                return Err(TranslateError::invalid(
                    "text.format of type `json_schema` needs an object `schema`",
                    Some("text.format.schema"),
                ));
            };
            let Some(name) = format.name.filter(|n| !n.is_empty()) else {
                return Err(TranslateError::invalid(
                    "text.format of type `json_schema` is missing `name`",
                    Some("text.format.name"),
                ));
            };
            Ok(ResponseFormat::JsonSchema {
                name,
                schema,
                strict: format.strict,
                description: format.description,
            })
        }
        Some(other) => Err(TranslateError::invalid(
            format!(
                "unknown text.format type `{other}`: expected `text`, `json_object` or `json_schema`"
            ),
            Some("text.format.type"),
        )),
        None => Err(TranslateError::invalid(
            "text.format is missing `type`",
            Some("text.format.type"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_members_are_named() {
        assert_eq!(missing_field("missing field `model`"), Some("model"));
        assert_eq!(missing_field("invalid type: integer"), None);
    }

    #[test]
    fn null_extras_are_not_kept() {
        let req = decode_request(br#"{"model":"m","input":"x","store":null,"include":[]}"#);
        let extra = req
            .map(|r| r.extra.keys().cloned().collect::<Vec<_>>())
            .ok();
        assert_eq!(extra, Some(vec!["include".to_owned()]));
    }
}
