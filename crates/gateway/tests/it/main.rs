//! Integration tests: the real gateway on port 0 against the real mock provider on
//! port 0, over HTTP on loopback, asserting what a client sees. One module per feature.

// A failed expectation in a test should panic with its message: that is the report.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod binary;
mod chat;
mod conformance;
mod count_tokens;
mod errors;
mod faults;
mod fleet;
mod guard;
mod guard_hook;
mod guard_stream;
mod ingress;
mod journal;
mod keys;
mod limits;
mod metrics;
mod passthrough;
mod pipeline;
mod replicas;
mod resilience;
mod resume;
mod services;
mod stream;
mod support;
mod tls;
mod traces;
mod translation;
