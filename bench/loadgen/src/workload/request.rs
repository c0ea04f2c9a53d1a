//! One request: send it, read its response to the end, classify what went wrong, and time
//! it from its scheduled send time.
//!
//! It must never decide when a request is sent (the loops do) nor aggregate results (the
//! recorder does).

use super::streams::read_stream;
use super::target::Target;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrKind {
    /// Non-2xx response.
    Status,
    /// Could not connect.
    Connect,
    /// No complete response before the deadline.
    Timeout,
    /// The body broke off, or a stream ended without its terminating event.
    Incomplete,
    /// A non-streaming 2xx body that is not JSON.
    BadBody,
    Other,
}

#[derive(Debug)]
pub struct Failure {
    pub(super) kind: ErrKind,
    pub(super) message: String,
    pub(super) status: Option<u16>,
}

impl Failure {
    pub(super) fn new(kind: ErrKind, message: String) -> Self {
        Self {
            kind,
            message,
            status: None,
        }
    }
}

/// Progress of one request, kept outside its future so a timeout does not lose it.
#[derive(Debug, Default)]
pub(super) struct Progress {
    pub(super) first_event: Option<Instant>,
    pub(super) events: u64,
}

/// The result of one request.
#[derive(Debug)]
pub struct Outcome {
    pub(super) measured: bool,
    pub(super) result: Result<(), Failure>,
    /// Scheduled send time to end of body.
    pub(super) latency: Duration,
    /// Scheduled send time to first complete SSE event.
    pub(super) ttft: Option<Duration>,
    /// How late the request actually started compared with its schedule.
    pub(super) send_lag: Duration,
    pub(super) events: u64,
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

pub(super) fn classify(e: &reqwest::Error, in_body: bool) -> Failure {
    let kind = if e.is_timeout() {
        ErrKind::Timeout
    } else if e.is_connect() {
        ErrKind::Connect
    } else if in_body || e.is_body() || e.is_decode() {
        ErrKind::Incomplete
    } else {
        ErrKind::Other
    };
    Failure::new(kind, error_chain(e))
}

pub(super) async fn send(t: &Target) -> Result<reqwest::Response, Failure> {
    let resp = t
        .client()
        .post(t.url.clone())
        .body(t.body.clone())
        .send()
        .await
        .map_err(|e| classify(&e, false))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let body = resp.bytes().await.unwrap_or_default();
    let snippet = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    Err(Failure {
        kind: ErrKind::Status,
        message: format!("HTTP {}: {snippet}", status.as_u16()),
        status: Some(status.as_u16()),
    })
}

async fn read_plain(resp: reqwest::Response) -> Result<(), Failure> {
    let body = resp.bytes().await.map_err(|e| classify(&e, true))?;
    serde_json::from_slice::<serde::de::IgnoredAny>(&body).map_err(|e| {
        let snippet = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
        Failure::new(
            ErrKind::BadBody,
            format!("body is not JSON ({e}): {snippet}"),
        )
    })?;
    Ok(())
}

async fn request(t: &Target, prog: &mut Progress) -> Result<(), Failure> {
    let resp = send(t).await?;
    if t.stream {
        read_stream(resp, prog).await
    } else {
        read_plain(resp).await
    }
}

/// Runs one request scheduled at `scheduled`, with a deadline of `scheduled + timeout`.
pub async fn execute(t: &Target, scheduled: Instant, measured: bool) -> Outcome {
    let send_lag = scheduled.elapsed();
    let mut prog = Progress::default();
    let deadline = tokio::time::Instant::from_std(scheduled + t.timeout);
    let result = match tokio::time::timeout_at(deadline, request(t, &mut prog)).await {
        Ok(r) => r,
        Err(_) => Err(Failure::new(
            ErrKind::Timeout,
            format!(
                "no complete response within {:?} ({} events seen)",
                t.timeout, prog.events
            ),
        )),
    };
    Outcome {
        measured,
        result,
        latency: scheduled.elapsed(),
        ttft: prog.first_event.map(|f| f.duration_since(scheduled)),
        send_lag,
        events: prog.events,
    }
}
