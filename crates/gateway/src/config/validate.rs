//! Turns a `RawConfig` into a `Config`: expands `${VAR}`, parses durations and addresses,
//! resolves provider references and fills defaults. Each invalid value becomes a
//! `Problem` at its key path and validation goes on, so all problems surface at once.
//!
//! Must never read the environment directly (the loader passes a lookup) and never put
//! a secret's value in a problem message.

use super::ctx::{Ctx, Env};
use super::load::Problem;
use super::raw::{RawConfig, RawModel, RawProvider, RawServer};
use super::{
    Config, DEFAULT_MAX_RESPONSE_BYTES, ModelConfig, ProviderConfig, ProviderKind, Secret,
    ServerConfig, Strategy, TargetConfig, Timeouts,
};

pub fn validate(raw: RawConfig, env: Env<'_>, problems: &mut Vec<Problem>) -> Config {
    let mut cx = Ctx { env, problems };
    let server = server(&mut cx, &raw.server);
    let retry = super::resilience::retry(
        &mut cx,
        "retry",
        raw.retry.as_ref(),
        &super::RetryConfig::default(),
    );
    let breaker = super::resilience::breaker(&mut cx, raw.breaker.as_ref());
    let names: Vec<&String> = raw.providers.keys().collect();
    let providers = raw
        .providers
        .iter()
        .map(|(name, p)| provider(&mut cx, name, p))
        .collect();
    let mut models: Vec<ModelConfig> = Vec::with_capacity(raw.models.len());
    for (i, m) in raw.models.iter().enumerate() {
        let path = format!("models[{i}]");
        if models.iter().any(|seen| seen.name == m.name) {
            cx.problem(
                format!("{path}.name"),
                format!("duplicate model name {:?}", m.name),
            );
        }
        models.push(model(&mut cx, &path, m, &names, &retry));
    }
    check_fallbacks(&mut cx, &models);
    let store = super::store::store(&mut cx, raw.store.as_ref());
    let journal = super::store::journal(&mut cx, raw.journal.as_ref(), store.is_some());
    let admin = super::store::admin(&mut cx, raw.admin.as_ref());
    let telemetry = super::telemetry::telemetry(&mut cx, raw.telemetry.as_ref());
    Config {
        server,
        providers,
        models,
        store,
        journal,
        admin,
        telemetry,
        breaker,
    }
}

/// A fallback names another exact model entry, not itself, not twice.
fn check_fallbacks(cx: &mut Ctx<'_>, models: &[ModelConfig]) {
    for (i, m) in models.iter().enumerate() {
        for (j, name) in m.fallbacks.iter().enumerate() {
            let path = format!("models[{i}].fallbacks[{j}]");
            if *name == m.name {
                cx.problem(path, "a model cannot fall back to itself");
            } else if !models.iter().any(|o| !o.is_pattern() && o.name == *name) {
                cx.problem(
                    path,
                    format!(
                        "no [[models]] entry named {name:?} (fallbacks name exact model names)"
                    ),
                );
            } else if m.fallbacks[..j].contains(name) {
                cx.problem(path, format!("{name:?} is listed twice"));
            }
        }
    }
}

fn server(cx: &mut Ctx<'_>, raw: &RawServer) -> ServerConfig {
    let defaults = ServerConfig::default();
    let listen = match &raw.listen {
        None => defaults.listen,
        Some(text) => match cx.string("server.listen", text).map(|t| t.parse()) {
            Some(Ok(addr)) => addr,
            Some(Err(_)) => {
                cx.problem(
                    "server.listen",
                    format!("invalid address {text:?} (want IP:PORT)"),
                );
                defaults.listen
            }
            None => defaults.listen,
        },
    };
    ServerConfig {
        listen,
        max_body_bytes: cx.positive(
            "server.max_body_bytes",
            raw.max_body_bytes,
            defaults.max_body_bytes,
        ),
        max_in_flight: cx.positive(
            "server.max_in_flight",
            raw.max_in_flight,
            defaults.max_in_flight,
        ),
        drain_timeout: cx.duration(
            "server.drain_timeout",
            raw.drain_timeout.as_ref(),
            defaults.drain_timeout,
        ),
        worker_threads: raw
            .worker_threads
            .map(|n| cx.positive("server.worker_threads", Some(n), 1)),
        request_timeout: cx.duration(
            "server.request_timeout",
            raw.request_timeout.as_ref(),
            defaults.request_timeout,
        ),
    }
}

