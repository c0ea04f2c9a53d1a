//! Model routing: the model name a client asked for becomes a plan, the ordered
//! targets (provider + upstream model) the attempt loop walks: the model's own targets
//! in its strategy's order (`resilience::strategy`), then each fallback model's.
//!
//! Must never touch the network: a plan is a function of the config, the live health
//! the snapshot resolved, and a random draw.

use crate::config::{
    BreakerConfig, HedgeAfter, ModelConfig, ProviderConfig, ResumeConfig, RetryConfig, Strategy,
};
use crate::error::{ErrorClasses, GatewayError};
use crate::resilience::now_ms;
use crate::resilience::strategy::{self, Candidate};
use crate::state::health::{Health, TargetHealth};
use crate::upstream::Upstream;
use std::sync::Arc;

/// A `[[models]]` entry ready to route: its targets tied to their live health, its
/// fallbacks resolved to indices.
#[derive(Debug)]
pub struct Route {
    pub name: String,
    pub strategy: Strategy,
    pub targets: Vec<RouteTarget>,
    /// Indices into the snapshot's routes, in order.
    pub fallbacks: Vec<usize>,
    pub fallback_on: ErrorClasses,
    pub retry: RetryConfig,
    pub hedge: Option<HedgeAfter>,
    pub resume: Option<ResumeConfig>,
}

#[derive(Debug)]
pub struct RouteTarget {
    /// Index into the snapshot's upstreams.
    pub provider: usize,
    /// Upstream model name; `None` forwards the name the client asked for.
    pub model: Option<String>,
    pub weight: u32,
    pub price: Option<f64>,
    pub health: Arc<TargetHealth>,
}

/// One place a request can go.
#[derive(Debug, Clone)]
pub struct Target {
    /// Index into the snapshot's upstreams.
    pub provider: usize,
    /// The model name sent upstream.
    pub model: String,
    pub health: Arc<TargetHealth>,
    /// From a fallback model, not the requested one's own targets.
    pub fallback: bool,
}

/// The ordered targets for one request, and the route it matched.
#[derive(Debug)]
pub struct Plan<'a> {
    pub route: &'a Route,
    pub targets: Vec<Target>,
}

impl Plan<'_> {
    /// The most bytes one answer may come in: the largest response a target accepts,
    /// once per leg a broken stream may be resumed with.
    pub fn most_answer_bytes(&self, upstreams: &[Arc<Upstream>]) -> u64 {
        let largest = self
            .targets
            .iter()
            .filter_map(|t| upstreams.get(t.provider))
            .map(|u| u.max_response_bytes as u64)
            .max()
            .unwrap_or(0);
        let legs = 1 + self.route.resume.as_ref().map_or(0, |r| u64::from(r.hops));
        largest.saturating_mul(legs)
    }
}

/// What `find` needs of a model entry.
pub trait Entry {
    fn name(&self) -> &str;

    fn is_pattern(&self) -> bool {
        crate::config::is_pattern(self.name())
    }

    fn matches(&self, requested: &str) -> bool {
        match self.name().strip_suffix('*') {
            Some(prefix) => requested.starts_with(prefix),
            None => self.name() == requested,
        }
    }
}

impl Entry for ModelConfig {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Entry for Route {
    fn name(&self) -> &str {
        &self.name
    }
}

/// Finds the model entry for `requested`: an exact name wins over patterns, and the
/// longest pattern prefix wins among patterns.
pub fn find<'a, E: Entry>(entries: &'a [E], requested: &str) -> Option<&'a E> {
    entries
        .iter()
        .find(|m| !m.is_pattern() && m.name() == requested)
        .or_else(|| {
            entries
                .iter()
                .filter(|m| m.is_pattern() && m.matches(requested))
                .max_by_key(|m| m.name().len())
        })
}

/// The routes of a config, each target tied to its health in `health` (kept across
/// reloads by provider and model name).
pub fn build(models: &[ModelConfig], providers: &[ProviderConfig], health: &Health) -> Vec<Route> {
    models
        .iter()
        .map(|m| Route {
            name: m.name.clone(),
            strategy: m.strategy,
            targets: m
                .targets
                .iter()
                .map(|t| {
                    let provider = providers.get(t.provider).map_or("", |p| p.name.as_str());
                    // A target forwarding the requested name keeps one health for
                    // its route: a pattern's models share it.
                    let model = t.model.as_deref().unwrap_or(&m.name);
                    RouteTarget {
                        provider: t.provider,
                        model: t.model.clone(),
                        weight: t.weight,
                        price: t.price,
                        health: health.of_target(provider, model),
                    }
                })
                .collect(),
            fallbacks: m
                .fallbacks
                .iter()
                .filter_map(|f| models.iter().position(|o| o.name == *f))
                .collect(),
            fallback_on: m.fallback_on,
            retry: m.retry.clone(),
            hedge: m.hedge,
            resume: m.resume.clone(),
        })
        .collect()
}

