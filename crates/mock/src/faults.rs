//! Per-request scripting options: read from the body's `"mock"` object,
//! from `x-mock-<option>` headers and from a `@key=value,...` suffix on the
//! model name, with body over header over suffix per option.
//!
//! This module only parses and validates; it must never act on an option
//! (sleeping, failing, shaping output all happen elsewhere).

use std::time::Duration;

use axum::http::HeaderMap;
use serde_json::{Map, Value};

const HEADER_PREFIX: &str = "x-mock-";

/// What `malformed` corrupts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Malformed {
    Json,
    Sse,
    /// A malformed event just before the first content delta.
    SseFirst,
}

/// The scripting options of one request; absent options are `None`/`false`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Options {
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    pub hang: bool,
    pub first_token_delay: Option<Duration>,
    pub chunks: Option<usize>,
    pub chunk_delay: Option<Duration>,
    pub content: Option<String>,
    pub cut_after: Option<usize>,
    pub malformed: Option<Malformed>,
    pub error_event: bool,
    pub error_first: bool,
    /// `retry-after-ms` header on the response (OpenAI's millisecond variant).
    pub retry_after_ms: Option<u64>,
    /// The faults apply only to the server's first N requests; later ones succeed.
    pub fail_first: Option<u64>,
    /// With this probability (0..=1) the request gets one random fault.
    pub chaos: Option<f64>,
    /// Chaos may also break a stream after its first content delta.
    pub chaos_mid: bool,
    /// A provider error with the provider's real wording (status 400).
    pub error: Option<ErrorKind>,
    /// Rate-limit headers in the dialect's naming: remaining requests, remaining
    /// tokens, and when the window resets.
    pub ratelimit_remaining_requests: Option<u64>,
    pub ratelimit_remaining_tokens: Option<u64>,
    pub ratelimit_reset_ms: Option<u64>,
}

/// Provider errors the gateway recognises from their wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    ContextWindow,
    ContentPolicy,
}

impl Options {
    /// The status to fail with, if the request asked for a failure.
    pub(crate) fn fault_status(&self) -> Option<u16> {
        self.status.filter(|&status| status != 200)
    }

    /// Drops every fault, keeping the reply's shape and headers: what `fail_first`
    /// leaves once its requests are used up.
    pub(crate) fn clear_faults(&mut self) {
        self.status = None;
        self.hang = false;
        self.cut_after = None;
        self.malformed = None;
        self.error_event = false;
        self.error_first = false;
        self.error = None;
        self.chaos = None;
        self.first_token_delay = None;
    }

    /// Replaces `chaos` by one fault drawn at random (or none), so every later step
    /// sees an ordinary scripted fault.
    pub(crate) fn roll_chaos(&mut self, stream: bool) {
        let Some(p) = self.chaos.take() else { return };
        if fastrand::f64() >= p {
            return;
        }
        let kinds = if stream && self.chaos_mid { 9 } else { 6 };
        match fastrand::u8(0..kinds) {
            6 => self.cut_after = Some(1),
            7 => self.error_event = true,
            8 => self.malformed = Some(Malformed::Sse),
            0 => self.status = Some(500),
            1 => self.status = Some(503),
            2 => self.status = Some(429),
            3 => self.hang = true,
            // Stream faults strike before the first content delta, where a gateway
            // can still fail over; `cut_after` and `error_event` script later ones.
            4 if stream => self.cut_after = Some(0),
            4 => self.malformed = Some(Malformed::Json),
            _ if stream => self.error_first = true,
            _ => self.status = Some(502),
        }
    }
}

/// Splits `gpt-4o@chunks=5,cut_after=2` into the model and the option
/// text after the `@`. Only an `@` followed by `key=` starts options, so
/// version tags such as `claude-3-5-sonnet@20240620` stay in the name.
pub(crate) fn split_model(model: &str) -> (&str, Option<&str>) {
    for (at, _) in model.match_indices('@') {
        let (Some(name), Some(tail)) = (model.get(..at), model.get(at + 1..)) else {
            continue;
        };
        let starts_with_key = tail.split_once('=').is_some_and(|(key, _)| {
            !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-')
        });
        if starts_with_key {
            return (name, Some(tail));
        }
    }
    (model, None)
}

