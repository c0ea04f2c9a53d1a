//! `GET /admin/spend?key=&team=&model=&since=`: requests, tokens and US dollars summed
//! from the journal, for one key (by name), one team, one requested model, or everything; `since` is RFC 3339 or
//! milliseconds since the Unix epoch (default: everything journaled).
//!
//! Must never answer from the limiter's live counters: spend is what was journaled,
//! the same figure on every replica.

use crate::error::GatewayError;
use crate::state::Gateway;
use crate::store::spend::{Spend, SpendFilter};
use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sluice_protocol::translate::Ingress;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    key: Option<String>,
    team: Option<String>,
    model: Option<String>,
    since: Option<String>,
}

#[derive(Serialize)]
struct Answer {
    key: Option<String>,
    team: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    since_ms: Option<i64>,
    #[serde(flatten)]
    spend: Spend,
}

fn since_ms(text: &str) -> Option<i64> {
    text.parse::<i64>()
        .ok()
        .or_else(|| crate::limits::period::rfc3339_ms(text))
}

pub async fn report(
    State(gw): State<Arc<Gateway>>,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return GatewayError::bad_request(
            "spend filters: key, team, model, since (RFC 3339 or ms since the epoch)",
        )
        .respond(Ingress::OpenAiChat);
    };
    let Some(store) = &gw.shared.store else {
        return GatewayError::bad_request("no [store] is configured, so no spend is journaled")
            .respond(Ingress::OpenAiChat);
    };
    let since = match params.since.as_deref().map(since_ms) {
        Some(None) => {
            return GatewayError::BadRequest {
                message: "since: an RFC 3339 time or milliseconds since the epoch".to_owned(),
                param: Some("since".to_owned()),
            }
            .respond(Ingress::OpenAiChat);
        }
        Some(Some(ms)) => Some(ms),
        None => None,
    };
    let filter = SpendFilter {
        key: params.key.clone(),
        team: params.team.clone(),
        model: params.model.clone(),
        since_ms: since,
    };
    // What this replica finished is counted, not still on its way to the store.
    gw.shared.flush().await;
    match store.spend(&filter).await {
        Ok(spend) => Json(Answer {
            key: params.key,
            team: params.team,
            model: params.model,
            since_ms: since,
            spend,
        })
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "spend query failed");
            GatewayError::StoreUnavailable.respond(Ingress::OpenAiChat)
        }
    }
}
