//! Sluice's own view of an upstream response body: chunks of bytes, pulled one at a time,
//! with a transport failure as a plain value. The HTTP client behind it (hyper's) stays
//! inside `upstream/`, so dispatch and the relay never name it and the client can
//! be replaced without touching them.
//!
//! Must never buffer beyond what the caller asks for: `read_all` is bounded by size,
//! silence and deadline.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use std::time::Duration;
use tokio::time::{Instant, timeout_at};

/// The body of a response whose status was a success.
#[derive(Debug)]
pub struct Body {
    body: Incoming,
    provider: std::sync::Arc<str>,
}

/// The connection broke or the provider sent something that is not HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Broken;

impl Body {
    pub(super) fn new(body: Incoming, provider: std::sync::Arc<str>) -> Self {
        Self { body, provider }
    }

    /// The next chunk; `Ok(None)` at the body's normal end. Cancel-safe: dropping the
    /// future loses no data that was not yet returned. Trailers and empty frames are
    /// skipped.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, Broken> {
        loop {
            match self.body.frame().await {
                None => return Ok(None),
                Some(Err(e)) => {
                    tracing::warn!(provider = %self.provider, error = %e, "upstream body broke");
                    return Err(Broken);
                }
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) if !data.is_empty() => return Ok(Some(data)),
                    Ok(_) | Err(_) => {}
                },
            }
        }
    }

    /// Reads the whole body, refusing more than `limit` bytes, a silence longer than
    /// `idle`, or anything past `deadline`.
    pub async fn read_all(
        mut self,
        limit: usize,
        deadline: Instant,
        idle: Duration,
    ) -> Result<Bytes, ReadError> {
        // Most bodies arrive in one chunk: keep it as is and copy only when a second comes.
        let mut first: Option<Bytes> = None;
        let mut out = BytesMut::new();
        loop {
            let until = (Instant::now() + idle).min(deadline);
            let chunk = match timeout_at(until, self.next_chunk()).await {
                Err(_) if until < deadline => return Err(ReadError::Idle),
                Err(_) => return Err(ReadError::Timeout),
                Ok(Err(Broken)) => return Err(ReadError::Transport),
                Ok(Ok(None)) if out.is_empty() => return Ok(first.unwrap_or_default()),
                Ok(Ok(None)) => return Ok(out.freeze()),
                Ok(Ok(Some(chunk))) => chunk,
            };
            let held = first.as_ref().map_or(0, Bytes::len) + out.len();
            if held + chunk.len() > limit {
                return Err(ReadError::TooLarge);
            }
            match first.take() {
                None if out.is_empty() => first = Some(chunk),
                earlier => {
                    if let Some(earlier) = earlier {
                        out.extend_from_slice(&earlier);
                    }
                    out.extend_from_slice(&chunk);
                }
            }
        }
    }
}

/// Why `read_all` stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    Idle,
    Timeout,
    Transport,
    TooLarge,
}
