//! `POST /v1/messages/count_tokens` (Anthropic): the prompt's input tokens. The first
//! target of the model that speaks Anthropic's API answers (the model name replaced by
//! the target's); with none, or when that provider fails, Sluice estimates with its own
//! tokenizer and says so in `x-sluice-estimate: true`. Same auth, allow-list and
//! admission as any `/v1` call, and the same input guard (the prompt goes to a
//! provider, so what the guard keeps out of prompts stays out of it); no limits are
//! taken (counting sends no prompt to a model).
//!
//! Must never forward the client's key or another provider's: the target's own
//! headers are the only credentials sent.

use crate::admission;
use crate::auth;
use crate::error::GatewayError;
use crate::ingress::messages::MESSAGES;
use crate::limits::estimate;
use crate::routing;
use crate::state::Gateway;
use crate::upstream::{Endpoint, Outgoing};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sluice_protocol::translate::Ingress;
use std::sync::Arc;

pub async fn count_tokens(State(gw): State<Arc<Gateway>>, req: Request) -> Response {
    match count(&gw, req).await {
        Ok(response) => response,
        Err(e) => e.respond(Ingress::Anthropic),
    }
}

async fn count(gw: &Gateway, req: Request) -> Result<Response, GatewayError> {
    let snapshot = gw.snapshot();
    let forward = (MESSAGES.check_headers)(req.headers())?;
    let principal = auth::authenticate(&snapshot, &gw.shared.keys, req.headers())?;
    let _permit = admission::admit(&gw.shared)?;
    let body = admission::read_body(req, snapshot.server.max_body_bytes).await?;
    let mut value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| GatewayError::bad_request("the body must be a JSON object"))?;
    let Some(model) = value
        .get("model")
        .and_then(|m| m.as_str())
        .map(str::to_owned)
    else {
        return Err(GatewayError::BadRequest {
            message: "model: a string is required".to_owned(),
            param: Some("model".to_owned()),
        });
    };
    if value.get("messages").and_then(|m| m.as_array()).is_none() {
        return Err(GatewayError::BadRequest {
            message: "messages: an array is required".to_owned(),
            param: Some("messages".to_owned()),
        });
    }
    auth::allow_model(principal.as_deref(), &model)?;
    let (body, _) = crate::guard::input(
        &snapshot.guard,
        principal.as_deref(),
        &MESSAGES,
        body,
        &mut Vec::new(),
    )?;
    value = serde_json::from_slice(&body)
        .map_err(|_| GatewayError::bad_request("the body must be a JSON object"))?;
    let plan = routing::plan(
        &snapshot.routes,
        &snapshot.upstreams,
        &snapshot.breaker,
        &model,
    )?;
    let deadline = tokio::time::Instant::now()
        + snapshot
            .server
            .request_timeout
            .min(std::time::Duration::from_secs(30));
    for target in &plan.targets {
        let Some(upstream) = snapshot.upstreams.get(target.provider) else {
            continue;
        };
        if !upstream.serves(Endpoint::CountTokens) {
            continue;
        }
        value["model"] = serde_json::Value::String(target.model.clone());
        let out = Outgoing {
            endpoint: Endpoint::CountTokens,
            model: &target.model,
            stream: false,
            body: Bytes::from(value.to_string()),
            forward: &forward,
            traceparent: None,
            quota: &target.health.quota,
        };
        let answered = match upstream.send(out, deadline).await {
            Ok(body) => body
                .read_all(64 * 1024, deadline, upstream.timeouts.idle)
                .await
                .ok(),
            Err(e) => {
                tracing::warn!(provider = %upstream.name, error = %e, "count_tokens: provider failed; estimating");
                None
            }
        };
        if let Some(bytes) =
            answered.filter(|b| serde_json::from_slice::<serde_json::Value>(b).is_ok())
        {
            let mut response = json(bytes);
            if let Ok(v) = HeaderValue::from_str(&upstream.name) {
                response.headers_mut().insert("x-sluice-provider", v);
            }
            return Ok(response);
        }
        break;
    }
    let tokens = estimate::prompt_tokens(&body);
    let mut response = json(Bytes::from(format!("{{\"input_tokens\":{tokens}}}")));
    response
        .headers_mut()
        .insert("x-sluice-estimate", HeaderValue::from_static("true"));
    Ok(response)
}

fn json(bytes: Bytes) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response()
}
