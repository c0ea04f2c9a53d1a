//! What an operator asks of a key (the admin API's JSON body, the CLI's flags) and the
//! operations on it: create, change, rotate, revoke. One place, so the admin API and
//! `sluice keys` validate and behave the same.
//!
//! Must never return a secret except from `create` and `rotate`, and never keep one.

use super::keys::{StoredKey, new_id, new_secret, prefix_of};
use super::{Store, StoreError};
use crate::config::Period;
use crate::on_pool;
use serde::{Deserialize, Deserializer};
use sqlx::AssertSqlSafe;

/// A key's fields as asked; on a change, a field left out stays, a field set to `null`
/// is cleared (a limit removed, the team or expiry taken away).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub team: Option<Option<String>>,
    pub models: Option<Vec<String>>,
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, deserialize_with = "present")]
    pub rpm: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    pub tpm: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    pub max_concurrent: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    pub budget_usd: Option<Option<f64>>,
    pub budget_period: Option<Period>,
    /// RFC 3339 (`2027-01-31T00:00:00Z`).
    #[serde(default, deserialize_with = "present")]
    pub expires_at: Option<Option<String>>,
}

fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Why a key operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{0}")]
    Invalid(String),
    #[error("no key with id or name {0:?}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn now() -> i64 {
    crate::journal::now_ms()
}

fn parse_time(text: &str) -> Result<i64, KeyError> {
    crate::limits::period::rfc3339_ms(text).ok_or_else(|| {
        KeyError::Invalid(format!(
            "expires_at {text:?} is not an RFC 3339 time (e.g. \"2027-01-31T00:00:00Z\")"
        ))
    })
}

/// The refusal of a name already held (by a store key, or a config key: `holder`).
fn taken(name: &str, holder: &str) -> KeyError {
    KeyError::Conflict(format!(
        "the name {name:?} is taken by {holder}: spend is journaled by key name, so two keys may not share one"
    ))
}

/// Refuses a name a config key holds: the store knows only its own keys, so the admin
/// API and the CLI pass the config's names here before creating or renaming.
pub fn free_of_config<'a>(
    spec: &KeySpec,
    mut config_names: impl Iterator<Item = &'a str>,
) -> Result<(), KeyError> {
    match spec.name.as_deref() {
        Some(name) if config_names.any(|held| held == name) => {
            Err(taken(name, "a key of the config"))
        }
        _ => Ok(()),
    }
}

impl KeySpec {
    /// Applies the asked fields to `key`, validating them.
    fn apply(self, key: &mut StoredKey) -> Result<(), KeyError> {
        if let Some(name) = self.name {
            if name.trim().is_empty() || name.len() > 200 {
                return Err(KeyError::Invalid(
                    "name must be 1 to 200 characters".to_owned(),
                ));
            }
            // Keys are found by id or name: a name spelled like an id could name another key.
            if name.starts_with("key_") {
                return Err(KeyError::Invalid(
                    "name must not start with `key_`: ids are spelled so".to_owned(),
                ));
            }
            key.name = name;
        }
        if let Some(team) = self.team {
            key.team = team.filter(|t| !t.is_empty());
        }
        if let Some(models) = self.models {
            if models.iter().any(String::is_empty) {
                return Err(KeyError::Invalid(
                    "models: a glob must not be empty".to_owned(),
                ));
            }
            key.models = models;
        }
        if let Some(metadata) = self.metadata {
            key.metadata = metadata;
        }
        let l = &mut key.limits;
        if let Some(v) = self.rpm {
            l.rpm = v;
        }
        if let Some(v) = self.tpm {
            l.tpm = v;
        }
        if let Some(v) = self.max_concurrent {
            l.max_concurrent = v;
        }
        if let Some(v) = self.budget_usd {
            l.budget_usd = v;
        }
        if let Some(p) = self.budget_period {
            l.budget_period = p;
        }
        if let Some((field, message)) = l.problems().into_iter().next() {
            return Err(KeyError::Invalid(format!("{field} {message}")));
        }
        if let Some(expires) = self.expires_at {
            key.expires_at_ms = expires.as_deref().map(parse_time).transpose()?;
        }
        Ok(())
    }
}

