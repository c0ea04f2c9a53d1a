//! `POST /v1/messages` in the Anthropic Messages format.
//!
//! Reads only the head (model, messages shape, max_tokens, stream); the rest reaches an
//! Anthropic provider byte for byte, or is translated for any other provider. Like
//! Anthropic, it requires `anthropic-version` and forwards `anthropic-beta`.

use super::{ForwardHeaders, Head, Ingest};
use crate::error::GatewayError;
use crate::upstream::Endpoint;
use axum::http::{HeaderMap, HeaderName};
use serde::Deserialize;
use serde_json::value::RawValue;
use sluice_protocol::openai::request::{DecodeError, decode};
use sluice_protocol::translate::Ingress;

pub const MESSAGES: Ingest = Ingest {
    ingress: Ingress::Anthropic,
    endpoint: Endpoint::ChatCompletions,
    name: "messages",
    decode: decode_head,
    check_headers,
};

#[derive(Deserialize)]
struct MessagesHead<'a> {
    model: String,
    #[serde(borrow)]
    messages: Vec<MessageHead<'a>>,
    #[expect(
        dead_code,
        reason = "read only to reject a missing or mistyped max_tokens"
    )]
    max_tokens: u64,
    #[serde(default)]
    stream: Option<bool>,
    /// Read only to check their types at the door, where Anthropic would refuse them.
    #[serde(default)]
    #[expect(dead_code, reason = "read only to check its type")]
    temperature: Option<f64>,
    #[serde(default)]
    #[expect(dead_code, reason = "read only to check its type")]
    top_p: Option<f64>,
    #[serde(default)]
    #[expect(dead_code, reason = "read only to check its type")]
    top_k: Option<u64>,
}

/// A message is checked for its role only; its content passes as it is.
#[derive(Deserialize)]
struct MessageHead<'a> {
    #[serde(borrow)]
    role: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    #[expect(dead_code, reason = "shape only")]
    content: Option<&'a RawValue>,
}

fn decode_head(body: &[u8]) -> Result<Head, DecodeError> {
    let head: MessagesHead = decode(body)?;
    if head.messages.is_empty() {
        return Err(DecodeError {
            message: "messages: at least one message is required".to_owned(),
            param: Some("messages".to_owned()),
        });
    }
    if let Some((i, m)) = head
        .messages
        .iter()
        .enumerate()
        .find(|(_, m)| !matches!(m.role.as_ref(), "user" | "assistant"))
    {
        return Err(DecodeError {
            message: format!(
                "messages.{i}.role: must be \"user\" or \"assistant\", got {:?}",
                m.role.chars().take(40).collect::<String>()
            ),
            param: Some(format!("messages[{i}].role")),
        });
    }
    Ok(Head {
        usage_requested: false,
        model: head.model,
        stream: head.stream.unwrap_or(false),
    })
}

/// `anthropic-version` is required, as Anthropic requires it; `anthropic-beta` goes on to
/// Anthropic providers.
fn check_headers(headers: &HeaderMap) -> Result<ForwardHeaders, GatewayError> {
    if !headers.contains_key("anthropic-version") {
        return Err(GatewayError::BadRequest {
            message: "anthropic-version: header is required".to_owned(),
            param: None,
        });
    }
    Ok(headers
        .get_all("anthropic-beta")
        .iter()
        .map(|v| (HeaderName::from_static("anthropic-beta"), v.clone()))
        .collect())
}
