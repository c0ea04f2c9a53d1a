//! Every public path in one screen, and the HTTP-generic layers around them. Each
//! upstream-bound path names its ingress format through its handler, so the format is
//! known from here on; unknown paths under `/v1/messages` answer in Anthropic's shape
//! because the route says so, not because anything guesses from the path later.
//!
//! Must never hold domain logic: handlers and pipeline stages do that.

use crate::error::GatewayError;
use crate::handlers::{self, health, models};
use crate::request_id;
use crate::state::Gateway;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use axum::response::Response;
use axum::routing::{any, get, post};
use sluice_protocol::translate::Ingress;
use std::sync::Arc;

pub fn router(gw: Arc<Gateway>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(handlers::chat_completions))
        .route("/v1/messages", post(handlers::messages))
        .route("/v1/responses", post(handlers::responses))
        .route("/v1/embeddings", post(handlers::embeddings))
        .route("/v1/models", get(models::list))
        .route("/v1/models/{*id}", get(models::retrieve))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(crate::telemetry::metrics::scrape))
        .route("/v1/messages/{*rest}", any(unknown_anthropic_route))
        .merge(crate::admin::routes(Arc::clone(&gw)))
        .fallback(unknown_route)
        // Admission reads bodies itself against `max_body_bytes`, with the format's 413.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(request_id::layer))
        .with_state(gw)
}

async fn unknown_route(uri: Uri) -> Response {
    unknown(&uri).respond(Ingress::OpenAiChat)
}

async fn unknown_anthropic_route(uri: Uri) -> Response {
    unknown(&uri).respond(Ingress::Anthropic)
}

fn unknown(uri: &Uri) -> GatewayError {
    GatewayError::UnknownRoute {
        path: uri.path().chars().take(200).collect(),
    }
}
