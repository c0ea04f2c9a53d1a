//! The `[[keys]]` section: virtual keys written in the config, each with its secret,
//! team, allowed models, expiry, metadata and limits (`limits.rs` reads those). Validated
//! with the rest of the config, every problem at its key path.
//!
//! Must never print a key's secret: it is a `Secret` from here on.

use super::Secret;
use super::ctx::Ctx;
use super::limits::{Limits, RawLimit, limit};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize)]
pub struct RawKey {
    pub name: String,
    pub key: String,
    pub team: Option<String>,
    pub models: Option<Vec<String>>,
    pub expires: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, toml::Value>,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    pub max_concurrent: Option<u64>,
    pub budget_usd: Option<f64>,
    pub budget_period: Option<String>,
}

/// A `[[keys]]` entry.
#[derive(Debug, Clone)]
pub struct KeyConfig {
    pub name: String,
    pub secret: Secret,
    pub team: Option<String>,
    /// Globs of the model names this key may use; empty allows every model.
    pub models: Vec<String>,
    /// Milliseconds since the Unix epoch after which the key is refused.
    pub expires_at_ms: Option<i64>,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub limits: Limits,
}

pub fn keys(cx: &mut Ctx<'_>, raw: &[RawKey]) -> Vec<KeyConfig> {
    let mut out: Vec<KeyConfig> = Vec::with_capacity(raw.len());
    for (i, k) in raw.iter().enumerate() {
        let path = format!("keys[{i}]");
        if k.name.trim().is_empty() {
            cx.problem(format!("{path}.name"), "must not be empty");
        } else if out.iter().any(|seen| seen.name == k.name) {
            cx.problem(
                format!("{path}.name"),
                format!("duplicate key name {:?}", k.name),
            );
        }
        let secret = cx
            .string(&format!("{path}.key"), &k.key)
            .unwrap_or_default();
        if secret.len() < 16 {
            cx.problem(
                format!("{path}.key"),
                "must be at least 16 characters (a long random string)",
            );
        } else if out.iter().any(|seen| seen.secret.expose() == secret) {
            cx.problem(format!("{path}.key"), "the same key is given twice");
        }
        let expires_at_ms = k.expires.as_ref().and_then(|text| {
            let text = cx.string(&format!("{path}.expires"), text)?;
            let at = crate::limits::period::rfc3339_ms(&text);
            if at.is_none() {
                cx.problem(
                    format!("{path}.expires"),
                    format!("invalid time {text:?} (want RFC 3339, e.g. \"2027-01-31T00:00:00Z\")"),
                );
            }
            at
        });
        let models = k.models.clone().unwrap_or_default();
        for (j, glob) in models.iter().enumerate() {
            if glob.is_empty() {
                cx.problem(format!("{path}.models[{j}]"), "must not be empty");
            }
        }
        let metadata = k
            .metadata
            .iter()
            .filter_map(|(name, v)| Some((name.clone(), serde_json::to_value(v).ok()?)))
            .collect();
        let raw_limit = RawLimit {
            rpm: k.rpm,
            tpm: k.tpm,
            max_concurrent: k.max_concurrent,
            budget_usd: k.budget_usd,
            budget_period: k.budget_period.clone(),
        };
        out.push(KeyConfig {
            name: k.name.clone(),
            secret: Secret::new(secret),
            team: k.team.clone(),
            models,
            expires_at_ms,
            metadata,
            limits: limit(cx, &path, &raw_limit),
        });
    }
    out
}
