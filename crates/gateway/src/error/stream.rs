//! A failure after the commit point, told to the client as an in-band error event.
//!
//! Must never be retried silently: only `resume` may go on from another target.

use sluice_protocol::canonical::ProviderError;

/// A failure after the commit point. The client already has a 200 and part of the
/// answer, so it is told with an error event in its format and the stream ends; nothing
/// is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StreamFailure {
    #[error("upstream stream was interrupted")]
    Cut,
    #[error("upstream stream ended before completion")]
    Truncated,
    #[error("upstream stream stalled (idle timeout)")]
    Idle,
    #[error("upstream stream exceeded the total timeout")]
    Deadline,
    #[error("upstream stream exceeded the size limit")]
    TooLarge,
    #[error("upstream sent an oversized stream event")]
    OversizedEvent,
    #[error("upstream sent a malformed stream event")]
    Malformed,
    /// The provider reported an error in the stream; its own event told the client.
    #[error("upstream reported an error in the stream")]
    ErrorEvent,
    /// The answer's running cost reached what the budget could still pay.
    #[error("the budget is exhausted; the answer was ended here")]
    Budget,
    /// The output guard found something its policy blocks; the value was not sent.
    #[error("Sluice's guard stopped the answer: it contained {}", .0.as_str())]
    Guarded(sluice_guard::Category),
}

impl StreamFailure {
    /// Machine name, for the record and the error event's `code`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Cut | Self::Truncated => "upstream_stream",
            Self::Idle | Self::Deadline => "upstream_timeout",
            Self::TooLarge => "upstream_too_large",
            Self::OversizedEvent | Self::Malformed => "upstream_protocol",
            Self::ErrorEvent => "upstream_error_event",
            Self::Budget => "budget_exceeded",
            Self::Guarded(_) => "guard_blocked",
        }
    }

    /// Whether the provider is to blame (its breaker counts it); not for a stream
    /// Sluice itself ended.
    pub fn blames_upstream(self) -> bool {
        !matches!(self, Self::Budget | Self::Guarded(_))
    }

    /// The error event a client is sent (the provider's own event already went out for
    /// `ErrorEvent`; this is what Sluice would say in its place).
    pub fn to_provider_error(self) -> ProviderError {
        if let Self::Guarded(_) = self {
            return ProviderError {
                status: 400,
                kind: "invalid_request_error".to_owned(),
                message: self.to_string(),
                param: None,
                code: Some(self.code().to_owned()),
            };
        }
        if self == Self::Budget {
            return ProviderError {
                status: 429,
                kind: "insufficient_quota".to_owned(),
                message: self.to_string(),
                param: None,
                code: Some(self.code().to_owned()),
            };
        }
        ProviderError {
            status: 502,
            kind: "upstream_error".to_owned(),
            message: self.to_string(),
            param: None,
            code: Some(self.code().to_owned()),
        }
    }
}
