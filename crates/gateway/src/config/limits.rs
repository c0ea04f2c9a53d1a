//! The `[limits]` and `[pricing]` sections, and the limits a `[[keys]]` entry carries:
//! what each key, team and model may spend, where the counters live, and what tokens
//! cost. Validated with the rest of the config, every problem at its key path.

use super::Secret;
use super::ctx::Ctx;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Default, Deserialize, Clone)]
pub struct RawLimit {
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    pub max_concurrent: Option<u64>,
    pub budget_usd: Option<f64>,
    pub budget_period: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawLimits {
    pub backend: Option<String>,
    pub redis_url: Option<String>,
    pub on_backend_error: Option<String>,
    pub redis_timeout: Option<String>,
    pub default_max_tokens: Option<u64>,
    pub lease_ttl: Option<String>,
    pub keys_refresh: Option<String>,
    pub global: Option<RawLimit>,
    #[serde(default)]
    pub teams: BTreeMap<String, RawLimit>,
    #[serde(default)]
    pub models: BTreeMap<String, RawLimit>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawPrice {
    pub input: f64,
    pub output: f64,
    pub cached_input: Option<f64>,
}

/// How long a budget counts before it starts again at zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Daily,
    #[default]
    Monthly,
    Total,
}

impl Period {
    pub const ALL: [(&'static str, Self); 3] = [
        ("daily", Self::Daily),
        ("monthly", Self::Monthly),
        ("total", Self::Total),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Monthly => "monthly",
            Self::Total => "total",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
    }

    /// The longest a period runs (a calendar day or month in UTC; total: forever).
    pub fn longest(self) -> Duration {
        match self {
            Self::Daily => Duration::from_secs(86_400),
            Self::Monthly => Duration::from_secs(31 * 86_400),
            Self::Total => Duration::MAX,
        }
    }
}

/// The limits of one scope (a key, a team, a model, everything); `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd: Option<f64>,
    #[serde(default)]
    pub budget_period: Period,
}

impl Limits {
    pub fn is_empty(&self) -> bool {
        self.rpm.is_none()
            && self.tpm.is_none()
            && self.max_concurrent.is_none()
            && self.budget_usd.is_none()
    }

    /// Whether a request under these limits needs its tokens or cost estimated.
    pub fn counts_tokens(&self) -> bool {
        self.tpm.is_some() || self.budget_usd.is_some()
    }

    /// Problems with the values themselves (zero limits, negative budgets), as messages
    /// relative to `path`; used by the config and by the admin API alike.
    pub fn problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        for (name, value) in [
            ("rpm", self.rpm),
            ("tpm", self.tpm),
            ("max_concurrent", self.max_concurrent),
        ] {
            if value == Some(0) {
                out.push((
                    name,
                    "must be a positive integer (leave it out for no limit)",
                ));
            }
        }
        if self.budget_usd.is_some_and(|b| !b.is_finite() || b < 0.0) {
            out.push(("budget_usd", "must be a non-negative number of US dollars"));
        }
        out
    }
}

/// Where the limit counters live.
#[derive(Debug, Clone)]
pub enum Backend {
    /// In this process: exact for one replica.
    Memory,
    /// In Redis, shared by every replica: one atomic script per check.
    Redis { url: Secret },
}

/// What a Redis backend does while Redis cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnBackendError {
    /// Go on with this replica's own counters (each replica enforces the limits alone).
    Local,
    /// Refuse with 503 until Redis answers again.
    Deny,
}

/// `[limits]`.
#[derive(Debug, Clone)]
pub struct LimitsConfig {
    pub backend: Backend,
    pub on_backend_error: OnBackendError,
    /// The longest a check waits on Redis before the backend counts as down.
    pub redis_timeout: Duration,
    /// Output tokens reserved for a request that names no `max_tokens`.
    pub default_max_tokens: u64,
    /// A concurrency slot held longer than this (a replica died holding it) is freed.
    pub lease_ttl: Duration,
    /// How often keys created, changed or revoked in the store are picked up.
    pub keys_refresh: Duration,
    pub global: Limits,
    pub teams: BTreeMap<String, Limits>,
    /// Per requested model name.
    pub models: BTreeMap<String, Limits>,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            backend: Backend::Memory,
            on_backend_error: OnBackendError::Local,
            redis_timeout: Duration::from_millis(250),
            default_max_tokens: 4096,
            lease_ttl: Duration::from_secs(15 * 60),
            keys_refresh: Duration::from_secs(1),
            global: Limits::default(),
            teams: BTreeMap::new(),
            models: BTreeMap::new(),
        }
    }
}

/// A model's price in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// Cached input tokens; the input price when the provider has no discount.
    pub cached_input: f64,
}

/// One key's, team's or model's limits, every problem at `path`.
pub(super) fn limit(cx: &mut Ctx<'_>, path: &str, raw: &RawLimit) -> Limits {
    let budget_period = match raw.budget_period.as_deref() {
        None => Period::default(),
        Some(name) => Period::parse(name).unwrap_or_else(|| {
            cx.problem(
                format!("{path}.budget_period"),
                format!("unknown period {name:?} (one of daily, monthly, total)"),
            );
            Period::default()
        }),
    };
    let limits = Limits {
        rpm: raw.rpm,
        tpm: raw.tpm,
        max_concurrent: raw.max_concurrent,
        budget_usd: raw.budget_usd,
        budget_period,
    };
    for (field, message) in limits.problems() {
        cx.problem(format!("{path}.{field}"), message);
    }
    limits
}