impl Store {
    /// A new key; returns it and its secret (shown this once).
    pub async fn create_key(&self, spec: KeySpec) -> Result<(StoredKey, String), KeyError> {
        if spec.name.is_none() {
            return Err(KeyError::Invalid("name is required".to_owned()));
        }
        let (secret, hash) = new_secret()?;
        let at = now();
        let mut key = StoredKey {
            id: new_id()?,
            name: String::new(),
            team: None,
            prefix: prefix_of(&secret),
            hash,
            models: Vec::new(),
            metadata: serde_json::Map::new(),
            limits: crate::config::Limits::default(),
            expires_at_ms: None,
            revoked_at_ms: None,
            created_at_ms: at,
            updated_at_ms: at,
        };
        spec.apply(&mut key)?;
        self.check_name(&key).await?;
        // The insert checks the name again, in the write: another creation may have
        // taken it since.
        if !self.insert_key(&key).await? {
            return Err(taken(&key.name, "a key created at the same time"));
        }
        Ok((key, secret))
    }

    /// Spend is journaled, summed and seeded by key name: two keys sharing a name would
    /// share a budget, and a revoked key's spend would count against a successor named
    /// like it. So a name is taken once, by a key in any state. This check names the
    /// holder; the write itself checks again (`insert_key`, `update_key`), so two
    /// writers racing for one name cannot both win.
    async fn check_name(&self, key: &StoredKey) -> Result<(), KeyError> {
        let sql = self.sql("SELECT id FROM keys WHERE name = ? AND id <> ? LIMIT 1");
        let other: Option<String> = on_pool!(self, pool => sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(&key.name)
            .bind(&key.id)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::from)?);
        match other {
            Some(other) => Err(taken(&key.name, &format!("key {other}"))),
            None => Ok(()),
        }
    }

    async fn existing(&self, id: &str) -> Result<StoredKey, KeyError> {
        self.key(id)
            .await?
            .ok_or_else(|| KeyError::NotFound(id.chars().take(100).collect()))
    }

    /// Writes `key` back; `renamed`: its name changed, and must still be free.
    async fn save(&self, mut key: StoredKey, renamed: bool) -> Result<StoredKey, KeyError> {
        // Strictly increasing, so every replica's refresh sees the change.
        key.updated_at_ms = now().max(key.updated_at_ms + 1);
        if !self.update_key(&key, renamed).await? {
            if renamed {
                // Taken since the check, or the key is gone: say which.
                self.check_name(&key).await?;
            }
            return Err(KeyError::NotFound(key.id));
        }
        Ok(key)
    }

    pub async fn change_key(&self, id: &str, spec: KeySpec) -> Result<StoredKey, KeyError> {
        let mut key = self.existing(id).await?;
        let renamed = spec.name.as_ref().is_some_and(|name| *name != key.name);
        spec.apply(&mut key)?;
        if renamed {
            self.check_name(&key).await?;
        }
        self.save(key, renamed).await
    }

    /// A new secret for the key; the old one stops working. A revoked key stays revoked.
    pub async fn rotate_key(&self, id: &str) -> Result<(StoredKey, String), KeyError> {
        let mut key = self.existing(id).await?;
        if key.revoked_at_ms.is_some() {
            return Err(KeyError::Conflict(format!(
                "key {:?} is revoked; create a new one",
                key.name
            )));
        }
        let (secret, hash) = new_secret()?;
        key.hash = hash;
        key.prefix = prefix_of(&secret);
        Ok((self.save(key, false).await?, secret))
    }

    pub async fn revoke_key(&self, id: &str) -> Result<StoredKey, KeyError> {
        let mut key = self.existing(id).await?;
        if key.revoked_at_ms.is_none() {
            key.revoked_at_ms = Some(now());
            key = self.save(key, false).await?;
        }
        Ok(key)
    }
}
