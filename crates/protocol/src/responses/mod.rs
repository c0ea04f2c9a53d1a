//! OpenAI Responses (`POST /v1/responses`), ingress side only: clients speak it, no
//! provider is sent it. Requests decode into the canonical model; canonical answers
//! encode back as a Responses object or event stream.
//!
//! - `wire`: serde types of the request, read leniently so errors name their path.
//! - `request`: [`decode_request`]: top-level members, tools, tool choice, text format.
//! - `input`: the `input` items (messages, function calls and outputs, reasoning).
//! - `object`: the response object and its output items, shared by body and stream.
//! - `echo`: the request fields the response object repeats.
//! - `response`: [`encode_response`], the non-streamed body.
//! - `events`: stream event payloads and their SSE framing with `sequence_number`.
//! - `stream`: [`StreamEncoder`]: lifecycle events, usage, finish, errors.
//! - `items`: the output items' events within a stream (open, fill, close).
//! - `error`: [`encode_error`] (HTTP body) and [`encode_stream_error`] (`error` event).
//!
//! State kept by OpenAI (`previous_response_id`, `conversation`, stored prompts, file
//! ids, background runs) and hosted tools cannot be served by a gateway: they are
//! refused at decode with a message that says what to send instead.

mod echo;
mod error;
mod events;
mod input;
mod items;
mod object;
mod request;
mod response;
mod stream;
mod wire;

pub use error::{encode_error, encode_stream_error};
pub use request::decode_request;
pub use response::encode_response;
pub use stream::StreamEncoder;
