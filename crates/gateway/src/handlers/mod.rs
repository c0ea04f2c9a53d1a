//! HTTP handlers. Each endpoint that goes upstream only names its ingress format and
//! hands the request to the pipeline; the others answer from the snapshot.
//!
//! - [`models`]: `GET /v1/models` and `GET /v1/models/{id}`.
//! - [`health`]: `/healthz` and `/readyz`.
//! - [`count_tokens`]: `POST /v1/messages/count_tokens`, from the provider or estimated.
//!
//! Must never build an error response by hand: errors are `GatewayError`s.

pub mod count_tokens;
pub mod health;
pub mod models;

use crate::ingress;
use crate::pipeline;
use crate::state::Gateway;
use axum::extract::{Request, State};
use axum::response::Response;
use std::sync::Arc;

/// `POST /v1/chat/completions`: OpenAI Chat Completions.
pub async fn chat_completions(State(gw): State<Arc<Gateway>>, req: Request) -> Response {
    pipeline::run(gw, req, &ingress::chat::CHAT).await
}

/// `POST /v1/messages`: Anthropic Messages.
pub async fn messages(State(gw): State<Arc<Gateway>>, req: Request) -> Response {
    pipeline::run(gw, req, &ingress::messages::MESSAGES).await
}

/// `POST /v1/responses`: OpenAI Responses.
pub async fn responses(State(gw): State<Arc<Gateway>>, req: Request) -> Response {
    pipeline::run(gw, req, &ingress::responses::RESPONSES).await
}

/// `POST /v1/completions`: OpenAI legacy text completions.
pub async fn completions(State(gw): State<Arc<Gateway>>, req: Request) -> Response {
    pipeline::run(gw, req, &ingress::completions::COMPLETIONS).await
}

/// `POST /v1/embeddings`: OpenAI Embeddings.
pub async fn embeddings(State(gw): State<Arc<Gateway>>, req: Request) -> Response {
    pipeline::run(gw, req, &ingress::embeddings::EMBEDDINGS).await
}
