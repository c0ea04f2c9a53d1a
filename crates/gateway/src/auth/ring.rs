//! The key ring: every virtual key this replica accepts, by the SHA-256 of its secret.
//! Config keys come with each snapshot; store keys live here, in `Shared`, refreshed
//! from the store in the background (every `[limits] keys_refresh`) and at once after
//! an admin change on this replica.
//!
//! Must never keep a secret: only hashes, compared in constant time.

use super::glob;
use crate::config::{KeyConfig, Limits};
use crate::store::Store;
use crate::store::keys::StoredKey;
use arc_swap::ArcSwap;
use foldhash::HashMap;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Who a request is, once its key is accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// Stable id: the store's id, or `config:NAME` for a `[[keys]]` entry.
    pub id: String,
    pub name: String,
    pub team: Option<String>,
    /// Model globs; empty allows all.
    pub models: Vec<String>,
    pub limits: Limits,
    pub expires_at_ms: Option<i64>,
    pub revoked: bool,
    pub hash: [u8; 32],
}

impl Principal {
    pub fn from_config(key: &KeyConfig) -> Self {
        Self {
            id: format!("config:{}", key.name),
            name: key.name.clone(),
            team: key.team.clone(),
            models: key.models.clone(),
            limits: key.limits,
            expires_at_ms: key.expires_at_ms,
            revoked: false,
            hash: digest(key.secret.expose()),
        }
    }

    fn from_store(key: &StoredKey) -> Option<Self> {
        let mut hash = [0u8; 32];
        hex::decode_to_slice(&key.hash, &mut hash).ok()?;
        Some(Self {
            id: key.id.clone(),
            name: key.name.clone(),
            team: key.team.clone(),
            models: key.models.clone(),
            limits: key.limits,
            expires_at_ms: key.expires_at_ms,
            revoked: key.revoked_at_ms.is_some(),
            hash,
        })
    }

    /// Whether this key may use `model` (its allow-list's globs).
    pub fn allows(&self, model: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|g| glob::matches(g, model))
    }
}

pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Keys by the hash of their secret.
pub type Keys = HashMap<[u8; 32], Arc<Principal>>;

/// The config's keys, for a snapshot.
pub fn config_keys(keys: &[KeyConfig]) -> Keys {
    keys.iter()
        .map(|k| {
            let p = Principal::from_config(k);
            (p.hash, Arc::new(p))
        })
        .collect()
}

/// The store's keys, shared by every snapshot.
#[derive(Debug, Default)]
pub struct KeyRing {
    keys: ArcSwap<Keys>,
    /// Set while a store is configured but has not been read once: whether any key
    /// exists is unknown, so auth must not fall back to accepting every key.
    pending: std::sync::atomic::AtomicBool,
    /// One refresh at a time (the background one and an admin change's racing could
    /// store an older read of the table after a newer one), and the table's version
    /// the keys were last read at.
    refreshing: tokio::sync::Mutex<Option<crate::store::keys::KeysVersion>>,
    /// Wakes the background refresh before its interval (a key change announced by
    /// another replica: `auth::key_changes`).
    wake: Arc<tokio::sync::Notify>,
}

impl KeyRing {
    /// A ring whose keys come from a store not read yet: auth refuses (503) what it
    /// cannot decide until the first refresh succeeds.
    pub fn awaiting_store() -> Self {
        let ring = Self::default();
        ring.pending
            .store(true, std::sync::atomic::Ordering::Release);
        ring
    }

    /// Whether the store has not been read successfully yet.
    pub fn is_pending(&self) -> bool {
        self.pending.load(std::sync::atomic::Ordering::Acquire)
    }

    pub fn get(&self, hash: &[u8; 32]) -> Option<Arc<Principal>> {
        self.keys.load().get(hash).cloned()
    }

    /// Every store key.
    pub fn all(&self) -> Vec<Arc<Principal>> {
        self.keys.load().values().cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.load().is_empty()
    }

    /// Reloads the keys from the store if the table changed since the last look.
    pub async fn refresh(&self, store: &Store) -> Result<(), crate::store::StoreError> {
        let mut read_at = self.refreshing.lock().await;
        let version = store.keys_version().await?;
        if *read_at == Some(version) {
            return Ok(());
        }
        let rows = store.keys().await?;
        let keys: Keys = rows
            .iter()
            .filter_map(Principal::from_store)
            .map(|p| (p.hash, Arc::new(p)))
            .collect();
        self.keys.store(Arc::new(keys));
        *read_at = Some(version);
        self.pending
            .store(false, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// Wakes the background refresh now.
    pub fn waker(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.wake)
    }

    /// Refreshes every `every`, or at once when woken, for as long as `ring` is alive.
    pub fn spawn_refresh(ring: Weak<Self>, store: Store, every: Duration) {
        let Some(wake) = ring.upgrade().map(|r| r.waker()) else {
            return;
        };
        tokio::spawn(async move {
            let mut failing = false;
            loop {
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    () = wake.notified() => {}
                }
                let Some(ring) = ring.upgrade() else { return };
                match ring.refresh(&store).await {
                    Ok(()) if failing => {
                        failing = false;
                        tracing::info!("key ring: the store answers again");
                    }
                    Ok(()) => {}
                    Err(e) if !failing => {
                        failing = true;
                        tracing::warn!(error = %e, "key ring: cannot read keys from the store; serving the last ones read");
                    }
                    Err(_) => {}
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keyspec::KeySpec;

    fn named(name: &str) -> KeySpec {
        KeySpec {
            name: Some(name.to_owned()),
            ..KeySpec::default()
        }
    }

    #[tokio::test]
    async fn a_revocation_stamped_below_the_latest_change_still_reaches_the_ring() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("k.db").display());
        let store = Store::open(&url).await.expect("store");
        let (a, secret) = store.create_key(named("a")).await.expect("key a");
        let (b, _) = store.create_key(named("b")).await.expect("key b");
        // Key b changed by a replica whose clock runs a minute ahead.
        let Store::Sqlite(pool) = &store else {
            panic!("a SQLite store")
        };
        sqlx::query("UPDATE keys SET updated_at_ms = updated_at_ms + 60000 WHERE id = ?")
            .bind(&b.id)
            .execute(pool)
            .await
            .expect("skewed change");
        let ring = KeyRing::default();
        ring.refresh(&store).await.expect("refresh");
        let found = ring.get(&digest(&secret)).expect("key a in the ring");
        assert!(!found.revoked);
        // Revoked here: stamped now, below b's stamp; the count does not move either.
        store.revoke_key(&a.id).await.expect("revoke");
        ring.refresh(&store).await.expect("refresh");
        let found = ring.get(&digest(&secret)).expect("key a in the ring");
        assert!(found.revoked, "the ring kept a revoked key valid");
    }
}
