//! `/admin/*`: the operator's API, reachable only with `[admin] master_key` (as
//! `Authorization: Bearer KEY` or `x-api-key: KEY`, compared in constant time). Without
//! a configured master key every `/admin` path answers 404, as if it did not exist.
//!
//! - [`journal`]: `GET /admin/journal`, filtered and paged.
//! - [`providers`]: `GET /admin/providers`, health and breaker state.
//! - [`keys`]: `/admin/keys`, virtual keys: create, list, get, change, rotate, revoke.
//! - [`spend`]: `GET /admin/spend`, spend per key or team from the journal.
//!
//! Must never answer an `/admin` request before `authorize` accepted it: every route of
//! this module goes through `routes()`, which applies it once.

pub mod journal;
pub mod keys;
pub mod providers;
pub mod spend;

use crate::error::GatewayError;
use crate::state::Gateway;
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use axum::routing::{get, post};
use sluice_protocol::translate::Ingress;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The largest admin request body (a key's fields and metadata).
pub(crate) const ADMIN_BODY_LIMIT: usize = 64 * 1024;

/// Every admin route, behind the master-key check.
pub fn routes(gw: Arc<Gateway>) -> Router<Arc<Gateway>> {
    Router::new()
        .route("/admin/journal", get(journal::list))
        .route("/admin/providers", get(providers::list))
        .route("/admin/keys", get(keys::list).post(keys::create))
        .route(
            "/admin/keys/{id}",
            get(keys::get).patch(keys::update).delete(keys::revoke),
        )
        .route("/admin/keys/{id}/rotate", post(keys::rotate))
        .route("/admin/keys/{id}/revoke", post(keys::revoke))
        .route("/admin/spend", get(spend::report))
        // The router turns axum's body limit off (admission reads bodies itself); admin
        // bodies are small JSON, so they get a bound of their own.
        .layer(axum::extract::DefaultBodyLimit::max(ADMIN_BODY_LIMIT))
        .layer(from_fn_with_state(gw, authorize))
}

async fn authorize(State(gw): State<Arc<Gateway>>, req: Request, next: Next) -> Response {
    let snapshot = gw.snapshot();
    let Some(master) = &snapshot.admin.master_key else {
        return GatewayError::UnknownRoute {
            path: req.uri().path().chars().take(200).collect(),
        }
        .respond(Ingress::OpenAiChat);
    };
    // Both sides hashed first: `ct_eq` on slices of different lengths returns at once,
    // which would tell a prober the master key's length.
    let matches = |key: &str| {
        let presented = crate::auth::ring::digest(key);
        let expected = crate::auth::ring::digest(master.expose());
        bool::from(presented.ct_eq(&expected))
    };
    match crate::auth::presented(req.headers()) {
        Some(key) if matches(key) => next.run(req).await,
        Some(_) => GatewayError::Unauthorized.respond(Ingress::OpenAiChat),
        None => GatewayError::Unauthorized.respond(Ingress::OpenAiChat),
    }
}
