//! Sluice's scanner: finds personal data, credentials, invisible and deceptive unicode,
//! prompt-injection markers and operators' own rules in text, each precisely (validated,
//! not just a pattern: card numbers pass Luhn, IBANs mod-97, addresses parse), and
//! rewrites what it found as the policy says.
//!
//! A pure crate, like `sluice-protocol`: no I/O, no async, so it can be fuzzed and
//! benchmarked alone. The gateway decides where text is (request bodies, stream
//! deltas) and which policy applies; this crate finds and rewrites.
//!
//! - [`detect`]: the scanner: every detector in one linear-time pass, then validators.
//! - [`patterns`]: each built-in detector's pattern.
//! - [`rules`]: operators' custom rules (word lists, regexes), bounded in size.
//! - [`check`]: the validators (Luhn, mod-97, SSN rules, entropy, addresses).
//! - [`invisible`]: the invisible and deceptive characters.
//! - [`action`]: what to do with findings (redact, mask, block, log) and the rewrite.
//! - [`mask`]: the per-request placeholder map and its streaming restorer.
//! - [`prefix`]: where a match may still be open at the end of a text (for holdback).
//! - [`stream`]: scanning a stream with a bounded holdback, so split matches are caught.
//!
//! Must never use a backtracking regex engine on scanned text: every pattern runs on
//! `regex-automata`'s meta engine (linear time in the text), and operator patterns are
//! size-bounded.

pub mod action;
pub mod check;
pub mod detect;
pub mod invisible;
pub mod mask;
pub mod patterns;
pub mod prefix;
pub mod rules;
pub mod stream;

pub use action::{Action, Actions, Blocked, Counts, Policy, Rewrite, Text};
pub use detect::{Scanner, ScannerError};
pub use mask::{MaskMap, Restorer};
pub use rules::Rule;
pub use stream::{Holdback, StreamScan};

/// What a detector found, by family (the config's categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    Pii,
    Secrets,
    Invisible,
    Injection,
    /// An operator's own rule (`[[guard.rules]]`).
    Custom,
}

impl Category {
    pub const ALL: [Self; 5] = [
        Self::Pii,
        Self::Secrets,
        Self::Invisible,
        Self::Injection,
        Self::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pii => "pii",
            Self::Secrets => "secrets",
            Self::Invisible => "invisible",
            Self::Injection => "injection",
            Self::Custom => "custom",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// The finer name of what was found. Built-in detectors are variants; an operator's
/// rule is `Custom(i)`, its index in the scanner's rules.
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
    RoleOverride,
    Custom(u16),
}

impl Kind {
    /// Every built-in detector, in the scanner's priority order (at one start, the
    /// earlier wins).
    pub const BUILT_IN: [Self; 23] = [
        Self::PrivateKey,
        Self::Jwt,
        Self::ConnectionString,
        Self::AwsAccessKey,
        Self::AwsSecretKey,
        Self::GithubToken,
        Self::GitlabToken,
        Self::SlackToken,
        Self::StripeKey,
        Self::AnthropicKey,
        Self::OpenAiKey,
        Self::KeyValueSecret,
        Self::Email,
        Self::Iban,
        Self::Card,
        Self::Ssn,
        Self::Phone,
        Self::Ipv4,
        Self::Ipv6,
        Self::Invisible,
        Self::RoleToken,
        Self::IgnoreInstructions,
        Self::RoleOverride,
    ];

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
            Self::RoleToken | Self::IgnoreInstructions | Self::RoleOverride => Category::Injection,
            Self::Custom(_) => Category::Custom,
            Self::AwsAccessKey
            | Self::AwsSecretKey
            | Self::GithubToken
            | Self::GitlabToken
            | Self::SlackToken
            | Self::StripeKey
            | Self::OpenAiKey
            | Self::AnthropicKey
            | Self::Jwt
            | Self::PrivateKey
            | Self::ConnectionString
            | Self::KeyValueSecret => Category::Secrets,
        }
    }

    /// The detector's name in config (`email`, `aws_key`, ...); `custom` for a rule,
    /// whose own name the scanner knows (`Scanner::name`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Card => "card",
            Self::Iban => "iban",
            Self::Ssn => "ssn",
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
            Self::AwsAccessKey => "aws_access_key",
            Self::AwsSecretKey => "aws_secret_key",
            Self::GithubToken => "github_token",
            Self::GitlabToken => "gitlab_token",
            Self::SlackToken => "slack_token",
            Self::StripeKey => "stripe_key",
            Self::OpenAiKey => "openai_key",
            Self::AnthropicKey => "anthropic_key",
            Self::Jwt => "jwt",
            Self::PrivateKey => "private_key",
            Self::ConnectionString => "connection_string",
            Self::KeyValueSecret => "secret_value",
            Self::Invisible => "invisible",
            Self::RoleToken => "role_token",
            Self::IgnoreInstructions => "ignore_instructions",
            Self::RoleOverride => "role_override",
            Self::Custom(_) => "custom",
        }
    }

    /// The built-in detector of this config name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::BUILT_IN.into_iter().find(|k| k.name() == name)
    }

    /// Upper-case label for placeholders (`[EMAIL]`, `<EMAIL_1>`); rules use their name.
    pub fn label(self) -> &'static str {
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
            Self::IgnoreInstructions | Self::RoleOverride => "INJECTION",
            Self::Custom(_) => "CUSTOM",
        }
    }
}

/// One finding: what, and the byte range in the scanned text that its action replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    /// Where the whole match began: before `start` when only a value is replaced
    /// (`api_key=` stays readable). A stream releases nothing from here on while the
    /// match could still grow, as a scan of the whole text would have consumed it.
    pub matched: usize,
}
