//! URL resolution: maps a request's method, path and query to what answers
//! it. Three URL families share the server: OpenAI/Anthropic under `/v1`,
//! Gemini under `/v1beta` (and `/v1/models/{model}:{method}`), and Azure
//! OpenAI under `/openai/deployments/{deployment}/...?api-version=...`.
//!
//! This module only reads the URL; it must never look at headers or the
//! body (that starts in `dispatch`), and every error it returns must be in
//! the shape of the URL family that was asked.

use axum::http::Method;
use axum::response::Response;

use crate::catalog;
use crate::dispatch::{Endpoint, Route};
use crate::errors::{self, Dialect};
use crate::gemini_stream::Framing;

/// What a URL resolves to.
pub(crate) enum Target {
    /// A model endpoint, handled by `dispatch`.
    Dispatch(Route),
    /// Answered from the URL alone (model lists, routing errors).
    Respond(Response),
}

const PREFIXES: [&str; 3] = ["/v1", "/v1beta", "/openai"];

/// Whether `path` belongs to a model API (and so is counted and recorded).
pub(crate) fn is_model_api(path: &str) -> bool {
    PREFIXES.iter().any(|prefix| under(path, prefix).is_some())
}

/// The rest of `path` after `prefix`, if `path` is `prefix` or below it.
fn under<'p>(path: &'p str, prefix: &str) -> Option<&'p str> {
    let rest = path.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

pub(crate) fn resolve(method: &Method, path: &str, query: Option<&str>) -> Target {
    if let Some(rest) = under(path, "/v1beta") {
        return gemini(method, rest, query);
    }
    if let Some(rest) = under(path, "/openai") {
        return azure(method, rest, query);
    }
    let rest = under(path, "/v1").unwrap_or(path);
    let endpoint = match rest {
        "/chat/completions" => Endpoint::ChatCompletions,
        "/completions" => Endpoint::Completions,
        "/messages" => Endpoint::Messages,
        "/messages/count_tokens" => Endpoint::CountTokens,
        "/embeddings" => Endpoint::Embeddings,
        "/models" if method == Method::GET => return Target::Respond(catalog::openai_models()),
        // Gemini's stable API shares the `/v1` prefix.
        _ if method == Method::POST && rest.starts_with("/models/") && names_method(rest) => {
            return gemini(method, rest, query);
        }
        _ if method == Method::GET => {
            let id = rest.strip_prefix("/models/").unwrap_or(rest);
            return Target::Respond(catalog::openai_model(id));
        }
        _ => return openai_error(404, "mock: unknown endpoint"),
    };
    post_only(method, Dialect::OpenAi, endpoint, None)
}

/// Whether a `/models/...` path has a `:{method}` part, maybe escaped.
fn names_method(rest: &str) -> bool {
    rest.contains(':') || rest.contains("%3A") || rest.contains("%3a")
}

fn post_only(
    method: &Method,
    dialect: Dialect,
    endpoint: Endpoint,
    model: Option<String>,
) -> Target {
    if method != Method::POST {
        return Target::Respond(errors::error(dialect, 405, None, "mock: use POST"));
    }
    Target::Dispatch(Route {
        endpoint,
        path_model: model,
    })
}

fn openai_error(status: u16, message: &str) -> Target {
    Target::Respond(errors::error(Dialect::OpenAi, status, None, message))
}

/// `/models`, `/models/{model}` and `/models/{model}:{method}`.
fn gemini(method: &Method, rest: &str, query: Option<&str>) -> Target {
    if rest == "/models" && method == Method::GET {
        return Target::Respond(catalog::gemini_models());
    }
    let Some(name) = rest.strip_prefix("/models/") else {
        let message = "mock: unknown Gemini endpoint";
        return Target::Respond(errors::error(Dialect::Gemini, 404, None, message));
    };
    // Decoded first, so a client that escapes `:` as `%3A` still works.
    let name = percent_decode(name, false);
    let Some((model, action)) = name.rsplit_once(':') else {
        if method == Method::GET {
            return Target::Respond(catalog::gemini_model(&name));
        }
        let message = "mock: expected models/{model}:generateContent";
        return Target::Respond(errors::error(Dialect::Gemini, 404, None, message));
    };
    let endpoint = match action {
        "generateContent" => Endpoint::GenerateContent,
        "streamGenerateContent" => {
            let sse = query_param(query, "alt").is_some_and(|alt| alt == "sse");
            Endpoint::StreamGenerateContent(if sse {
                Framing::Sse
            } else {
                Framing::JsonArray
            })
        }
        _ => {
            let message = format!("mock: method `{action}` is not supported");
            return Target::Respond(errors::error(Dialect::Gemini, 404, None, &message));
        }
    };
    post_only(method, Dialect::Gemini, endpoint, Some(model.to_owned()))
}

/// `/deployments/{deployment}/chat/completions` and `.../embeddings`, both
/// requiring `api-version` the way Azure does.
fn azure(method: &Method, rest: &str, query: Option<&str>) -> Target {
    let Some((deployment, operation)) = rest
        .strip_prefix("/deployments/")
        .and_then(|rest| rest.split_once('/'))
    else {
        return Target::Respond(errors::azure_not_found());
    };
    let endpoint = match operation {
        "chat/completions" => Endpoint::ChatCompletions,
        "completions" => Endpoint::Completions,
        "embeddings" => Endpoint::Embeddings,
        _ => return Target::Respond(errors::azure_not_found()),
    };
    if deployment.is_empty() || query_param(query, "api-version").is_none_or(|v| v.is_empty()) {
        return Target::Respond(errors::azure_not_found());
    }
    let deployment = percent_decode(deployment, false);
    post_only(method, Dialect::OpenAi, endpoint, Some(deployment))
}

/// The decoded value of the first `name=` parameter of a query string.
fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(key, true) == name).then(|| percent_decode(value, true))
    })
}

/// `%XX` decoding (and `+` as space in queries); bad escapes stay as they
/// are, and invalid UTF-8 is replaced rather than rejected.
fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        let escaped = (byte == b'%')
            .then(|| bytes.get(at + 1..at + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(decoded) => {
                out.push(decoded);
                at += 3;
            }
            None => {
                out.push(if plus_is_space && byte == b'+' {
                    b' '
                } else {
                    byte
                });
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_keeps_bad_ones() {
        assert_eq!(
            percent_decode("gemini%3AgenerateContent", false),
            "gemini:generateContent"
        );
        assert_eq!(percent_decode("a%2", false), "a%2");
        assert_eq!(percent_decode("a+b%20c", true), "a b c");
        assert_eq!(percent_decode("a+b", false), "a+b");
    }

    #[test]
    fn query_params() {
        let query = Some("key=k&alt=sse&api-version=2024-10-21");
        assert_eq!(query_param(query, "alt").as_deref(), Some("sse"));
        assert_eq!(
            query_param(query, "api-version").as_deref(),
            Some("2024-10-21")
        );
        assert_eq!(query_param(query, "missing"), None);
        assert_eq!(query_param(None, "alt"), None);
    }

    #[test]
    fn model_api_prefixes() {
        assert!(is_model_api("/v1beta/models/x:generateContent"));
        assert!(is_model_api("/openai/deployments/d/chat/completions"));
        assert!(is_model_api("/v1"));
        assert!(!is_model_api("/v1x/models"));
        assert!(!is_model_api("/mock/stats"));
    }
}
