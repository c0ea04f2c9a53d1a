//! `GET /admin/journal?id=&model=&key=&team=&provider=&status=&since=&until=&limit=&cursor=`:
//! a page of journal entries, newest first, with `next_cursor` for the next page.
//! `since`/`until` are milliseconds since the Unix epoch.
//!
//! Must never query when no store is configured: that is a clear 404, not an error 500.

use crate::error::GatewayError;
use crate::journal::query::{self, Filter, QueryError};
use crate::state::Gateway;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use sluice_protocol::translate::Ingress;
use std::sync::Arc;

pub async fn list(
    State(gw): State<Arc<Gateway>>,
    filter: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(filter)) = filter else {
        return GatewayError::bad_request(
            "journal filters: id, key, team, model, provider, status (integer), since and until (ms since the epoch), limit (1..1000), cursor",
        )
        .respond(Ingress::OpenAiChat);
    };
    let Some(store) = &gw.shared.store else {
        return GatewayError::bad_request(
            "no [store] is configured, so there is no journal to query",
        )
        .respond(Ingress::OpenAiChat);
    };
    match query::page(store, &filter).await {
        Ok(page) => Json(page).into_response(),
        Err(QueryError::Cursor) => GatewayError::BadRequest {
            message: "cursor: not a cursor this API returned".to_owned(),
            param: Some("cursor".to_owned()),
        }
        .respond(Ingress::OpenAiChat),
        Err(QueryError::Database(e)) => {
            tracing::warn!(error = %e, "journal query failed");
            GatewayError::StoreUnavailable.respond(Ingress::OpenAiChat)
        }
    }
}
