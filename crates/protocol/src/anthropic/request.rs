//! Ingress: an Anthropic Messages request body into a canonical [`ChatRequest`].
//!
//! Every error is the client's (`Invalid`, with the JSON path of the offending field);
//! a block or tool the canonical model cannot hold is named as untranslatable rather
//! than dropped. Must never drop a field silently: unknown top-level fields go to
//! `extra`.

use super::content::{self, BlockError};
use super::wire::{
    InMessage, InRequest, InRole, InTool, InToolChoice, KNOWN_REQUEST_KEYS, TextOrBlocks,
};
use crate::canonical::{
    CacheControl, ChatRequest, Format, Message, Part, ReasoningConfig, Role, Tool, ToolChoice,
    TranslateError,
};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Decodes a `POST /v1/messages` body.
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
    let (mut known, mut extra): (Map<String, Value>, Map<String, Value>) = (Map::new(), Map::new());
    for (key, value) in map {
        if KNOWN_REQUEST_KEYS.contains(&key.as_str()) {
            known.insert(key, value);
        } else {
            extra.insert(key, value);
        }
    }
    let thinking = known.remove("thinking");
    let wire: InRequest = serde_path_to_error::deserialize(Value::Object(known)).map_err(|e| {
        let path = e.path().to_string();
        TranslateError::Invalid {
            message: e.inner().to_string(),
            param: (path != ".").then_some(path),
        }
    })?;

    let mut req = ChatRequest::new(wire.model, Format::Anthropic);
    req.reasoning = reasoning(thinking, &mut extra)?;
    req.extra = extra;
    req.system = system(wire.system)?;
    req.messages = messages(wire.messages)?;
    req.tools = tools(wire.tools.unwrap_or_default())?;
    if let Some(choice) = wire.tool_choice {
        (req.tool_choice, req.parallel_tool_calls) = tool_choice(choice)?;
    }
    req.max_tokens = wire.max_tokens;
    req.stop = wire.stop_sequences.unwrap_or_default();
    req.temperature = wire.temperature;
    req.top_p = wire.top_p;
    req.top_k = wire.top_k;
    req.user = wire.metadata.and_then(|m| m.user_id);
    req.stream = wire.stream.unwrap_or(false);
    // Anthropic streams always report usage.
    req.include_usage = true;
    Ok(req)
}

fn at(prefix: &str, err: BlockError) -> TranslateError {
    TranslateError::invalid(err.message, Some(&format!("{prefix}.{}", err.field)))
}

/// `thinking`: `enabled` with a budget, `disabled`; any other type (newer modes the
/// canonical model cannot express) stays in `extra` for the same-format path.
fn reasoning(
    thinking: Option<Value>,
    extra: &mut Map<String, Value>,
) -> Result<Option<ReasoningConfig>, TranslateError> {
    let Some(value) = thinking.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let Some(kind) = value.get("type").and_then(Value::as_str) else {
        return Err(TranslateError::invalid(
            "`thinking` must be an object with a string `type`",
            Some("thinking.type"),
        ));
    };
    match kind {
        "enabled" => match value.get("budget_tokens").and_then(Value::as_u64) {
            Some(budget) => Ok(Some(ReasoningConfig {
                effort: None,
                budget_tokens: Some(budget),
            })),
            None => Err(TranslateError::invalid(
                "`thinking.budget_tokens` must be a non-negative integer",
                Some("thinking.budget_tokens"),
            )),
        },
        "disabled" => Ok(None),
        _ => {
            extra.insert("thinking".to_owned(), value);
            Ok(None)
        }
    }
}

fn system(system: Option<TextOrBlocks>) -> Result<Vec<Part>, TranslateError> {
    match system {
        None => Ok(Vec::new()),
        Some(TextOrBlocks::Text(text)) => Ok(vec![Part::text(text)]),
        Some(TextOrBlocks::Blocks(blocks)) => blocks
            .into_iter()
            .enumerate()
            .map(|(i, block)| {
                if block.kind != "text" {
                    return Err(TranslateError::invalid(
                        format!("system block type `{}` cannot be translated", block.kind),
                        Some(&format!("system[{i}].type")),
                    ));
                }
                content::to_part(block).map_err(|e| at(&format!("system[{i}]"), e))
            })
            .collect(),
    }
}

