//! The start-up line: what a new user needs to know the moment Sluice listens, in one
//! log line: whether this is demo mode (and that it accepts any key), where the logs
//! go, and which features are on.
//!
//! Must never print a secret: a store URL shows only its kind and, for SQLite, its
//! file; keys show only whether they are set.

use crate::config::Config;
use std::path::Path;

/// The mode: demo (no config file) or the file being served.
pub fn mode(config_file: Option<&Path>) -> String {
    match config_file {
        None => "demo: every model goes to the built-in mock provider, any API key is accepted, \
                 the journal is ./sluice.db; pass --config FILE for real providers"
            .to_owned(),
        Some(path) => format!("config {}", path.display()),
    }
}

/// Where log lines go and in which form.
pub fn logs() -> String {
    let form = if std::env::var("SLUICE_LOG_FORMAT").is_ok_and(|f| f == "json") {
        "JSON lines"
    } else {
        "text (SLUICE_LOG_FORMAT=json for JSON lines)"
    };
    let level = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned());
    format!("stderr, {form}, level {level}")
}

/// The guard in a few words: what the default policy scans, the policies, the hook.
fn guard_feature(guard: &crate::config::GuardConfig) -> String {
    if !guard.is_on() {
        return "guard off".to_owned();
    }
    let scans = |p: &Option<std::sync::Arc<sluice_guard::Policy>>| {
        p.as_ref().map_or(0, |p| p.actions.built_in_kinds().len())
    };
    let mut parts = vec![format!(
        "guard ({} input and {} output detectors",
        scans(&guard.default.input),
        scans(&guard.default.output)
    )];
    if !guard.policies.is_empty() {
        parts.push(format!("{} policies", guard.policies.len()));
    }
    if let Some(hook) = &guard.hook {
        parts.push(format!(
            "hook {}",
            if hook.parallel {
                "in parallel"
            } else {
                "before dispatch"
            }
        ));
    }
    format!("{})", parts.join(", "))
}

/// The features this config turns on, comma-separated.
pub fn features(config: &Config, config_file: Option<&Path>, watch: bool) -> String {
    let mut on: Vec<String> = Vec::new();
    let journal = &config.journal;
    if journal.is_on() {
        let mut sinks = Vec::new();
        if journal.to_store
            && let Some(store) = &config.store
        {
            sinks.push(store_kind(store.url.expose()));
        }
        if let Some(path) = &journal.jsonl {
            sinks.push(format!("jsonl {}", path.display()));
        }
        let bodies = if journal.bodies {
            "with bodies"
        } else {
            "without bodies"
        };
        on.push(format!("journal ({}, {bodies})", sinks.join(" + ")));
    } else {
        on.push("journal off".to_owned());
    }
    on.push("metrics /metrics".to_owned());
    on.push(match &config.telemetry.otlp_endpoint {
        Some(endpoint) => format!("traces to {endpoint}"),
        None => "traces off".to_owned(),
    });
    on.push(if config.admin.master_key.is_some() {
        "admin API on".to_owned()
    } else {
        "admin API off (no [admin] master_key)".to_owned()
    });
    on.push(guard_feature(&config.guard));
    on.push(if config.breaker.enabled {
        "circuit breakers".to_owned()
    } else {
        "circuit breakers off".to_owned()
    });
    let count =
        |f: fn(&crate::config::ModelConfig) -> bool| config.models.iter().filter(|m| f(m)).count();
    for (n, what) in [
        (count(|m| !m.fallbacks.is_empty()), "with fallbacks"),
        (count(|m| m.retry.attempts > 1), "with retries"),
        (count(|m| m.hedge.is_some()), "hedged"),
        (count(|m| m.resume.is_some()), "resuming streams"),
    ] {
        if n > 0 {
            on.push(format!("{n} model(s) {what}"));
        }
    }
    let checks = config
        .providers
        .iter()
        .filter(|p| p.health_check.is_some())
        .count();
    if checks > 0 {
        on.push(format!("health checks on {checks} provider(s)"));
    }
    on.push(match (config_file, watch) {
        (Some(path), true) => format!("reload on SIGHUP and on edits of {}", path.display()),
        (Some(_), false) => "reload on SIGHUP".to_owned(),
        (None, _) => "no reload (demo mode)".to_owned(),
    });
    on.join(", ")
}

/// A store URL without its credentials: `sqlite://FILE` or `postgres`.
fn store_kind(url: &str) -> String {
    if url.starts_with("sqlite:") {
        url.split('?').next().unwrap_or(url).to_owned()
    } else {
        "postgres".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_mode_says_so_and_names_no_secret() {
        let demo = Config::demo();
        assert!(mode(None).starts_with("demo"));
        let f = features(&demo, None, true);
        assert!(
            f.contains("journal (sqlite://sluice.db, without bodies)"),
            "{f}"
        );
        assert!(f.contains("admin API off"), "{f}");
        assert_eq!(store_kind("postgres://u:secret@h/db"), "postgres");
    }
}
