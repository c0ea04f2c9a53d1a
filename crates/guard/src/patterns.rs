//! Each built-in detector's pattern, in the `regex` syntax of `regex-automata`.
//!
//! Must never use a Unicode word boundary (`\b`): on non-ASCII text it turns the lazy
//! DFA off and the scan becomes a hundred times slower; `(?-u:\b)` is the ASCII one.

use crate::{Kind, invisible};

/// Each built-in kind's pattern. `(?-u:\b)` is an ASCII word boundary (see the module
/// doc); repetitions of validated kinds are bounded so a failed candidate is cheap to
/// step past.
pub fn pattern(kind: Kind) -> &'static str {
    match kind {
        Kind::PrivateKey => {
            r"-----BEGIN (?:[A-Z0-9]+ ){0,4}PRIVATE KEY-----(?:[A-Za-z0-9+/=\s:,.]|-[A-Za-z0-9])*-----END (?:[A-Z0-9]+ ){0,4}PRIVATE KEY-----"
        }
        Kind::Jwt => r"(?-u:\b)eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}",
        Kind::ConnectionString => {
            r"(?-u:\b)[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s:/@]+:[^\s@/]+@[^\s/?#]+"
        }
        Kind::AwsAccessKey => {
            r"(?-u:\b)(?:AKIA|ASIA|AROA|AIDA|AGPA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?-u:\b)"
        }
        Kind::AwsSecretKey => {
            r#"(?i)aws.{0,20}?(?:secret|key).{0,10}?['"=: ]+[A-Za-z0-9/+]{40}(?-u:\b)"#
        }
        Kind::GithubToken => {
            r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})(?-u:\b)"
        }
        Kind::GitlabToken => r"(?-u:\b)glpat-[A-Za-z0-9_-]{20,}",
        Kind::SlackToken => r"(?-u:\b)xox[abeprs]-[A-Za-z0-9-]{10,}",
        Kind::StripeKey => r"(?-u:\b)[rs]k_(?:live|test)_[A-Za-z0-9]{16,}(?-u:\b)",
        Kind::AnthropicKey => r"(?-u:\b)sk-ant-[A-Za-z0-9_-]{20,}",
        Kind::OpenAiKey => r"(?-u:\b)sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
        Kind::KeyValueSecret => {
            r#"(?i)(?-u:\b)[a-z0-9_-]{0,30}(?:api[_-]?key|secret|token|password|passwd|pwd|access[_-]?key)[a-z0-9_-]{0,20}["']?\s{0,8}[:=]\s{0,8}['"]?[A-Za-z0-9/+_.\-]{16,512}"#
        }
        Kind::Email => r"(?i)[\p{L}\p{N}._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,24}(?-u:\b)",
        Kind::Iban => r"(?-u:\b)[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?-u:\b)",
        Kind::Card => r"(?-u:\b)\d(?:[ -]?\d){12,18}(?-u:\b)",
        Kind::Ssn => r"(?-u:\b)\d{3}-\d{2}-\d{4}(?-u:\b)",
        Kind::Phone => {
            r"(?:\+[1-9]\d{7,14}|\+[1-9]\d{0,3}[ .-]\(?\d{1,4}\)?(?:[ .-]\d{2,4}){2,4}|(?:\([2-9]\d{2}\)|(?-u:\b)[2-9]\d{2})[-. ]?[2-9]\d{2}[-. ]\d{4})(?-u:\b)"
        }
        Kind::Ipv4 => r"(?-u:\b)(?:\d{1,3}\.){3}\d{1,3}(?-u:\b)",
        Kind::Ipv6 => {
            r"(?i)(?-u:\b)(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?-u:\b)|(?i)(?:(?-u:\b)[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6}(?-u:\b))?"
        }
        Kind::Invisible => invisible::PATTERN,
        Kind::RoleToken => {
            r"(?i)<\|(?:im_start|im_end|im_sep|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text|end_of_text)\|>|\[/?INST\]|<</?SYS>>|<(?:start|end)_of_turn>"
        }
        Kind::IgnoreInstructions => {
            r"(?i)(?-u:\b)(?:(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|every\s+)?(?:of\s+)?(?:the\s+|your\s+|my\s+|these\s+|those\s+)?(?:previous|prior|above|earlier|preceding|foregoing|original|initial|system|developer)\s+(?:instructions?|prompts?|rules|directions|directives|guidelines|messages|context|constraints)|forget\s+(?:everything|all)\s+(?:above|before|you\s+(?:were|have\s+been)\s+told))"
        }
        Kind::RoleOverride => {
            r"(?i)(?-u:\b)(?:you\s+are\s+now\s+(?:in\s+)?(?:DAN|developer\s+mode|jailbroken|unrestricted|unfiltered|an?\s+unrestricted)|(?:enable|activate|enter)\s+(?:developer|god|jailbreak|DAN)\s+mode|(?:reveal|print|show|repeat|output|leak)\s+(?:me\s+)?(?:your|the)\s+(?:system\s+prompt|hidden\s+(?:instructions|prompt)|initial\s+(?:instructions|prompt)))"
        }
        Kind::Custom(_) => "",
    }
}
