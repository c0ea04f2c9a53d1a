//! Key changes announced through Redis (`limits::redis::KEY_CHANGES`, published by the
//! admin API and `sluice keys` when the limits are shared: a revocation, a rotation, an
//! edit): each one wakes this replica's key-ring refresh, so the change holds at once
//! everywhere. The revoked set in Redis covers a key's next reservation, but a key no
//! limit applies to never makes one, and a rotated key's old secret is not revoked;
//! without this, other replicas accepted both until `keys_refresh`.
//!
//! Must never hold the key ring alive: it keeps only a weak handle and ends when the
//! ring is gone. A Redis that is down costs a reconnection attempt every few seconds,
//! never a request's time.

use super::ring::KeyRing;
use futures_util::StreamExt;
use std::sync::Weak;
use std::time::Duration;

/// How long a connection or subscription may take, and the pause after a failure.
const PATIENCE: Duration = Duration::from_secs(5);
/// How often a quiet subscription looks whether the ring is still alive.
const ALIVE_EVERY: Duration = Duration::from_secs(1);

/// Listens on `url` for as long as `ring` is alive.
pub fn spawn(url: String, ring: Weak<KeyRing>) {
    tokio::spawn(async move {
        let mut failing = false;
        while ring.strong_count() > 0 {
            match listen(&url, &ring).await {
                Ok(()) => return,
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "key ring: not subscribed to Redis key changes; retrying (changes reach this replica within keys_refresh meanwhile)");
                    }
                    failing = true;
                }
            }
            tokio::time::sleep(PATIENCE).await;
        }
    });
}

/// One subscription: wakes the refresh on every message; `Ok` once the ring is gone.
async fn listen(url: &str, ring: &Weak<KeyRing>) -> Result<(), String> {
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    let mut pubsub = tokio::time::timeout(PATIENCE, client.get_async_pubsub())
        .await
        .map_err(|_| "connect timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    tokio::time::timeout(
        PATIENCE,
        pubsub.subscribe(crate::limits::redis::KEY_CHANGES),
    )
    .await
    .map_err(|_| "subscribe timed out".to_owned())?
    .map_err(|e| e.to_string())?;
    tracing::info!("key ring: subscribed to Redis key changes");
    let mut messages = pubsub.on_message();
    loop {
        tokio::select! {
            message = messages.next() => {
                if message.is_none() {
                    return Err("the subscription ended".to_owned());
                }
                match ring.upgrade() {
                    Some(ring) => ring.waker().notify_one(),
                    None => return Ok(()),
                }
            }
            () = tokio::time::sleep(ALIVE_EVERY) => {
                if ring.strong_count() == 0 {
                    return Ok(());
                }
            }
        }
    }
}
