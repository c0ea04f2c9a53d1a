//! Egress: the HTTP response for the client, in the ingress format: a whole answer, the
//! relay's stream, or the error. Sets the `x-sluice-*` headers and hands the record
//! over (it ends with the response body for streams, at once otherwise).
//!
//! Must never re-encode a pass-through body: the bytes dispatch committed go out as
//! they are.

use crate::admission::{self, Permit};
use crate::dispatch::{Answer, Committed};
use crate::error::GatewayError;
use crate::finish::Open;
use crate::record::Outcome;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;
use sluice_protocol::translate::Ingress;
use std::time::Instant;

// Names made once: a `&str` name is copied into a new allocation on every insert.
const X_SLUICE_PROVIDER: HeaderName = HeaderName::from_static("x-sluice-provider");
const X_SLUICE_MODEL: HeaderName = HeaderName::from_static("x-sluice-model");
const X_SLUICE_ATTEMPTS: HeaderName = HeaderName::from_static("x-sluice-attempts");

/// Room for an answer's headers from the start: its own, the `x-sluice-*` ones, the
/// rate-limit ones and the request id, about ten, would otherwise grow the map (and
/// rehash it) once per response.
const ANSWER_HEADERS: usize = 16;

pub fn respond(
    result: Result<(Committed, Permit), GatewayError>,
    ingress: Ingress,
    mut record: Open,
) -> Response {
    let rate = record.rate;
    let mut response = match result {
        Ok((committed, permit)) => admission::hold(answer(committed, record), permit),
        Err(e) => {
            record.end(e.status().as_u16(), Outcome::Error(e.kind()));
            let attempts = record.attempts;
            let provider = record.provider.clone();
            drop(record);
            let mut response = e.respond(ingress);
            let headers = response.headers_mut();
            headers.insert(
                X_SLUICE_ATTEMPTS,
                crate::header_number::of(u64::from(attempts)),
            );
            if let Some(v) = provider.and_then(|p| HeaderValue::from_str(&p).ok()) {
                headers.insert(X_SLUICE_PROVIDER, v);
            }
            response
        }
    };
    rate.apply(response.headers_mut());
    response
}

fn answer(committed: Committed, mut record: Open) -> Response {
    let Committed {
        upstream,
        model,
        attempts,
        answer,
        ..
    } = committed;
    let mut response = match answer {
        Answer::Full { bytes, usage } => {
            record.mark_first_byte(Instant::now());
            record.usage = usage;
            if record.keep_bodies && record.response_body.is_none() {
                record.response_body = Some(crate::journal::entry::body_text(&bytes));
            }
            record.end(200, Outcome::Ok);
            drop(record);
            let mut response = Response::new(Body::from(bytes));
            let headers = response.headers_mut();
            headers.reserve(ANSWER_HEADERS);
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Answer::Stream(relay) => {
            record.status = 200;
            let mut response = Response::new(Body::from_stream(relay.into_stream(record)));
            let headers = response.headers_mut();
            headers.reserve(ANSWER_HEADERS);
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
    };
    let headers = response.headers_mut();
    if let Some(v) = &upstream.name_header {
        headers.insert(X_SLUICE_PROVIDER, v.clone());
    }
    if let Ok(v) = HeaderValue::from_str(&model) {
        headers.insert(X_SLUICE_MODEL, v);
    }
    headers.insert(
        X_SLUICE_ATTEMPTS,
        crate::header_number::of(u64::from(attempts)),
    );
    response
}
