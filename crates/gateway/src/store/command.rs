//! `sluice keys create|list|revoke|rotate`: the same operations as `/admin/keys`, on the
//! store the config names, for operators at a terminal (and for scripts: JSON out).
//!
//! Must never print a secret except the one `create` or `rotate` just made.

use super::Store;
use super::keyspec::KeySpec;
use crate::cli::KeysCommand;
use crate::config::{Backend, Config, Period};

pub async fn run(command: KeysCommand, config: &Config) -> Result<(), String> {
    let Some(store) = &config.store else {
        return Err("the config has no [store]: keys made here would live nowhere".to_owned());
    };
    let store = Store::open(store.url.expose())
        .await
        .map_err(|e| e.to_string())?;
    let print = |value: serde_json::Value| println!("{value}");
    match command {
        KeysCommand::Create {
            name,
            team,
            models,
            rpm,
            tpm,
            max_concurrent,
            budget_usd,
            budget_period,
            expires_at,
            ..
        } => {
            let budget_period = match budget_period.as_deref() {
                None => None,
                Some(p) => Some(Period::parse(p).ok_or_else(|| {
                    format!("--budget-period {p:?}: one of daily, monthly, total")
                })?),
            };
            let spec = KeySpec {
                name: Some(name),
                team: team.map(Some),
                models: Some(models),
                metadata: None,
                rpm: rpm.map(Some),
                tpm: tpm.map(Some),
                max_concurrent: max_concurrent.map(Some),
                budget_usd: budget_usd.map(Some),
                budget_period,
                expires_at: expires_at.map(Some),
            };
            super::keyspec::free_of_config(&spec, config.keys.iter().map(|k| k.name.as_str()))
                .map_err(|e| e.to_string())?;
            let (key, secret) = store.create_key(spec).await.map_err(|e| e.to_string())?;
            let mut value = serde_json::to_value(&key).map_err(|e| e.to_string())?;
            value["secret"] = secret.into();
            print(value);
        }
        KeysCommand::List { .. } => {
            for key in store.keys().await.map_err(|e| e.to_string())? {
                print(serde_json::to_value(&key).map_err(|e| e.to_string())?);
            }
        }
        KeysCommand::Revoke { id, .. } => {
            let key = store.revoke_key(&id).await.map_err(|e| e.to_string())?;
            if let Some(redis) = shared_redis(config)?
                && let Err(e) = redis.revoke(&key.id).await
            {
                eprintln!(
                    "sluice: revoked in the store; not shared through Redis ({e}): replicas refuse it within keys_refresh"
                );
            }
            print(serde_json::to_value(&key).map_err(|e| e.to_string())?);
        }
        KeysCommand::Rotate { id, .. } => {
            let (key, secret) = store.rotate_key(&id).await.map_err(|e| e.to_string())?;
            if let Some(redis) = shared_redis(config)?
                && let Err(e) = redis.announce(&key.id).await
            {
                eprintln!(
                    "sluice: rotated in the store; not announced through Redis ({e}): replicas refuse the old secret within keys_refresh"
                );
            }
            let mut value = serde_json::to_value(&key).map_err(|e| e.to_string())?;
            value["secret"] = secret.into();
            print(value);
        }
    }
    Ok(())
}

/// The Redis the limits are shared through, if any: where revocations go and key
/// changes are announced.
fn shared_redis(
    config: &crate::config::Config,
) -> Result<Option<crate::limits::redis::Redis>, String> {
    match &config.limits.backend {
        Backend::Redis { url } => {
            crate::limits::redis_store(url.expose(), config.limits.redis_timeout)
                .map(Some)
                .map_err(|e| e.to_string())
        }
        _ => Ok(None),
    }
}