fn provider(cx: &mut Ctx<'_>, name: &str, raw: &RawProvider) -> ProviderConfig {
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
fn ca_file(cx: &mut Ctx<'_>, path: &str, file: &str) -> Vec<reqwest::Certificate> {
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
    match reqwest::Certificate::from_pem_bundle(&pem) {
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
    match reqwest::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Some(url.trim_end_matches('/').to_owned())
        }
        _ => {
            cx.problem(key, "must be an absolute http:// or https:// URL");
            None
        }
    }
}

fn model(
    cx: &mut Ctx<'_>,
    path: &str,
    raw: &RawModel,
    providers: &[&String],
    retry: &super::RetryConfig,
) -> ModelConfig {
    if raw.name.is_empty() || raw.name[..raw.name.len().saturating_sub(1)].contains('*') {
        cx.problem(
            format!("{path}.name"),
            "must be non-empty; `*` is allowed only at the end",
        );
    }
    let strategy = match raw.strategy.as_deref() {
        None => Strategy::Priority,
        Some(name) => Strategy::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
            .unwrap_or_else(|| {
                let known: Vec<&str> = Strategy::ALL.iter().map(|(n, _)| *n).collect();
                cx.problem(
                    format!("{path}.strategy"),
                    format!("unknown strategy {name:?} (one of {})", known.join(", ")),
                );
                Strategy::Priority
            }),
    };
    if raw.targets.is_empty() {
        cx.problem(format!("{path}.targets"), "at least one target is required");
    }
    let targets = raw
        .targets
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let tp = format!("{path}.targets[{i}]");
            let Some(provider) = providers.iter().position(|p| **p == t.provider) else {
                cx.problem(
                    format!("{tp}.provider"),
                    format!("no provider named {:?} in [providers]", t.provider),
                );
                return None;
            };
            if t.weight == Some(0) {
                cx.problem(format!("{tp}.weight"), "must be at least 1");
            }
            if t.price.is_some_and(|p| !(p.is_finite() && p >= 0.0)) {
                cx.problem(format!("{tp}.price"), "must be a number of at least 0");
            }
            Some(TargetConfig {
                provider,
                model: t
                    .model
                    .as_ref()
                    .and_then(|m| cx.string(&format!("{tp}.model"), m)),
                weight: t.weight.unwrap_or(1).max(1),
                price: t.price.filter(|p| p.is_finite() && *p >= 0.0),
            })
        })
        .collect();
    if strategy == Strategy::Cost && raw.targets.iter().all(|t| t.price.is_none()) {
        cx.problem(
            format!("{path}.strategy"),
            "\"cost\" needs a `price` on the targets",
        );
    }
    let mut entry = ModelConfig::new(raw.name.clone(), strategy, targets);
    entry.fallbacks.clone_from(&raw.fallbacks);
    if let Some(names) = &raw.fallback_on {
        entry.fallback_on = super::resilience::classes(cx, &format!("{path}.fallback_on"), names);
    }
    entry.retry = super::resilience::retry(cx, &format!("{path}.retry"), raw.retry.as_ref(), retry);
    entry.hedge = super::resilience::hedge(cx, &format!("{path}.hedge"), raw.hedge.as_ref());
    entry.resume = super::resilience::resume(cx, &format!("{path}.resume"), raw.resume.as_ref());
    entry
}

#[cfg(test)]
mod tests {
    use super::super::parse;

    fn env(name: &str) -> Option<String> {
        (name == "OPENAI_KEY").then(|| "sk-test".to_owned())
    }

