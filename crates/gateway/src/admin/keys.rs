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
//! A change reloads this replica's key ring before the answer. When the limits are
//! shared through Redis, a revocation also goes into Redis's revoked set, and every
//! change is announced there (`auth::key_changes`), so every replica re-reads its keys
//! at once; without Redis, others pick changes up within `[limits] keys_refresh`.
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

/// A refused admin call, as the response to send (boxed: a `Response` is large).
pub struct Failed(Box<Response>);

impl IntoResponse for Failed {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl From<GatewayError> for Failed {
    fn from(e: GatewayError) -> Self {
        Self(Box::new(e.respond(Ingress::OpenAiChat)))
    }
}

impl From<KeyError> for Failed {
    fn from(e: KeyError) -> Self {
        let error = match e {
            KeyError::Invalid(message) => GatewayError::bad_request(message),
            KeyError::NotFound(id) => GatewayError::UnknownRoute {
                path: format!("/admin/keys/{id}"),
            },
            KeyError::Conflict(message) => {
                let mut r = GatewayError::bad_request(message).respond(Ingress::OpenAiChat);
                *r.status_mut() = StatusCode::CONFLICT;
                return Self(Box::new(r));
            }
            KeyError::Store(e) => {
                tracing::warn!(error = %e, "admin keys: store failed");
                GatewayError::StoreUnavailable
            }
        };
        error.into()
    }
}

impl From<crate::store::StoreError> for Failed {
    fn from(e: crate::store::StoreError) -> Self {
        KeyError::Store(e).into()
    }
}

fn store(gw: &Gateway) -> Result<&Store, Failed> {
    gw.shared.store.as_ref().ok_or_else(|| {
        GatewayError::bad_request("no [store] is configured: keys from the admin API live there")
            .into()
    })
}

/// The body as sent, or a 413 in the API's shape past `ADMIN_BODY_LIMIT`.
type Body = Result<Bytes, axum::extract::rejection::BytesRejection>;

fn spec(body: Body) -> Result<KeySpec, Failed> {
    let body = body.map_err(|_| GatewayError::BodyTooLarge {
        limit: super::ADMIN_BODY_LIMIT,
    })?;
    if body.is_empty() {
        return Ok(KeySpec::default());
    }
    serde_json::from_slice(&body).map_err(|e| {
        GatewayError::bad_request(format!(
            "key fields: name, team, models, metadata, rpm, tpm, max_concurrent, budget_usd, budget_period (daily, monthly, total), expires_at (RFC 3339): {e}"
        ))
        .into()
    })
}

/// After a change to `key_id` (not a revocation: `redis.revoke` announces it with the
/// revoked set): tells every replica to re-read its keys now when the limits are
/// shared through Redis (`auth::key_changes`; otherwise they do within
/// `keys_refresh`), and this one before the answer.
async fn changed(gw: &Gateway, store: &Store, key_id: &str) {
    if let Some(redis) = gw.shared.limiter.redis()
        && let Err(e) = redis.announce(key_id).await
    {
        tracing::warn!(error = %e, "key change not announced through Redis; other replicas pick it up within keys_refresh");
    }
    refreshed(gw, store).await;
}

/// Makes the change visible on this replica before answering.
async fn refreshed(gw: &Gateway, store: &Store) {
    if let Err(e) = gw.shared.keys.refresh(store).await {
        tracing::warn!(error = %e, "admin keys: key ring refresh failed");
    }
}

type Answer = Result<Response, Failed>;

/// A name a config key holds is taken too (the store does not know the config's keys).
fn free_of_config(gw: &Gateway, spec: &KeySpec) -> Result<(), Failed> {
    let snapshot = gw.snapshot();
    let names = snapshot.keys.values().map(|p| p.name.as_str());
    Ok(crate::store::keyspec::free_of_config(spec, names)?)
}

pub async fn create(State(gw): State<Arc<Gateway>>, body: Body) -> Answer {
    let store = store(&gw)?;
    let spec = spec(body)?;
    free_of_config(&gw, &spec)?;
    let (key, secret) = store.create_key(spec).await?;
    changed(&gw, store, &key.id).await;
    Ok((StatusCode::CREATED, Json(WithSecret { key, secret })).into_response())
}

pub async fn list(State(gw): State<Arc<Gateway>>) -> Answer {
    let data = store(&gw)?.keys().await?;
    Ok(Json(List {
        object: "list",
        data,
    })
    .into_response())
}

pub async fn get(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> Answer {
    match store(&gw)?.key(&id).await? {
        Some(key) => Ok(Json(key).into_response()),
        None => Err(KeyError::NotFound(id).into()),
    }
}

pub async fn update(State(gw): State<Arc<Gateway>>, Path(id): Path<String>, body: Body) -> Answer {
    let store = store(&gw)?;
    let spec = spec(body)?;
    free_of_config(&gw, &spec)?;
    let key = store.change_key(&id, spec).await?;
    changed(&gw, store, &key.id).await;
    Ok(Json(key).into_response())
}

pub async fn rotate(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> Answer {
    let store = store(&gw)?;
    let (key, secret) = store.rotate_key(&id).await?;
    changed(&gw, store, &key.id).await;
    Ok(Json(WithSecret { key, secret }).into_response())
}

pub async fn revoke(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> Answer {
    let store = store(&gw)?;
    let key = store.revoke_key(&id).await?;
    if let Some(redis) = gw.shared.limiter.redis()
        && let Err(e) = redis.revoke(&key.id).await
    {
        tracing::warn!(error = %e, key = %key.name, "revocation not shared through Redis; other replicas refuse the key within keys_refresh");
    }
    refreshed(&gw, store).await;
    Ok(Json(key).into_response())
}
