//! How each provider kind is addressed: the URL of an endpoint for a model, and the
//! headers every request carries (auth in the kind's own header, version headers).
//!
//! Must never put a credential anywhere but its header, and never log a header value.

use super::{Endpoint, Upstream};
use crate::config::{ProviderConfig, ProviderKind};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri, header};
use sluice_protocol::anthropic::DEFAULT_VERSION as ANTHROPIC_VERSION;

/// The URL for kinds whose URL does not depend on the model or stream flag.
pub fn fixed_url(kind: ProviderKind, base: &str, endpoint: Endpoint) -> Option<Uri> {
    let path = match (kind, endpoint) {
        (ProviderKind::OpenAi | ProviderKind::OpenAiCompatible | ProviderKind::Mock, e) => e.path(),
        (ProviderKind::Anthropic, Endpoint::ChatCompletions) => "/messages",
        (ProviderKind::Anthropic, Endpoint::CountTokens) => "/messages/count_tokens",
        _ => return None,
    };
    to_uri(&url::Url::parse(&format!("{}{path}", base.trim_end_matches('/'))).ok()?)
}

/// `url` parses and normalises (IDNA, percent-encoding) what operators and model names
/// bring; hyper takes the result as a `Uri`.
pub fn to_uri(url: &url::Url) -> Option<Uri> {
    Uri::try_from(url.as_str()).ok()
}

impl Upstream {
    /// The URL for one request.
    pub fn url(&self, endpoint: Endpoint, model: &str, stream: bool) -> Option<Uri> {
        let index = match endpoint {
            Endpoint::ChatCompletions => 0,
            Endpoint::Embeddings => 1,
            Endpoint::Completions => 2,
            Endpoint::CountTokens => 3,
        };
        if let Some(url) = &self.fixed_urls[index] {
            return Some(url.clone());
        }
        match self.kind {
            ProviderKind::Azure => {
                let mut url = self.base_url.clone();
                url.path_segments_mut()
                    .ok()?
                    .pop_if_empty()
                    .extend(["deployments", model])
                    .extend(endpoint.path().trim_start_matches('/').split('/'));
                url.query_pairs_mut().append_pair(
                    "api-version",
                    self.api_version.as_deref().unwrap_or_default(),
                );
                to_uri(&url)
            }
            ProviderKind::Gemini if endpoint == Endpoint::ChatCompletions => {
                let base = self.base_url.as_str().trim_end_matches('/');
                to_uri(
                    &url::Url::parse(&format!(
                        "{base}{}",
                        sluice_protocol::gemini::path(model, stream)
                    ))
                    .ok()?,
                )
            }
            _ => None,
        }
    }
}

/// Auth, version, user agent, body type (every API call is a JSON `POST`), `Host` over
/// cleartext HTTP/1.1 and configured extra headers for every request to this provider.
pub fn headers(config: &ProviderConfig, base: &url::Url) -> Option<HeaderMap> {
    let mut headers = HeaderMap::new();
    if let Some(host) = host(base, config.http2_prior_knowledge) {
        headers.insert(header::HOST, host);
    }
    headers.insert(
        header::USER_AGENT,
        HeaderValue::from_static(concat!("sluice/", env!("CARGO_PKG_VERSION"))),
    );
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(key) = &config.api_key {
        let (name, value) = match config.kind {
            ProviderKind::OpenAi | ProviderKind::OpenAiCompatible | ProviderKind::Mock => {
                ("authorization", format!("Bearer {}", key.expose()))
            }
            ProviderKind::Azure => ("api-key", key.expose().to_owned()),
            ProviderKind::Anthropic => ("x-api-key", key.expose().to_owned()),
            ProviderKind::Gemini => ("x-goog-api-key", key.expose().to_owned()),
        };
        insert(&mut headers, name, &value)?;
    }
    if config.kind == ProviderKind::Anthropic {
        let version = config.api_version.as_deref().unwrap_or(ANTHROPIC_VERSION);
        insert(&mut headers, "anthropic-version", version)?;
    }
    for (name, value) in &config.headers {
        insert(&mut headers, name, value.expose())?;
    }
    Some(headers)
}

/// `Host` for a provider spoken to over cleartext HTTP/1.1, made once: hyper-util's
/// client otherwise formats `host:port` into a new value on every request (about 2,500
/// instructions with a port, callgrind). Over https, ALPN may choose HTTP/2, which
/// carries the authority in `:authority` instead, so there hyper-util still decides.
/// A `host` among the configured headers replaces this one (they are inserted after).
fn host(base: &url::Url, http2_prior_knowledge: bool) -> Option<HeaderValue> {
    if base.scheme() != "http" || http2_prior_knowledge {
        return None;
    }
    let host = base.host_str()?;
    // `port()` leaves out the scheme's default port, as the client does.
    let value = match base.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    HeaderValue::from_str(&value).ok()
}

fn insert(headers: &mut HeaderMap, name: &str, value: &str) -> Option<()> {
    let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
    let mut value = HeaderValue::from_str(value).ok()?;
    value.set_sensitive(true);
    headers.insert(name, value);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_of(url: &str, prior_knowledge: bool) -> Option<String> {
        let url = url::Url::parse(url).expect("a URL");
        host(&url, prior_knowledge).map(|v| v.to_str().expect("ASCII").to_owned())
    }

    #[test]
    fn host_is_made_once_only_where_the_client_speaks_http1_in_clear() {
        let cases = [
            ("http://127.0.0.1:8080/v1", false, Some("127.0.0.1:8080")),
            ("http://Localhost:80/v1", false, Some("localhost")),
            ("http://[::1]:9000", false, Some("[::1]:9000")),
            ("http://vllm.internal/v1", false, Some("vllm.internal")),
            // HTTP/2: the authority goes in `:authority`; https: ALPN picks the version.
            ("http://127.0.0.1:8080/v1", true, None),
            ("https://api.openai.com/v1", false, None),
        ];
        for (url, prior_knowledge, expected) in cases {
            assert_eq!(host_of(url, prior_knowledge).as_deref(), expected, "{url}");
        }
    }
}