pub fn limits(cx: &mut Ctx<'_>, raw: Option<&RawLimits>) -> LimitsConfig {
    let defaults = LimitsConfig::default();
    let Some(raw) = raw else { return defaults };
    let backend = match raw.backend.as_deref() {
        None | Some("memory") => Backend::Memory,
        Some("redis") => {
            let url = raw
                .redis_url
                .as_ref()
                .and_then(|u| cx.string("limits.redis_url", u))
                .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                cx.problem("limits.redis_url", "must start with redis:// or rediss://");
            }
            Backend::Redis {
                url: Secret::new(url),
            }
        }
        Some(other) => {
            cx.problem(
                "limits.backend",
                format!("unknown backend {other:?} (memory or redis)"),
            );
            Backend::Memory
        }
    };
    let on_backend_error = match raw.on_backend_error.as_deref() {
        None | Some("local") => OnBackendError::Local,
        Some("deny") => OnBackendError::Deny,
        Some(other) => {
            cx.problem(
                "limits.on_backend_error",
                format!("unknown policy {other:?} (local or deny)"),
            );
            OnBackendError::Local
        }
    };
    let global = raw
        .global
        .as_ref()
        .map(|g| limit(cx, "limits.global", g))
        .unwrap_or_default();
    let teams = raw
        .teams
        .iter()
        .map(|(name, l)| (name.clone(), limit(cx, &format!("limits.teams.{name}"), l)))
        .collect();
    let models = raw
        .models
        .iter()
        .map(|(name, l)| (name.clone(), limit(cx, &format!("limits.models.{name}"), l)))
        .collect();
    LimitsConfig {
        backend,
        on_backend_error,
        redis_timeout: cx.duration(
            "limits.redis_timeout",
            raw.redis_timeout.as_ref(),
            defaults.redis_timeout,
        ),
        default_max_tokens: cx.positive(
            "limits.default_max_tokens",
            raw.default_max_tokens,
            defaults.default_max_tokens as usize,
        ) as u64,
        lease_ttl: cx.duration(
            "limits.lease_ttl",
            raw.lease_ttl.as_ref(),
            defaults.lease_ttl,
        ),
        keys_refresh: cx.duration(
            "limits.keys_refresh",
            raw.keys_refresh.as_ref(),
            defaults.keys_refresh,
        ),
        global,
        teams,
        models,
    }
}

pub fn pricing(cx: &mut Ctx<'_>, raw: &BTreeMap<String, RawPrice>) -> BTreeMap<String, Price> {
    raw.iter()
        .map(|(model, p)| {
            let valid = |v: f64| v.is_finite() && v >= 0.0;
            if !valid(p.input) || !valid(p.output) || p.cached_input.is_some_and(|c| !valid(c)) {
                cx.problem(
                    format!("pricing.{model}"),
                    "prices are non-negative US dollars per million tokens",
                );
            }
            let price = Price {
                input: p.input,
                output: p.output,
                cached_input: p.cached_input.unwrap_or(p.input),
            };
            (model.clone(), price)
        })
        .collect()
}

/// A budget on the memory backend is seeded at start-up from the journal's spend in its
/// period; a retention shorter than the period prunes that spend first, and a restart
/// would hand it back. So the journal must keep at least one whole period of each
/// seeded budget (keys, teams, models named exactly, global) in the config: a day for daily, 31 days for
/// monthly, everything for total. Redis keeps its counters and needs no seed. Keys
/// made in the store are not known at load: `docs/config.md` says to keep their periods.
pub fn check_budget_retention(
    cx: &mut Ctx<'_>,
    limits: &LimitsConfig,
    keys: &[super::KeyConfig],
    retention: Option<Duration>,
) {
    let Some(retention) = retention else {
        return;
    };
    if !matches!(limits.backend, Backend::Memory) {
        return;
    }
    let budgets = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (format!("keys[{i}] ({:?})", k.name), k.limits))
        .chain(
            limits
                .teams
                .iter()
                .map(|(team, l)| (format!("limits.teams.{team}"), *l)),
        )
        .chain(
            limits
                .models
                .iter()
                .filter(|(model, _)| !super::is_pattern(model))
                .map(|(model, l)| (format!("limits.models.{model}"), *l)),
        )
        .chain(std::iter::once(("limits.global".to_owned(), limits.global)));
    for (whose, l) in budgets {
        if l.budget_usd.is_none() || retention >= l.budget_period.longest() {
            continue;
        }
        cx.problem(
            "journal.retention".to_owned(),
            format!(
                "shorter than the {} budget of {whose}: its spend would be pruned before the period ends and a restart would hand it back (keep {}, or use the Redis backend)",
                l.budget_period.as_str(),
                match l.budget_period {
                    Period::Total => "every entry: no retention".to_owned(),
                    period => format!("at least {} days", period.longest().as_secs() / 86_400),
                }
            ),
        );
    }
}
