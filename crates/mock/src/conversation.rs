//! The format-neutral view of a chat request that reply generation needs:
//! last user text, tool-result state, tools, limits, prompt size.
//!
//! Both dialects fill this in from their own wire shapes; this module must
//! never know about either wire format, and it borrows rather than copies
//! the request so building it stays cheap on the benchmark path.

use serde_json::Value;

/// A tool the client offered, with its JSON schema if it gave one.
#[derive(Debug)]
pub(crate) struct Tool<'a> {
    pub name: &'a str,
    pub schema: Option<&'a Value>,
}

/// The client's tool choice, normalised across dialects.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToolChoice<'a> {
    Auto,
    None,
    /// Some tool must be called (OpenAI `required`, Anthropic `any`).
    Required,
    Named(&'a str),
}

/// What the reply text must look like.
#[derive(Debug)]
pub(crate) enum Format<'a> {
    Text,
    JsonObject,
    /// A JSON schema the reply must satisfy.
    JsonSchema(Option<&'a Value>),
}

#[derive(Debug)]
pub(crate) struct Conversation<'a> {
    pub last_user_text: String,
    /// The start of the answer the client wrote itself, to be continued: the last
    /// message when it is an assistant's (Anthropic prefill; OpenAI-compatible
    /// servers with `continue_final_message: true`).
    pub prefill: Option<String>,
    /// Set when the last message is a tool result; holds the result text.
    pub tool_result: Option<String>,
    /// Characters of every message text (and system prompt), for usage.
    pub prompt_chars: usize,
    pub tools: Vec<Tool<'a>>,
    pub tool_choice: ToolChoice<'a>,
    pub parallel_tools: bool,
    pub max_tokens: Option<u64>,
    pub stop_sequences: Vec<&'a str>,
    pub format: Format<'a>,
}

impl Conversation<'_> {
    pub(crate) fn prompt_tokens(&self) -> u64 {
        tokens_for_chars(self.prompt_chars)
    }
}

/// The mock's token estimate: a quarter of the characters, at least one.
pub(crate) fn tokens_for_chars(chars: usize) -> u64 {
    u64::try_from(chars.div_ceil(4)).unwrap_or(u64::MAX).max(1)
}

/// Text of a content value that is either a plain string or an array of
/// typed parts; only `"type":"text"` parts count, concatenated.
pub(crate) fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => {
            let mut text = String::new();
            for part in parts {
                if part.get("type").and_then(Value::as_str) == Some("text")
                    && let Some(piece) = part.get("text").and_then(Value::as_str)
                {
                    text.push_str(piece);
                }
            }
            text
        }
        _ => String::new(),
    }
}

/// Stop sequences given as one string or an array of strings.
pub(crate) fn string_list(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}
