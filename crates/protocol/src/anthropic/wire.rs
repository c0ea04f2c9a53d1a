//! Serde types of the Anthropic Messages wire format, one set per direction.
//!
//! Incoming shapes (`In*`) are flat structs with optional fields, not tagged enums:
//! serde buffers a tagged enum before choosing a variant, which loses the JSON path of
//! errors and the name of an unknown `type`; the converters check `type` and required
//! fields themselves. Outgoing shapes (`Out*`) borrow from the canonical values.
//!
//! Must never hold translation logic: only shapes.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use std::fmt;

// ---- incoming ------------------------------------------------------------------------

/// The request fields this spoke reads; every other top-level key goes to `extra`.
#[derive(Debug, Deserialize)]
pub struct InRequest {
    pub model: String,
    pub messages: Vec<InMessage>,
    pub system: Option<TextOrBlocks>,
    pub max_tokens: Option<u64>,
    pub stop_sequences: Option<Vec<String>>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<u64>,
    pub tools: Option<Vec<InTool>>,
    pub tool_choice: Option<InToolChoice>,
    pub metadata: Option<InMetadata>,
    pub stream: Option<bool>,
}

/// Top-level request keys [`InRequest`] holds (plus `thinking`, read by hand).
pub const KNOWN_REQUEST_KEYS: &[&str] = &[
    "model",
    "messages",
    "system",
    "max_tokens",
    "stop_sequences",
    "temperature",
    "top_p",
    "top_k",
    "tools",
    "tool_choice",
    "metadata",
    "stream",
    "thinking",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InRole {
    User,
    Assistant,
}

#[derive(Debug, Deserialize)]
pub struct InMessage {
    pub role: InRole,
    pub content: TextOrBlocks,
}

/// Content that may be a plain string or an array of blocks.
#[derive(Debug)]
pub enum TextOrBlocks {
    Text(String),
    Blocks(Vec<InBlock>),
}

impl<'de> Deserialize<'de> for TextOrBlocks {
    // By hand instead of `#[serde(untagged)]`: untagged buffers the value and reports
    // "did not match any variant" without the path of the block that was wrong.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TextOrBlocks;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of content blocks")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(TextOrBlocks::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(TextOrBlocks::Text(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut blocks = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(block) = seq.next_element()? {
                    blocks.push(block);
                }
                Ok(TextOrBlocks::Blocks(blocks))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Any content block, request or response side. `source` and `content` differ in shape
/// between block types (a string in `search_result`, an object in server tool errors),
/// so they stay JSON until the block's type says how to read them.
#[derive(Debug, Default, Deserialize)]
pub struct InBlock {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: Option<String>,
    pub cache_control: Option<Value>,
    pub source: Option<Value>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub input: Option<Value>,
    pub tool_use_id: Option<String>,
    pub content: Option<Value>,
    pub is_error: Option<bool>,
    pub thinking: Option<String>,
    pub signature: Option<String>,
    pub data: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct InSource {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub media_type: Option<String>,
    pub data: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct InTool {
    /// Absent or `custom` for client tools; anything else is a server tool.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub input_schema: Option<Value>,
    pub cache_control: Option<Value>,
    pub strict: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct InToolChoice {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    pub disable_parallel_tool_use: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct InMetadata {
    pub user_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct InResponse {
    pub id: String,
    pub model: String,
    pub content: Vec<InBlock>,
    pub stop_reason: Option<String>,
    pub stop_sequence: Option<String>,
    pub usage: Option<InUsage>,
}

/// Usage as `message`, `message_start` and `message_delta` carry it; every field may
/// be absent or null (`message_delta` often has `output_tokens` only).
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub struct InUsage {
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cache_creation_input_tokens: Option<u64>,
    pub cache_read_input_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct InErrorBody {
    pub error: InErrorDetail,
}

#[derive(Debug, Deserialize)]
pub struct InErrorDetail {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub message: Option<String>,
}

// ---- outgoing ------------------------------------------------------------------------

#[derive(Debug, Serialize)]
pub struct OutRequest<'a> {
    pub model: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<OutBlock<'a>>,
    pub messages: Vec<OutMessage<'a>>,
    pub max_tokens: u64,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<OutTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<OutToolChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<OutThinking>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<OutMetadata<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

#[derive(Debug, Serialize)]
pub struct OutMessage<'a> {
    pub role: &'static str,
    pub content: Vec<OutBlock<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutBlock<'a> {
    Text {
        text: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<&'a Value>,
    },
    Image {
        source: OutSource<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<&'a Value>,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: ToolInput<'a>,
    },
    ToolResult {
        tool_use_id: &'a str,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        content: Vec<OutBlock<'a>>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<&'a Value>,
    },
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    RedactedThinking {
        data: &'a str,
    },
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutSource<'a> {
    Base64 { media_type: &'a str, data: &'a str },
    Url { url: &'a str },
}

/// A tool call's `input`: the arguments text written as JSON when it is JSON.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ToolInput<'a> {
    Json(&'a RawValue),
    /// `{}`: no arguments (also what a stream's `content_block_start` carries).
    Empty(Empty),
    /// Arguments that are not JSON (a truncated answer), kept as a string.
    Text(&'a str),
}

#[derive(Debug, Default, Serialize)]
pub struct Empty {}

#[derive(Debug, Serialize)]
pub struct OutTool<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub input_schema: std::borrow::Cow<'a, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct OutToolChoice<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_parallel_tool_use: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct OutThinking {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub budget_tokens: u64,
}

#[derive(Debug, Serialize)]
pub struct OutMetadata<'a> {
    pub user_id: &'a str,
}

#[derive(Debug, Serialize)]
pub struct OutResponse<'a> {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub role: &'static str,
    pub model: &'a str,
    pub content: Vec<OutBlock<'a>>,
    pub stop_reason: Option<&'static str>,
    pub stop_sequence: Option<&'a str>,
    pub usage: OutUsage,
}

/// Anthropic's split of input tokens: `input_tokens` excludes the cached ones.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutUsage {
    pub input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub output_tokens: u64,
}

#[derive(Debug, Serialize)]
pub struct OutErrorBody<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub error: OutErrorDetail<'a>,
}

#[derive(Debug, Serialize)]
pub struct OutErrorDetail<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub message: &'a str,
}
