//! Configuration: the TOML file parsed (`raw`), expanded (`interpolate`) and validated
//! (`validate`, with `provider` and `model` for those sections) into the typed `Config`
//! the rest of Sluice uses.
//!
//! Every problem is found at load time with its location; nothing downstream re-checks
//! or sees an unvalidated value. Must never print a secret.

mod ctx;
mod guard;
mod guard_hook;
mod guard_policy;
mod interpolate;
mod keys;
mod limits;
mod load;
mod model;
mod provider;
mod raw;
mod resilience;
mod secret;
mod store;
mod telemetry;
mod validate;

pub use guard::{GuardConfig, GuardPolicy};
pub use guard_hook::{HookConfig, HookKind};
pub use keys::KeyConfig;
pub use limits::{Backend, Limits, LimitsConfig, OnBackendError, Period, Price};
pub use load::{Problem, Problems, load_file, parse};
pub use resilience::{BreakerConfig, HedgeAfter, ResumeConfig, RetryConfig};
pub use secret::Secret;
pub use store::{AdminConfig, JournalConfig, StoreConfig};
pub use telemetry::TelemetryConfig;

use sluice_protocol::translate::Provider;
use std::net::SocketAddr;
use std::time::Duration;

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub providers: Vec<ProviderConfig>,
    pub models: Vec<ModelConfig>,
    pub store: Option<StoreConfig>,
    pub journal: JournalConfig,
    pub admin: AdminConfig,
    pub telemetry: TelemetryConfig,
    pub breaker: BreakerConfig,
    /// `[[keys]]`: the virtual keys written in the config (more live in the store).
    pub keys: Vec<KeyConfig>,
    pub limits: LimitsConfig,
    /// `[pricing]`: prices that replace or add to the built-in table, per model name.
    pub pricing: std::collections::BTreeMap<String, Price>,
    /// `[guard]`: what is scanned in prompts and answers, and what is done with it.
    pub guard: GuardConfig,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub max_body_bytes: usize,
    /// Requests served at once; past it, new requests get a fast 503.
    pub max_in_flight: usize,
    /// How long in-flight requests may run after SIGTERM before the process exits.
    pub drain_timeout: Duration,
    /// How long a client may take to send a request head (slow-loris defence).
    pub header_timeout: Duration,
    /// The largest request head (request line and headers) over HTTP/1.1; also the
    /// largest read of one connection's buffer.
    pub max_header_bytes: usize,
    /// Tokio worker threads; `None` means one per core.
    pub worker_threads: Option<usize>,
    /// The whole attempt loop (retries, failovers, fallbacks) up to the commit point;
    /// a client may lower it (`x-sluice-timeout`).
    pub request_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
            max_body_bytes: 8_000_000,
            max_in_flight: 20_000,
            drain_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(30),
            max_header_bytes: 8 * 1024,
            worker_threads: None,
            request_timeout: Duration::from_secs(600),
        }
    }
}

/// Provider kinds this build can talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    OpenAi,
    OpenAiCompatible,
    /// Azure OpenAI: deployment URLs, `api-version`, `api-key` header.
    Azure,
    Anthropic,
    /// Google Gemini's native generateContent API.
    Gemini,
    /// The mock provider (OpenAI format): at `base_url`, or the built-in one in-process.
    Mock,
}

impl ProviderKind {
    pub const ALL: [Self; 6] = [
        Self::OpenAi,
        Self::OpenAiCompatible,
        Self::Azure,
        Self::Anthropic,
        Self::Gemini,
        Self::Mock,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::OpenAiCompatible => "openai-compatible",
            Self::Azure => "azure",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
            Self::Mock => "mock",
        }
    }

    /// The wire format this kind of provider accepts.
    pub fn format(self) -> Provider {
        match self {
            Self::OpenAi | Self::OpenAiCompatible | Self::Azure | Self::Mock => {
                Provider::OpenAiChat
            }
            Self::Anthropic => Provider::Anthropic,
            Self::Gemini => Provider::Gemini,
        }
    }

    /// Where the provider lives when the config gives no `base_url`.
    fn default_base_url(self) -> Option<&'static str> {
        match self {
            Self::OpenAi => Some("https://api.openai.com/v1"),
            Self::Anthropic => Some("https://api.anthropic.com/v1"),
            Self::Gemini => Some("https://generativelanguage.googleapis.com/v1beta"),
            Self::OpenAiCompatible | Self::Azure | Self::Mock => None,
        }
    }

    fn needs_api_key(self) -> bool {
        matches!(
            self,
            Self::OpenAi | Self::Azure | Self::Anthropic | Self::Gemini
        )
    }
}

#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub name: String,
    pub kind: ProviderKind,
    /// Base URL up to and including the API version segment (`.../v1`), no trailing
    /// slash. `None` only for a mock provider served in-process.
    pub base_url: Option<String>,
    pub api_key: Option<Secret>,
    pub timeouts: Timeouts,
    pub http2_prior_knowledge: bool,
    pub max_response_bytes: usize,
    /// Azure's `api-version` query parameter, or Anthropic's `anthropic-version` header.
    pub api_version: Option<String>,
    /// Extra trusted CA certificates (PEM), for providers behind a private CA.
    pub extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// Extra headers sent on every upstream request (e.g. `OpenAI-Organization`).
    pub headers: Vec<(String, Secret)>,
    /// Attempts in flight at this provider at most; past it the provider counts as busy.
    pub max_in_flight: Option<u64>,
    /// Interval of active health checks (`GET {base_url}/models`), when on.
    pub health_check: Option<Duration>,
    /// Client headers forwarded to this provider (`forward_headers`).
    pub forward_headers: Vec<crate::upstream::forward::Allowed>,
}

