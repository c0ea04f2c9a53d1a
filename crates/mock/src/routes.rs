//! The HTTP surface: routing, request recording, the `/mock/*` inspection
//! endpoints and the static model list.
//!
//! Routing only; this module must never interpret a model request's body
//! (that starts in `dispatch`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::MockConfig;
use crate::dispatch::{self, Endpoint};
use crate::errors::{self, Dialect};
use crate::stats::{RecordedRequest, Stats};

/// Generous, because benchmark bodies can be large; anything bigger is a
/// test bug and gets a 413.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

const MODELS: [&str; 5] = [
    "mock-gpt",
    "gpt-4o",
    "gpt-4o-mini",
    "claude-sonnet-4-5",
    "text-embedding-3-small",
];

/// A fixed `created` for models, so the list is byte-for-byte stable.
const MODELS_CREATED: u64 = 1_700_000_000;

/// Shared state of one mock server.
#[derive(Clone, Debug)]
pub(crate) struct App {
    pub stats: Arc<Stats>,
    pub config: MockConfig,
    ids: Arc<AtomicU64>,
}

impl App {
    pub(crate) fn new(config: MockConfig, stats: Arc<Stats>) -> Self {
        Self {
            stats,
            config,
            ids: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The next response number, for `chatcmpl-mock-<n>` / `msg_mock_<n>`.
    pub(crate) fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::Relaxed) + 1
    }
}

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/mock/stats", get(stats))
        .route("/mock/last-request", get(last_request))
        .fallback(v1)
        .with_state(app)
}

async fn v1(State(app): State<App>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    if !(path == "/v1" || path.starts_with("/v1/")) {
        return errors::error(Dialect::OpenAi, 404, None, "mock: unknown path");
    }
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            return errors::error(
                Dialect::OpenAi,
                413,
                None,
                "mock: request body unreadable or too large",
            );
        }
    };
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    app.stats.record(RecordedRequest {
        method: parts.method.as_str().to_owned(),
        path: path.to_owned(),
        headers,
        body: body.clone(),
    });
    let endpoint = match path {
        "/v1/chat/completions" => Endpoint::ChatCompletions,
        "/v1/messages" => Endpoint::Messages,
        "/v1/embeddings" => Endpoint::Embeddings,
        "/v1/models" if parts.method == Method::GET => return models(),
        _ if parts.method == Method::GET => return model(path),
        _ => return errors::error(Dialect::OpenAi, 404, None, "mock: unknown endpoint"),
    };
    if parts.method != Method::POST {
        return errors::error(Dialect::OpenAi, 405, None, "mock: use POST");
    }
    dispatch::handle(&app, endpoint, &parts.headers, &body).await
}

fn model_object(id: &str) -> Value {
    json!({"id": id, "object": "model", "created": MODELS_CREATED, "owned_by": "sluice-mock"})
}

fn models() -> Response {
    let data: Vec<Value> = MODELS.iter().map(|id| model_object(id)).collect();
    errors::json_response(200, json!({"object": "list", "data": data}).to_string())
}

/// `GET /v1/models/<id>`, for SDKs that look a model up before using it.
fn model(path: &str) -> Response {
    match path.strip_prefix("/v1/models/") {
        Some(id) if MODELS.contains(&id) => {
            errors::json_response(200, model_object(id).to_string())
        }
        _ => errors::error(
            Dialect::OpenAi,
            404,
            None,
            "mock: unknown endpoint or model",
        ),
    }
}

async fn stats(State(app): State<App>) -> Response {
    let stats = &app.stats;
    let body = json!({
        "requests": stats.requests(),
        "active_streams": stats.active_streams(),
        "completed_streams": stats.completed_streams(),
        "cancelled": stats.cancelled(),
    });
    errors::json_response(200, body.to_string())
}

async fn last_request(State(app): State<App>) -> Response {
    let Some(request) = app.stats.last_request() else {
        return errors::error(Dialect::OpenAi, 404, None, "mock: no request recorded yet");
    };
    let mut headers = Map::new();
    for (name, value) in request.headers {
        // Repeated headers are joined the way HTTP allows folding them.
        match headers.get_mut(&name) {
            Some(Value::String(earlier)) => {
                earlier.push_str(", ");
                earlier.push_str(&value);
            }
            _ => {
                headers.insert(name, Value::String(value));
            }
        }
    }
    let body = json!({
        "method": request.method,
        "path": request.path,
        "headers": headers,
        "body": String::from_utf8_lossy(&request.body),
    });
    errors::json_response(200, body.to_string())
}
