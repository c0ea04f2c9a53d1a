//! The config file exactly as written: serde types mirroring the TOML, before `${VAR}`
//! expansion and validation. Unknown keys are reported by the loader (via
//! `serde_ignored`), so every unknown key is listed, not just the first.
//!
//! Must never be used past loading: the rest of Sluice sees only the validated `Config`.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize)]
pub struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub providers: BTreeMap<String, RawProvider>,
    #[serde(default)]
    pub models: Vec<RawModel>,
    pub store: Option<super::store::RawStore>,
    pub journal: Option<super::store::RawJournal>,
    pub admin: Option<super::store::RawAdmin>,
    pub telemetry: Option<super::telemetry::RawTelemetry>,
    pub retry: Option<super::resilience::RawRetry>,
    pub breaker: Option<super::resilience::RawBreaker>,
    #[serde(default)]
    pub keys: Vec<super::keys::RawKey>,
    pub limits: Option<super::limits::RawLimits>,
    #[serde(default)]
    pub pricing: BTreeMap<String, super::limits::RawPrice>,
    pub guard: Option<super::guard::RawGuard>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawServer {
    pub listen: Option<String>,
    pub max_body_bytes: Option<u64>,
    pub max_in_flight: Option<u64>,
    pub drain_timeout: Option<String>,
    pub header_timeout: Option<String>,
    pub max_header_bytes: Option<u64>,
    pub worker_threads: Option<u64>,
    pub request_timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RawProvider {
    pub kind: String,
    pub base_url: Option<String>,
    pub api_key: Option<String>,
    /// Total time for one upstream attempt, stream included.
    pub timeout: Option<String>,
    pub connect_timeout: Option<String>,
    pub first_byte_timeout: Option<String>,
    pub idle_timeout: Option<String>,
    pub http2_prior_knowledge: Option<bool>,
    pub max_response_bytes: Option<u64>,
    pub api_version: Option<String>,
    pub ca_file: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub max_in_flight: Option<u64>,
    pub health_check: Option<String>,
    #[serde(default)]
    pub forward_headers: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct RawModel {
    pub name: String,
    pub strategy: Option<String>,
    #[serde(default)]
    pub targets: Vec<RawTarget>,
    #[serde(default)]
    pub fallbacks: Vec<String>,
    pub fallback_on: Option<Vec<String>>,
    pub retry: Option<super::resilience::RawRetry>,
    pub hedge: Option<super::resilience::RawHedge>,
    pub resume: Option<super::resilience::RawResume>,
}

#[derive(Debug, Deserialize)]
pub struct RawTarget {
    pub provider: String,
    pub model: Option<String>,
    pub weight: Option<u32>,
    pub price: Option<f64>,
}
