//! The long-lived state of a running gateway, made once at start-up and kept across
//! config reloads: in-flight permits, the draining flag, provider health, the
//! end-of-interaction queue and the in-process mock provider.
//!
//! The limiter store (memory or Redis), the store's key ring, the journal queue and the
//! metrics registry are fields here, built at start-up and reached by the stage that
//! needs it, never through a global.
//!
//! Must never hold anything a config reload should replace (that is `Snapshot`'s).

use super::{BuildError, Health};
use crate::auth::KeyRing;
use crate::config::{Config, ProviderKind};
use crate::finish::{Finisher, Sink};
use crate::journal::{self, Journal};
use crate::limits::Limiter;
use crate::store::Store;
use crate::telemetry::metrics::Metrics;
use crate::telemetry::traces::Tracer;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Semaphore;

/// The longest start-up waits for the journal's spool to replay before budgets are
/// seeded from the journal.
const SEED_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

pub struct Shared {
    /// One permit per request being served; `max_in_flight` in all.
    pub in_flight: Arc<Semaphore>,
    pub max_in_flight: usize,
    pub health: Health,
    /// Where every finished interaction record goes, exactly once.
    pub finisher: Arc<Finisher>,
    /// The durable store (`[store]`), when configured.
    pub store: Option<Store>,
    /// The journal writer, when any journal sink is on.
    pub journal: Option<Arc<Journal>>,
    /// The Prometheus registry.
    pub metrics: Arc<Metrics>,
    /// The span exporter, when `[telemetry] otlp_endpoint` is set.
    pub tracer: Option<Arc<Tracer>>,
    /// The virtual keys of the store (the config's are in the snapshot).
    pub keys: Arc<KeyRing>,
    /// The limit counters (memory or Redis), kept across reloads.
    pub limiter: Arc<Limiter>,
    draining: AtomicBool,
    /// Keeps the in-process mock provider alive while any provider may point at it.
    mock: Option<sluice_mock::MockHandle>,
}

impl Shared {
    /// Starts the end-of-interaction task with `sinks` and, when a `mock` provider has no
    /// `base_url`, the in-process mock provider.
    pub async fn start(config: &Config, mut sinks: Vec<Sink>) -> Result<Self, BuildError> {
        let needs_mock = config
            .providers
            .iter()
            .any(|p| p.kind == ProviderKind::Mock && p.base_url.is_none());
        let mock = if needs_mock {
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            Some(
                sluice_mock::spawn(addr, sluice_mock::MockConfig::default())
                    .await
                    .map_err(BuildError::Mock)?,
            )
        } else {
            None
        };
        let store = match &config.store {
            Some(store) => Some(Store::open(store.url.expose()).await?),
            None => None,
        };
        let journal = start_journal(config, store.as_ref()).await?;
        if let Some(journal) = &journal {
            sinks.insert(0, Sink::Journal(Arc::clone(journal)));
        }
        let tracer = Tracer::start(&config.telemetry).map(Arc::new);
        if let Some(tracer) = &tracer {
            sinks.insert(0, Sink::Traces(Arc::clone(tracer)));
        }
        let metrics = Arc::new(Metrics::default());
        // Ends by itself when the gateway's metrics are dropped.
        drop(Metrics::spawn_upkeep(
            Arc::downgrade(&metrics),
            crate::telemetry::metrics::UPKEEP_EVERY,
        ));
        sinks.insert(0, Sink::Metrics(Arc::clone(&metrics)));
        let limiter = Arc::new(Limiter::new(&config.limits)?);
        // First: the settle writes the cost every later stage reads.
        sinks.insert(0, Sink::Limits(Arc::clone(&limiter)));
        let keys = Arc::new(if store.is_some() {
            KeyRing::awaiting_store()
        } else {
            KeyRing::default()
        });
        if let Some(store) = &store {
            if let Err(e) = keys.refresh(store).await {
                tracing::warn!(error = %e, "cannot read keys from the store at start-up");
            }
            KeyRing::spawn_refresh(
                Arc::downgrade(&keys),
                store.clone(),
                config.limits.keys_refresh,
            );
            if let crate::config::Backend::Redis { url } = &config.limits.backend {
                crate::auth::key_changes::spawn(url.expose().to_owned(), Arc::downgrade(&keys));
            }
            if !limiter.is_shared() {
                // What an earlier run spooled (its database was down) is spend too: the
                // writer replays the spool on a flush, so the seed reads it back. Bounded,
                // so that a long replay delays start-up by at most SEED_WAIT.
                if let Some(journal) = &journal
                    && tokio::time::timeout(SEED_WAIT, journal.flush())
                        .await
                        .is_err()
                {
                    tracing::warn!(
                        "limits: the journal's spool was still replaying when budgets were seeded; they may start low"
                    );
                }
                crate::limits::seed::budgets(&limiter, store, config, &keys).await;
            }
        }
        if uses_tokenizer(config) {
            // About 100 ms of vocabulary loading, off the request path.
            tokio::task::spawn_blocking(crate::limits::estimate::load_tokenizer);
        }
        Ok(Self {
            keys,
            limiter,
            tracer,
            metrics,
            store,
            journal,
            in_flight: Arc::new(Semaphore::new(config.server.max_in_flight)),
            max_in_flight: config.server.max_in_flight,
            health: Health::default(),
            finisher: Finisher::start(sinks),
            draining: AtomicBool::new(false),
            mock,
        })
    }

    /// Waits until every finished record passed the end stages and the journal wrote
    /// (or spooled) it.
    pub async fn flush(&self) {
        self.finisher.flush().await;
        if let Some(journal) = &self.journal {
            journal.flush().await;
        }
    }

    pub fn mock_url(&self) -> Option<String> {
        self.mock.as_ref().map(sluice_mock::MockHandle::base_url)
    }

    pub fn begin_shutdown(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    pub fn is_shutting_down(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Requests holding a permit right now.
    pub fn requests_in_flight(&self) -> usize {
        self.max_in_flight
            .saturating_sub(self.in_flight.available_permits())
    }
}

async fn start_journal(
    config: &Config,
    store: Option<&Store>,
) -> Result<Option<Arc<Journal>>, BuildError> {
    let settings = &config.journal;
    let mut sinks = Vec::new();
    if let (true, Some(store)) = (settings.to_store, store) {
        sinks.push(journal::sink::Sink::for_store(store).map_err(BuildError::JournalSink)?);
    }
    if let Some(path) = &settings.jsonl {
        sinks.push(journal::sink::Sink::Jsonl(path.clone()));
    }
    if sinks.is_empty() {
        return Ok(None);
    }
    if settings.key.is_none() {
        tracing::warn!(
            "journal.key is not set: the journal chain shows accidental damage but not a deliberate rewrite"
        );
    }
    if let (Some(retention), true, Some(store)) = (settings.retention, settings.to_store, store) {
        let key = journal::chain::key_bytes(settings.key.as_ref().map(|k| k.expose()));
        journal::retention::spawn(store.clone(), key, retention);
    }
    let journal = Journal::start(settings, sinks)
        .await
        .map_err(BuildError::Spool)?;
    Ok(Some(Arc::new(journal)))
}

/// Whether any limit counts tokens, so the tokenizer will be needed.
fn uses_tokenizer(config: &Config) -> bool {
    config.keys.iter().any(|k| k.limits.counts_tokens())
        || config.limits.global.counts_tokens()
        || config.limits.teams.values().any(|l| l.counts_tokens())
        || config.limits.models.values().any(|l| l.counts_tokens())
}
