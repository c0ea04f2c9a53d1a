//! The static model catalogue: the OpenAI-style `/v1/models` list and the
//! Gemini-style `/v1beta/models` list, and single-model lookups in each.
//!
//! These lists are only for SDKs that enumerate or look models up; this
//! module must never be used to reject a model in a generation request
//! (the mock answers any model name), and its output must stay
//! byte-for-byte stable (no clocks).

use axum::response::Response;
use serde_json::{Value, json};

use crate::errors::{self, Dialect};

const OPENAI_MODELS: [&str; 5] = [
    "mock-gpt",
    "gpt-4o",
    "gpt-4o-mini",
    "claude-sonnet-4-5",
    "text-embedding-3-small",
];

const GEMINI_MODELS: [&str; 3] = ["mock-gemini", "gemini-2.5-flash", "gemini-2.5-pro"];

/// A fixed `created` for models, so the list is byte-for-byte stable.
const MODELS_CREATED: u64 = 1_700_000_000;

fn openai_model_object(id: &str) -> Value {
    json!({"id": id, "object": "model", "created": MODELS_CREATED, "owned_by": "sluice-mock"})
}

/// `GET /v1/models`.
pub(crate) fn openai_models() -> Response {
    let data: Vec<Value> = OPENAI_MODELS
        .iter()
        .map(|id| openai_model_object(id))
        .collect();
    errors::json_response(200, json!({"object": "list", "data": data}).to_string())
}

/// `GET /v1/models/<id>`, for SDKs that look a model up before using it.
pub(crate) fn openai_model(id: &str) -> Response {
    if OPENAI_MODELS.contains(&id) {
        return errors::json_response(200, openai_model_object(id).to_string());
    }
    errors::error(
        Dialect::OpenAi,
        404,
        None,
        "mock: unknown endpoint or model",
    )
}

fn gemini_model_object(id: &str) -> Value {
    json!({
        "name": format!("models/{id}"),
        "version": "mock",
        "displayName": id,
        "description": "sluice-mock model",
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 65_536,
        "supportedGenerationMethods": ["generateContent", "streamGenerateContent"],
    })
}

/// `GET /v1beta/models`.
pub(crate) fn gemini_models() -> Response {
    let models: Vec<Value> = GEMINI_MODELS
        .iter()
        .map(|id| gemini_model_object(id))
        .collect();
    errors::json_response(200, json!({"models": models}).to_string())
}

/// `GET /v1beta/models/<id>`.
pub(crate) fn gemini_model(id: &str) -> Response {
    if GEMINI_MODELS.contains(&id) {
        return errors::json_response(200, gemini_model_object(id).to_string());
    }
    let message = format!("models/{id} is not found for the mock");
    errors::error(Dialect::Gemini, 404, None, &message)
}
