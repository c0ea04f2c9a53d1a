//! Model routing: the model name a client asked for becomes an ordered plan of targets
//! (provider + upstream model). The first target is chosen by the model's strategy; the
//! others follow as failover candidates.
//!
//! Must never touch the network or mutable state: a plan is a pure function of the
//! config and a random draw.

use crate::config::{ModelConfig, Strategy};
use crate::error::GatewayError;

/// One place a request can go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Index into the runtime's upstreams.
    pub provider: usize,
    /// The model name sent upstream.
    pub model: String,
}

/// Finds the model entry for `requested`: an exact name wins over patterns, and the
/// longest pattern prefix wins among patterns.
pub fn find<'a>(models: &'a [ModelConfig], requested: &str) -> Option<&'a ModelConfig> {
    models
        .iter()
        .find(|m| !m.is_pattern() && m.name == requested)
        .or_else(|| {
            models
                .iter()
                .filter(|m| m.is_pattern() && m.matches(requested))
                .max_by_key(|m| m.name.len())
        })
}

/// The ordered targets for `requested`, and the name of the entry it matched.
pub fn plan<'a>(
    models: &'a [ModelConfig],
    requested: &str,
) -> Result<(&'a str, Vec<Target>), GatewayError> {
    let entry = find(models, requested).ok_or_else(|| GatewayError::ModelNotFound {
        model: requested.to_owned(),
    })?;
    let mut targets: Vec<Target> = entry
        .targets
        .iter()
        .map(|t| Target {
            provider: t.provider,
            model: t.model.clone().unwrap_or_else(|| requested.to_owned()),
        })
        .collect();
    if entry.strategy == Strategy::Weighted && targets.len() > 1 {
        let total: u64 = entry.targets.iter().map(|t| u64::from(t.weight)).sum();
        let mut draw = fastrand::u64(0..total.max(1));
        let first = entry
            .targets
            .iter()
            .position(|t| {
                let w = u64::from(t.weight);
                if draw < w {
                    true
                } else {
                    draw -= w;
                    false
                }
            })
            .unwrap_or(0);
        targets[..=first].rotate_right(1);
    }
    Ok((&entry.name, targets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TargetConfig;

    fn model(name: &str, strategy: Strategy, weights: &[u32]) -> ModelConfig {
        ModelConfig {
            name: name.to_owned(),
            strategy,
            targets: weights
                .iter()
                .enumerate()
                .map(|(i, w)| TargetConfig {
                    provider: i,
                    model: Some(format!("m{i}")),
                    weight: *w,
                })
                .collect(),
        }
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
        let models = [model("a", Strategy::Priority, &[1])];
        assert!(matches!(
            plan(&models, "b"),
            Err(GatewayError::ModelNotFound { .. })
        ));
    }

    #[test]
    fn weighted_draw_follows_weights_and_keeps_all_targets() {
        let models = [model("w", Strategy::Weighted, &[3, 1])];
        let mut first_is_zero = 0;
        for _ in 0..4000 {
            let plan = plan(&models, "w").map(|(_, t)| t).unwrap_or_default();
            assert_eq!(plan.len(), 2);
            if plan[0].provider == 0 {
                first_is_zero += 1;
            }
        }
        // Expect ~3000; a loose band keeps the test deterministic enough.
        assert!((2700..3300).contains(&first_is_zero), "{first_is_zero}");
    }

    #[test]
    fn target_without_model_forwards_requested_name() {
        let mut m = model("*", Strategy::Priority, &[1]);
        m.targets[0].model = None;
        assert_eq!(
            plan(&[m], "x")
                .map(|(_, p)| p[0].model.clone())
                .ok()
                .as_deref(),
            Some("x")
        );
    }
}
