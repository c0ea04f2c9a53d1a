//! What the client's error says when every target failed or was skipped: each
//! attempt's provider and error class, each skipped target and why.
//!
//! Must never name an address, a key or an upstream's raw error text.

use super::{GatewayError, UpstreamError};

/// A target passed over without a network call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub provider: String,
    /// `circuit_open` or `busy`.
    pub reason: &'static str,
}

/// One attempt sent, as the client's error lists it: the provider and the error
/// class, never an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tried {
    pub provider: String,
    /// `UpstreamError::kind`.
    pub error: &'static str,
    /// The provider's status; 0 when it never answered.
    pub status: u16,
}

pub(super) fn exhausted_message(
    last: Option<&UpstreamError>,
    tried: &[Tried],
    skipped: &[Skipped],
) -> String {
    let base = match last {
        Some(e) => {
            GatewayError::Upstream(e.clone())
                .to_provider_error()
                .message
        }
        None => "No provider is available for this model right now.".to_owned(),
    };
    attempts_summary(base, tried, skipped)
}

/// `message`, then what was tried and skipped: `Tried: a (upstream_status 500), b
/// (upstream_timeout). Skipped: c (circuit open).`
fn attempts_summary(mut message: String, tried: &[Tried], skipped: &[Skipped]) -> String {
    if !tried.is_empty() {
        let list: Vec<String> = tried
            .iter()
            .map(|t| match t.status {
                0 | 200 => format!("{} ({})", t.provider, t.error),
                status => format!("{} ({} {status})", t.provider, t.error),
            })
            .collect();
        message.push_str(&format!(" Tried: {}.", list.join(", ")));
    }
    if !skipped.is_empty() {
        let list: Vec<String> = skipped
            .iter()
            .map(|s| format!("{} ({})", s.provider, s.reason.replace('_', " ")))
            .collect();
        message.push_str(&format!(" Skipped: {}.", list.join(", ")));
    }
    message
}
