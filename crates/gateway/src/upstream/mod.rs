//! Provider clients: one `Upstream` per configured provider, holding its connection pool,
//! credentials and deadlines. Every kind in this build speaks the OpenAI wire format
//! (`openai`, `openai-compatible`, `mock`), so one request builder serves them all.
//!
//! - [`client`]: the pooled HTTP client (rustls with ring, HTTP/1.1 and HTTP/2).
//! - [`send`]: one request to a provider, up to the response head, with errors mapped.
//!
//! Must never log or return the provider's API key, nor put upstream error text that may
//! contain it into a client-visible message unscrubbed.

mod client;
mod send;

pub use send::{Endpoint, ReadError, read_body_bounded};

use crate::config::{ProviderConfig, ProviderKind, Timeouts};
use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// A provider ready to take requests.
#[derive(Debug)]
pub struct Upstream {
    pub name: String,
    pub kind: ProviderKind,
    /// Endpoint URLs, parsed once: `[chat/completions, embeddings]`.
    urls: [reqwest::Url; 2],
    client: reqwest::Client,
    /// Auth and extra headers, values marked sensitive so they never print.
    headers: HeaderMap,
    pub timeouts: Timeouts,
    pub max_response_bytes: usize,
}

/// Why a provider could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("provider `{0}`: HTTP client: {1}")]
    Client(String, reqwest::Error),
    #[error("provider `{0}`: API key is not a valid header value")]
    Key(String),
    #[error("provider `{0}`: no base URL")]
    NoBaseUrl(String),
    #[error("provider `{0}`: invalid base URL")]
    BadUrl(String),
}

impl Upstream {
    /// Builds the client for `config`; `fallback_url` serves mock providers with no URL.
    pub fn build(config: &ProviderConfig, fallback_url: Option<&str>) -> Result<Self, BuildError> {
        let base_url = config
            .base_url
            .clone()
            .or_else(|| fallback_url.map(str::to_owned))
            .ok_or_else(|| BuildError::NoBaseUrl(config.name.clone()))?;
        let mut headers = HeaderMap::new();
        if let Some(key) = &config.api_key {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
                .map_err(|_| BuildError::Key(config.name.clone()))?;
            value.set_sensitive(true);
            headers.insert(axum::http::header::AUTHORIZATION, value);
        }
        for (name, value) in &config.headers {
            // Validated at config load; skip defensively rather than panic.
            if let (Ok(name), Ok(mut value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value.expose()),
            ) {
                value.set_sensitive(true);
                headers.insert(name, value);
            }
        }
        let url = |endpoint: Endpoint| {
            reqwest::Url::parse(&format!("{base_url}{}", endpoint.path()))
                .map_err(|_| BuildError::BadUrl(config.name.clone()))
        };
        let urls = [url(Endpoint::ChatCompletions)?, url(Endpoint::Embeddings)?];
        let client =
            client::build(config).map_err(|e| BuildError::Client(config.name.clone(), e))?;
        Ok(Self {
            name: config.name.clone(),
            kind: config.kind,
            urls,
            client,
            headers,
            timeouts: config.timeouts,
            max_response_bytes: config.max_response_bytes,
        })
    }

    fn url(&self, endpoint: Endpoint) -> reqwest::Url {
        let index = match endpoint {
            Endpoint::ChatCompletions => 0,
            Endpoint::Embeddings => 1,
        };
        self.urls[index].clone()
    }
}
