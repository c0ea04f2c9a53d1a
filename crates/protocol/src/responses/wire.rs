//! Serde types of a Responses *request* (`POST /v1/responses`), read leniently: every
//! polymorphic member is parsed into a struct whose discriminating fields are optional,
//! so `request.rs` can name the exact JSON path of whatever is wrong instead of serde's
//! "did not match any variant". String-or-list members use hand-written visitors, not
//! `#[serde(untagged)]`, because untagged enums buffer their input and lose the path
//! `serde_path_to_error` reports.
//!
//! Must never decide what a field means: mapping to the canonical model lives in
//! `request.rs` and `input.rs`.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;
use std::marker::PhantomData;

/// Every top-level member `RequestWire` reads; the others go to `ChatRequest::extra`.
pub(crate) const KNOWN_FIELDS: &[&str] = &[
    "model",
    "input",
    "instructions",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "max_output_tokens",
    "temperature",
    "top_p",
    "text",
    "reasoning",
    "stream",
    "user",
    "previous_response_id",
    "conversation",
    "prompt",
    "background",
];

/// The request body's members Sluice maps (see `KNOWN_FIELDS`).
#[derive(Debug, Deserialize)]
pub(crate) struct RequestWire {
    pub model: String,
    #[serde(default)]
    pub input: Option<TextOr<Item>>,
    #[serde(default)]
    pub instructions: Option<String>,
    #[serde(default)]
    pub tools: Option<Vec<ToolWire>>,
    #[serde(default)]
    pub tool_choice: Option<ToolChoiceWire>,
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default)]
    pub max_output_tokens: Option<u64>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub text: Option<TextConfig>,
    #[serde(default)]
    pub reasoning: Option<ReasoningWire>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub user: Option<String>,
    /// Refused when set: the features below need state stored by OpenAI.
    #[serde(default)]
    pub previous_response_id: Option<Value>,
    #[serde(default)]
    pub conversation: Option<Value>,
    #[serde(default)]
    pub prompt: Option<Value>,
    #[serde(default)]
    pub background: Option<bool>,
}

/// A member that is either a string or a list (`input`, message `content`, a function
/// call's `output`).
#[derive(Debug)]
pub(crate) enum TextOr<T> {
    Text(String),
    List(Vec<T>),
}

/// One input item: a message (with or without `type: "message"`), a function call, a
/// function call's output, a reasoning item, or a type Sluice refuses.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Item {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub role: Option<String>,
    pub content: Option<TextOr<ContentPart>>,
    pub call_id: Option<String>,
    pub name: Option<String>,
    pub arguments: Option<String>,
    pub output: Option<TextOr<ContentPart>>,
    pub summary: Option<Vec<TextPart>>,
}

/// One content part (`input_text`, `input_image`, `output_text`, `refusal`, ...).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ContentPart {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub text: Option<String>,
    pub refusal: Option<String>,
    pub image_url: Option<String>,
    pub file_id: Option<String>,
    pub detail: Option<String>,
}

/// A reasoning item's summary entry (`{"type":"summary_text","text":...}`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TextPart {
    pub text: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ToolWire {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub parameters: Option<Value>,
    pub strict: Option<bool>,
}

/// `"auto"|"none"|"required"` or `{"type":"function","name":...}` (or a hosted tool's type).
#[derive(Debug)]
pub(crate) enum ToolChoiceWire {
    Mode(String),
    Object(ToolChoiceObject),
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ToolChoiceObject {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TextConfig {
    pub format: Option<FormatWire>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct FormatWire {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub schema: Option<Value>,
    pub strict: Option<bool>,
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ReasoningWire {
    pub effort: Option<String>,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for TextOr<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = TextOr<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(TextOr::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(TextOr::Text(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(TextOr::List(items))
            }
        }
        deserializer.deserialize_any(V(PhantomData))
    }
}

impl<'de> Deserialize<'de> for ToolChoiceWire {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ToolChoiceWire;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an object")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ToolChoiceWire::Mode(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let object = Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(ToolChoiceWire::Object(object))
            }
        }
        deserializer.deserialize_any(V)
    }
}
