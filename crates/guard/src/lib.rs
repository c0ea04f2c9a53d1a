//! Sluice's scanner: finds personal data, credentials, invisible and deceptive unicode,
//! and prompt-injection markers in text, each precisely (validated, not just a
//! pattern): card numbers pass Luhn, IBANs mod-97, addresses parse.
//!
//! A pure crate, like `sluice-protocol`: no I/O, no async, so it can be fuzzed and
//! benchmarked alone. The gateway decides what to do with a [`Finding`] (redact, mask,
//! block, log); this crate only says where and what.
//!
//! - [`detect`]: the detectors, one pattern each, with their validators.
//! - [`check`]: the validators (Luhn, mod-97, SSN rules, entropy).
//! - [`invisible`]: the invisible and deceptive characters.
//!
//! Must never use a backtracking regex engine on scanned text: every pattern is the
//! `regex` crate's (linear time in the text), and operator patterns are size-bounded.

pub mod check;
pub mod detect;
pub mod invisible;

pub use detect::{Scanner, ScannerError};

/// What a detector found, by family (the config's categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    Pii,
    Secrets,
    Invisible,
    Injection,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pii => "pii",
            Self::Secrets => "secrets",
            Self::Invisible => "invisible",
            Self::Injection => "injection",
        }
    }
}

/// The finer name of what was found (the placeholder's name: `[EMAIL]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Email,
    Phone,
    Card,
    Iban,
    Ssn,
    Ipv4,
    Ipv6,
    AwsAccessKey,
    AwsSecretKey,
    GithubToken,
    GitlabToken,
    SlackToken,
    StripeKey,
    OpenAiKey,
    AnthropicKey,
    Jwt,
    PrivateKey,
    ConnectionString,
    KeyValueSecret,
    Invisible,
    RoleToken,
    IgnoreInstructions,
}

impl Kind {
    pub fn category(self) -> Category {
        match self {
            Self::Email
            | Self::Phone
            | Self::Card
            | Self::Iban
            | Self::Ssn
            | Self::Ipv4
            | Self::Ipv6 => Category::Pii,
            Self::Invisible => Category::Invisible,
            Self::RoleToken | Self::IgnoreInstructions => Category::Injection,
            _ => Category::Secrets,
        }
    }

    /// Upper-case name, for placeholders and counts.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "EMAIL",
            Self::Phone => "PHONE",
            Self::Card => "CARD",
            Self::Iban => "IBAN",
            Self::Ssn => "SSN",
            Self::Ipv4 | Self::Ipv6 => "IP",
            Self::AwsAccessKey | Self::AwsSecretKey => "AWS_KEY",
            Self::GithubToken => "GITHUB_TOKEN",
            Self::GitlabToken => "GITLAB_TOKEN",
            Self::SlackToken => "SLACK_TOKEN",
            Self::StripeKey => "STRIPE_KEY",
            Self::OpenAiKey => "OPENAI_KEY",
            Self::AnthropicKey => "ANTHROPIC_KEY",
            Self::Jwt => "JWT",
            Self::PrivateKey => "PRIVATE_KEY",
            Self::ConnectionString => "CONNECTION_STRING",
            Self::KeyValueSecret => "SECRET",
            Self::Invisible => "INVISIBLE",
            Self::RoleToken => "ROLE_TOKEN",
            Self::IgnoreInstructions => "INJECTION",
        }
    }
}

/// One finding: what, and the byte range in the scanned text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}