fn messages(wire: Vec<InMessage>) -> Result<Vec<Message>, TranslateError> {
    // Tool results carry only the call id; remember names so Gemini-like targets get them.
    let mut names: HashMap<String, String> = HashMap::new();
    let mut out = Vec::with_capacity(wire.len());
    for (i, message) in wire.into_iter().enumerate() {
        let role = match message.role {
            InRole::User => Role::User,
            InRole::Assistant => Role::Assistant,
        };
        let content = match message.content {
            TextOrBlocks::Text(text) => vec![Part::text(text)],
            TextOrBlocks::Blocks(blocks) => {
                let mut parts = Vec::with_capacity(blocks.len());
                for (j, block) in blocks.into_iter().enumerate() {
                    let part = content::to_part(block)
                        .map_err(|e| at(&format!("messages[{i}].content[{j}]"), e))?;
                    parts.push(name_tool_part(part, &mut names));
                }
                parts
            }
        };
        out.push(Message { role, content });
    }
    Ok(out)
}

fn name_tool_part(mut part: Part, names: &mut HashMap<String, String>) -> Part {
    match &mut part {
        Part::ToolCall { id, name, .. } => {
            names.insert(id.clone(), name.clone());
        }
        Part::ToolResult { call_id, name, .. } => {
            *name = names.get(call_id).cloned();
        }
        _ => {}
    }
    part
}

fn tools(wire: Vec<InTool>) -> Result<Vec<Tool>, TranslateError> {
    wire.into_iter()
        .enumerate()
        .map(|(i, tool)| {
            if let Some(kind) = tool.kind.as_deref().filter(|k| *k != "custom") {
                return Err(TranslateError::invalid(
                    format!("tool type `{kind}` cannot be translated"),
                    Some(&format!("tools[{i}].type")),
                ));
            }
            let missing = |field: &str| {
                TranslateError::invalid(
                    format!("missing field `{field}`"),
                    Some(&format!("tools[{i}].{field}")),
                )
            };
            Ok(Tool {
                name: tool.name.ok_or_else(|| missing("name"))?,
                description: tool.description,
                parameters: tool.input_schema.ok_or_else(|| missing("input_schema"))?,
                strict: tool.strict,
                cache_control: tool.cache_control.map(CacheControl),
            })
        })
        .collect()
}

type Choice = (Option<ToolChoice>, Option<bool>);

fn tool_choice(wire: InToolChoice) -> Result<Choice, TranslateError> {
    let choice = match wire.kind.as_str() {
        "auto" => ToolChoice::Auto,
        "any" => ToolChoice::Required,
        "none" => ToolChoice::None,
        "tool" => match wire.name {
            Some(name) => ToolChoice::Tool(name),
            None => {
                return Err(TranslateError::invalid(
                    "missing field `name`",
                    Some("tool_choice.name"),
                ));
            }
        },
        other => {
            return Err(TranslateError::invalid(
                format!(
                    "unknown tool_choice type `{other}`, expected `auto`, `any`, `tool` or `none`"
                ),
                Some("tool_choice.type"),
            ));
        }
    };
    Ok((Some(choice), wire.disable_parallel_tool_use.map(|d| !d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid_param(body: &str) -> Option<String> {
        match decode_request(body.as_bytes()) {
            Err(TranslateError::Invalid { param, .. }) => param,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn reports_paths_of_bad_fields() {
        let body = r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":1}]}]}"#;
        assert_eq!(
            invalid_param(body).as_deref(),
            Some("messages[0].content[0].text")
        );
        let body = r#"{"model":"m","messages":[{"role":"system","content":"x"}]}"#;
        assert_eq!(invalid_param(body).as_deref(), Some("messages[0].role"));
        let body = r#"{"model":"m","messages":[{"role":"user","content":[{"type":"document","source":{}}]}]}"#;
        assert_eq!(
            invalid_param(body).as_deref(),
            Some("messages[0].content[0].type")
        );
    }

    #[test]
    fn unknown_fields_and_thinking_modes_go_to_extra() {
        let body =
            r#"{"model":"m","messages":[],"service_tier":"auto","thinking":{"type":"adaptive"}}"#;
        let req = decode_request(body.as_bytes()).unwrap();
        assert_eq!(req.reasoning, None);
        assert!(req.extra.contains_key("service_tier"));
        assert!(req.extra.contains_key("thinking"));
    }

    #[test]
    fn tool_results_learn_the_tool_name() {
        let body = r#"{"model":"m","messages":[
            {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},
            {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}]}"#;
        let req = decode_request(body.as_bytes()).unwrap();
        assert!(
            matches!(&req.messages[1].content[0], Part::ToolResult { name: Some(n), .. } if n == "f")
        );
    }
}
