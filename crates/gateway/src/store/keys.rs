//! Virtual keys in the store: created, listed, changed, rotated and revoked by the admin
//! API and `sluice keys`, read by every replica's key ring. The secret exists only at
//! creation and rotation (returned once); the table keeps its SHA-256.
//!
//! Must never store or return a secret after the call that made it.

use super::{Store, StoreError};
use crate::config::Limits;
use crate::on_pool;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Row};

/// A key as stored (and as the admin API shows it): everything but the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredKey {
    pub id: String,
    pub name: String,
    pub team: Option<String>,
    /// The secret's first characters, to recognise it in a list.
    pub prefix: String,
    /// SHA-256 of the secret, hex.
    #[serde(skip)]
    pub hash: String,
    pub models: Vec<String>,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub limits: Limits,
    pub expires_at_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// Prefix of every secret Sluice makes, so leaked keys are recognisable by scanners.
pub const SECRET_PREFIX: &str = "sk-sluice-";

/// A new random secret (256 bits from the OS) and its hash.
pub fn new_secret() -> Result<(String, String), StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Random(e.to_string()))?;
    let secret = format!("{SECRET_PREFIX}{}", hex::encode(bytes));
    let hash = hash_hex(&secret);
    Ok((secret, hash))
}

/// A new key id (random, not secret).
pub fn new_id() -> Result<String, StoreError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Random(e.to_string()))?;
    Ok(format!("key_{}", hex::encode(bytes)))
}

pub fn hash_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// What is shown of a secret in lists.
pub fn prefix_of(secret: &str) -> String {
    secret.chars().take(SECRET_PREFIX.len() + 6).collect()
}

/// A key's name is held by no other key (binds: the name, the key's id).
const NAME_FREE: &str = "NOT EXISTS (SELECT 1 FROM keys WHERE name = ? AND id <> ?)";

/// PostgreSQL only: a lock on a key name until the transaction ends, so that a write
/// conditioned on `NAME_FREE` sees another transaction's that took the name (under
/// READ COMMITTED, two conditional inserts could both find it free). SQLite needs none:
/// a write statement takes the database's write lock before it reads.
const LOCK_NAME: &str = "SELECT pg_advisory_xact_lock(hashtext('sluice.keys.name:' || $1))";

const SELECT: &str = "SELECT id, name, team, prefix, hash, models, metadata, limits, expires_at_ms, revoked_at_ms, created_at_ms, updated_at_ms FROM keys";

fn json_text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