    fn problems(text: &str) -> Vec<String> {
        parse(text, env)
            .err()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const GOOD: &str = r#"
[server]
listen = "127.0.0.1:4100"
[providers.openai]
kind = "openai"
api_key = "${OPENAI_KEY}"
timeout = "30s"
[providers.local]
kind = "openai-compatible"
base_url = "http://127.0.0.1:8000/v1/"
[[models]]
name = "smart"
strategy = "weighted"
targets = [{ provider = "openai", model = "gpt-4o", weight = 3 }, { provider = "local" }]
"#;

    #[test]
    fn accepts_a_full_config() {
        let config = parse(GOOD, env);
        let Ok(config) = config else {
            panic!("{config:?}")
        };
        assert_eq!(config.providers.len(), 2);
        let local = config.providers.iter().find(|p| p.name == "local");
        assert_eq!(
            local.and_then(|p| p.base_url.as_deref()),
            Some("http://127.0.0.1:8000/v1")
        );
        let openai = config.providers.iter().find(|p| p.name == "openai");
        assert_eq!(
            openai.and_then(|p| p.api_key.as_ref()).map(|k| k.expose()),
            Some("sk-test")
        );
        assert_eq!(config.models[0].targets[0].weight, 3);
    }

    #[test]
    fn ca_file_is_read_and_checked_at_load_time() {
        let p = problems(
            "[providers.o]\nkind = \"openai-compatible\"\nbase_url = \"https://h/v1\"\nca_file = \"/nonexistent/ca.pem\"\n",
        );
        assert!(
            p.len() == 1 && p[0].starts_with("providers.o.ca_file: cannot read"),
            "{p:?}"
        );
        let not_pem = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let p = problems(&format!(
            "[providers.o]\nkind = \"openai-compatible\"\nbase_url = \"https://h/v1\"\nca_file = \"{not_pem}\"\n"
        ));
        assert!(p.len() == 1 && p[0].contains("no PEM certificate"), "{p:?}");
    }

    #[test]
    fn missing_env_names_the_variable_and_key() {
        let p = problems("[providers.o]\nkind = \"openai\"\napi_key = \"${MISSING_KEY}\"\n");
        assert_eq!(
            p,
            ["providers.o.api_key: environment variable `MISSING_KEY` not set"]
        );
    }

    #[test]
    fn reports_all_semantic_problems_at_once() {
        let p = problems(
            "[server]\nlisten = \"nope\"\n[providers.x]\nkind = \"carrier-pigeon\"\nbase_url = \"ftp://x\"\ntimeout = \"soon\"\n[[models]]\nname = \"m\"\ntargets = [{ provider = \"y\" }]\n",
        );
        for expected in [
            "server.listen",
            "providers.x.kind",
            "providers.x.base_url",
            "providers.x.timeout",
            "models[0].targets[0].provider",
        ] {
            assert!(
                p.iter().any(|l| l.starts_with(expected)),
                "{expected} missing in {p:?}"
            );
        }
    }

    #[test]
    fn resilience_settings_are_checked_at_load_time() {
        let p = problems(
            r#"
[retry]
attempts = 0
backoff = "5s..1s"
on = ["5xx", "sometimes"]
[breaker]
failure_rate = 1.5
min_requests = 0
[providers.o]
kind = "openai-compatible"
base_url = "http://h/v1"
health_check = "soon"
[[models]]
name = "a"
strategy = "cost"
fallbacks = ["a", "missing", "b*"]
fallback_on = ["context_window", "never"]
hedge = { min = "1s" }
resume = { hops = 9 }
targets = [{ provider = "o", price = -1.0 }]
[[models]]
name = "b*"
targets = [{ provider = "o" }]
[[models]]
name = "c"
strategy = "cost"
targets = [{ provider = "o" }]
"#,
        );
        for expected in [
            "retry.attempts",
            "retry.backoff",
            "retry.on[1]",
            "breaker.failure_rate",
            "breaker.min_requests",
            "providers.o.health_check",
            "models[2].strategy",
            "models[0].fallbacks[0]: a model cannot fall back to itself",
            "models[0].fallbacks[1]",
            "models[0].fallbacks[2]",
            "models[0].fallback_on[1]",
            "models[0].hedge.after",
            "models[0].resume.hops",
            "models[0].targets[0].price",
        ] {
            assert!(
                p.iter().any(|l| l.starts_with(expected)),
                "{expected} missing in {p:?}"
            );
        }
    }

    #[test]
    fn a_model_retry_table_overrides_only_its_keys() {
        let config = parse(
            "[retry]\nattempts = 3\nbackoff = \"10ms..20ms\"\n[providers.o]\nkind = \"openai-compatible\"\nbase_url = \"http://h/v1\"\n[[models]]\nname = \"a\"\nretry = { attempts = 5 }\nhedge = { after = \"p95\" }\ntargets = [{ provider = \"o\" }]\n[[models]]\nname = \"b\"\ntargets = [{ provider = \"o\" }]\n",
            env,
        );
        let Ok(config) = config else {
            panic!("{config:?}")
        };
        let (a, b) = (&config.models[0], &config.models[1]);
        assert_eq!(a.retry.attempts, 5);
        assert_eq!(a.retry.backoff_max, std::time::Duration::from_millis(20));
        assert_eq!(b.retry.attempts, 3);
        assert!(matches!(
            a.hedge,
            Some(super::super::HedgeAfter::P95 { .. })
        ));
    }
}