/// Merges model-suffix, header and body options (later sources win) and
/// converts them to typed values. Errors name the offending option so a
/// typo in a test fails loudly instead of silently producing a normal reply.
pub(crate) fn parse(
    body_options: Option<&Value>,
    headers: &HeaderMap,
    model_suffix: Option<&str>,
    script: &str,
) -> Result<Options, String> {
    let mut merged = suffix_options(Some(script))?;
    merged.extend(suffix_options(model_suffix)?);
    merged.extend(header_options(headers)?);
    match body_options {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (key, value) in map {
                merged.insert(key.replace('-', "_"), value.clone());
            }
        }
        Some(_) => return Err("mock: the \"mock\" field must be an object".to_owned()),
    }
    let mut options = Options::default();
    for (key, value) in &merged {
        apply(&mut options, key, value).map_err(|why| format!("mock: option `{key}` {why}"))?;
    }
    Ok(options)
}

/// `chunks=5,cut_after=2` as option strings, like header values.
pub(crate) fn suffix_options(suffix: Option<&str>) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    for item in suffix.unwrap_or_default().split(',') {
        if item.is_empty() {
            continue;
        }
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| format!("mock: model suffix item `{item}` must look like key=value"))?;
        map.insert(
            key.trim().replace('-', "_"),
            Value::String(value.trim().to_owned()),
        );
    }
    Ok(map)
}

fn header_options(headers: &HeaderMap) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    for (name, value) in headers {
        let Some(option) = name.as_str().strip_prefix(HEADER_PREFIX) else {
            continue;
        };
        let text = value
            .to_str()
            .map_err(|_| format!("mock: header `{name}` is not valid text"))?;
        map.insert(
            option.replace('-', "_"),
            Value::String(text.trim().to_owned()),
        );
    }
    Ok(map)
}

fn apply(options: &mut Options, key: &str, value: &Value) -> Result<(), String> {
    match key {
        "status" => options.status = Some(status(value)?),
        "retry_after" => options.retry_after = Some(uint(value)?),
        "hang" => options.hang = boolean(value)?,
        "first_token_delay_ms" => options.first_token_delay = Some(millis(value)?),
        "chunks" => options.chunks = Some(size(value)?),
        "chunk_delay_ms" => options.chunk_delay = Some(millis(value)?),
        "content" => options.content = Some(text(value)?),
        "cut_after" => options.cut_after = Some(size(value)?),
        "malformed" => options.malformed = Some(malformed(value)?),
        "error_event" => options.error_event = boolean(value)?,
        "error_first" => options.error_first = boolean(value)?,
        "retry_after_ms" => options.retry_after_ms = Some(uint(value)?),
        "fail_first" => options.fail_first = Some(uint(value)?),
        "chaos" => options.chaos = Some(probability(value)?),
        "chaos_mid" => options.chaos_mid = boolean(value)?,
        "error" => options.error = Some(error_kind(value)?),
        "ratelimit_remaining_requests" => {
            options.ratelimit_remaining_requests = Some(uint(value)?);
        }
        "ratelimit_remaining_tokens" => options.ratelimit_remaining_tokens = Some(uint(value)?),
        "ratelimit_reset_ms" => options.ratelimit_reset_ms = Some(uint(value)?),
        _ => return Err("is not a known mock option".to_owned()),
    }
    Ok(())
}

fn uint(value: &Value) -> Result<u64, String> {
    let parsed = match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| format!("must be a non-negative integer, got {value}"))
}

fn size(value: &Value) -> Result<usize, String> {
    usize::try_from(uint(value)?).map_err(|_| "is too large".to_owned())
}

fn millis(value: &Value) -> Result<Duration, String> {
    uint(value).map(Duration::from_millis)
}

fn status(value: &Value) -> Result<u16, String> {
    match u16::try_from(uint(value)?) {
        Ok(code @ 200..=599) => Ok(code),
        _ => Err(format!(
            "must be an HTTP status between 200 and 599, got {value}"
        )),
    }
}

