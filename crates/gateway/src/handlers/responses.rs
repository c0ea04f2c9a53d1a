//! `POST /v1/responses` in the OpenAI Responses format. Always translated: the request is
//! decoded into the canonical model and sent to the provider in its own format.

use super::proxy::{Head, Ingest, no_header_checks, proxy};
use crate::runtime::Runtime;
use crate::upstream::Endpoint;
use axum::extract::{Request, State};
use axum::response::Response;
use serde::Deserialize;
use sluice_protocol::openai::request::{DecodeError, decode};
use sluice_protocol::translate::Ingress;
use std::sync::Arc;

const INGEST: Ingest = Ingest {
    ingress: Ingress::Responses,
    endpoint: Endpoint::ChatCompletions,
    name: "responses",
    decode: decode_head,
    check_headers: no_header_checks,
};

pub async fn create(State(rt): State<Arc<Runtime>>, req: Request) -> Response {
    proxy(rt, req, INGEST).await
}

#[derive(Deserialize)]
struct ResponsesHead {
    model: String,
    #[serde(default)]
    stream: Option<bool>,
}

fn decode_head(body: &[u8]) -> Result<Head, DecodeError> {
    let head: ResponsesHead = decode(body)?;
    Ok(Head {
        usage_requested: false,
        model: head.model,
        stream: head.stream.unwrap_or(false),
    })
}
