//! The OpenAI wire format (Chat Completions, Embeddings, Models).
//!
//! - [`request`]: the request head Sluice reads and validates (model, stream flags).
//! - [`rewrite`]: replace the top-level `model` while keeping every other byte of the body.
//! - [`usage`]: find usage in a response body or a stream chunk.
//! - [`error`]: the `{"error":{...}}` body.

pub mod error;
pub mod request;
pub mod rewrite;
pub mod usage;
