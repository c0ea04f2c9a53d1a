//! Binding, serving and stopping. On SIGTERM or SIGINT the server stops accepting,
//! marks itself not ready, lets in-flight requests and streams finish until the drain
//! deadline, then returns so the process exits 0.
//!
//! Must never block the shutdown past the drain deadline.

use crate::config::Config;
use crate::routes::router;
use crate::runtime::{Runtime, RuntimeError};
use axum::serve::ListenerExt;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A server running on a tokio task.
pub struct RunningServer {
    addr: SocketAddr,
    runtime: Arc<Runtime>,
    stop: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// Builds the runtime, binds `config.server.listen` (port 0 allowed) and starts serving.
pub async fn start(config: &Config) -> Result<RunningServer, StartError> {
    let runtime = Arc::new(Runtime::build(config).await?);
    let addr = config.server.listen;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    let (stop, mut stopped) = watch::channel(false);
    // Stream events are small writes; Nagle's algorithm would hold them back.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    // `into_make_service` clones the router per connection; serving the `Router` itself
    // would rebuild its route table per connection (measured: ~6 KB per open stream).
    let app = router(Arc::clone(&runtime));
    let task = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service())
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await
    });
    Ok(RunningServer {
        addr,
        runtime,
        stop,
        task,
    })
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, drains in-flight work up to the configured deadline.
    /// Returns `true` when everything finished in time.
    pub async fn shutdown(self) -> bool {
        self.runtime.begin_shutdown();
        let _ = self.stop.send(true);
        let deadline = self.runtime.server.drain_timeout;
        match tokio::time::timeout(deadline, self.task).await {
            Ok(_) => true,
            Err(_) => {
                let left =
                    self.runtime.server.max_in_flight - self.runtime.in_flight.available_permits();
                tracing::warn!(
                    in_flight = left,
                    "drain deadline passed; cutting remaining requests"
                );
                false
            }
        }
    }
}

/// Serves until SIGTERM/SIGINT, then drains.
pub async fn run(config: &Config) -> Result<(), StartError> {
    let server = start(config).await?;
    tracing::info!(addr = %server.addr(), providers = config.providers.len(), models = config.models.len(), "sluice listening");
    shutdown_signal().await;
    tracing::info!("shutdown signal received; draining");
    let clean = server.shutdown().await;
    tracing::info!(clean, "stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
