//! Provider clients: one `Upstream` per configured provider, holding its connection pool,
//! credentials and deadlines, and knowing how its kind addresses an endpoint (URL shape,
//! auth header, version header or query).
//!
//! - [`client`]: the pooled HTTP client (rustls with ring, HTTP/1.1 and HTTP/2).
//! - [`address`]: the URL and headers each provider kind wants.
//! - [`send`]: one request to a provider, up to the response head, with errors mapped.
//! - [`body`]: Sluice's own type for a response body, so no client type leaks out.
//! - [`check`]: active health checks, for providers that configure them.
//! - [`forward`]: the client headers a provider's `forward_headers` lets through.
//!
//! Must never log or return the provider's API key, nor put upstream error text that may
//! contain it into a client-visible message unscrubbed.

mod address;
mod body;
pub mod check;
mod client;
pub mod forward;
mod send;

pub use body::{Body, Broken, ReadError};
pub use send::{Endpoint, Outgoing, scrub};

use crate::config::{ProviderConfig, ProviderKind, Timeouts};
use crate::state::ProviderHealth;
use axum::http::{HeaderMap, HeaderValue, Uri};
use sluice_protocol::translate::Provider;
use std::sync::Arc;

/// A provider ready to take requests.
#[derive(Debug)]
pub struct Upstream {
    pub name: String,
    /// `name` again, cheap to clone into bodies for their log lines.
    label: Arc<str>,
    /// `name` as the `x-sluice-provider` value, made once (a clone shares its bytes);
    /// `None` for a name that is not a header value.
    pub name_header: Option<HeaderValue>,
    pub kind: ProviderKind,
    base_url: url::Url,
    /// URIs that do not depend on the model, parsed once: `[chat, embeddings,
    /// completions, count_tokens]`.
    fixed_urls: [Option<Uri>; 4],
    api_version: Option<String>,
    client: client::Http,
    /// What `client` was built from: a reload with the same keeps it.
    client_settings: client::Settings,
    /// Auth, version, user agent, body type and extra headers, credentials marked
    /// sensitive so they never print.
    headers: HeaderMap,
    pub timeouts: Timeouts,
    pub max_response_bytes: usize,
    /// This provider's live health, kept by `Shared` across config reloads.
    pub health: Arc<ProviderHealth>,
    /// Attempts in flight here at most (`max_in_flight`).
    pub max_in_flight: Option<u64>,
    /// Interval of active health checks, when configured.
    pub health_check: Option<std::time::Duration>,
    /// Client headers this provider receives (`forward_headers`).
    pub forward_headers: Vec<forward::Allowed>,
}

/// Why a provider could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("provider `{0}`: TLS set-up: {1}")]
    Client(String, rustls::Error),
    #[error("provider `{0}`: API key or header is not a valid header value")]
    Header(String),
    #[error("provider `{0}`: no base URL")]
    NoBaseUrl(String),
    #[error("provider `{0}`: invalid base URL")]
    BadUrl(String),
}

impl Upstream {
    /// Builds the provider for `config`; `fallback_url` serves mock providers with no
    /// URL. The client (its connection pool) of `previous`, the same provider in the
    /// config being replaced, is kept when it was built from the same settings.
    pub fn build(
        config: &ProviderConfig,
        fallback_url: Option<&str>,
        health: Arc<ProviderHealth>,
        previous: Option<&Upstream>,
    ) -> Result<Self, BuildError> {
        let name = || config.name.clone();
        let base = config
            .base_url
            .clone()
            .or_else(|| fallback_url.map(str::to_owned))
            .ok_or_else(|| BuildError::NoBaseUrl(name()))?;
        let base_url = url::Url::parse(&base).map_err(|_| BuildError::BadUrl(name()))?;
        let headers =
            address::headers(config, &base_url).ok_or_else(|| BuildError::Header(name()))?;
        let fixed_urls = [
            address::fixed_url(config.kind, &base, Endpoint::ChatCompletions),
            address::fixed_url(config.kind, &base, Endpoint::Embeddings),
            address::fixed_url(config.kind, &base, Endpoint::Completions),
            address::fixed_url(config.kind, &base, Endpoint::CountTokens),
        ];
        let client_settings = client::Settings::of(config);
        let client = match previous.filter(|p| p.client_settings == client_settings) {
            Some(previous) => previous.client.clone(),
            None => client::build(&client_settings).map_err(|e| BuildError::Client(name(), e))?,
        };
        Ok(Self {
            name: name(),
            label: Arc::from(config.name.as_str()),
            name_header: HeaderValue::from_str(&config.name).ok(),
            kind: config.kind,
            base_url,
            fixed_urls,
            api_version: config.api_version.clone(),
            client,
            client_settings,
            headers,
            timeouts: config.timeouts,
            max_response_bytes: config.max_response_bytes,
            health,
            max_in_flight: config.max_in_flight,
            health_check: config.health_check,
            forward_headers: config.forward_headers.clone(),
        })
    }

    /// At its `max_in_flight`: treated as busy, the next target is tried.
    pub fn is_busy(&self) -> bool {
        self.max_in_flight
            .is_some_and(|cap| self.health.in_flight() >= cap)
    }

    /// Failed its last active health check.
    pub fn is_down(&self) -> bool {
        self.health_check.is_some() && self.health.is_down()
    }

    /// The wire format this provider accepts.
    pub fn format(&self) -> Provider {
        self.kind.format()
    }

    /// Whether this provider serves `endpoint` at all.
    pub fn serves(&self, endpoint: Endpoint) -> bool {
        match endpoint {
            Endpoint::ChatCompletions => true,
            Endpoint::Embeddings | Endpoint::Completions => self.format() == Provider::OpenAiChat,
            Endpoint::CountTokens => self.format() == Provider::Anthropic,
        }
    }
}
