//! A chat request in provider-neutral form.
//!
//! Decoders fill it from an ingress format; encoders write it in a provider format.
//! Must never hold anything an encoder cannot either express or name as unsupported.

use super::Format;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A chat request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub model: String,
    /// System instructions in order: OpenAI `system`/`developer` messages (hoisted from
    /// wherever they stood), Anthropic `system`, Gemini `systemInstruction`. Text parts only.
    pub system: Vec<Part>,
    /// The conversation, alternating as the client sent it; `user` and `assistant` only
    /// (tool results are `Part::ToolResult` inside user messages).
    pub messages: Vec<Message>,
    pub tools: Vec<Tool>,
    pub tool_choice: Option<ToolChoice>,
    /// `Some(false)` forbids parallel tool calls (OpenAI `parallel_tool_calls: false`,
    /// Anthropic `tool_choice.disable_parallel_tool_use: true`).
    pub parallel_tool_calls: Option<bool>,
    pub max_tokens: Option<u64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<u64>,
    pub stop: Vec<String>,
    pub stream: bool,
    /// OpenAI `stream_options.include_usage`; other ingress formats always get usage.
    pub include_usage: bool,
    pub response_format: Option<ResponseFormat>,
    pub reasoning: Option<ReasoningConfig>,
    pub seed: Option<i64>,
    pub presence_penalty: Option<f64>,
    pub frequency_penalty: Option<f64>,
    /// End-user id (OpenAI `user`, Anthropic `metadata.user_id`).
    pub user: Option<String>,
    /// The format this request was decoded from.
    pub source: Format,
    /// Top-level fields of the source format that no field above holds. An encoder for
    /// the same format writes them back; an encoder for another format calls
    /// [`ChatRequest::foreign_extras`], which refuses the ones that change the answer
    /// and names the rest as dropped.
    pub extra: Map<String, Value>,
}

impl ChatRequest {
    /// An empty request for `model` decoded from `source`.
    pub fn new(model: impl Into<String>, source: Format) -> Self {
        Self {
            model: model.into(),
            system: Vec::new(),
            messages: Vec::new(),
            tools: Vec::new(),
            tool_choice: None,
            parallel_tool_calls: None,
            max_tokens: None,
            temperature: None,
            top_p: None,
            top_k: None,
            stop: Vec::new(),
            stream: false,
            include_usage: false,
            response_format: None,
            reasoning: None,
            seed: None,
            presence_penalty: None,
            frequency_penalty: None,
            user: None,
            source,
            extra: Map::new(),
        }
    }

    /// For an encoder of `target`: `Err(Unsupported)` when an extra field would change
    /// the answer and `target` cannot express it, otherwise the names of the extra fields
    /// that will be dropped (for the journal's notes). Same-format encoders must not call
    /// this; they write `extra` back instead.
    pub fn foreign_extras(&self, target: Format) -> Result<Vec<String>, super::TranslateError> {
        let mut dropped = Vec::new();
        for (key, value) in &self.extra {
            if changes_answer(self.source, key, value) {
                return Err(super::TranslateError::unsupported(
                    key.clone(),
                    target.as_str(),
                ));
            }
            dropped.push(key.clone());
        }
        Ok(dropped)
    }

    /// The name of the function a tool call id refers to, from earlier assistant turns
    /// (Gemini needs names on tool results; OpenAI tool messages carry only ids).
    pub fn tool_name_for(&self, call_id: &str) -> Option<&str> {
        self.messages
            .iter()
            .flat_map(|m| &m.content)
            .find_map(|p| match p {
                Part::ToolCall { id, name, .. } if id == call_id => Some(name.as_str()),
                _ => None,
            })
    }
}

/// Extra fields whose presence (with a non-default value) changes what the client gets
/// back, so dropping them silently would answer a different question.
fn changes_answer(source: Format, key: &str, value: &Value) -> bool {
    let is_default = value.is_null() || value.as_bool() == Some(false) || value.as_u64() == Some(1);
    match source {
        Format::OpenAiChat | Format::OpenAiResponses => {
            matches!(
                key,
                "n" | "logprobs"
                    | "top_logprobs"
                    | "logit_bias"
                    | "audio"
                    | "prediction"
                    | "web_search_options"
            ) && !is_default
                || key == "modalities"
                    && value
                        .as_array()
                        .is_some_and(|m| m.iter().any(|x| x != "text"))
        }
        Format::Anthropic | Format::Gemini => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Vec<Part>,
}

/// One piece of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    Text {
        text: String,
        cache_control: Option<CacheControl>,
    },
    Image {
        source: ImageSource,
        /// OpenAI `detail` (`low`, `high`, `auto`).
        detail: Option<String>,
        cache_control: Option<CacheControl>,
    },
    /// A tool call made by the assistant; `arguments` is JSON text as the model wrote it.
    ToolCall {
        id: String,
        name: String,
        arguments: String,
    },
    /// The result of a tool call, sent back by the user side.
    ToolResult {
        call_id: String,
        /// The function's name when known (Gemini requires it; see `tool_name_for`).
        name: Option<String>,
        /// Text and image parts.
        content: Vec<Part>,
        is_error: bool,
        cache_control: Option<CacheControl>,
    },
    /// Model reasoning (Anthropic `thinking`, OpenAI-compatible `reasoning_content`).
    Thinking {
        text: String,
        /// Anthropic's signature, required to send thinking back to Anthropic.
        signature: Option<String>,
    },
    /// Anthropic `redacted_thinking`: opaque, only Anthropic can read it.
    RedactedThinking { data: String },
}

