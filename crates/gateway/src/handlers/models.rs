//! `GET /v1/models` and `GET /v1/models/{id}`: the client-visible model names this key
//! may use (patterns such as `gpt-*` are routes, not models, and are not listed).
//!
//! Must never reveal provider names, upstream model names or URLs.

use crate::admission;
use crate::auth;
use crate::error::GatewayError;
use crate::routing::find;
use crate::state::Gateway;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sluice_protocol::translate::Ingress;
use std::sync::Arc;

#[derive(Serialize)]
struct Model<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    owned_by: &'static str,
}

#[derive(Serialize)]
struct List<'a> {
    object: &'static str,
    data: Vec<Model<'a>>,
}

fn model(id: &str) -> Model<'_> {
    Model {
        id,
        object: "model",
        created: 0,
        owned_by: "sluice",
    }
}

pub async fn list(State(gw): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    let snapshot = gw.snapshot();
    let principal = match auth::authenticate(&snapshot, &gw.shared.keys, &headers) {
        Ok(p) => p,
        Err(e) => return e.respond(Ingress::OpenAiChat),
    };
    let _permit = match admission::admit(&gw.shared) {
        Ok(permit) => permit,
        Err(e) => return e.respond(Ingress::OpenAiChat),
    };
    let data = snapshot
        .models
        .iter()
        .filter(|m| !m.is_pattern())
        .filter(|m| principal.as_ref().is_none_or(|p| p.allows(&m.name)))
        .map(|m| model(&m.name))
        .collect();
    Json(List {
        object: "list",
        data,
    })
    .into_response()
}

pub async fn retrieve(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let snapshot = gw.snapshot();
    let principal = match auth::authenticate(&snapshot, &gw.shared.keys, &headers) {
        Ok(p) => p,
        Err(e) => return e.respond(Ingress::OpenAiChat),
    };
    if let Err(e) = admission::admit(&gw.shared) {
        return e.respond(Ingress::OpenAiChat);
    }
    // A model the key may not use is as absent as one that does not exist.
    let allowed = principal.as_ref().is_none_or(|p| p.allows(&id));
    match find(&snapshot.models, &id).filter(|_| allowed) {
        Some(_) => Json(model(&id)).into_response(),
        None => GatewayError::ModelNotFound { model: id }.respond(Ingress::OpenAiChat),
    }
}
