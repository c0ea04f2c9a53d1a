//! Serde types of OpenAI's stream chunks (`chat.completion.chunk`), shared by the
//! provider-side decoder and the ingress encoder, which borrows the text it carries.
//!
//! Must never hold translation logic: only shapes.

use super::wire::WireUsage;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;

/// One stream chunk (`object: "chat.completion.chunk"`). Borrows on the encode side:
/// the stream encoder builds one per event and must not copy the text it carries.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChatCompletionChunk<'a> {
    #[serde(default, borrow)]
    pub id: Cow<'a, str>,
    #[serde(default, borrow)]
    pub object: Cow<'a, str>,
    #[serde(default)]
    pub created: u64,
    #[serde(default, borrow)]
    pub model: Cow<'a, str>,
    #[serde(default, borrow)]
    pub system_fingerprint: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub choices: Vec<ChunkChoice<'a>>,
    /// Outer `None`: not written (the client did not ask for usage); `Some(None)`:
    /// written as `null`, as OpenAI does on every chunk but the last when asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Option<WireUsage>>,
    /// An in-band error (`{"error":{...}}`); read only.
    #[serde(default, skip_serializing)]
    pub error: Option<Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChunkChoice<'a> {
    #[serde(default)]
    pub index: u32,
    #[serde(default, borrow)]
    pub delta: Delta<'a>,
    #[serde(default, skip_deserializing)]
    pub logprobs: Option<()>,
    #[serde(default, borrow)]
    pub finish_reason: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Delta<'a> {
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub role: Option<Cow<'a, str>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub content: Option<Cow<'a, str>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<Cow<'a, str>>,
    #[serde(default, borrow, skip_serializing)]
    pub reasoning: Option<Cow<'a, str>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Cow<'a, str>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<DeltaToolCall<'a>>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeltaToolCall<'a> {
    /// Required by OpenAI; some servers omit it for single calls (position used instead).
    #[serde(default)]
    pub index: Option<u64>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub id: Option<Cow<'a, str>>,
    #[serde(
        rename = "type",
        default,
        borrow,
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<Cow<'a, str>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub function: Option<DeltaFunction<'a>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeltaFunction<'a> {
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub name: Option<Cow<'a, str>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Cow<'a, str>>,
}
