//! The `[store]`, `[journal]` and `[admin]` sections: where durable state lives, how
//! interactions are journaled, and who may use `/admin`. Validated with the rest of the
//! config, every problem at its key path.
//!
//! Must never print a store URL's password or a key: both are `Secret`s from here on.

use super::Secret;
use super::ctx::Ctx;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Default, Deserialize)]
pub struct RawStore {
    pub url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawJournal {
    pub enabled: Option<bool>,
    pub bodies: Option<bool>,
    pub jsonl: Option<String>,
    pub spool_dir: Option<String>,
    pub key: Option<String>,
    pub checkpoints: Option<String>,
    pub queue: Option<u64>,
    pub batch: Option<u64>,
    pub flush_interval: Option<String>,
    pub retention: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawAdmin {
    pub master_key: Option<String>,
}

/// `[store]`: the database for the journal (and keys and budgets when they land).
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `sqlite://path` or `postgres://...`; may carry a password.
    pub url: Secret,
}

/// `[journal]`.
#[derive(Debug, Clone)]
pub struct JournalConfig {
    /// Journal into `[store]` (on when a store is configured, unless `enabled = false`).
    pub to_store: bool,
    /// Also journal to this JSON Lines file.
    pub jsonl: Option<PathBuf>,
    /// Keep request and response bodies (after the guard's redaction).
    pub bodies: bool,
    /// Where records wait while a sink is down, one append-only file per sink.
    pub spool_dir: PathBuf,
    /// HMAC key of the record chain; without one the chain is a plain SHA-256 chain,
    /// which shows accidental damage but not a rewrite by someone who recomputes it.
    pub key: Option<Secret>,
    /// Signed checkpoints of the chain head, so deleting the newest records shows.
    pub checkpoints: Option<PathBuf>,
    pub queue: usize,
    pub batch: usize,
    pub flush_interval: Duration,
    /// Records older than this are deleted in the background.
    pub retention: Option<Duration>,
}

impl JournalConfig {
    pub fn is_on(&self) -> bool {
        self.to_store || self.jsonl.is_some()
    }
}

impl Default for JournalConfig {
    fn default() -> Self {
        Self {
            to_store: false,
            jsonl: None,
            bodies: false,
            spool_dir: PathBuf::from("sluice-spool"),
            key: None,
            checkpoints: None,
            queue: 65_536,
            batch: 256,
            flush_interval: Duration::from_millis(200),
            retention: None,
        }
    }
}

/// `[admin]`.
#[derive(Debug, Clone, Default)]
pub struct AdminConfig {
    /// The only key `/admin/*` accepts; without one, `/admin` answers 404.
    pub master_key: Option<Secret>,
}

pub fn store(cx: &mut Ctx<'_>, raw: Option<&RawStore>) -> Option<StoreConfig> {
    let url = raw?.url.as_ref()?;
    let url = cx.string("store.url", url)?;
    let known = ["sqlite:", "postgres:", "postgresql:"];
    if !known.iter().any(|scheme| url.starts_with(scheme)) {
        cx.problem("store.url", "must start with sqlite:// or postgres://");
        return None;
    }
    Some(StoreConfig {
        url: Secret::new(url),
    })
}

pub fn journal(cx: &mut Ctx<'_>, raw: Option<&RawJournal>, has_store: bool) -> JournalConfig {
    let defaults = JournalConfig::default();
    let Some(raw) = raw else {
        return JournalConfig {
            to_store: has_store,
            ..defaults
        };
    };
    let enabled = raw.enabled.unwrap_or(true);
    let path = |cx: &mut Ctx<'_>, key: &str, value: &Option<String>| {
        value
            .as_ref()
            .and_then(|v| cx.string(&format!("journal.{key}"), v))
            .map(PathBuf::from)
    };
    let jsonl = path(cx, "jsonl", &raw.jsonl).filter(|_| enabled);
    let checkpoints = path(cx, "checkpoints", &raw.checkpoints);
    let spool_dir = path(cx, "spool_dir", &raw.spool_dir).unwrap_or(defaults.spool_dir);
    let key = raw
        .key
        .as_ref()
        .and_then(|k| cx.string("journal.key", k))
        .map(Secret::new);
    if key.as_ref().is_some_and(|k| k.expose().len() < 16) {
        cx.problem("journal.key", "must be at least 16 characters");
    }
    let retention = raw.retention.as_ref().map(|r| {
        cx.duration(
            "journal.retention",
            Some(r),
            Duration::from_secs(90 * 86_400),
        )
    });
    JournalConfig {
        to_store: enabled && has_store,
        jsonl,
        bodies: raw.bodies.unwrap_or(false),
        spool_dir,
        key,
        checkpoints,
        queue: cx.positive("journal.queue", raw.queue, defaults.queue),
        batch: cx.positive("journal.batch", raw.batch, defaults.batch),
        flush_interval: cx.duration(
            "journal.flush_interval",
            raw.flush_interval.as_ref(),
            defaults.flush_interval,
        ),
        retention,
    }
}

pub fn admin(cx: &mut Ctx<'_>, raw: Option<&RawAdmin>) -> AdminConfig {
    let master_key = raw
        .and_then(|a| a.master_key.as_ref())
        .and_then(|k| cx.string("admin.master_key", k))
        .map(Secret::new);
    if master_key.as_ref().is_some_and(|k| k.expose().len() < 16) {
        cx.problem("admin.master_key", "must be at least 16 characters");
    }
    AdminConfig { master_key }
}
