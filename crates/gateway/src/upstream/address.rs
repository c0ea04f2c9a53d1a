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

/// Auth, version, user agent, body type (every API call is a JSON `POST`) and configured
/// extra headers for every request to this provider.
pub fn headers(config: &ProviderConfig) -> Option<HeaderMap> {
    let mut headers = HeaderMap::new();
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

fn insert(headers: &mut HeaderMap, name: &str, value: &str) -> Option<()> {
    let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
    let mut value = HeaderValue::from_str(value).ok()?;
    value.set_sensitive(true);
    headers.insert(name, value);
    Some(())
}
