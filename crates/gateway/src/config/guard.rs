//! The `[guard]` section: what is scanned in prompts (`input`) and answers (`output`),
//! what each finding gets (redact, mask, block, log: by category, detector or rule, per
//! direction), operators' rules, stricter policies for some keys or teams, the stream
//! holdback's bounds, and the optional external classifier (`[guard.hook]`).
//!
//! Every detector is compiled here, at load time, so a bad rule is a config problem at
//! its key path and the request path only uses what was built.
//!
//! Must never print a hook's API key (a `Secret`), nor accept a rule past its bounds.

use super::ctx::Ctx;
use super::guard_hook::{HookConfig, RawHook, hook};
use super::guard_policy::{Names, compile, rules_of};
use serde::Deserialize;
use sluice_guard::{Holdback, Policy};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Default, Deserialize, Clone)]
pub struct RawDirections {
    pub input: Option<Vec<String>>,
    pub output: Option<Vec<String>>,
    pub action: Option<String>,
    #[serde(default)]
    pub actions: BTreeMap<String, String>,
    #[serde(default)]
    pub input_actions: BTreeMap<String, String>,
    #[serde(default)]
    pub output_actions: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawGuard {
    #[serde(flatten)]
    pub directions: RawDirections,
    pub holdback_bytes: Option<u64>,
    pub holdback_time: Option<String>,
    #[serde(default)]
    pub rules: Vec<RawRule>,
    #[serde(default)]
    pub policies: BTreeMap<String, RawPolicy>,
    pub hook: Option<RawHook>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawRule {
    pub name: String,
    pub words: Option<Vec<String>>,
    pub regex: Option<String>,
    pub case_insensitive: Option<bool>,
    pub whole_words: Option<bool>,
    pub action: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawPolicy {
    #[serde(default)]
    pub keys: Vec<String>,
    #[serde(default)]
    pub teams: Vec<String>,
    #[serde(flatten)]
    pub directions: RawDirections,
    pub hook: Option<bool>,
}

/// `[guard]`, validated and compiled.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    /// What applies to a request no policy claims.
    pub default: Arc<GuardPolicy>,
    /// `[guard.policies.NAME]`, with the keys and teams each applies to.
    pub policies: Vec<Arc<GuardPolicy>>,
    pub holdback: Holdback,
    /// Longest a piece of an answer may be held back before it goes on regardless.
    pub holdback_time: Duration,
    pub hook: Option<Arc<HookConfig>>,
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            default: Arc::default(),
            policies: Vec::new(),
            holdback: Holdback::default(),
            holdback_time: DEFAULT_HOLDBACK_TIME,
            hook: None,
        }
    }
}

impl GuardConfig {
    /// Whether any policy scans anything or calls the hook.
    pub fn is_on(&self) -> bool {
        std::iter::once(&self.default)
            .chain(&self.policies)
            .any(|p| p.input.is_some() || p.output.is_some() || p.hook)
    }

    /// The policy for a request: its key's, else its team's, else the default.
    pub fn policy_for(&self, key: Option<&str>, team: Option<&str>) -> &Arc<GuardPolicy> {
        let by_key = key.and_then(|k| self.policies.iter().find(|p| p.keys.iter().any(|x| x == k)));
        let by_team = || {
            team.and_then(|t| {
                self.policies
                    .iter()
                    .find(|p| p.teams.iter().any(|x| x == t))
            })
        };
        by_key.or_else(by_team).unwrap_or(&self.default)
    }
}

/// One policy: each direction's compiled scanner and actions (`None`: not scanned).
#[derive(Debug, Default)]
pub struct GuardPolicy {
    pub name: String,
    pub input: Option<Arc<Policy>>,
    pub output: Option<Arc<Policy>>,
    /// Whether the hook runs for requests under this policy.
    pub hook: bool,
    pub keys: Vec<String>,
    pub teams: Vec<String>,
}

const DEFAULT_HOLDBACK_TIME: Duration = Duration::from_secs(1);
const MAX_HOLDBACK_BYTES: u64 = 1 << 20;

pub fn guard(cx: &mut Ctx<'_>, raw: Option<&RawGuard>) -> GuardConfig {
    let Some(raw) = raw else {
        return GuardConfig::default();
    };
    let rules = rules_of(cx, &raw.rules);
    let hook = raw.hook.as_ref().and_then(|h| hook(cx, h));
    let names = Names::new(&rules);
    let default = compile(
        cx,
        "guard",
        "default",
        &raw.directions,
        &names,
        hook.is_some(),
    );
    let mut policies: Vec<Arc<GuardPolicy>> = Vec::new();
    for (name, p) in &raw.policies {
        let path = format!("guard.policies.{name}");
        // A policy is written whole: what it leaves out is not scanned, so what a
        // team gets never depends on edits to the top level.
        let mut policy = compile(
            cx,
            &path,
            name,
            &p.directions,
            &names,
            hook.is_some() && p.hook.unwrap_or(true),
        );
        if p.hook == Some(true) && hook.is_none() {
            cx.problem(format!("{path}.hook"), "there is no [guard.hook] to call");
        }
        for (field, list) in [("keys", &p.keys), ("teams", &p.teams)] {
            for who in list {
                let claimed = policies.iter().any(|q| {
                    let theirs = if field == "keys" { &q.keys } else { &q.teams };
                    theirs.contains(who)
                });
                if claimed {
                    cx.problem(
                        format!("{path}.{field}"),
                        format!("`{who}` is already under another policy"),
                    );
                }
            }
        }
        if p.keys.is_empty() && p.teams.is_empty() {
            cx.problem(
                &path,
                "names no keys and no teams: it would apply to nobody",
            );
        }
        policy.keys.clone_from(&p.keys);
        policy.teams.clone_from(&p.teams);
        policies.push(Arc::new(policy));
    }
    let holdback_bytes = match raw.holdback_bytes {
        None => Holdback::default().max_bytes,
        Some(n) if (64..=MAX_HOLDBACK_BYTES).contains(&n) => usize::try_from(n).unwrap_or(8192),
        Some(_) => {
            cx.problem(
                "guard.holdback_bytes",
                format!("must be between 64 and {MAX_HOLDBACK_BYTES}"),
            );
            Holdback::default().max_bytes
        }
    };
    GuardConfig {
        default: Arc::new(default),
        policies,
        holdback: Holdback {
            max_bytes: holdback_bytes,
        },
        holdback_time: cx.duration(
            "guard.holdback_time",
            raw.holdback_time.as_ref(),
            DEFAULT_HOLDBACK_TIME,
        ),
        hook: hook.map(Arc::new),
    }
}