fn boolean(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(flag) => Ok(*flag),
        Value::String(text) if text == "true" || text == "1" => Ok(true),
        Value::String(text) if text == "false" || text == "0" => Ok(false),
        _ => Err(format!("must be true or false, got {value}")),
    }
}

fn text(value: &Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        _ => Err(format!("must be a string, got {value}")),
    }
}

fn probability(value: &Value) -> Result<f64, String> {
    let parsed = match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    };
    parsed
        .filter(|p| (0.0..=1.0).contains(p))
        .ok_or_else(|| format!("must be a probability between 0 and 1, got {value}"))
}

fn error_kind(value: &Value) -> Result<ErrorKind, String> {
    match value.as_str() {
        Some("context_window") => Ok(ErrorKind::ContextWindow),
        Some("content_policy") => Ok(ErrorKind::ContentPolicy),
        _ => Err(format!(
            "must be \"context_window\" or \"content_policy\", got {value}"
        )),
    }
}

fn malformed(value: &Value) -> Result<Malformed, String> {
    match value.as_str() {
        Some("json") => Ok(Malformed::Json),
        Some("sse") => Ok(Malformed::Sse),
        Some("sse_first") => Ok(Malformed::SseFirst),
        _ => Err(format!(
            "must be \"json\", \"sse\" or \"sse_first\", got {value}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::json;

    #[test]
    fn body_wins_over_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("x-mock-status", HeaderValue::from_static("503"));
        headers.insert("x-mock-chunk-delay-ms", HeaderValue::from_static("7"));
        let body = json!({"status": 429, "hang": false});
        let options = parse(Some(&body), &headers, None, "");
        assert!(matches!(
            options,
            Ok(Options { status: Some(429), chunk_delay: Some(d), .. }) if d == Duration::from_millis(7)
        ));
    }

    #[test]
    fn unknown_and_bad_options_are_rejected() {
        let headers = HeaderMap::new();
        assert!(parse(Some(&json!({"stauts": 500})), &headers, None, "").is_err());
        assert!(parse(Some(&json!({"status": 99})), &headers, None, "").is_err());
        assert!(parse(Some(&json!({"malformed": "xml"})), &headers, None, "").is_err());
        assert!(parse(Some(&json!("fast")), &headers, None, "").is_err());
        assert!(parse(None, &headers, Some("stauts=500"), "").is_err());
        assert!(parse(None, &headers, Some("status=503,hang"), "").is_err());
    }

    #[test]
    fn model_suffix_splits_only_at_options() {
        assert_eq!(split_model("gpt-4o"), ("gpt-4o", None));
        assert_eq!(split_model("claude@20240620"), ("claude@20240620", None));
        assert_eq!(
            split_model("claude@20240620@status=503"),
            ("claude@20240620", Some("status=503"))
        );
        assert_eq!(
            split_model("m@content=a@b,chunks=2"),
            ("m", Some("content=a@b,chunks=2"))
        );
    }

    #[test]
    fn suffix_is_weakest_source() {
        let mut headers = HeaderMap::new();
        headers.insert("x-mock-chunks", HeaderValue::from_static("4"));
        let body = json!({"status": 200});
        let options = parse(
            Some(&body),
            &headers,
            Some("status=503,chunks=9,cut-after=2,malformed=sse"),
            "chunks=1,content=x",
        );
        assert!(matches!(
            options,
            Ok(Options {
                status: Some(200),
                chunks: Some(4),
                cut_after: Some(2),
                malformed: Some(Malformed::Sse),
                content: Some(_),
                ..
            })
        ));
    }

    #[test]
    fn chaos_draws_one_ordinary_fault() {
        let headers = HeaderMap::new();
        let mut faulted = 0;
        for _ in 0..200 {
            let Ok(mut options) = parse(None, &headers, None, "chaos=1") else {
                panic!("chaos=1 must parse");
            };
            options.roll_chaos(true);
            assert!(options.chaos.is_none());
            if options.fault_status().is_some()
                || options.hang
                || options.cut_after.is_some()
                || options.malformed.is_some()
                || options.error_first
            {
                faulted += 1;
            }
        }
        assert_eq!(faulted, 200);
        assert!(parse(None, &headers, None, "chaos=1.5").is_err());
    }
}
