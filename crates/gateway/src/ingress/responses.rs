//! `POST /v1/responses` in the OpenAI Responses format. Always translated: the request is
//! decoded into the canonical model and sent to the provider in its own format.

use super::{Head, Ingest, no_header_checks};
use crate::upstream::Endpoint;
use serde::Deserialize;
use sluice_protocol::openai::request::{DecodeError, decode};
use sluice_protocol::translate::Ingress;

pub const RESPONSES: Ingest = Ingest {
    ingress: Ingress::Responses,
    endpoint: Endpoint::ChatCompletions,
    name: "responses",
    decode: decode_head,
    check_headers: no_header_checks,
};

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
