//! The pipeline shared by every OpenAI-format endpoint that goes upstream:
//! read body (admission) -> decode head -> route -> dispatch -> respond (full or relayed
//! stream), filling the interaction record on the way.
//!
//! Must never re-encode a response body on this pass-through path: upstream bytes go to
//! the client unchanged.

use crate::admission::read_body;
use crate::dispatch::{Call, Committed, CommittedBody, dispatch};
use crate::error::GatewayError;
use crate::record::{Interaction, Outcome};
use crate::relay::{RelayLimits, relay};
use crate::request_id::RequestId;
use crate::routing::plan;
use crate::runtime::Runtime;
use crate::upstream::Endpoint;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sluice_protocol::openai::request::DecodeError;
use sluice_protocol::openai::usage::find_usage;
use std::sync::Arc;
use std::time::Instant;

/// The fields of a request head that the pipeline needs.
pub struct Head {
    pub model: String,
    pub stream: bool,
}

/// Largest single SSE event accepted from an upstream (tool arguments can be large).
const MAX_EVENT_BYTES: usize = 4 << 20;

pub async fn proxy(
    rt: Arc<Runtime>,
    req: Request,
    endpoint: Endpoint,
    decode: fn(&[u8]) -> Result<Head, DecodeError>,
) -> Response {
    let started = Instant::now();
    let id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let mut record = Interaction::start(id, endpoint_name(endpoint), started);
    let committed = match forward(&rt, req, endpoint, decode, &mut record).await {
        Ok(c) => c,
        Err(e) => {
            record.finish(e.status().as_u16(), Outcome::Error(e.kind()));
            return e.into_response();
        }
    };
    respond(committed, record)
}

async fn forward(
    rt: &Runtime,
    req: Request,
    endpoint: Endpoint,
    decode: fn(&[u8]) -> Result<Head, DecodeError>,
    record: &mut Interaction,
) -> Result<Committed, GatewayError> {
    let body = read_body(req, rt.server.max_body_bytes).await?;
    let head = decode(&body).map_err(|e| GatewayError::BadRequest {
        message: e.message,
        param: e.param,
    })?;
    record.model.clone_from(&head.model);
    record.stream = head.stream;
    let targets = plan(&rt.models, &head.model)?;
    let call = Call {
        endpoint,
        body: &body,
        requested_model: &head.model,
        stream: head.stream,
    };
    let committed = dispatch(rt, &targets, &call).await?;
    record.provider = Some(committed.upstream.name.clone());
    record.upstream_model = Some(committed.model.clone());
    record.attempts = committed.attempts;
    Ok(committed)
}

fn respond(committed: Committed, mut record: Interaction) -> Response {
    let Committed {
        upstream,
        model,
        attempts,
        body,
    } = committed;
    let mut response = match body {
        CommittedBody::Full(bytes) => {
            record.mark_first_byte();
            record.usage = find_usage(&bytes);
            record.finish(200, Outcome::Ok);
            drop(record);
            json_response(bytes)
        }
        CommittedBody::Stream {
            first,
            rest,
            deadline,
        } => {
            record.status = 200;
            let limits = RelayLimits {
                idle: upstream.timeouts.idle,
                deadline,
                max_bytes: upstream.max_response_bytes,
                max_event_bytes: MAX_EVENT_BYTES,
            };
            let mut response = Response::new(Body::from_stream(relay(first, rest, limits, record)));
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&upstream.name) {
        headers.insert("x-sluice-provider", v);
    }
    if let Ok(v) = HeaderValue::from_str(&model) {
        headers.insert("x-sluice-model", v);
    }
    headers.insert("x-sluice-attempts", HeaderValue::from(attempts));
    response
}

fn json_response(bytes: Bytes) -> Response {
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

fn endpoint_name(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::ChatCompletions => "chat.completions",
        Endpoint::Embeddings => "embeddings",
    }
}
