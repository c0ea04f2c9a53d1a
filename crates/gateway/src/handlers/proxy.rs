//! The pipeline shared by every endpoint that goes upstream:
//! read body (admission) -> decode head -> route -> dispatch -> respond (full or relayed
//! stream), filling the interaction record on the way. Errors are answered in the
//! ingress format's shape.
//!
//! Must never re-encode a response body on the pass-through path: upstream bytes go to
//! the client unchanged when both sides speak the same format.

use crate::admission::read_body;
use crate::dispatch::{Call, Committed, CommittedBody, Mode, dispatch};
use crate::error::GatewayError;
use crate::record::{Interaction, Outcome};
use crate::relay::{Codecs, RelayLimits, Translation, relay};
use crate::request_id::RequestId;
use crate::routing::plan;
use crate::runtime::Runtime;
use crate::upstream::Endpoint;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sluice_protocol::openai::request::DecodeError;
use sluice_protocol::translate::{Ingress, StreamDecoder, StreamEncoder};
use std::sync::Arc;
use std::time::Instant;

/// Client headers a same-format provider should receive.
pub type ForwardHeaders = Vec<(HeaderName, HeaderValue)>;

/// The fields of a request head that the pipeline needs.
pub struct Head {
    pub model: String,
    pub stream: bool,
    /// The client asked for stream usage (OpenAI `stream_options.include_usage`).
    pub usage_requested: bool,
}

/// One endpoint: its ingress format, upstream endpoint, and head decoder.
#[derive(Clone, Copy)]
pub struct Ingest {
    pub ingress: Ingress,
    pub endpoint: Endpoint,
    pub name: &'static str,
    pub decode: fn(&[u8]) -> Result<Head, DecodeError>,
    /// Checks on the request headers before the body is read.
    pub check_headers: fn(&HeaderMap) -> Result<ForwardHeaders, GatewayError>,
}

/// Largest single SSE event accepted from an upstream (tool arguments can be large).
const MAX_EVENT_BYTES: usize = 4 << 20;

pub async fn proxy(rt: Arc<Runtime>, req: Request, ingest: Ingest) -> Response {
    let started = Instant::now();
    let id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let mut record = Interaction::start(id.clone(), ingest.name, started);
    let mut response = match forward(&rt, req, ingest, &mut record).await {
        Ok(committed) => respond(committed, ingest.ingress, record),
        Err(e) => {
            record.finish(e.status().as_u16(), Outcome::Error(e.kind()));
            e.respond(ingest.ingress)
        }
    };
    if ingest.ingress == Ingress::Anthropic {
        // The Anthropic SDK reads `request-id` into its errors and logs.
        if let Ok(v) = HeaderValue::from_str(&id) {
            response.headers_mut().insert("request-id", v);
        }
    }
    response
}

async fn forward(
    rt: &Runtime,
    req: Request,
    ingest: Ingest,
    record: &mut Interaction,
) -> Result<Committed, GatewayError> {
    let forward_headers = (ingest.check_headers)(req.headers())?;
    let body = read_body(req, rt.server.max_body_bytes).await?;
    let head = (ingest.decode)(&body).map_err(|e| GatewayError::BadRequest {
        message: e.message,
        param: e.param,
    })?;
    record.model.clone_from(&head.model);
    record.stream = head.stream;
    let targets = plan(&rt.models, &head.model)?;
    let mut call = Call::new(
        ingest.ingress,
        ingest.endpoint,
        &body,
        &head.model,
        head.stream,
    );
    call.forward = forward_headers;
    call.usage_requested = head.usage_requested;
    let mut committed = dispatch(rt, &targets, &call).await?;
    record.provider = Some(committed.upstream.name.clone());
    record.upstream_model = Some(committed.model.clone());
    record.attempts = committed.attempts;
    record.notes = std::mem::take(&mut committed.notes);
    Ok(committed)
}

fn respond(committed: Committed, ingress: Ingress, mut record: Interaction) -> Response {
    let Committed {
        upstream,
        model,
        attempts,
        mode,
        body,
        ..
    } = committed;
    let mut response = match body {
        CommittedBody::Full { bytes, usage } => {
            record.mark_first_byte();
            record.usage = usage;
            record.finish(200, Outcome::Ok);
            drop(record);
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
            let stream = relay(
                first,
                rest,
                (ingress, translation(mode, ingress)),
                limits,
                record,
            );
            let mut response = Response::new(Body::from_stream(stream));
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

/// How a committed stream crosses the relay: tapped, or decoded and re-encoded.
fn translation(mode: Mode, ingress: Ingress) -> Translation {
    match mode {
        Mode::PassThrough {
            provider,
            hide_usage_chunk,
        } => Translation::PassThrough {
            provider,
            hide_usage_chunk,
        },
        Mode::Translate { provider, request } => Translation::Translate(Box::new(Codecs {
            decoder: StreamDecoder::new(provider),
            encoder: StreamEncoder::new(ingress, &request),
        })),
    }
}

/// For endpoints that need no header checks.
pub fn no_header_checks(_: &HeaderMap) -> Result<ForwardHeaders, GatewayError> {
    Ok(Vec::new())
}