/// Deadlines for each phase of an upstream attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    /// Until the first body byte (for streams, the first event): the commit point.
    pub first_byte: Duration,
    /// Longest silence between two body chunks once the response started.
    pub idle: Duration,
    /// Whole attempt, stream included.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            first_byte: Duration::from_secs(60),
            idle: Duration::from_secs(60),
            total: Duration::from_secs(600),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ModelConfig {
    /// Client-visible name; a trailing `*` makes it a prefix pattern (`*` alone matches all).
    pub name: String,
    pub strategy: Strategy,
    pub targets: Vec<TargetConfig>,
    /// Other (exact) model names whose targets follow this one's, in order.
    pub fallbacks: Vec<String>,
    /// The error classes that move on to the fallbacks.
    pub fallback_on: crate::error::ErrorClasses,
    /// `[retry]`, with this model's overrides.
    pub retry: RetryConfig,
    pub hedge: Option<HedgeAfter>,
    pub resume: Option<ResumeConfig>,
}

impl ModelConfig {
    /// A model entry with the default policies.
    pub fn new(name: impl Into<String>, strategy: Strategy, targets: Vec<TargetConfig>) -> Self {
        Self {
            name: name.into(),
            strategy,
            targets,
            fallbacks: Vec::new(),
            fallback_on: crate::error::ErrorClasses::of(&crate::error::ErrorClass::ALL),
            retry: RetryConfig::default(),
            hedge: None,
            resume: None,
        }
    }

    pub fn is_pattern(&self) -> bool {
        is_pattern(&self.name)
    }

    pub fn matches(&self, requested: &str) -> bool {
        match self.name.strip_suffix('*') {
            Some(prefix) => requested.starts_with(prefix),
            None => self.name == requested,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Targets in the order written; later ones are fallbacks.
    Priority,
    /// First target drawn by weight; the rest follow as fallbacks.
    Weighted,
    /// Lowest moving average of time to the first content, unmeasured targets first.
    LeastLatency,
    /// Fewest attempts in flight.
    LeastBusy,
    /// Lowest `price`, targets without one last.
    Cost,
}

impl Strategy {
    pub const ALL: [(&'static str, Self); 5] = [
        ("priority", Self::Priority),
        ("weighted", Self::Weighted),
        ("least-latency", Self::LeastLatency),
        ("least-busy", Self::LeastBusy),
        ("cost", Self::Cost),
    ];
}

#[derive(Debug, Clone)]
pub struct TargetConfig {
    /// Index into `Config::providers`.
    pub provider: usize,
    /// Upstream model name; `None` forwards the name the client asked for.
    pub model: Option<String>,
    pub weight: u32,
    /// Relative price (e.g. USD per million tokens) for the `cost` strategy.
    pub price: Option<f64>,
}

impl Config {
    /// Demo mode: every model goes to the built-in mock provider.
    pub fn demo() -> Self {
        Self {
            server: ServerConfig::default(),
            providers: vec![ProviderConfig {
                name: "mock".to_owned(),
                kind: ProviderKind::Mock,
                base_url: None,
                api_key: None,
                timeouts: Timeouts::default(),
                http2_prior_knowledge: false,
                max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
                api_version: None,
                extra_roots: Vec::new(),
                headers: Vec::new(),
                max_in_flight: None,
                health_check: None,
                forward_headers: Vec::new(),
            }],
            models: DEMO_MODELS
                .iter()
                .chain(std::iter::once(&"*"))
                .map(|name| {
                    ModelConfig::new(
                        *name,
                        Strategy::Priority,
                        vec![TargetConfig {
                            provider: 0,
                            model: None,
                            weight: 1,
                            price: None,
                        }],
                    )
                })
                .collect(),
            store: Some(StoreConfig {
                url: Secret::new(DEMO_STORE.to_owned()),
            }),
            journal: JournalConfig {
                to_store: true,
                ..JournalConfig::default()
            },
            admin: AdminConfig::default(),
            telemetry: TelemetryConfig::default(),
            breaker: BreakerConfig::default(),
            keys: Vec::new(),
            limits: LimitsConfig::default(),
            pricing: std::collections::BTreeMap::new(),
            guard: GuardConfig::default(),
        }
    }
}

/// Demo mode journals here, in the working directory.
pub const DEMO_STORE: &str = "sqlite://sluice.db";

/// Names listed by `/v1/models` in demo mode; any other name also reaches the mock.
const DEMO_MODELS: [&str; 5] = [
    "mock-gpt",
    "gpt-4o",
    "gpt-4o-mini",
    "claude-sonnet-4-5",
    "text-embedding-3-small",
];

/// Largest upstream response body (or stream) accepted by default: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 << 20;

/// Azure OpenAI `api-version` used when the config names none (latest GA at writing).
pub const DEFAULT_AZURE_API_VERSION: &str = "2024-10-21";

/// Whether a model (route) name is a pattern: a prefix ending in `*`, the only place a
/// `*` may stand (checked at load).
pub fn is_pattern(name: &str) -> bool {
    name.ends_with('*')
}
