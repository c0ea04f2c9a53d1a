//! Every public path in one screen, and the HTTP-generic work around them (the request
//! id). Each upstream-bound path names its ingress format here (`UPSTREAM`), so the
//! format is known from here on; unknown paths under `/v1/messages` answer in
//! Anthropic's shape because the route says so, not because anything guesses from the
//! path later.
//!
//! `App` is the service each connection runs. A `POST` to an upstream-bound path goes
//! straight into the pipeline; every other request goes through axum's router. The
//! router's layers (its boxed and cloned services, a middleware's boxed futures and
//! `Next`) cost 7,800 instructions and 21 allocations per request more than this
//! (callgrind, BENCHMARKS.md, "eighth pass"); the requests that pay for the gateway's
//! purpose should not carry them.
//!
//! Must never hold domain logic: handlers and pipeline stages do that.

use crate::error::GatewayError;
use crate::handlers::{self, health, models};
use crate::ingress::{self, Ingest};
use crate::pipeline;
use crate::request_id::RequestId;
use crate::state::Gateway;
use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Request, Uri};
use axum::response::Response;
use axum::routing::{MethodRouter, any, get, post};
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use sluice_protocol::translate::Ingress;
use std::convert::Infallible;
use std::sync::Arc;
use tower::ServiceExt as _;

/// The upstream-bound paths, each with the ingress format its requests and errors are
/// in. A `POST` to one of them is served by `App` without the router; the router lists
/// them for every other method's 405.
const UPSTREAM: [(&str, &Ingest); 5] = [
    ("/v1/chat/completions", &ingress::chat::CHAT),
    ("/v1/messages", &ingress::messages::MESSAGES),
    ("/v1/responses", &ingress::responses::RESPONSES),
    ("/v1/embeddings", &ingress::embeddings::EMBEDDINGS),
    ("/v1/completions", &ingress::completions::COMPLETIONS),
];

/// The ingress of an upstream-bound request, or `None` for the router to serve.
fn upstream_bound(method: &Method, path: &str) -> Option<&'static Ingest> {
    if method != Method::POST {
        return None;
    }
    UPSTREAM
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, ingest)| *ingest)
}

/// The service each connection runs: the request id on every request and response,
/// then the pipeline or the router.
#[derive(Clone)]
pub struct App {
    gw: Arc<Gateway>,
    router: Router,
}

impl App {
    pub fn new(gw: Arc<Gateway>) -> Self {
        let router = router(Arc::clone(&gw));
        Self { gw, router }
    }
}

impl<B> hyper::service::Service<Request<B>> for App
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn call(&self, req: Request<B>) -> Self::Future {
        let id = RequestId::of(req.headers());
        let req = req.map(Body::new);
        match upstream_bound(req.method(), req.uri().path()) {
            // Boxed as it is made: the pipeline's future is several kilobytes, and every
            // wrapper around it would be one more copy of them per request.
            Some(ingest) => Box::pin(pipeline::run(Arc::clone(&self.gw), req, ingest, id).map(Ok)),
            None => {
                let routed = self.router.clone().oneshot(req);
                Box::pin(async move {
                    let Ok(mut response) = routed.await;
                    id.stamp.put_on(&mut response, None);
                    Ok(response)
                })
            }
        }
    }
}

fn router(gw: Arc<Gateway>) -> Router {
    let openai =
        |m: MethodRouter<Arc<Gateway>>, allow| m.fallback(wrong_method(Ingress::OpenAiChat, allow));
    let anthropic =
        |m: MethodRouter<Arc<Gateway>>| m.fallback(wrong_method(Ingress::Anthropic, "POST"));
    let mut router = Router::new();
    for (path, ingest) in UPSTREAM {
        // Only other methods get here: `App` serves the POSTs.
        router = router.route(path, any(wrong_method(ingest.ingress, "POST")));
    }
    router
        .route(
            "/v1/messages/count_tokens",
            anthropic(post(handlers::count_tokens::count_tokens)),
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
