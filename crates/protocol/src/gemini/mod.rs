//! Google Gemini's native REST API (`generateContent`), provider side only: Sluice
//! sends Gemini requests and reads Gemini responses; no client speaks Gemini to Sluice.
//!
//! - [`path()`]: the URL path (`/models/{model}:generateContent`, or
//!   `:streamGenerateContent?alt=sse`): Gemini takes the model and the streaming choice
//!   in the URL, not the body.
//! - [`request`]: canonical request → body (system instruction, tools, generation
//!   config); `contents` writes the conversation and `schema` converts JSON Schema to
//!   Gemini's OpenAPI subset.
//! - [`response`]: body → canonical response.
//! - [`stream`]: SSE chunks → canonical stream events.
//! - [`error`]: error body → [`ProviderError`](crate::canonical::ProviderError).
//! - [`wire`]: serde types of the format.
//!
//! Authentication (`x-goog-api-key`) is the gateway's business, not this module's.

mod contents;
pub mod error;
mod path;
pub mod request;
pub mod response;
mod schema;
pub mod stream;
pub mod wire;

pub use error::decode_error;
pub use path::path;
pub use request::encode_request;
pub use response::decode_response;
pub use stream::StreamDecoder;
