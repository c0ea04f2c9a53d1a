//! Sluice's wire formats, with no I/O: everything here is a pure function of bytes and
//! values, so it can be fuzzed, property-tested and benchmarked without a runtime.
//!
//! - [`sse`]: incremental Server-Sent Events decoder that keeps each event's exact bytes
//!   (for pass-through forwarding), and the encoder.
//! - [`canonical`]: the provider-neutral types every format converts to and from.
//! - [`openai`]: OpenAI wire types: the request head Sluice reads, usage, error bodies,
//!   and the body rewrite that swaps the model name without touching other fields.
//!
//! Never depend on tokio, hyper or reqwest here; never log; never panic on input.

pub mod canonical;
pub mod openai;
pub mod sse;
