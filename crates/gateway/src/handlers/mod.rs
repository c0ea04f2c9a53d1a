//! HTTP handlers, one file per endpoint family. Each decodes its ingress format's head
//! and hands over to `proxy`, the shared pipeline for requests that go upstream.
//!
//! Must never build an error response by hand: errors are `GatewayError`s.

pub mod chat;
pub mod embeddings;
pub mod health;
pub mod messages;
pub mod models;
mod proxy;
pub mod responses;
