//! The OpenAI wire format (Chat Completions, Embeddings, Models).
//!
//! Pass-through path (ingress and provider both OpenAI; bytes forwarded as they are):
//! - [`request`]: the request head Sluice reads and validates (model, stream flags).
//! - [`rewrite`]: replace the top-level `model` while keeping every other byte of the body.
//! - [`usage`]: find usage in a response body or a stream chunk.
//! - [`tap`]: what the relay learns from one stream event (end, error, usage, malformed).
//!
//! Translation path (the other side speaks another format), through the canonical model:
//! - [`wire`]: serde types of requests and responses; [`wire_stream`]: of stream chunks.
//! - [`translate_request`] (with `decode_messages`, `encode_messages`): request ↔ canonical.
//! - [`translate_response`]: response body ↔ canonical, both ways.
//! - [`translate_stream`]: stream chunks ↔ canonical events, both ways.
//! - [`error`]: the `{"error":{...}}` body, and its translation to and from `ProviderError`.

mod decode_messages;
mod encode_messages;
pub mod error;
pub mod request;
pub mod rewrite;
pub mod tap;
pub mod translate_request;
pub mod translate_response;
pub mod translate_stream;
pub mod usage;
pub mod wire;
pub mod wire_stream;

pub use error::{decode_error, encode_error, encode_stream_error};
pub use tap::tap;
pub use translate_request::{decode_request, encode_request};
pub use translate_response::{decode_response, encode_response};
pub use translate_stream::{StreamDecoder, StreamEncoder};
