//! The pipeline's first stage: what each endpoint's ingress format is, and how to read
//! the little of a request the pipeline needs (model, stream flags) without parsing the
//! rest, which reaches a same-format provider byte for byte.
//!
//! - [`chat`]: OpenAI Chat Completions.
//! - [`completions`]: OpenAI legacy text completions (OpenAI-format providers only).
//! - [`messages`]: Anthropic Messages (requires `anthropic-version`, keeps `anthropic-beta`).
//! - [`responses`]: OpenAI Responses (always translated).
//! - [`embeddings`]: OpenAI Embeddings (OpenAI-format providers only).
//!
//! Must never reject what the provider would accept: a head decoder reads only the
//! fields it names, and wrong types there give a 400 naming the field.

pub mod chat;
pub mod completions;
pub mod embeddings;
pub mod messages;
pub mod responses;

use crate::error::GatewayError;
use crate::upstream::Endpoint;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use sluice_protocol::openai::request::DecodeError;
use sluice_protocol::translate::Ingress;

/// Client headers a same-format provider should receive.
pub type ForwardHeaders = Vec<(HeaderName, HeaderValue)>;

/// The fields of a request head that the pipeline needs.
pub struct Head {
    pub model: String,
    pub stream: bool,
    /// The client asked for stream usage (OpenAI `stream_options.include_usage`).
    pub usage_requested: bool,
}

/// One endpoint: its ingress format, upstream endpoint, and head decoder. The router
/// picks it, so the format is known from the first stage on and never guessed again.
pub struct Ingest {
    pub ingress: Ingress,
    pub endpoint: Endpoint,
    /// The endpoint's name in records and logs.
    pub name: &'static str,
    pub decode: fn(&[u8]) -> Result<Head, DecodeError>,
    /// Checks on the request headers before the body is read.
    pub check_headers: fn(&HeaderMap) -> Result<ForwardHeaders, GatewayError>,
}

impl Ingest {
    /// Decodes the head, a failure being the client's 400.
    pub fn head(&self, body: &[u8]) -> Result<Head, GatewayError> {
        (self.decode)(body).map_err(|e| GatewayError::BadRequest {
            message: e.message,
            param: e.param,
        })
    }
}

/// For endpoints that need no header checks.
pub fn no_header_checks(_: &HeaderMap) -> Result<ForwardHeaders, GatewayError> {
    Ok(Vec::new())
}
