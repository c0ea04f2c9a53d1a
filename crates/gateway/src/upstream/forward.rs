//! Client headers forwarded to a provider: only those its `forward_headers` allow-list
//! names (exact names, or prefixes ending in `*`), on either path.
//!
//! Must never forward a credential (`authorization`, `x-api-key`, `api-key`,
//! `x-goog-api-key`, cookies) nor a hop-by-hop or framing header, whatever the list says:
//! those are the connection's or the client's own, not the provider's.

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// Headers never forwarded, even when an allow-list pattern matches them.
pub const NEVER: [&str; 15] = [
    "authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "cookie",
    "proxy-authorization",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-type",
];

/// One allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    Exact(HeaderName),
    /// `x-mock-*`: any header starting with the text before the `*`.
    Prefix(String),
}

impl Allowed {
    /// A lowercase header name, or a prefix ending in `*`; `None` when it is neither.
    pub fn parse(pattern: &str) -> Option<Self> {
        let lower = pattern.to_ascii_lowercase();
        match lower.strip_suffix('*') {
            Some(prefix)
                if !prefix.is_empty() && HeaderName::from_bytes(prefix.as_bytes()).is_ok() =>
            {
                Some(Self::Prefix(prefix.to_owned()))
            }
            Some(_) => None,
            None => HeaderName::from_bytes(lower.as_bytes())
                .ok()
                .map(Self::Exact),
        }
    }

    fn matches(&self, name: &HeaderName) -> bool {
        match self {
            Self::Exact(exact) => exact == name,
            Self::Prefix(prefix) => name.as_str().starts_with(prefix.as_str()),
        }
    }
}

/// Whether `name` may never be forwarded.
pub fn is_never(name: &str) -> bool {
    NEVER.contains(&name) || name.starts_with("proxy-") || name.starts_with("x-sluice-")
}

/// The client headers `allowed` lets through, in the client's order.
pub fn select(allowed: &[Allowed], headers: &HeaderMap) -> Vec<(HeaderName, HeaderValue)> {
    if allowed.is_empty() {
        return Vec::new();
    }
    headers
        .iter()
        .filter(|(name, _)| !is_never(name.as_str()) && allowed.iter().any(|a| a.matches(name)))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_what_the_list_names_and_never_credentials() {
        let allowed: Vec<Allowed> = ["x-*", "OpenAI-Organization"]
            .iter()
            .filter_map(|p| Allowed::parse(p))
            .collect();
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("x-team", "t1"),
            ("x-api-key", "client-secret"),
            ("openai-organization", "org"),
            ("authorization", "Bearer client"),
            ("x-sluice-timeout", "5s"),
            ("user-agent", "sdk"),
        ] {
            h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        let names: Vec<String> = select(&allowed, &h)
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
        assert_eq!(names, ["x-team", "openai-organization"]);
        assert_eq!(Allowed::parse("*"), None);
        assert_eq!(Allowed::parse("bad header"), None);
    }
}
