//! The Redis limiter store: every check-and-reserve is one server-side script (one round
//! trip, atomic across every replica sharing the Redis), every settle another. The
//! clock is Redis's own (`TIME`), so replicas with skewed clocks still agree.
//!
//! Must never let a request wait on a dead Redis longer than `redis_timeout`: each call
//! is bounded, and the connection manager reconnects in the background.

use super::counters::{Ask, BackendError, Check, Counters, Settle, Verdict};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

/// The set of revoked key ids, checked by every reservation.
pub const REVOKED: &str = "sluice:revoked";
/// Where a key's change (revoked, rotated, edited) is announced: every replica
/// listening re-reads its keys at once (`auth::key_changes`). That reaches what the
/// revoked set cannot: a key no limit applies to, whose requests never meet it, and a
/// rotated key's old secret.
pub const KEY_CHANGES: &str = "sluice:key-changes";

pub struct Redis {
    conn: ConnectionManager,
    reserve: redis::Script,
    settle: redis::Script,
    timeout: Duration,
}

impl Redis {
    /// A store for `url`; connects lazily, so a Redis that is down at start-up is
    /// handled like one that goes down later.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, BackendError> {
        let client =
            redis::Client::open(url).map_err(|e| BackendError::Unreachable(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let conn = client
            .get_connection_manager_lazy(config)
            .map_err(|e| BackendError::Unreachable(e.to_string()))?;
        Ok(Self {
            conn,
            reserve: redis::Script::new(concat!(
                include_str!("buckets.lua"),
                include_str!("reserve.lua")
            )),
            settle: redis::Script::new(concat!(
                include_str!("buckets.lua"),
                include_str!("settle.lua")
            )),
            timeout,
        })
    }

    async fn bounded<T>(
        &self,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, BackendError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) if e.is_timeout() => Err(BackendError::Timeout),
            Ok(Err(e))
                if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() =>
            {
                Err(BackendError::Unreachable(e.to_string()))
            }
            Ok(Err(e)) => Err(BackendError::Protocol(e.to_string())),
            Err(_) => Err(BackendError::Timeout),
        }
    }

    /// Marks `key_id` revoked for every replica's next reservation, and announces it
    /// so that every replica re-reads its keys now.
    pub async fn revoke(&self, key_id: &str) -> Result<(), BackendError> {
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        pipe.cmd("SADD").arg(REVOKED).arg(key_id).ignore();
        pipe.cmd("PUBLISH").arg(KEY_CHANGES).arg(key_id).ignore();
        self.bounded(pipe.query_async::<()>(&mut conn)).await
    }

    /// Announces that `key_id` changed (rotated, edited), so that every replica
    /// re-reads its keys now rather than within `keys_refresh`.
    pub async fn announce(&self, key_id: &str) -> Result<(), BackendError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(KEY_CHANGES).arg(key_id);
        self.bounded(cmd.query_async::<i64>(&mut conn))
            .await
            .map(|_| ())
    }

    /// Takes `key_id` out of the revoked set (a rotation keeps the id with a new secret).
    pub async fn unrevoke(&self, key_id: &str) -> Result<(), BackendError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("SREM");
        cmd.arg(REVOKED).arg(key_id);
        self.bounded(cmd.query_async::<i64>(&mut conn))
            .await
            .map(|_| ())
    }
}

impl Counters for Redis {
    async fn reserve(&self, ask: &Ask) -> Result<Verdict, BackendError> {
        let mut invocation = self.reserve.prepare_invoke();
        for check in &ask.checks {
            invocation.key(check.key());
        }
        invocation.key(REVOKED);
        invocation
            .arg(ask.checks.len())
            .arg(&ask.lease)
            .arg(ask.lease_ttl_ms)
            .arg(ask.key_id.as_deref().unwrap_or(""));
        for check in &ask.checks {
            match check {
                Check::Rate { capacity, cost, .. } => {
                    invocation.arg("r").arg(capacity).arg(cost).arg(0)
                }
                Check::Concurrency { max, .. } => invocation.arg("c").arg(max).arg(0).arg(0),
                Check::Budget {
                    limit_micros,
                    cost_micros,
                    expires_ms,
                    ..
                } => invocation
                    .arg("b")
                    .arg(limit_micros)
                    .arg(cost_micros)
                    .arg(expires_ms.unwrap_or(0)),
            };
        }
        let mut conn = self.conn.clone();
        let reply: Vec<i64> = self.bounded(invocation.invoke_async(&mut conn)).await?;
        match reply.as_slice() {
            [1, remaining @ ..] if remaining.len() == ask.checks.len() => Ok(Verdict::Admitted {
                remaining: remaining.to_vec(),
            }),
            [0, index, wait] if *index >= 1 => Ok(Verdict::Refused {
                index: usize::try_from(*index - 1).unwrap_or(0),
                retry_after_ms: u64::try_from(*wait).unwrap_or(1000),
            }),
            [-1] => Ok(Verdict::Revoked),
            other => Err(BackendError::Protocol(format!("reserve replied {other:?}"))),
        }
    }

    async fn settle(&self, lease: &str, adjustments: &[Settle]) -> Result<(), BackendError> {
        if adjustments.is_empty() {
            return Ok(());
        }
        let mut invocation = self.settle.prepare_invoke();
        for adjustment in adjustments {
            let key = match adjustment {
                Settle::Rate { key, .. } | Settle::Release { key } | Settle::Budget { key, .. } => {
                    key
                }
            };
            invocation.key(key);
        }
        invocation.arg(adjustments.len()).arg(lease);
        for adjustment in adjustments {
            match adjustment {
                Settle::Rate {
                    capacity, delta, ..
                } => invocation.arg("r").arg(capacity).arg(delta).arg(0),
                Settle::Release { .. } => invocation.arg("c").arg(0).arg(0).arg(0),
                Settle::Budget {
                    reserved_micros,
                    spent_micros,
                    expires_ms,
                    ..
                } => invocation
                    .arg("b")
                    .arg(reserved_micros)
                    .arg(spent_micros)
                    .arg(expires_ms.unwrap_or(0)),
            };
        }
        let mut conn = self.conn.clone();
        self.bounded(invocation.invoke_async::<i64>(&mut conn))
            .await
            .map(|_| ())
    }
}