impl Part {
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text {
            text: text.into(),
            cache_control: None,
        }
    }

    /// The text of a `Text` part.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text { text, .. } => Some(text),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageSource {
    /// An http(s) URL. (`data:` URLs are decoded into `Base64` by decoders.)
    Url(String),
    Base64 {
        media_type: String,
        data: String,
    },
}

impl ImageSource {
    /// Parses `data:<media>;base64,<data>`; any other string is a URL.
    pub fn from_url(url: &str) -> Self {
        let parts = url
            .strip_prefix("data:")
            .and_then(|rest| rest.split_once(','))
            .and_then(|(meta, data)| Some((meta.strip_suffix(";base64")?, data)));
        if let Some((media_type, data)) = parts {
            return Self::Base64 {
                media_type: media_type.to_owned(),
                data: data.to_owned(),
            };
        }
        Self::Url(url.to_owned())
    }

    /// A URL form: the URL itself, or a `data:` URL for base64 data.
    pub fn to_url(&self) -> String {
        match self {
            Self::Url(url) => url.clone(),
            Self::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
        }
    }
}

/// Anthropic's prompt-caching marker (`{"type":"ephemeral"}`, optionally with `ttl`),
/// carried as written so new fields survive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheControl(pub Value);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema of the arguments (an object schema).
    pub parameters: Value,
    /// OpenAI `strict`.
    pub strict: Option<bool>,
    pub cache_control: Option<CacheControl>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    Auto,
    None,
    /// Must call some tool (OpenAI `required`, Anthropic `any`, Gemini `ANY`).
    Required,
    /// Must call this tool.
    Tool(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema {
        name: String,
        schema: Value,
        strict: Option<bool>,
        description: Option<String>,
    },
}

/// How much the model should reason before answering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasoningConfig {
    /// OpenAI `reasoning_effort` / Responses `reasoning.effort`: `minimal`, `low`, `medium`, `high`.
    pub effort: Option<String>,
    /// Anthropic `thinking.budget_tokens`, Gemini `thinkingConfig.thinkingBudget`.
    pub budget_tokens: Option<u64>,
}

impl ReasoningConfig {
    /// A token budget for providers that take one, from `effort` when no budget was given.
    pub fn budget(&self) -> u64 {
        self.budget_tokens.unwrap_or(match self.effort.as_deref() {
            Some("minimal") => 1024,
            Some("low") => 2048,
            Some("high") => 16384,
            _ => 8192,
        })
    }

    /// An effort level for providers that take one, from `budget_tokens` when no effort was given.
    pub fn effort(&self) -> &str {
        match (&self.effort, self.budget_tokens) {
            (Some(e), _) => e,
            (None, Some(b)) if b <= 2048 => "low",
            (None, Some(b)) if b >= 16384 => "high",
            _ => "medium",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls_become_base64_and_back() {
        let src = ImageSource::from_url("data:image/png;base64,AAAA");
        assert_eq!(
            src,
            ImageSource::Base64 {
                media_type: "image/png".into(),
                data: "AAAA".into()
            }
        );
        assert_eq!(src.to_url(), "data:image/png;base64,AAAA");
        assert_eq!(
            ImageSource::from_url("https://x/y.png"),
            ImageSource::Url("https://x/y.png".into())
        );
    }

    #[test]
    fn foreign_extras_refuse_answer_changing_fields_and_list_the_rest() {
        let mut req = ChatRequest::new("m", Format::OpenAiChat);
        req.extra.insert("user_tag".into(), Value::from("x"));
        req.extra.insert("n".into(), Value::from(1));
        assert_eq!(
            req.foreign_extras(Format::Anthropic).ok().map(|v| v.len()),
            Some(2)
        );
        req.extra.insert("n".into(), Value::from(2));
        assert!(matches!(
            req.foreign_extras(Format::Anthropic),
            Err(crate::canonical::TranslateError::Unsupported { feature, .. }) if feature == "n"
        ));
    }
}
