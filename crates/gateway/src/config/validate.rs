//! Turns a `RawConfig` into a `Config`: expands `${VAR}`, parses durations and addresses,
//! resolves provider references and fills defaults. Each invalid value becomes a
//! `Problem` at its key path and validation goes on, so all problems surface at once.
//!
//! Must never read the environment directly (the loader passes a lookup) and never put
//! a secret's value in a problem message.

use super::ctx::{Ctx, Env};
use super::load::Problem;
use super::raw::{RawConfig, RawServer};
use super::{Config, ModelConfig, ServerConfig};

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
        .map(|(name, p)| super::provider::provider(&mut cx, name, p))
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
        models.push(super::model::model(&mut cx, &path, m, &names, &retry));
    }
    super::model::check_fallbacks(&mut cx, &models);
    let store = super::store::store(&mut cx, raw.store.as_ref());
    let journal = super::store::journal(&mut cx, raw.journal.as_ref(), store.is_some());
    let admin = super::store::admin(&mut cx, raw.admin.as_ref());
    let telemetry = super::telemetry::telemetry(&mut cx, raw.telemetry.as_ref());
    let keys = super::keys::keys(&mut cx, &raw.keys);
    let limits = super::limits::limits(&mut cx, raw.limits.as_ref());
    super::limits::check_budget_retention(&mut cx, &limits, &keys, journal.retention);
    let pricing = super::limits::pricing(&mut cx, &raw.pricing);
    let guard = super::guard::guard(&mut cx, raw.guard.as_ref());
    Config {
        guard,
        keys,
        limits,
        pricing,
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

/// hyper's smallest read buffer; a request head must fit in one.
const MIN_HEADER_BYTES: usize = 8192;

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
        header_timeout: cx.duration(
            "server.header_timeout",
            raw.header_timeout.as_ref(),
            defaults.header_timeout,
        ),
        max_header_bytes: {
            let n = cx.positive(
                "server.max_header_bytes",
                raw.max_header_bytes,
                defaults.max_header_bytes,
            );
            if n < MIN_HEADER_BYTES {
                cx.problem(
                    "server.max_header_bytes",
                    format!("must be at least {MIN_HEADER_BYTES} (the HTTP server's smallest read buffer)"),
                );
            }
            n.max(MIN_HEADER_BYTES)
        },
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
    fn a_retention_shorter_than_a_seeded_budget_period_is_refused() {
        let config = |retention: &str, budget: &str| {
            format!(
                "[store]\nurl = \"sqlite://j.db\"\n[journal]\nretention = \"{retention}\"\n[[keys]]\nname = \"k\"\nkey = \"sk-k-0123456789abcdef\"\n{budget}\n[limits.teams.t]\nbudget_usd = 5.0\nbudget_period = \"daily\"\n"
            )
        };
        // Monthly is the default period.
        let p = problems(&config("7d", "budget_usd = 1.0"));
        assert!(
            p.len() == 1
                && p[0].starts_with("journal.retention:")
                && p[0].contains("monthly budget of keys[0] (\"k\")")
                && p[0].contains("at least 31 days"),
            "{p:?}"
        );
        let p = problems(&config(
            "12h",
            "budget_usd = 1.0\nbudget_period = \"total\"",
        ));
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p.iter().any(|p| p.contains("total budget of keys[0]")),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|p| p.contains("daily budget of limits.teams.t")),
            "{p:?}"
        );
        assert!(problems(&config("31d", "budget_usd = 1.0")).is_empty());
        // Redis keeps its counters: nothing is seeded, nothing to keep.
        let redis = format!(
            "{}[limits]\nbackend = \"redis\"\nredis_url = \"redis://127.0.0.1:6379\"\n",
            config("1d", "budget_usd = 1.0\nbudget_period = \"total\"")
        );
        assert!(problems(&redis).is_empty(), "{:?}", problems(&redis));
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
