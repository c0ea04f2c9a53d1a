//! `POST /v1/chat/completions` in the OpenAI format.
//!
//! Reads only the head (model, messages shape, stream flags); everything else in the
//! body reaches an OpenAI-format provider byte for byte.

use super::{Head, Ingest, no_header_checks};
use crate::upstream::Endpoint;
use sluice_protocol::openai::request::{ChatRequestHead, DecodeError, decode};
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
    Ok(Head {
        usage_requested: head
            .stream_options
            .and_then(|o| o.include_usage)
            .unwrap_or(false),
        stream: head.is_stream(),
        model: head.model,
    })
}
