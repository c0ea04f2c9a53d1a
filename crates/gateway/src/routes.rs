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
use axum::http::{Method, Uri};
use axum::response::Response;
use axum::routing::{MethodRouter, any, get, post};
use sluice_protocol::translate::Ingress;
use std::sync::Arc;

pub fn router(gw: Arc<Gateway>) -> Router {
    let openai =
        |m: MethodRouter<Arc<Gateway>>, allow| m.fallback(wrong_method(Ingress::OpenAiChat, allow));
    let anthropic =
        |m: MethodRouter<Arc<Gateway>>| m.fallback(wrong_method(Ingress::Anthropic, "POST"));
    Router::new()
        .route(
            "/v1/chat/completions",
            openai(post(handlers::chat_completions), "POST"),
        )
        .route("/v1/messages", anthropic(post(handlers::messages)))
        .route(
            "/v1/messages/count_tokens",
            anthropic(post(handlers::count_tokens::count_tokens)),
        )
        .route("/v1/responses", openai(post(handlers::responses), "POST"))
        .route("/v1/embeddings", openai(post(handlers::embeddings), "POST"))
        .route(
            "/v1/completions",
            openai(post(handlers::completions), "POST"),
        )
        .route("/v1/models", openai(get(models::list), GET))
        .route("/v1/models/{*id}", openai(get(models::retrieve), GET))
        .route("/healthz", openai(get(health::healthz), GET))
        .route("/readyz", openai(get(health::readyz), GET))
        .route(
            "/metrics",
            openai(get(crate::telemetry::metrics::scrape), GET),
        )
        .route("/v1/messages/{*rest}", any(unknown_anthropic_route))
        .merge(crate::admin::routes(Arc::clone(&gw)))
        .fallback(unknown_route)
        // Admission reads bodies itself against `max_body_bytes`, with the format's 413.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(request_id::layer))
        .with_state(gw)
}

/// What a `get` route serves (axum answers HEAD from the GET handler).
const GET: &str = "GET, HEAD";

/// A known path asked with another method: 405 in the route's error shape, with `allow`.
fn wrong_method(
    ingress: Ingress,
    allow: &'static str,
) -> impl Fn(Method, Uri) -> std::future::Ready<Response> + Clone + Send + Sync + 'static {
    move |method: Method, uri: Uri| {
        std::future::ready(
            GatewayError::MethodNotAllowed {
                method: method.as_str().chars().take(20).collect(),
                path: uri.path().chars().take(200).collect(),
                allow,
            }
            .respond(ingress),
        )
    }
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
