//! `POST /v1/embeddings` in the OpenAI format (OpenAI-format providers only).
//!
//! Reads only `model` and checks `input` is present; the rest passes through untouched.

use super::{Head, Ingest, no_header_checks};
use crate::upstream::Endpoint;
use sluice_protocol::openai::request::{DecodeError, EmbeddingsRequestHead, decode};
use sluice_protocol::translate::Ingress;

pub const EMBEDDINGS: Ingest = Ingest {
    ingress: Ingress::OpenAiChat,
    endpoint: Endpoint::Embeddings,
    name: "embeddings",
    decode: decode_head,
    check_headers: no_header_checks,
};

fn decode_head(body: &[u8]) -> Result<Head, DecodeError> {
    let head: EmbeddingsRequestHead = decode(body)?;
    Ok(Head {
        usage_requested: false,
        model: head.model,
        stream: false,
    })
}
