//! `/healthz` (the process answers) and `/readyz` (config loaded, not draining).
//!
//! Must never do I/O on the hot path of a probe beyond reading flags.

use crate::runtime::Runtime;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;
use std::sync::Arc;

pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(rt): State<Arc<Runtime>>) -> (StatusCode, Json<serde_json::Value>) {
    if rt.is_shutting_down() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "draining" })),
        )
    } else {
        (StatusCode::OK, Json(json!({ "status": "ready" })))
    }
}
