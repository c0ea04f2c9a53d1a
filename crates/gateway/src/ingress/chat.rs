//! `POST /v1/chat/completions` in the OpenAI format.
//!
//! Reads only the head (model, messages shape, stream flags); everything else in the
//! body reaches an OpenAI-format provider byte for byte.

use super::{Head, Ingest, no_header_checks};
use crate::upstream::Endpoint;
use sluice_protocol::openai::request::{ChatRequestHead, DecodeError, ROLES, decode};
use sluice_protocol::translate::Ingress;

pub const CHAT: Ingest = Ingest {
    ingress: Ingress::OpenAiChat,
    endpoint: Endpoint::ChatCompletions,
    name: "chat.completions",
    decode: decode_head,
    check_headers: no_header_checks,
};

fn decode_head(body: &[u8]) -> Result<Head, DecodeError> {
    let head: ChatRequestHead = decode(body)?;
    if head.messages.is_empty() {
        return Err(DecodeError {
            message: "`messages` must contain at least one message".to_owned(),
            param: Some("messages".to_owned()),
        });
    }
    if let Some((i, m)) = head
        .messages
        .iter()
        .enumerate()
        .find(|(_, m)| !ROLES.contains(&m.role.as_ref()))
    {
        return Err(DecodeError {
            message: format!(
                "`messages[{i}].role` must be one of {}; got {:?}",
                ROLES.join(", "),
                m.role.chars().take(40).collect::<String>()
            ),
            param: Some(format!("messages[{i}].role")),
        });
    }
    Ok(Head {
        usage_requested: head
            .stream_options
            .and_then(|o| o.include_usage)
            .unwrap_or(false),
        stream: head.is_stream(),
        model: head.model,
    })
}
