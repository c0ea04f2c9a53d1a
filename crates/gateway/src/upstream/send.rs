//! One request to a provider, up to its response head, within the first-byte deadline.
//! Error statuses are read (bounded), decoded in the provider's format and turned into
//! client-safe `UpstreamError`s.
//!
//! Must never return upstream error text that could carry a credential: messages pass
//! through `scrub` first.

use super::Upstream;
use super::body::Body;
use crate::error::{Phase, UpstreamError};
use crate::resilience::quota::Quota;
use axum::http::{HeaderName, HeaderValue, Method, Request, Response};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use std::sync::Arc;
use tokio::time::{Instant, timeout_at};

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// Error bodies larger than this are not read: the status alone tells enough.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// The endpoints a provider serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    ChatCompletions,
    Embeddings,
    /// OpenAI's legacy text completions.
    Completions,
    /// Anthropic's `POST /v1/messages/count_tokens`.
    CountTokens,
}

impl Endpoint {
    /// The OpenAI-style path suffix.
    pub fn path(self) -> &'static str {
        match self {
            Self::ChatCompletions => "/chat/completions",
            Self::Embeddings => "/embeddings",
            Self::Completions => "/completions",
            Self::CountTokens => "/messages/count_tokens",
        }
    }
}

/// One request as it goes upstream.
pub struct Outgoing<'a> {
    pub endpoint: Endpoint,
    /// The upstream model (in the URL for Azure and Gemini).
    pub model: &'a str,
    pub stream: bool,
    pub body: Bytes,
    /// Client headers the provider should see (Anthropic's `anthropic-beta`).
    pub forward: &'a [(HeaderName, HeaderValue)],
    /// W3C trace context for this attempt, when tracing is on.
    pub traceparent: Option<HeaderValue>,
    /// The target's capacity estimate, fed from the response's rate-limit headers.
    pub quota: &'a Quota,
}

impl Upstream {
    /// Sends the request and waits for a success status before `deadline`; the body
    /// of that success is the caller's to read.
    pub async fn send(&self, out: Outgoing<'_>, deadline: Instant) -> Result<Body, UpstreamError> {
        let url = self
            .url(out.endpoint, out.model, out.stream)
            .ok_or_else(|| UpstreamError::Protocol {
                provider: self.name.clone(),
            })?;
        let mut request = Request::new(Full::new(out.body));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = url;
        let headers = request.headers_mut();
        *headers = self.headers.clone();
        for (name, value) in out.forward {
            headers.append(name.clone(), value.clone());
        }
        if let Some(traceparent) = out.traceparent {
            headers.insert(TRACEPARENT, traceparent);
        }
        let response = match timeout_at(deadline, self.client.request(request)).await {
            Err(_) => return Err(self.timeout(Phase::FirstByte)),
            Ok(Err(e)) => return Err(self.transport_error(&e)),
            Ok(Ok(r)) => r,
        };
        out.quota
            .observe(response.headers(), crate::resilience::now_ms());
        if response.status().is_success() {
            return Ok(Body::new(response.into_body(), Arc::clone(&self.label)));
        }
        Err(self.status_error(response, deadline).await)
    }

    pub fn timeout(&self, phase: Phase) -> UpstreamError {
        UpstreamError::Timeout {
            provider: self.name.clone(),
            phase,
        }
    }

    pub fn protocol_error(&self) -> UpstreamError {
        UpstreamError::Protocol {
            provider: self.name.clone(),
        }
    }

    fn transport_error(&self, e: &hyper_util::client::legacy::Error) -> UpstreamError {
        tracing::warn!(provider = %self.name, error = %Chain(e), "upstream request failed");
        // A connect that timed out is both: report the timeout (504), not "unreachable".
        if e.is_connect() && timed_out(e) {
            self.timeout(Phase::Connect)
        } else if e.is_connect() {
            UpstreamError::Connect {
                provider: self.name.clone(),
            }
        } else {
            self.protocol_error()
        }
    }

    async fn status_error(&self, response: Response<Incoming>, deadline: Instant) -> UpstreamError {
        let status = response.status().as_u16();
        let retry_after = crate::error::parse_retry_after(response.headers());
        let error = Body::new(response.into_body(), Arc::clone(&self.label))
            .read_all(MAX_ERROR_BODY, deadline, self.timeouts.idle)
            .await
            .ok()
            .map(|bytes| {
                let mut error = self.format().decode_error(status, &bytes);
                error.message = scrub(&error.message);
                error.param = error.param.as_deref().map(scrub);
                error.code = error.code.as_deref().map(scrub);
                Box::new(error)
            });
        tracing::warn!(provider = %self.name, status, "upstream returned an error status");
        UpstreamError::Status {
            provider: self.name.clone(),
            status,
            error,
            retry_after,
        }
    }
}

/// An error and its causes, outermost first.
fn causes<'e>(
    e: &'e (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'e (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |e| e.source())
}

/// Whether an error was caused by an I/O timeout (the connector's connect timeout).
fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    causes(e).any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
    })
}

/// An error with its causes, for the log line: hyper's own message is only the outermost
/// ("client error (Connect)"), the cause (refused, certificate unknown) is below it.
struct Chain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in causes(self.0).enumerate() {
            if i > 0 {
                f.write_str(": ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Masks anything shaped like an API key in provider text: a run of key characters
/// that begins with `sk-`, `sk_`, `key-` or `AIza` wherever it stands (`key=sk-...`,
/// `"sk-..."`), and the token after `Bearer`. Everything else is kept as written.
pub fn scrub(message: &str) -> String {
    const PREFIXES: [&str; 4] = ["sk-", "sk_", "key-", "AIza"];
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '*');
    let mut out = String::with_capacity(message.len());
    let mut after_bearer = false;
    let mut rest = message;
    while let Some(start) = rest.find(is_key_char) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let end = run.find(|c: char| !is_key_char(c)).unwrap_or(run.len());
        // A sentence's full stop is not part of the key; a run of dots alone is kept.
        let word = match run[..end].trim_end_matches('.') {
            "" => &run[..end],
            word => word,
        };
        let keyish =
            (PREFIXES.iter().any(|p| word.starts_with(p)) || after_bearer) && word.len() > 8;
        if keyish {
            out.push_str("[redacted]");
        } else {
            out.push_str(word);
        }
        after_bearer = word.eq_ignore_ascii_case("bearer");
        rest = &run[word.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::scrub;

    #[test]
    fn scrub_masks_key_like_tokens() {
        let out = scrub("Incorrect API key provided: sk-proj-abc123****wxyz. You can find");
        assert_eq!(out, "Incorrect API key provided: [redacted]. You can find");
        assert_eq!(scrub("key AIzaSyA-1234567890 bad"), "key [redacted] bad");
        assert_eq!(
            scrub("invalid key=sk-live-0123456789abcdef, try again"),
            "invalid key=[redacted], try again"
        );
        assert_eq!(
            scrub("header Authorization: Bearer abcdef0123456789 rejected"),
            "header Authorization: Bearer [redacted] rejected"
        );
        assert_eq!(scrub("\"sk_test_0123456789\""), "\"[redacted]\"");
        // Ordinary text, short words and non-ASCII stay as written.
        let plain = "The model `gpt-4o` does not exist: try sk-1 — or skip it. Ünïcode ok.";
        assert_eq!(scrub(plain), plain);
        for text in ["...", ". . .", "a.b..", "", "sk-", "Bearer", "Bearer ."] {
            assert_eq!(scrub(text), text);
        }
    }
}