/// The plan for `requested`.
pub fn plan<'a>(
    routes: &'a [Route],
    upstreams: &[Arc<Upstream>],
    breaker: &BreakerConfig,
    requested: &str,
) -> Result<Plan<'a>, GatewayError> {
    let route = find(routes, requested).ok_or_else(|| GatewayError::ModelNotFound {
        model: requested.to_owned(),
    })?;
    let now = now_ms();
    let mut targets = ordered(route, requested, upstreams, breaker, now, false);
    for fallback in route.fallbacks.iter().filter_map(|&i| routes.get(i)) {
        targets.extend(ordered(
            fallback,
            &fallback.name,
            upstreams,
            breaker,
            now,
            true,
        ));
    }
    Ok(Plan { route, targets })
}

fn ordered(
    route: &Route,
    requested: &str,
    upstreams: &[Arc<Upstream>],
    breaker: &BreakerConfig,
    now: u64,
    fallback: bool,
) -> Vec<Target> {
    let target = |t: &RouteTarget| Target {
        provider: t.provider,
        model: t.model.clone().unwrap_or_else(|| requested.to_owned()),
        health: Arc::clone(&t.health),
        fallback,
    };
    // One target has one order: skip the strategy's bookkeeping (most routes).
    if let [only] = route.targets.as_slice() {
        return vec![target(only)];
    }
    let candidates: Vec<Candidate> = route
        .targets
        .iter()
        .map(|t| Candidate {
            weight: t.weight,
            price: t.price,
            latency: t.health.latency.average(),
            in_flight: t.health.in_flight(),
            available: t.health.breaker.is_available(breaker, now)
                && !t.health.quota.is_exhausted(now)
                && upstreams
                    .get(t.provider)
                    .is_some_and(|u| !u.is_busy() && !u.is_down()),
        })
        .collect();
    strategy::order(route.strategy, &candidates)
        .into_iter()
        .map(|i| target(&route.targets[i]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TargetConfig;

    fn model(name: &str, strategy: Strategy, weights: &[u32]) -> ModelConfig {
        ModelConfig::new(
            name,
            strategy,
            weights
                .iter()
                .enumerate()
                .map(|(i, w)| TargetConfig {
                    provider: i,
                    model: Some(format!("m{i}")),
                    weight: *w,
                    price: None,
                })
                .collect(),
        )
    }

    #[test]
    fn exact_name_beats_patterns_and_longest_pattern_wins() {
        let models = [
            model("*", Strategy::Priority, &[1]),
            model("gpt-*", Strategy::Priority, &[1]),
            model("gpt-4o", Strategy::Priority, &[1]),
        ];
        assert_eq!(
            find(&models, "gpt-4o").map(|m| m.name.as_str()),
            Some("gpt-4o")
        );
        assert_eq!(
            find(&models, "gpt-5").map(|m| m.name.as_str()),
            Some("gpt-*")
        );
        assert_eq!(find(&models, "claude").map(|m| m.name.as_str()), Some("*"));
    }

    #[test]
    fn unknown_model_is_model_not_found() {
        let routes = build(
            &[model("a", Strategy::Priority, &[1])],
            &[],
            &Health::default(),
        );
        assert!(matches!(
            plan(&routes, &[], &BreakerConfig::default(), "b"),
            Err(GatewayError::ModelNotFound { .. })
        ));
    }

    #[test]
    fn fallback_targets_follow_the_own_ones_and_forward_their_own_name() {
        let mut primary = model("primary", Strategy::Priority, &[1, 1]);
        primary.fallbacks = vec!["backup".to_owned()];
        let mut backup = model("backup", Strategy::Priority, &[1]);
        backup.targets[0].model = None;
        let routes = build(&[primary, backup], &[], &Health::default());
        let Ok(plan) = plan(&routes, &[], &BreakerConfig::default(), "primary") else {
            panic!("plan");
        };
        let names: Vec<(&str, bool)> = plan
            .targets
            .iter()
            .map(|t| (t.model.as_str(), t.fallback))
            .collect();
        // No upstreams are given here, so every target counts as unavailable and the
        // order is the configured one.
        assert_eq!(names, [("m0", false), ("m1", false), ("backup", true)]);
    }
}
