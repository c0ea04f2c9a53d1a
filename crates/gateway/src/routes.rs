//! Every public path in one screen, and the HTTP-generic layers around them.
//!
//! Must never hold domain logic: handlers and pipeline stages do that.

use crate::admission::limit_in_flight;
use crate::error::{GatewayError, ingress_for_path};
use crate::handlers::{chat, embeddings, health, messages, models, responses};
use crate::request_id;
use crate::runtime::Runtime;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::Response;
use axum::routing::{get, post};
use std::sync::Arc;

pub fn router(rt: Arc<Runtime>) -> Router {
    let api = Router::new()
        .route("/v1/chat/completions", post(chat::completions))
        .route("/v1/messages", post(messages::create))
        .route("/v1/responses", post(responses::create))
        .route("/v1/embeddings", post(embeddings::create))
        .route("/v1/models", get(models::list))
        .route("/v1/models/{*id}", get(models::retrieve))
        .layer(from_fn_with_state(Arc::clone(&rt), limit_in_flight));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(api)
        .fallback(unknown_route)
        // Admission reads bodies itself against `max_body_bytes` with an OpenAI-shaped 413.
        .layer(DefaultBodyLimit::disable())
        .layer(from_fn(request_id::layer))
        .with_state(rt)
}

async fn unknown_route(uri: Uri) -> Response {
    GatewayError::UnknownRoute {
        path: uri.path().chars().take(200).collect(),
    }
    .respond(ingress_for_path(uri.path()))
}
