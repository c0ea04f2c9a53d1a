//! Anthropic Messages (`POST /v1/messages`), both as the format clients send (ingress)
//! and as the format Sluice sends to Anthropic (provider).
//!
//! - [`wire`]: serde shapes of the format (flat `In*` for reading, borrowed `Out*` for writing).
//! - [`wire_stream`]: serde shapes of the stream events.
//! - [`content`]: content blocks ↔ canonical parts, shared by everything below.
//! - [`request`]: ingress request → canonical (`decode_request`).
//! - [`request_encode`]: canonical → provider request (`encode_request`), reshaping what
//!   Anthropic is strict about (role alternation, tool results first, `max_tokens`),
//!   with `encode_messages` for the messages and their blocks.
//! - [`response`]: whole messages both ways; stop-reason and usage mappings.
//! - [`stream_encode`]: canonical events → Anthropic SSE (ingress streams).
//! - [`stream_decode`]: Anthropic SSE → canonical events (provider streams).
//! - [`tap`]: usage/end/error of one event for the pass-through relay.
//! - [`error`]: the `{"type":"error","error":{...}}` body and status ↔ type mapping.
//!
//! Normalisations a round trip (Anthropic → canonical → Anthropic) makes: string
//! `content`/`system`/tool-result content become one-element arrays of text blocks;
//! `type: "custom"` on tools is dropped; consecutive same-role messages are merged and
//! tool results move to the front of their turn; `cache_control` on `tool_use` blocks
//! and `citations` are dropped; null cache counters in usage become 0.

pub mod content;
mod encode_messages;
pub mod error;
pub mod request;
pub mod request_encode;
pub mod response;
pub mod stream_decode;
pub mod stream_encode;
pub mod tap;
pub mod wire;
pub mod wire_stream;

pub use error::{decode_error, encode_error, encode_stream_error};
pub use request::decode_request;
pub use request_encode::encode_request;
pub use response::{decode_response, encode_response};
pub use stream_decode::StreamDecoder;
pub use stream_encode::StreamEncoder;
pub use tap::tap;

/// The `anthropic-version` header value Sluice sends upstream.
pub const DEFAULT_VERSION: &str = "2023-06-01";
