//! The immutable state a config becomes: provider clients, the model table and server
//! limits. Built whole before it serves; never mutated afterwards (a config change
//! builds a new one and swaps it in `Gateway`).
//!
//! Must never hold counters or anything a reload must keep: that is `Shared`'s.

use super::Shared;
use crate::config::{AdminConfig, BreakerConfig, Config, ModelConfig, ServerConfig};
use crate::routing::{self, Route};
use crate::upstream::{self, Upstream};
use std::sync::Arc;

pub struct Snapshot {
    pub server: ServerConfig,
    /// One per configured provider, in config order (targets index into it).
    pub upstreams: Vec<Arc<Upstream>>,
    pub models: Vec<ModelConfig>,
    /// The models ready to route, each target tied to its live health.
    pub routes: Vec<Route>,
    pub breaker: BreakerConfig,
    pub admin: AdminConfig,
    /// The journal keeps request and response bodies.
    pub journal_bodies: bool,
    /// Some provider forwards client headers (`forward_headers`), so a request keeps
    /// its headers for the attempts.
    pub forwards_client_headers: bool,
    /// The `[[keys]]` of this config, by the hash of their secret.
    pub keys: crate::auth::ring::Keys,
    pub limits: crate::config::LimitsConfig,
    /// `[pricing]` overrides of the shipped price table.
    pub pricing: std::collections::BTreeMap<String, crate::config::Price>,
    /// The guard's compiled policies and hook client.
    pub guard: crate::guard::Guard,
}

impl Snapshot {
    /// Builds clients for every provider, each tied to its health in `shared`; `mock`
    /// providers with no URL go to the in-process mock. A provider of `previous` (the
    /// snapshot a reload replaces) keeps its connection pool where its client settings
    /// are unchanged.
    pub fn build(
        config: &Config,
        shared: &Shared,
        previous: Option<&Snapshot>,
    ) -> Result<Self, BuildError> {
        let mock_url = shared.mock_url();
        let upstreams = config
            .providers
            .iter()
            .map(|p| {
                let before = previous
                    .and_then(|s| s.upstreams.iter().find(|u| u.name == p.name))
                    .map(Arc::as_ref);
                Upstream::build(p, mock_url.as_deref(), shared.health.of(&p.name), before)
                    .map(Arc::new)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            server: config.server.clone(),
            upstreams,
            models: config.models.clone(),
            routes: routing::build(&config.models, &config.providers, &shared.health),
            breaker: config.breaker,
            admin: config.admin.clone(),
            journal_bodies: config.journal.bodies && config.journal.is_on(),
            forwards_client_headers: config
                .providers
                .iter()
                .any(|p| !p.forward_headers.is_empty()),
            keys: crate::auth::ring::config_keys(&config.keys),
            limits: config.limits.clone(),
            pricing: config.pricing.clone(),
            guard: crate::guard::Guard::new(&config.guard),
        })
    }
}

/// One routable target as the operator sees it: its provider, model and live health.
pub struct TargetView<'a> {
    pub upstream: &'a Upstream,
    /// The upstream model, or the route's name when the target forwards the
    /// requested name.
    pub model: &'a str,
    pub health: &'a Arc<crate::state::health::TargetHealth>,
}

impl Snapshot {
    /// Every distinct target of every route (a provider and model used by several
    /// routes share one health, listed once).
    pub fn targets(&self) -> Vec<TargetView<'_>> {
        let mut seen: Vec<TargetView<'_>> = Vec::new();
        for route in &self.routes {
            for t in &route.targets {
                let Some(upstream) = self.upstreams.get(t.provider) else {
                    continue;
                };
                if seen.iter().any(|v| Arc::ptr_eq(v.health, &t.health)) {
                    continue;
                }
                seen.push(TargetView {
                    upstream,
                    model: t.model.as_deref().unwrap_or(&route.name),
                    health: &t.health,
                });
            }
        }
        seen
    }
}

/// Why a config could not become a snapshot or its shared state.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Provider(#[from] upstream::BuildError),
    #[error("cannot start the built-in mock provider: {0}")]
    Mock(std::io::Error),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("journal spool: {0}")]
    Spool(std::io::Error),
    #[error("journal: {0}")]
    JournalSink(std::io::Error),
    #[error(transparent)]
    Limits(#[from] crate::limits::counters::BackendError),
}
