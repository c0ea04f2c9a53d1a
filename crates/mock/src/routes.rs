//! The HTTP surface: the `/mock/*` inspection endpoints, and for every
//! model API path (`/v1`, `/v1beta`, `/openai`) reading the body, recording
//! the request and handing it to `paths` and `dispatch`.
//!
//! Routing only; this module must never interpret a model request's body
//! (that starts in `dispatch`) nor its URL (that is `paths`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::MockConfig;
use crate::dispatch;
use crate::errors::{self, Dialect};
use crate::paths::{self, Target};
use crate::stats::{RecordedRequest, Stats};

/// Generous, because benchmark bodies can be large; anything bigger is a
/// test bug and gets a 413.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Shared state of one mock server.
#[derive(Clone, Debug)]
pub(crate) struct App {
    pub stats: Arc<Stats>,
    pub config: MockConfig,
    ids: Arc<AtomicU64>,
    /// Server-wide options (`key=value,...`), the weakest source of every request's.
    pub script: Arc<RwLock<String>>,
}

impl App {
    pub(crate) fn new(config: MockConfig, stats: Arc<Stats>) -> Self {
        Self {
            stats,
            config,
            ids: Arc::new(AtomicU64::new(0)),
            script: Arc::new(RwLock::new(String::new())),
        }
    }

    /// The server-wide options right now.
    pub(crate) fn script(&self) -> String {
        self.script
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_script(&self, script: &str) {
        *self
            .script
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = script.to_owned();
    }

    /// The next response number, for `chatcmpl-mock-<n>`, `msg_mock_<n>`
    /// and `gemini-mock-<n>`.
    pub(crate) fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::Relaxed) + 1
    }
}

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/mock/stats", get(stats))
        .route("/mock/last-request", get(last_request))
        .route(
            "/mock/script",
            axum::routing::put(put_script).get(get_script),
        )
        .fallback(model_api)
        .with_state(app)
}

async fn model_api(State(app): State<App>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    if !paths::is_model_api(path) {
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
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers,
        body: body.clone(),
    });
    match paths::resolve(&parts.method, path, parts.uri.query()) {
        Target::Respond(response) => {
            // A sick server (the script's `status`) fails its model list too, which is
            // what a gateway's active health check reads.
            let script = app.script();
            let scripted = crate::faults::parse(None, &axum::http::HeaderMap::new(), None, &script);
            match scripted.ok().and_then(|o| o.fault_status()) {
                Some(status) => errors::fault(Dialect::OpenAi, status),
                None => response,
            }
        }
        Target::Dispatch(route) => dispatch::handle(&app, &route, &parts.headers, &body).await,
    }
}

/// `PUT /mock/script` with `key=value,...`: options every later request gets (an
/// empty body clears them). Checked like a model suffix, so a typo is a 400.
async fn put_script(State(app): State<App>, body: String) -> Response {
    let script = body.trim();
    if let Err(message) = crate::faults::suffix_options(Some(script)).and_then(|_| {
        crate::faults::parse(None, &axum::http::HeaderMap::new(), None, script).map(|_| ())
    }) {
        return errors::bad_request(Dialect::OpenAi, &message);
    }
    app.set_script(script);
    errors::json_response(200, json!({ "script": script }).to_string())
}

async fn get_script(State(app): State<App>) -> Response {
    errors::json_response(200, json!({ "script": app.script() }).to_string())
}

async fn stats(State(app): State<App>) -> Response {
    let stats = &app.stats;
    let body = json!({
        "connections": stats.connections(),
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
        "query": request.query,
        "headers": headers,
        "body": String::from_utf8_lossy(&request.body),
    });
    errors::json_response(200, body.to_string())
}
