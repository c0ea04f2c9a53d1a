//! `POST /v1/embeddings` in the OpenAI format (OpenAI-format providers only).
//!
//! Reads only `model` and checks `input` is present; the rest passes through untouched.

use super::proxy::{Head, Ingest, no_header_checks, proxy};
use crate::runtime::Runtime;
use crate::upstream::Endpoint;
use axum::extract::{Request, State};
use axum::response::Response;
use sluice_protocol::openai::request::{DecodeError, EmbeddingsRequestHead, decode};
use sluice_protocol::translate::Ingress;
use std::sync::Arc;

const INGEST: Ingest = Ingest {
    ingress: Ingress::OpenAiChat,
    endpoint: Endpoint::Embeddings,
    name: "embeddings",
    decode: decode_head,
    check_headers: no_header_checks,
};

pub async fn create(State(rt): State<Arc<Runtime>>, req: Request) -> Response {
    proxy(rt, req, INGEST).await
}

fn decode_head(body: &[u8]) -> Result<Head, DecodeError> {
    let head: EmbeddingsRequestHead = decode(body)?;
    Ok(Head {
        usage_requested: false,
        model: head.model,
        stream: false,
    })
}
