//! HTTP handlers for the endpoints that do not go upstream: they answer from the
//! snapshot (the upstream-bound ones go from `routes::App` straight to the pipeline).
//!
//! - [`models`]: `GET /v1/models` and `GET /v1/models/{id}`.
//! - [`health`]: `/healthz` and `/readyz`.
//! - [`count_tokens`]: `POST /v1/messages/count_tokens`, from the provider or estimated.
//!
//! Must never build an error response by hand: errors are `GatewayError`s.

pub mod count_tokens;
pub mod health;
pub mod models;
