//! `/admin/keys`: virtual keys in the store.
//!
//! ```text
//! POST   /admin/keys              create; the answer holds the secret, this once
//! GET    /admin/keys              list (never secrets)
//! GET    /admin/keys/{id}         one key, by id or name
//! PATCH  /admin/keys/{id}         change fields (null clears one)
//! POST   /admin/keys/{id}/rotate  a new secret; the old one stops at once
//! POST   /admin/keys/{id}/revoke  (or DELETE /admin/keys/{id}) refused from now on
//! ```
//!
//! A change reloads this replica's key ring before the answer, and a revocation is put
//! in Redis's revoked set when the limits are shared, so every replica refuses the key
//! on its next request; others pick changes up within `[limits] keys_refresh`.
//!
//! Must never return a secret outside the create and rotate answers.

use crate::error::GatewayError;
use crate::state::Gateway;
use crate::store::Store;
use crate::store::keys::StoredKey;
use crate::store::keyspec::{KeyError, KeySpec};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sluice_protocol::translate::Ingress;
use std::sync::Arc;

#[derive(Serialize)]
struct WithSecret {
    #[serde(flatten)]
    key: StoredKey,
    /// Shown once: Sluice keeps only its hash.
    secret: String,
}

#[derive(Serialize)]
struct List {
    object: &'static str,
    data: Vec<StoredKey>,
}

fn store(gw: &Gateway) -> Result<&Store, Box<Response>> {
    gw.shared.store.as_ref().ok_or_else(|| {
        Box::new(
            GatewayError::bad_request(
                "no [store] is configured: keys from the admin API live there",
            )
            .respond(Ingress::OpenAiChat),
        )
    })
}

fn failed(e: KeyError) -> Response {
    match e {
        KeyError::Invalid(message) => {
            GatewayError::bad_request(message).respond(Ingress::OpenAiChat)
        }
        KeyError::NotFound(id) => GatewayError::UnknownRoute {
            path: format!("/admin/keys/{id}"),
        }
        .respond(Ingress::OpenAiChat),
        KeyError::Conflict(message) => {
            let mut r = GatewayError::bad_request(message).respond(Ingress::OpenAiChat);
            *r.status_mut() = StatusCode::CONFLICT;
            r
        }
        KeyError::Store(e) => {
            tracing::warn!(error = %e, "admin keys: store failed");
            GatewayError::StoreUnavailable.respond(Ingress::OpenAiChat)
        }
    }
}

fn spec(body: &Bytes) -> Result<KeySpec, Box<Response>> {
    if body.is_empty() {
        return Ok(KeySpec::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        Box::new(GatewayError::bad_request(format!(
            "key fields: name, team, models, metadata, rpm, tpm, max_concurrent, budget_usd, budget_period (daily, monthly, total), expires_at (RFC 3339): {e}"
        ))
        .respond(Ingress::OpenAiChat))
    })
}

/// Makes the change visible on this replica before answering.
async fn refreshed(gw: &Gateway, store: &Store) {
    if let Err(e) = gw.shared.keys.refresh(store).await {
        tracing::warn!(error = %e, "admin keys: key ring refresh failed");
    }
}

pub async fn create(State(gw): State<Arc<Gateway>>, body: Bytes) -> Response {
    let store = match store(&gw) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let spec = match spec(&body) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    match store.create_key(spec).await {
        Ok((key, secret)) => {
            refreshed(&gw, store).await;
            (StatusCode::CREATED, Json(WithSecret { key, secret })).into_response()
        }
        Err(e) => failed(e),
    }
}

pub async fn list(State(gw): State<Arc<Gateway>>) -> Response {
    let store = match store(&gw) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    match store.keys().await {
        Ok(data) => Json(List {
            object: "list",
            data,
        })
        .into_response(),
        Err(e) => failed(e.into()),
    }
}

pub async fn get(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> Response {
    let store = match store(&gw) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    match store.key(&id).await {
        Ok(Some(key)) => Json(key).into_response(),
        Ok(None) => failed(KeyError::NotFound(id)),
        Err(e) => failed(e.into()),
    }
}

pub async fn update(
    State(gw): State<Arc<Gateway>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let store = match store(&gw) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let spec = match spec(&body) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    match store.change_key(&id, spec).await {
        Ok(key) => {
            refreshed(&gw, store).await;
            Json(key).into_response()
        }
        Err(e) => failed(e),
    }
}

pub async fn rotate(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> Response {
    let store = match store(&gw) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    match store.rotate_key(&id).await {
        Ok((key, secret)) => {
            refreshed(&gw, store).await;
            Json(WithSecret { key, secret }).into_response()
        }
        Err(e) => failed(e),
    }
}

pub async fn revoke(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> Response {
    let store = match store(&gw) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    match store.revoke_key(&id).await {
        Ok(key) => {
            if let Some(redis) = gw.shared.limiter.redis()
                && let Err(e) = redis.revoke(&key.id).await
            {
                tracing::warn!(error = %e, key = %key.name, "revocation not shared through Redis; other replicas refuse the key within keys_refresh");
            }
            refreshed(&gw, store).await;
            Json(key).into_response()
        }
        Err(e) => failed(e),
    }
}
