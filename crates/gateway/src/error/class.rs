//! The kinds of upstream failure the retry, failover, fallback and breaker policies
//! choose by, recognised from statuses and from each provider's own error wording.
//!
//! Must never guess a class from a status alone where the body says more.

use sluice_protocol::canonical::ProviderError;

/// The kinds of upstream failure the resilience policies choose by, with the names
/// config uses (`[retry] on`, `fallback_on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// 429, and Gemini's `RESOURCE_EXHAUSTED`.
    RateLimited,
    /// 5xx and Anthropic's 529, as a status or an error event.
    Server,
    /// Any deadline: connect, first byte, idle, total (and a 408).
    Timeout,
    /// The provider could not be reached.
    Connect,
    /// An invalid or empty answer: broken JSON, garbage SSE, no content, too large.
    Protocol,
    /// The request is longer than the model's context window.
    ContextWindow,
    /// The provider refused the content (safety filters).
    ContentPolicy,
    /// 401 or 403: the provider refused Sluice's own credentials for this target (a
    /// revoked or wrong key, a deployment the key may not use). Nothing the client
    /// sent: the next target may serve it, and the target's breaker counts it.
    Auth,
    /// Any other 4xx: the request's problem on every target.
    Client,
}

impl ErrorClass {
    /// The classes a config may name.
    pub const ALL: [Self; 8] = [
        Self::RateLimited,
        Self::Server,
        Self::Timeout,
        Self::Connect,
        Self::Protocol,
        Self::ContextWindow,
        Self::ContentPolicy,
        Self::Auth,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited => "429",
            Self::Server => "5xx",
            Self::Timeout => "timeout",
            Self::Connect => "connect",
            Self::Protocol => "protocol",
            Self::ContextWindow => "context_window",
            Self::ContentPolicy => "content_policy",
            Self::Auth => "auth",
            Self::Client => "4xx",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Whether the next target of the same plan may be tried. A context-window or
    /// content-policy error would recur on the alias's other targets; only a
    /// fallback alias (chosen for it) may take it.
    pub fn fails_over(self) -> bool {
        matches!(
            self,
            Self::RateLimited
                | Self::Server
                | Self::Timeout
                | Self::Connect
                | Self::Protocol
                | Self::Auth
        )
    }

    /// Whether the failure counts against the target's health (its breaker). A client
    /// error says nothing about the provider.
    pub fn is_provider_fault(self) -> bool {
        self.fails_over()
    }

    pub(super) fn of_status(status: u16, error: Option<&ProviderError>) -> Self {
        if let Some(recognised) = error.and_then(recognise) {
            return recognised;
        }
        match status {
            429 => Self::RateLimited,
            408 => Self::Timeout,
            401 | 403 => Self::Auth,
            s if s >= 500 => Self::Server,
            _ => Self::Client,
        }
    }
}

/// Context-window and content-policy errors as each provider words them (OpenAI and
/// compatible servers such as vLLM, Azure's content filter, Anthropic, Gemini).
fn recognise(error: &ProviderError) -> Option<ErrorClass> {
    if !(400..500).contains(&error.status) || error.status == 429 {
        return None;
    }
    let code = error.code.as_deref().unwrap_or_default();
    if matches!(code, "context_length_exceeded" | "string_above_max_length") {
        return Some(ErrorClass::ContextWindow);
    }
    if matches!(code, "content_filter" | "content_policy_violation") {
        return Some(ErrorClass::ContentPolicy);
    }
    let message = error.message.to_ascii_lowercase();
    const CONTEXT: [&str; 6] = [
        "maximum context length",
        "context length exceeded",
        "context window",
        "prompt is too long",
        "exceeds the maximum number of tokens",
        "input is too long",
    ];
    const POLICY: [&str; 4] = [
        "content management policy",
        "content filtering policy",
        "content policy",
        "due to safety",
    ];
    if CONTEXT.iter().any(|p| message.contains(p)) {
        Some(ErrorClass::ContextWindow)
    } else if POLICY.iter().any(|p| message.contains(p)) {
        Some(ErrorClass::ContentPolicy)
    } else {
        None
    }
}

/// A set of error classes, as config lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ErrorClasses(u16);

impl ErrorClasses {
    pub fn of(classes: &[ErrorClass]) -> Self {
        let mut set = Self::default();
        for c in classes {
            set.insert(*c);
        }
        set
    }

    pub fn insert(&mut self, class: ErrorClass) {
        self.0 |= 1 << class as u16;
    }

    pub fn contains(self, class: ErrorClass) -> bool {
        self.0 & (1 << class as u16) != 0
    }

    pub fn names(self) -> Vec<&'static str> {
        ErrorClass::ALL
            .into_iter()
            .filter(|c| self.contains(*c))
            .map(ErrorClass::as_str)
            .collect()
    }
}
