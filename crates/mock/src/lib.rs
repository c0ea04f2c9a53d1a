//! `sluice-mock`: a deterministic, scriptable mock LLM provider speaking the
//! OpenAI Chat Completions / Embeddings / Models, Anthropic Messages and
//! Google Gemini `generateContent` wire formats (plus Azure OpenAI's URL
//! scheme), with per-request fault injection.
//!
//! Used by the gateway's integration tests, by the benchmark as the
//! upstream, and by users through `sluice mock --listen ADDR`. See
//! `docs/mock.md` for the endpoints and every scripting option.
//!
//! Map of the crate:
//! - `routes`: the HTTP surface, request recording, `/mock/*`.
//! - `paths`: URL resolution for `/v1`, `/v1beta` (Gemini) and `/openai`
//!   (Azure).
//! - `catalog`: the static OpenAI and Gemini model lists.
//! - `dispatch`: the shared request flow and dialect-independent faults.
//! - `faults`: parsing the `"mock"` body field, `x-mock-*` headers and the
//!   `model@key=value` suffix.
//! - `conversation`: the format-neutral view of a chat request.
//! - `reply`: deterministic reply text, tool calls, finish reason, usage.
//! - `openai` / `openai_stream`: Chat Completions bodies and chunk streams.
//! - `anthropic` / `anthropic_stream`: Messages bodies and event streams.
//! - `gemini` / `gemini_stream`: `generateContent` bodies and chunk streams.
//! - `embeddings`: deterministic embedding vectors.
//! - `completions`: legacy text completions (`/v1/completions`).
//! - `sse`: scripted stream bodies, pacing and stream faults.
//! - `errors`: error bodies in each dialect.
//! - `stats`: counters, the last request, cancellation drop guards.
//!
//! This file only holds the public API; it must never grow request logic.

mod anthropic;
mod anthropic_stream;
mod catalog;
mod completions;
mod conversation;
mod dispatch;
mod embeddings;
mod errors;
mod faults;
mod gemini;
mod gemini_stream;
mod openai;
mod openai_stream;
mod paths;
mod reply;
mod routes;
mod sse;
mod stats;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use stats::{RecordedRequest, Stats};

/// How long in-flight requests get to finish after the shutdown signal;
/// hanging requests never finish, so shutdown cannot wait for them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Server-wide defaults; per-request options override them.
#[derive(Clone, Copy, Debug, Default)]
pub struct MockConfig {
    /// Pause between consecutive content deltas of a stream.
    pub default_chunk_delay: Duration,
    /// Content deltas per stream when a request does not set `chunks`.
    pub default_chunks: Option<usize>,
}

/// Serves the mock on `listener` until `shutdown` completes (plus a short
/// grace period for in-flight responses).
pub async fn serve(
    listener: TcpListener,
    config: MockConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_stats(listener, config, Arc::new(Stats::default()), shutdown).await
}

async fn serve_with_stats(
    listener: TcpListener,
    config: MockConfig,
    stats: Arc<Stats>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_app(listener, routes::App::new(config, stats), shutdown).await
}

async fn serve_app(
    listener: TcpListener,
    app: routes::App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stats = Arc::clone(&app.stats);
    let router = routes::router(app);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // A gateway's HTTP/2 client carries every stream to one host on one connection;
    // hyper's default of 200 concurrent streams would queue the rest of a benchmark's
    // thousands of open streams behind them. A mock has no abuse to fear.
    builder.http2().max_concurrent_streams(None);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(err) => {
                    // Out of file descriptors, typically: let connections close.
                    tracing::debug!("mock: accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        stats.accepted();
        // Stream events are tiny; Nagle would hold them back and distort
        // streaming latency measurements.
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!("mock: could not set TCP_NODELAY: {err}");
        }
        let service = TowerToHyperService::new(router.clone());
        let conn = builder
            .serve_connection(TokioIo::new(tcp), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(err) = conn.await {
                tracing::trace!("mock: connection ended: {err}");
            }
        });
    }
    drop(listener);
    // Hanging requests never finish: in-flight ones get a short grace, no more.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
    Ok(())
}

/// Binds `addr` (port 0 picks a free port) and serves the mock on a
/// background task. Returns as soon as the socket is bound.
pub async fn spawn(addr: SocketAddr, config: MockConfig) -> std::io::Result<MockHandle> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let stats = Arc::new(Stats::default());
    let app = routes::App::new(config, stats.clone());
    let script = app.script.clone();
    let task = tokio::spawn(serve_app(listener, app, std::future::pending()));
    Ok(MockHandle {
        addr,
        stats,
        script,
        task,
    })
}

/// A running mock server. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct MockHandle {
    addr: SocketAddr,
    stats: Arc<Stats>,
    script: Arc<std::sync::RwLock<String>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl MockHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{addr}/v1`, ready to use as an OpenAI-style base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// `http://{addr}/v1beta`, ready to use as a Gemini base URL.
    pub fn gemini_base_url(&self) -> String {
        format!("http://{}/v1beta", self.addr)
    }

    /// `http://{addr}/openai`, ready to use as an Azure OpenAI base URL
    /// (deployments live under `/openai/deployments/<name>/`).
    pub fn azure_base_url(&self) -> String {
        format!("http://{}/openai", self.addr)
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Sets the options every later request gets, as `key=value,...` (the weakest
    /// source: a request's own options win). `""` clears them. Unknown options are
    /// reported when a request is served, as for a model suffix.
    pub fn set_script(&self, script: &str) {
        *self
            .script
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = script.to_owned();
    }
}

impl Drop for MockHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}
