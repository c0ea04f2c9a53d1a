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
use crate::gemini_stream::Framing;
use crate::routes::App;
use crate::stats::PendingGuard;
use crate::{anthropic, embeddings, gemini, openai};

/// The model endpoints the mock answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    ChatCompletions,
    Completions,
    Messages,
    /// Anthropic's token counting: `{"input_tokens"}` for a Messages body.
    CountTokens,
    Embeddings,
    GenerateContent,
    StreamGenerateContent(Framing),
}

impl Endpoint {
    fn dialect(self) -> Dialect {
        match self {
            Self::Messages | Self::CountTokens => Dialect::Anthropic,
            Self::ChatCompletions | Self::Completions | Self::Embeddings => Dialect::OpenAi,
            Self::GenerateContent | Self::StreamGenerateContent(_) => Dialect::Gemini,
        }
    }
}

/// A model endpoint plus the model its URL names, if it names one (the
/// Gemini model, the Azure deployment).
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub endpoint: Endpoint,
    pub path_model: Option<String>,
}

/// A parsed request: its JSON object body, the mock options, whether the
/// client asked for a stream, and the model to echo (without any
/// `@option` suffix).
#[derive(Debug)]
pub(crate) struct Parsed {
    pub body: Value,
    pub options: Options,
    pub stream: bool,
    pub model: String,
}

pub(crate) async fn handle(app: &App, route: &Route, headers: &HeaderMap, body: &[u8]) -> Response {
    let endpoint = route.endpoint;
    let mut parsed = match parse(route, headers, body, &app.script()) {
        Ok(parsed) => parsed,
        Err(message) => return errors::bad_request(endpoint.dialect(), &message),
    };
    if parsed
        .options
        .fail_first
        .is_some_and(|n| app.stats.requests() > n)
    {
        parsed.options.clear_faults();
    }
    parsed.options.roll_chaos(parsed.stream);
    let options = parsed.options.clone();
    let mut response = respond(app, endpoint, parsed).await;
    let headers = response.headers_mut();
    if let Some(seconds) = options.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if let Some(ms) = options.retry_after_ms {
        headers.insert("retry-after-ms", HeaderValue::from(ms));
    }
    errors::rate_limit_headers(endpoint.dialect(), &options, headers);
    response
}

fn parse(route: &Route, headers: &HeaderMap, body: &[u8], script: &str) -> Result<Parsed, String> {
    let body: Value = serde_json::from_slice(body)
        .map_err(|err| format!("request body is not valid JSON: {err}"))?;
    if !body.is_object() {
        return Err("request body must be a JSON object".to_owned());
    }
    let named = model_name(route, &body).ok_or("missing required field `model`")?;
    let (model, suffix) = faults::split_model(named);
    let options = faults::parse(body.get("mock"), headers, suffix, script)?;
    let model = model.to_owned();
    let stream = match route.endpoint {
        Endpoint::Embeddings | Endpoint::GenerateContent | Endpoint::CountTokens => false,
        Endpoint::StreamGenerateContent(_) => true,
        Endpoint::ChatCompletions | Endpoint::Completions | Endpoint::Messages => {
            body.get("stream").and_then(Value::as_bool) == Some(true)
        }
    };
    Ok(Parsed {
        body,
        options,
        stream,
        model,
    })
}

/// Gemini names the model only in the URL; Azure names a deployment there
/// and a body `model`, if any, wins; the others name it only in the body.
fn model_name<'a>(route: &'a Route, body: &'a Value) -> Option<&'a str> {
    let from_body = body
        .get("model")
        .and_then(Value::as_str)
        .filter(|model| !model.is_empty());
    let from_path = route
        .path_model
        .as_deref()
        .filter(|model| !model.is_empty());
    match route.endpoint.dialect() {
        Dialect::Gemini => from_path,
        Dialect::OpenAi | Dialect::Anthropic => from_body.or(from_path),
    }
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
    if let Some(kind) = options.error {
        return errors::provider_error(endpoint.dialect(), kind);
    }
    // `malformed` corrupts the shape the response has: a stream gets a
    // bad event later (see `sse`), anything else a truncated body here.
    if options.malformed.is_some() && !parsed.stream {
        return errors::json_response(200, r#"{"id": "truncated"#.to_owned());
    }
    match endpoint {
        Endpoint::ChatCompletions => openai::reply(app, &parsed),
        Endpoint::Completions => crate::completions::reply(app, &parsed),
        Endpoint::Messages => anthropic::reply(app, &parsed),
        Endpoint::CountTokens => anthropic::count_tokens(&parsed),
        Endpoint::Embeddings => embeddings::reply(&parsed),
        Endpoint::GenerateContent => gemini::reply(app, &parsed, None),
        Endpoint::StreamGenerateContent(framing) => gemini::reply(app, &parsed, Some(framing)),
    }
}
