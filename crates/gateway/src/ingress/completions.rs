//! `POST /v1/completions`: OpenAI's legacy text completions, passed through to
//! OpenAI-format providers (OpenAI, Azure, vLLM and other compatible servers); the
//! others cannot express it, and a model with only such targets answers a 400.
//!
//! Reads only the head (model, prompt present, stream flags); the rest passes untouched.

use super::{Head, Ingest, no_header_checks};
use crate::upstream::Endpoint;
use serde::Deserialize;
use serde_json::value::RawValue;
use sluice_protocol::openai::request::{DecodeError, StreamOptions, decode};
use sluice_protocol::translate::Ingress;

pub const COMPLETIONS: Ingest = Ingest {
    ingress: Ingress::OpenAiChat,
    endpoint: Endpoint::Completions,
    name: "completions",
    decode: decode_head,
    check_headers: no_header_checks,
};

#[derive(Deserialize)]
struct CompletionsHead<'a> {
    model: String,
    #[serde(borrow)]
    prompt: &'a RawValue,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
    /// Checked at the door, as for chat.
    #[serde(default)]
    #[allow(dead_code, reason = "read to check its type")]
    max_tokens: Option<u64>,
}

fn decode_head(body: &[u8]) -> Result<Head, DecodeError> {
    let head: CompletionsHead = decode(body)?;
    let prompt = head.prompt.get().trim_start();
    if !(prompt.starts_with('"') || prompt.starts_with('[')) {
        return Err(DecodeError {
            message: "`prompt` must be a string or an array".to_owned(),
            param: Some("prompt".to_owned()),
        });
    }
    Ok(Head {
        usage_requested: head
            .stream_options
            .and_then(|o| o.include_usage)
            .unwrap_or(false),
        stream: head.stream.unwrap_or(false),
        model: head.model,
    })
}
