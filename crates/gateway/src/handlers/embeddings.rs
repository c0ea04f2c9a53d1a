//! `POST /v1/embeddings` in the OpenAI format.
//!
//! Reads only `model` and checks `input` is present; the rest passes through untouched.

use super::proxy::{Head, proxy};
use crate::runtime::Runtime;
use crate::upstream::Endpoint;
use axum::extract::{Request, State};
use axum::response::Response;
use sluice_protocol::openai::request::{DecodeError, EmbeddingsRequestHead, decode};
use std::sync::Arc;

pub async fn create(State(rt): State<Arc<Runtime>>, req: Request) -> Response {
    proxy(rt, req, Endpoint::Embeddings, decode_head).await
}

fn decode_head(body: &[u8]) -> Result<Head, DecodeError> {
    let head: EmbeddingsRequestHead = decode(body)?;
    Ok(Head {
        model: head.model,
        stream: false,
    })
}
