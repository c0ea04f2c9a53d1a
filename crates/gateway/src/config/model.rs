//! One `[[models]]` entry validated: name, strategy, targets (resolved to provider
//! indices), fallbacks and the per-model resilience tables.
//!
//! Must never accept a fallback that names no exact model or the model itself.

use super::ctx::Ctx;
use super::raw::RawModel;
use super::{ModelConfig, RetryConfig, Strategy, TargetConfig};

/// A fallback names another exact model entry, not itself, not twice.
pub(super) fn check_fallbacks(cx: &mut Ctx<'_>, models: &[ModelConfig]) {
    for (i, m) in models.iter().enumerate() {
        for (j, name) in m.fallbacks.iter().enumerate() {
            let path = format!("models[{i}].fallbacks[{j}]");
            if *name == m.name {
                cx.problem(path, "a model cannot fall back to itself");
            } else if !models.iter().any(|o| !o.is_pattern() && o.name == *name) {
                cx.problem(
                    path,
                    format!(
                        "no [[models]] entry named {name:?} (fallbacks name exact model names)"
                    ),
                );
            } else if m.fallbacks[..j].contains(name) {
                cx.problem(path, format!("{name:?} is listed twice"));
            }
        }
    }
}

pub(super) fn model(
    cx: &mut Ctx<'_>,
    path: &str,
    raw: &RawModel,
    providers: &[&String],
    retry: &RetryConfig,
) -> ModelConfig {
    if raw.name.is_empty() || raw.name[..raw.name.len().saturating_sub(1)].contains('*') {
        cx.problem(
            format!("{path}.name"),
            "must be non-empty; `*` is allowed only at the end",
        );
    }
    let strategy = match raw.strategy.as_deref() {
        None => Strategy::Priority,
        Some(name) => Strategy::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
            .unwrap_or_else(|| {
                let known: Vec<&str> = Strategy::ALL.iter().map(|(n, _)| *n).collect();
                cx.problem(
                    format!("{path}.strategy"),
                    format!("unknown strategy {name:?} (one of {})", known.join(", ")),
                );
                Strategy::Priority
            }),
    };
    if raw.targets.is_empty() {
        cx.problem(format!("{path}.targets"), "at least one target is required");
    }
    let targets = raw
        .targets
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let tp = format!("{path}.targets[{i}]");
            let Some(provider) = providers.iter().position(|p| **p == t.provider) else {
                cx.problem(
                    format!("{tp}.provider"),
                    format!("no provider named {:?} in [providers]", t.provider),
                );
                return None;
            };
            if t.weight == Some(0) {
                cx.problem(format!("{tp}.weight"), "must be at least 1");
            }
            if t.price.is_some_and(|p| !(p.is_finite() && p >= 0.0)) {
                cx.problem(format!("{tp}.price"), "must be a number of at least 0");
            }
            Some(TargetConfig {
                provider,
                model: t
                    .model
                    .as_ref()
                    .and_then(|m| cx.string(&format!("{tp}.model"), m)),
                weight: t.weight.unwrap_or(1).max(1),
                price: t.price.filter(|p| p.is_finite() && *p >= 0.0),
            })
        })
        .collect();
    if strategy == Strategy::Cost && raw.targets.iter().all(|t| t.price.is_none()) {
        cx.problem(
            format!("{path}.strategy"),
            "\"cost\" needs a `price` on the targets",
        );
    }
    let mut entry = ModelConfig::new(raw.name.clone(), strategy, targets);
    entry.fallbacks.clone_from(&raw.fallbacks);
    if let Some(names) = &raw.fallback_on {
        entry.fallback_on = super::resilience::classes(cx, &format!("{path}.fallback_on"), names);
    }
    entry.retry = super::resilience::retry(cx, &format!("{path}.retry"), raw.retry.as_ref(), retry);
    entry.hedge = super::resilience::hedge(cx, &format!("{path}.hedge"), raw.hedge.as_ref());
    entry.resume = super::resilience::resume(cx, &format!("{path}.resume"), raw.resume.as_ref());
    entry
}
