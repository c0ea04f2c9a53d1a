//! Sluice's wire formats, with no I/O: everything here is a pure function of bytes and
//! values, so it can be fuzzed, property-tested and benchmarked without a runtime.
//!
//! - [`sse`]: incremental Server-Sent Events decoder that keeps each event's exact bytes
//!   (for pass-through forwarding), and the encoder.
//! - [`canonical`]: the provider-neutral types every format converts to and from.
//! - [`openai`]: OpenAI Chat Completions: the request head Sluice reads, the body rewrite
//!   that swaps the model name without touching other fields, usage, errors, and the
//!   translation to and from the canonical model.
//! - [`anthropic`]: Anthropic Messages, both ways.
//! - [`gemini`]: Google Gemini generateContent (provider side).
//! - [`responses`]: OpenAI Responses (ingress side).
//! - [`text`]: where the text is in each format's bodies and stream events, for the
//!   stages that read or rewrite it (the guard).
//! - [`translate`]: the switchboard: each translation step as one call dispatching on the
//!   ingress or provider format.
//! - `json_lex` (private): JSON's lexical pieces, strict, shared by the two in-place
//!   walkers (the pass-through tap's check and the text walk) so they refuse alike.
//!
//! Never depend on tokio, hyper or reqwest here; never log; never panic on input.

pub mod anthropic;
pub mod canonical;
pub mod gemini;
pub mod json;
mod json_lex;
pub mod openai;
pub mod responses;
pub mod sse;
pub mod text;
pub mod translate;
