//! Binding, serving and stopping. On SIGTERM or SIGINT the server stops accepting,
//! marks itself not ready, lets in-flight requests and streams finish until the drain
//! deadline, then returns so the process exits 0.
//!
//! Must never block the shutdown past the drain deadline.

use crate::config::Config;
use crate::finish::Sink;
use crate::routes::App;
use crate::state::{BuildError, Gateway, Shared, Snapshot};
use futures_util::FutureExt as _;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A server running on a tokio task.
pub struct RunningServer {
    addr: SocketAddr,
    gateway: Arc<Gateway>,
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
    Build(#[from] BuildError),
}

/// Builds the gateway, binds `config.server.listen` (port 0 allowed) and starts
/// serving, with the access line as the only end-of-interaction sink.
pub async fn start(config: &Config) -> Result<RunningServer, StartError> {
    start_with_sinks(config, vec![Sink::AccessLog]).await
}

/// `start`, with the end-of-interaction sinks chosen by the caller (an embedding
/// program or a test that counts records).
pub async fn start_with_sinks(
    config: &Config,
    sinks: Vec<Sink>,
) -> Result<RunningServer, StartError> {
    let shared = Shared::start(config, sinks).await?;
    let snapshot = Snapshot::build(config, &shared, None)?;
    let gateway = Arc::new(Gateway::new(snapshot, shared));
    crate::upstream::check::spawn(Arc::downgrade(&gateway));
    let addr = config.server.listen;
    let listener = listen(addr).map_err(|source| StartError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    let (stop, stopped) = watch::channel(false);
    // `Router` is an `Arc` inside: a clone per connection shares one route table.
    let app = App::new(Arc::clone(&gateway));
    let task = tokio::spawn(serve(listener, app, http(&config.server), stopped));
    Ok(RunningServer {
        addr,
        gateway,
        stop,
        task,
    })
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn gateway(&self) -> &Arc<Gateway> {
        &self.gateway
    }

    /// Stops accepting, drains in-flight work up to the configured deadline, then the
    /// end-of-interaction queue. Returns `true` when everything finished in time.
    pub async fn shutdown(self) -> bool {
        let shared = &self.gateway.shared;
        shared.begin_shutdown();
        let _ = self.stop.send(true);
        let deadline = self.gateway.snapshot().server.drain_timeout;
        let clean = match tokio::time::timeout(deadline, self.task).await {
            Ok(_) => true,
            Err(_) => {
                tracing::warn!(
                    in_flight = shared.requests_in_flight(),
                    "drain deadline passed; cutting remaining requests"
                );
                false
            }
        };
        shared.flush().await;
        clean
    }
}

/// The HTTP server's settings: hyper's, with the head bounded in size and in time.
fn http(server: &crate::config::ServerConfig) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(server.header_timeout)
        .max_buf_size(server.max_header_bytes);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(server.max_header_bytes).unwrap_or(u32::MAX));
    builder
}

/// Accepts connections until `stopped`, each served on its own task; then asks each to
/// finish its in-flight requests and waits for them (the caller bounds the wait).
///
/// Our own loop rather than `axum::serve`, which cannot set hyper's options: without a
/// timer hyper enforces no header timeout at all, and its read buffer may grow to about
/// 400 KB per connection.
async fn serve(
    listener: TcpListener,
    app: App,
    http: auto::Builder<TokioExecutor>,
    mut stopped: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors, typically: give connections time to close.
                    tracing::error!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = async { let _ = stopped.wait_for(|s| *s).await; } => break,
        };
        // Stream events are small writes; Nagle's algorithm would hold them back.
        let _ = tcp.set_nodelay(true);
        let service = app.clone();
        let conn = http
            .serve_connection_with_upgrades(TokioIo::new(tcp), service)
            .into_owned();
        // Spawned as is, not inside an `async move` block: a block stores the captured
        // future and the one it awaits separately, which doubled each open
        // connection's task (3.6 KB against 1.7, heaptrack).
        let conn = graceful.watch(conn).map(|ended| {
            if let Err(e) = ended {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
        tokio::spawn(conn);
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Connections the kernel may queue before `accept`. A burst of new clients (thousands
/// of streams opening at once) past tokio's default of 1,024 overflowed it here, and each
/// dropped SYN cost its client a one-second retransmit: the kernel caps this at
/// `net.core.somaxconn` (4,096 on current kernels).
const LISTEN_BACKLOG: u32 = 8192;

/// Binds `addr` with `SO_REUSEADDR` (a restart does not wait out `TIME_WAIT`) and a
/// backlog of `LISTEN_BACKLOG`.
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// How long accepting pauses after an error that is not one connection's.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Serves until SIGTERM/SIGINT, then drains; SIGHUP (and, with `watch`, a change of the
/// file) reloads `path`, the file `config` came from.
pub async fn run(
    config: &Config,
    path: Option<std::path::PathBuf>,
    watch: bool,
) -> Result<(), StartError> {
    let server = start(config).await?;
    tracing::info!(
        addr = %server.addr(),
        mode = %crate::startup::mode(path.as_deref()),
        logs = %crate::startup::logs(),
        features = %crate::startup::features(config, path.as_deref(), watch),
        providers = config.providers.len(),
        models = config.models.len(),
        "sluice listening"
    );
    let reloads = tokio::spawn(crate::reload::run(
        Arc::clone(server.gateway()),
        path,
        config.clone(),
        watch,
    ));
    shutdown_signal().await;
    reloads.abort();
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