impl Store {
    /// Inserts `key` unless another key holds its name: `false` then, and nothing
    /// written. The condition is part of the write, so two creations racing with one
    /// name cannot both pass (a unique index would refuse databases that already hold
    /// a duplicate from before names were unique).
    pub async fn insert_key(&self, key: &StoredKey) -> Result<bool, StoreError> {
        let sql = self.sql(&format!("INSERT INTO keys (id, name, team, prefix, hash, models, metadata, limits, expires_at_ms, revoked_at_ms, created_at_ms, updated_at_ms) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE {NAME_FREE}"));
        let done = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            if let Self::Postgres(_) = self {
                sqlx::query(LOCK_NAME).bind(&key.name).execute(&mut *tx).await?;
            }
            let done = sqlx::query(AssertSqlSafe(sql))
                .bind(&key.id)
                .bind(&key.name)
                .bind(&key.team)
                .bind(&key.prefix)
                .bind(&key.hash)
                .bind(json_text(&key.models))
                .bind(json_text(&key.metadata))
                .bind(json_text(&key.limits))
                .bind(key.expires_at_ms)
                .bind(key.revoked_at_ms)
                .bind(key.created_at_ms)
                .bind(key.updated_at_ms)
                .bind(&key.name)
                .bind(&key.id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            done
        });
        Ok(done > 0)
    }

    /// Writes every field of an existing key; `false` when there is no such key or,
    /// with `renamed`, when another key holds its new name (checked in the same write,
    /// as `insert_key` does).
    pub async fn update_key(&self, key: &StoredKey, renamed: bool) -> Result<bool, StoreError> {
        let condition = if renamed {
            format!(" AND {NAME_FREE}")
        } else {
            String::new()
        };
        let sql = self.sql(&format!("UPDATE keys SET name = ?, team = ?, prefix = ?, hash = ?, models = ?, metadata = ?, limits = ?, expires_at_ms = ?, revoked_at_ms = ?, updated_at_ms = ? WHERE id = ?{condition}"));
        let done = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            if let (Self::Postgres(_), true) = (self, renamed) {
                sqlx::query(LOCK_NAME).bind(&key.name).execute(&mut *tx).await?;
            }
            let mut q = sqlx::query(AssertSqlSafe(sql))
                .bind(&key.name)
                .bind(&key.team)
                .bind(&key.prefix)
                .bind(&key.hash)
                .bind(json_text(&key.models))
                .bind(json_text(&key.metadata))
                .bind(json_text(&key.limits))
                .bind(key.expires_at_ms)
                .bind(key.revoked_at_ms)
                .bind(key.updated_at_ms)
                .bind(&key.id);
            if renamed {
                q = q.bind(&key.name).bind(&key.id);
            }
            let done = q.execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            done
        });
        Ok(done > 0)
    }

    /// The key with `id`, or one whose name is `id`.
    pub async fn key(&self, id: &str) -> Result<Option<StoredKey>, StoreError> {
        let sql = self.sql(&format!(
            "{SELECT} WHERE id = ? OR name = ? ORDER BY created_at_ms DESC LIMIT 1"
        ));
        let rows = on_pool!(self, pool => {
            let rows = sqlx::query(AssertSqlSafe(sql)).bind(id).bind(id).fetch_all(pool).await?;
            rows.iter().map(stored).collect::<Result<Vec<_>, StoreError>>()?
        });
        Ok(rows.into_iter().next())
    }

    /// Every key, oldest first.
    pub async fn keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let sql = format!("{SELECT} ORDER BY created_at_ms, id");
        on_pool!(self, pool => {
            let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(pool).await?;
            rows.iter().map(stored).collect()
        })
    }

    /// A cheap fingerprint of the keys table: the key ring reloads the keys only when it
    /// moves. Count and latest change alone missed a change stamped at or below the
    /// latest (two keys changed in one millisecond, or by a replica whose clock is
    /// behind another's): a revoked key stayed valid in every ring. Every save raises
    /// its key's stamp, so the sum of the stamps moves with each; taken modulo 2^31 per
    /// key so that PostgreSQL's sum fits a BIGINT for any number of keys.
    pub async fn keys_version(&self) -> Result<KeysVersion, StoreError> {
        let sql = "SELECT COUNT(*), COALESCE(MAX(updated_at_ms), 0), CAST(COALESCE(SUM(updated_at_ms % 2147483648), 0) AS BIGINT) FROM keys";
        on_pool!(self, pool => {
            let row = sqlx::query(sql).fetch_one(pool).await?;
            Ok(KeysVersion {
                count: row.try_get::<i64, _>(0)?,
                latest: row.try_get::<i64, _>(1)?,
                stamps: row.try_get::<i64, _>(2)?,
            })
        })
    }
}

/// What `keys_version` reads: equal versions mean the ring's keys are current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeysVersion {
    pub count: i64,
    pub latest: i64,
    /// The sum of every key's change stamp, each modulo 2^31.
    pub stamps: i64,
}

fn stored<R>(row: &R) -> Result<StoredKey, StoreError>
where
    R: Row,
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database>,
{
    fn parse<T: serde::de::DeserializeOwned>(text: String) -> Result<T, StoreError> {
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))
    }
    Ok(StoredKey {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        team: row.try_get("team")?,
        prefix: row.try_get("prefix")?,
        hash: row.try_get("hash")?,
        models: parse(row.try_get("models")?)?,
        metadata: parse(row.try_get("metadata")?)?,
        limits: parse(row.try_get("limits")?)?,
        expires_at_ms: row.try_get("expires_at_ms")?,
        revoked_at_ms: row.try_get("revoked_at_ms")?,
        created_at_ms: row.try_get("created_at_ms")?,
        updated_at_ms: row.try_get("updated_at_ms")?,
    })
}
