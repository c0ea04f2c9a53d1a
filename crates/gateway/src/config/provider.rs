//! One `[providers.NAME]` section validated: its kind, base URL, key, version,
//! deadlines, CA file, extra and forwarded headers, caps and health checks.
//!
//! Must never put a key or header value in a problem message.

use super::ctx::Ctx;
use super::raw::RawProvider;
use super::{DEFAULT_MAX_RESPONSE_BYTES, ProviderConfig, ProviderKind, Secret, Timeouts};

pub(super) fn provider(cx: &mut Ctx<'_>, name: &str, raw: &RawProvider) -> ProviderConfig {
    let path = format!("providers.{name}");
    let kind = ProviderKind::ALL
        .into_iter()
        .find(|k| k.as_str() == raw.kind)
        .unwrap_or_else(|| {
            let known: Vec<&str> = ProviderKind::ALL.iter().map(|k| k.as_str()).collect();
            cx.problem(
                format!("{path}.kind"),
                format!(
                    "unknown provider kind {:?} (one of {})",
                    raw.kind,
                    known.join(", ")
                ),
            );
            ProviderKind::OpenAiCompatible
        });
    let base_url = base_url(cx, &path, kind, raw.base_url.as_deref());
    let api_key = raw
        .api_key
        .as_ref()
        .and_then(|k| cx.string(&format!("{path}.api_key"), k))
        .map(Secret::new);
    if kind.needs_api_key() && raw.api_key.is_none() {
        cx.problem(
            format!("{path}.api_key"),
            format!(
                "required for kind {:?} (e.g. \"${{PROVIDER_API_KEY}}\")",
                kind.as_str()
            ),
        );
    }
    let api_version = match (&raw.api_version, kind) {
        (Some(v), ProviderKind::Azure | ProviderKind::Anthropic) => {
            cx.string(&format!("{path}.api_version"), v)
        }
        (Some(_), _) => {
            cx.problem(
                format!("{path}.api_version"),
                "only for kinds \"azure\" and \"anthropic\"",
            );
            None
        }
        (None, ProviderKind::Azure) => Some(super::DEFAULT_AZURE_API_VERSION.to_owned()),
        (None, _) => None,
    };
    let defaults = Timeouts::default();
    let total = cx.duration(
        &format!("{path}.timeout"),
        raw.timeout.as_ref(),
        defaults.total,
    );
    let timeouts = Timeouts {
        connect: cx.duration(
            &format!("{path}.connect_timeout"),
            raw.connect_timeout.as_ref(),
            defaults.connect,
        ),
        first_byte: cx.duration(
            &format!("{path}.first_byte_timeout"),
            raw.first_byte_timeout.as_ref(),
            defaults.first_byte.min(total),
        ),
        idle: cx.duration(
            &format!("{path}.idle_timeout"),
            raw.idle_timeout.as_ref(),
            defaults.idle.min(total),
        ),
        total,
    };
    let headers = raw
        .headers
        .iter()
        .filter_map(|(k, v)| {
            let hp = format!("{path}.headers.{k}");
            if axum::http::HeaderName::from_bytes(k.as_bytes()).is_err() {
                cx.problem(&hp, "invalid header name");
                return None;
            }
            let value = cx.string(&hp, v)?;
            if axum::http::HeaderValue::from_str(&value).is_err() {
                cx.problem(&hp, "invalid header value");
                return None;
            }
            Some((k.to_ascii_lowercase(), Secret::new(value)))
        })
        .collect();
    ProviderConfig {
        name: name.to_owned(),
        kind,
        base_url,
        api_key,
        timeouts,
        http2_prior_knowledge: raw.http2_prior_knowledge.unwrap_or(false),
        max_response_bytes: cx.positive(
            &format!("{path}.max_response_bytes"),
            raw.max_response_bytes,
            DEFAULT_MAX_RESPONSE_BYTES,
        ),
        headers,
        api_version,
        forward_headers: raw
            .forward_headers
            .iter()
            .enumerate()
            .filter_map(|(i, pattern)| {
                let at = format!("{path}.forward_headers[{i}]");
                let lower = pattern.to_ascii_lowercase();
                if crate::upstream::forward::is_never(lower.trim_end_matches('*')) {
                    cx.problem(
                        at,
                        format!("{pattern:?} is never forwarded (credentials, hop-by-hop and framing headers stay with the connection)"),
                    );
                    return None;
                }
                let allowed = crate::upstream::forward::Allowed::parse(pattern);
                if allowed.is_none() {
                    cx.problem(at, format!("{pattern:?} is not a header name or a `prefix-*` pattern"));
                }
                allowed
            })
            .collect(),
        health_check: raw.health_check.as_ref().map(|interval| {
            cx.duration(
                &format!("{path}.health_check"),
                Some(interval),
                std::time::Duration::from_secs(10),
            )
        }),
        max_in_flight: raw
            .max_in_flight
            .map(|n| cx.positive(&format!("{path}.max_in_flight"), Some(n), 1) as u64),
        extra_roots: raw
            .ca_file
            .as_ref()
            .map(|f| ca_file(cx, &format!("{path}.ca_file"), f))
            .unwrap_or_default(),
    }
}

/// Reads and parses a PEM bundle of CA certificates at load time.
fn ca_file(
    cx: &mut Ctx<'_>,
    path: &str,
    file: &str,
) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let Some(file) = cx.string(path, file) else {
        return Vec::new();
    };
    let pem = match std::fs::read(&file) {
        Ok(pem) => pem,
        Err(e) => {
            cx.problem(path, format!("cannot read {file:?}: {e}"));
            return Vec::new();
        }
    };
    match CertificateDer::pem_slice_iter(&pem).collect::<Result<Vec<_>, _>>() {
        Ok(certs) if !certs.is_empty() => certs,
        _ => {
            cx.problem(path, format!("{file:?} holds no PEM certificate"));
            Vec::new()
        }
    }
}

fn base_url(cx: &mut Ctx<'_>, path: &str, kind: ProviderKind, raw: Option<&str>) -> Option<String> {
    let key = format!("{path}.base_url");
    let url = match (raw, kind.default_base_url()) {
        (Some(text), _) => cx.string(&key, text)?,
        (None, Some(default)) => default.to_owned(),
        (None, None) if kind == ProviderKind::Mock => return None,
        (None, None) => {
            cx.problem(
                key,
                format!(
                    "required for kind {:?} (e.g. \"http://127.0.0.1:8000/v1\")",
                    kind.as_str()
                ),
            );
            return None;
        }
    };
    match url::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Some(url.trim_end_matches('/').to_owned())
        }
        _ => {
            cx.problem(key, "must be an absolute http:// or https:// URL");
            None
        }
    }
}
