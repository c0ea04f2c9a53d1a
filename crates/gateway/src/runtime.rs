//! The immutable runtime a config becomes: provider clients, model table and server
//! limits, shared by every request through an `Arc`. Plus the little shared mutable
//! state the server needs (in-flight permits, the shutting-down flag).
//!
//! Must never be mutated after start-up except through its atomics and semaphore; a
//! config change builds a new `Runtime`.

use crate::config::{Config, ModelConfig, ProviderKind, ServerConfig};
use crate::upstream::{BuildError, Upstream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Semaphore;

pub struct Runtime {
    pub server: ServerConfig,
    pub upstreams: Vec<Arc<Upstream>>,
    pub models: Vec<ModelConfig>,
    /// One permit per request being served; `max_in_flight` in all.
    pub in_flight: Arc<Semaphore>,
    shutting_down: AtomicBool,
    /// Keeps the in-process mock provider alive while any provider points at it.
    _mock: Option<sluice_mock::MockHandle>,
}

impl Runtime {
    /// Builds clients for every provider, starting the in-process mock provider first
    /// when a `mock` provider has no `base_url`.
    pub async fn build(config: &Config) -> Result<Self, RuntimeError> {
        let needs_mock = config
            .providers
            .iter()
            .any(|p| p.kind == ProviderKind::Mock && p.base_url.is_none());
        let mock = if needs_mock {
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            Some(
                sluice_mock::spawn(addr, sluice_mock::MockConfig::default())
                    .await
                    .map_err(RuntimeError::Mock)?,
            )
        } else {
            None
        };
        let mock_url = mock.as_ref().map(sluice_mock::MockHandle::base_url);
        let upstreams = config
            .providers
            .iter()
            .map(|p| Upstream::build(p, mock_url.as_deref()).map(Arc::new))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            server: config.server.clone(),
            upstreams,
            models: config.models.clone(),
            in_flight: Arc::new(Semaphore::new(config.server.max_in_flight)),
            shutting_down: AtomicBool::new(false),
            _mock: mock,
        })
    }

    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Provider(#[from] BuildError),
    #[error("cannot start the built-in mock provider: {0}")]
    Mock(std::io::Error),
}
