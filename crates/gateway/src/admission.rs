//! Admission: decide whether Sluice takes a request at all, before its body is read.
//! A full server answers 503 at once (load shedding) instead of queueing; a body over
//! `max_body_bytes` is refused with 413 without being read past the limit.
//!
//! Must never hold a permit past the end of the response body, and never buffer more
//! than the limit.

use crate::error::GatewayError;
use crate::state::Shared;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::response::Response;
use bytes::{Buf, BufMut, Bytes};
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::BodyExt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::OwnedSemaphorePermit;

/// A request's place among the `max_in_flight`; released when its response ends.
#[derive(Debug)]
pub struct Permit {
    _held: OwnedSemaphorePermit,
}

/// Takes an in-flight permit, or refuses: draining (503) or full (fast 503).
pub fn admit(shared: &Shared) -> Result<Permit, GatewayError> {
    if shared.is_shutting_down() {
        return Err(GatewayError::ShuttingDown);
    }
    Arc::clone(&shared.in_flight)
        .try_acquire_owned()
        .map(|held| Permit { _held: held })
        .map_err(|_| GatewayError::Overloaded)
}

/// Keeps `permit` until `response`'s body ends or is dropped (client gone), so streams
/// count against `max_in_flight` for their whole life.
pub fn hold(response: Response, permit: Permit) -> Response {
    response.map(|inner| {
        Body::new(PermitBody {
            inner,
            _permit: permit,
        })
    })
}

/// Reads the request body, refusing more than `limit` bytes.
pub async fn read_body(req: Request, limit: usize) -> Result<Bytes, GatewayError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(GatewayError::BodyTooLarge { limit });
    }
    let limited = http_body_util::Limited::new(req.into_body(), limit);
    match limited.collect().await {
        // Gathered into one allocation of exactly the body's size (one copy, however
        // many frames): a body that arrived in one read would otherwise be a slice of
        // hyper's read buffer, and holding it for a whole stream keeps that buffer alive
        // beside the one hyper allocates for its next read.
        Ok(collected) => {
            let mut frames = collected.aggregate();
            let mut body = Vec::with_capacity(frames.remaining());
            body.put(&mut frames);
            Ok(Bytes::from(body))
        }
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(GatewayError::BodyTooLarge { limit })
        }
        Err(_) => Err(GatewayError::bad_request("could not read the request body")),
    }
}

struct PermitBody {
    inner: Body,
    _permit: Permit,
}

impl HttpBody for PermitBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
