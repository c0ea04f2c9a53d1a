//! The request flow shared by every model endpoint: parse the body, read
//! the mock options, then apply the faults that do not depend on the
//! dialect (hang, delays, status, malformed JSON, Retry-After) before
//! handing over to the endpoint's reply builder.
//!
//! This module must never build a successful reply body itself, and it
//! must hold a drop guard across every wait so a client that leaves is
//! counted as cancelled.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use serde_json::Value;

use crate::errors::{self, Dialect};
use crate::faults::{self, Options};
use crate::routes::App;
use crate::stats::PendingGuard;
use crate::{anthropic, embeddings, openai};

/// The model endpoints the mock answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    ChatCompletions,
    Messages,
    Embeddings,
}

impl Endpoint {
    fn dialect(self) -> Dialect {
        match self {
            Self::Messages => Dialect::Anthropic,
            Self::ChatCompletions | Self::Embeddings => Dialect::OpenAi,
        }
    }
}

/// A parsed request: its JSON object body, the mock options, and whether
/// the client asked for a stream.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub body: Value,
    pub options: Options,
    pub stream: bool,
}

pub(crate) async fn handle(
    app: &App,
    endpoint: Endpoint,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let parsed = match parse(endpoint, headers, body) {
        Ok(parsed) => parsed,
        Err(message) => return errors::bad_request(endpoint.dialect(), &message),
    };
    let retry_after = parsed.options.retry_after;
    let mut response = respond(app, endpoint, parsed).await;
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn parse(endpoint: Endpoint, headers: &HeaderMap, body: &[u8]) -> Result<Parsed, String> {
    let body: Value = serde_json::from_slice(body)
        .map_err(|err| format!("request body is not valid JSON: {err}"))?;
    if !body.is_object() {
        return Err("request body must be a JSON object".to_owned());
    }
    let options = faults::parse(body.get("mock"), headers)?;
    match body.get("model").and_then(Value::as_str) {
        Some(model) if !model.is_empty() => {}
        _ => return Err("missing required field `model`".to_owned()),
    }
    let stream = endpoint != Endpoint::Embeddings
        && body.get("stream").and_then(Value::as_bool) == Some(true);
    Ok(Parsed {
        body,
        options,
        stream,
    })
}

async fn respond(app: &App, endpoint: Endpoint, parsed: Parsed) -> Response {
    let options = &parsed.options;
    if options.hang {
        let _guard = PendingGuard::new(app.stats.clone());
        // Only the client leaving ends this; the guard then counts it.
        std::future::pending::<()>().await;
    }
    let status = options.fault_status();
    // A stream applies its first-token delay after sending headers; every
    // other response waits before anything is sent.
    if let Some(delay) = options.first_token_delay
        && (!parsed.stream || status.is_some())
    {
        let guard = PendingGuard::new(app.stats.clone());
        tokio::time::sleep(delay).await;
        guard.disarm();
    }
    if let Some(status) = status {
        return errors::fault(endpoint.dialect(), status);
    }
    // `malformed` corrupts the shape the response has: a stream gets a
    // bad event later (see `sse`), anything else a truncated body here.
    if options.malformed.is_some() && !parsed.stream {
        return errors::json_response(200, r#"{"id": "truncated"#.to_owned());
    }
    match endpoint {
        Endpoint::ChatCompletions => openai::reply(app, &parsed),
        Endpoint::Messages => anthropic::reply(app, &parsed),
        Endpoint::Embeddings => embeddings::reply(&parsed),
    }
}
