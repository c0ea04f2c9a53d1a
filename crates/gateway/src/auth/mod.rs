//! Auth, the pipeline's first stage: the virtual key a client presents
//! (`Authorization: Bearer KEY` or `x-api-key: KEY`) becomes a [`Principal`]: its key,
//! team, allowed models and limits. Runs before the body is read.
//!
//! With no key anywhere (demo mode, a config without `[[keys]]` and an empty store) any
//! key is accepted and the request has no principal. Once one key exists, a missing,
//! unknown, revoked or expired key is a 401 in the ingress format's shape. Until a
//! configured store has been read once, a key the config does not know is a 503.
//!
//! - [`ring`]: the keys this replica accepts (config and store) by hash.
//! - [`key_changes`]: key changes other replicas announce through Redis, which wake
//!   the ring's refresh.
//! - [`glob`]: the model allow-list's patterns.
//!
//! Must never log, store or echo a presented key, nor compare secrets byte by byte:
//! the secret is hashed first and the hashes compared in constant time.

pub mod glob;
pub mod key_changes;
pub mod ring;

pub use ring::{KeyRing, Principal};

use crate::error::GatewayError;
use crate::state::Snapshot;
use axum::http::HeaderMap;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Why a known key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Revoked,
    Expired,
}

/// The principal of a request, or `None` when no keys exist and any key is accepted.
pub fn authenticate(
    snapshot: &Snapshot,
    ring: &KeyRing,
    headers: &HeaderMap,
) -> Result<Option<Arc<Principal>>, GatewayError> {
    // A store that could not be read yet may hold keys: neither demo mode nor a 401 for
    // a key only it knows would be true, so what the config's keys cannot decide is a
    // 503 until the first refresh succeeds (failing open let any key in).
    let pending = ring.is_pending();
    if snapshot.keys.is_empty() && ring.is_empty() && !pending {
        return Ok(None);
    }
    let Some(presented) = presented(headers) else {
        return Err(if pending && snapshot.keys.is_empty() {
            GatewayError::StoreUnavailable
        } else {
            GatewayError::Unauthorized
        });
    };
    let hash = ring::digest(presented);
    // The map is keyed by SHA-256 output, so where a lookup stops tells nothing about
    // the secret; the final comparison is constant-time all the same.
    let principal = snapshot
        .keys
        .get(&hash)
        .cloned()
        .or_else(|| ring.get(&hash))
        .filter(|p| bool::from(p.hash.ct_eq(&hash)))
        .ok_or(if pending {
            GatewayError::StoreUnavailable
        } else {
            GatewayError::Unauthorized
        })?;
    if principal.revoked {
        return Err(GatewayError::KeyRefused(Refused::Revoked));
    }
    if principal
        .expires_at_ms
        .is_some_and(|at| crate::journal::now_ms() >= at)
    {
        return Err(GatewayError::KeyRefused(Refused::Expired));
    }
    Ok(Some(principal))
}

/// Refuses a model outside the principal's allow-list.
pub fn allow_model(principal: Option<&Principal>, model: &str) -> Result<(), GatewayError> {
    match principal {
        Some(p) if !p.allows(model) => Err(GatewayError::ModelNotAllowed {
            model: model.chars().take(200).collect(),
        }),
        _ => Ok(()),
    }
}

/// The key a client sent, in either of the two headers the SDKs use.
pub fn presented(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .filter(|k| !k.is_empty())
}
