//! Start-up for the memory limiter: what each budget already spent in its current
//! period is read back from the journal, so a restart does not hand a spent budget back.
//! (With Redis the counters outlive the process and need no seed.)
//!
//! Must never fail start-up: a store that cannot answer is logged, and budgets start
//! from zero.

use super::{Limiter, Scope, budget_key, period};
use crate::auth::KeyRing;
use crate::config::{Config, Limits};
use crate::store::Store;
use crate::store::spend::SpendFilter;

pub async fn budgets(limiter: &Limiter, store: &Store, config: &Config, ring: &KeyRing) {
    let now = super::wall_ms();
    let mut scopes: Vec<(Scope, String, SpendFilter, Limits)> = Vec::new();
    let stored = ring.all();
    let keys = config
        .keys
        .iter()
        .map(crate::auth::Principal::from_config)
        .chain(stored.iter().map(|p| (**p).clone()));
    for p in keys {
        if p.limits.budget_usd.is_some() {
            let filter = SpendFilter {
                key: Some(p.name.clone()),
                ..SpendFilter::default()
            };
            scopes.push((Scope::Key, p.id.clone(), filter, p.limits));
        }
    }
    for (team, limits) in &config.limits.teams {
        if limits.budget_usd.is_some() {
            let filter = SpendFilter {
                team: Some(team.clone()),
                ..SpendFilter::default()
            };
            scopes.push((Scope::Team, team.clone(), filter, *limits));
        }
    }
    for (model, limits) in &config.limits.models {
        if limits.budget_usd.is_none() {
            continue;
        }
        // The journal holds the name each client asked for; a pattern route's budget
        // would need every name it matched, which it does not keep.
        if crate::config::is_pattern(model) {
            tracing::warn!(model = %model, "limits: a pattern route's budget is not seeded from the journal; it starts from zero");
            continue;
        }
        let filter = SpendFilter {
            model: Some(model.clone()),
            ..SpendFilter::default()
        };
        scopes.push((Scope::Model, model.clone(), filter, *limits));
    }
    if config.limits.global.budget_usd.is_some() {
        scopes.push((
            Scope::Global,
            "all".to_owned(),
            SpendFilter::default(),
            config.limits.global,
        ));
    }
    for (scope, counter, mut filter, limits) in scopes {
        let since = period::start(limits.budget_period, now);
        filter.since_ms = Some(i64::try_from(since).unwrap_or(i64::MAX));
        match store.spend(&filter).await {
            Ok(spend) => {
                let micros = (spend.cost_usd * 1e6).round() as i64;
                if micros > 0 {
                    let (key, ends) = budget_key(scope, &counter, limits.budget_period, now);
                    limiter.local().seed_spend(&key, micros, ends);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "limits: cannot read past spend from the journal; budgets start from zero");
                return;
            }
        }
    }
}
